"""`python -m infra verify` for Azure: each online endpoint serves the deployed versions at the stack's split.

For every endpoint in the stack's outputs (`endpoint_ids`, `traffic`), ARM must report the endpoint
Succeeded with exactly the exported live split and mirror (a rollout the traffic step stopped and
reverted shows the previous split), and every deployment the split names Succeeded.
"""

from __future__ import annotations

import time
from typing import Any

from infra.clouds.azure import arm
from infra.clouds.azure.traffic import ML_API
from infra.errors import SpecError


def _live(split: dict[str, Any] | None) -> dict[str, int]:
    return {k: int(v) for k, v in (split or {}).items() if v}


def expected(outputs: dict[str, Any]) -> dict[str, tuple[str, dict[str, int], dict[str, int]]]:
    """Per endpoint: (ARM id, live split, mirror) from the stack's outputs; SpecError when malformed."""
    ids, traffic = outputs.get("endpoint_ids") or {}, outputs.get("traffic") or {}
    if not isinstance(ids, dict) or not isinstance(traffic, dict):
        raise SpecError("stack outputs: endpoint_ids and traffic must be objects")
    missing = sorted(set(ids) - set(traffic))
    if missing:
        raise SpecError(f"stack outputs: traffic has no entry for {', '.join(missing)}")
    return {k: (ids[k], _live(traffic[k].get("split")), _live(traffic[k].get("mirror"))) for k in sorted(ids)}


def check(outputs: dict[str, Any], region: str, client: arm.Arm | None = None) -> list[tuple[bool, str]]:
    """(ok, line) per endpoint, comparing ARM's view with the stack's outputs."""
    endpoints = expected(outputs)
    if not endpoints:
        return []
    if client is None:
        try:
            client = arm.connect(time.sleep)
        except Exception as exc:  # azure-identity raises its own errors when no credential is found
            raise SpecError(f"cannot reach Azure Resource Manager for {region}: {exc}") from None
    results: list[tuple[bool, str]] = []
    for key, (endpoint_id, split, mirror) in endpoints.items():
        where = f"{key} ({endpoint_id.rsplit('/', 1)[-1]})"
        try:
            live = client.get(endpoint_id, ML_API).get("properties", {})
            problems = []
            if live.get("provisioningState") != "Succeeded":
                problems.append(f"provisioningState is {live.get('provisioningState')}, expected Succeeded")
            if _live(live.get("traffic")) != split:
                problems.append(
                    f"serves {_live(live.get('traffic'))}, the stack deployed {split}"
                    " (a rollout was stopped and reverted, or traffic was changed by hand)"
                )
            if _live(live.get("mirrorTraffic")) != mirror:
                problems.append(f"mirrors {_live(live.get('mirrorTraffic'))}, the stack deployed {mirror}")
            for deployment in sorted({*split, *mirror}):
                state = client.get(f"{endpoint_id}/deployments/{deployment}", ML_API)
                status = state.get("properties", {}).get("provisioningState")
                if status != "Succeeded":
                    problems.append(f"deployment {deployment} is {status}, expected Succeeded")
        except arm.ArmError as exc:
            results.append((False, f"{where}: {exc}"))
            continue
        line = (
            "; ".join(problems)
            if problems
            else f"Succeeded, serving {split}" + (f", mirroring {mirror}" if mirror else "")
        )
        results.append((not problems, f"{where}: {line}"))
    return results
