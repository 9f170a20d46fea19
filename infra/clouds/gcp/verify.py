"""GCP half of `python -m infra verify`: each Vertex AI endpoint serves the deployed revisions at the
stack's split.

A rollout the deployment resource stopped (an alert fired) restores the previous split and fails the
update; someone may also move traffic by hand afterwards. So the live endpoint must run every
revision the stack deployed, each at exactly the share the stack gave it.
"""

from __future__ import annotations

from typing import Any

from infra.clouds.gcp.rest import Api, ApiError, GoogleApi
from infra.errors import SpecError


def expected_endpoints(outputs: dict[str, Any]) -> dict[str, tuple[str, dict[str, int]]]:
    """Per endpoint: (Vertex AI endpoint resource name, {revision: percent}) from the stack's outputs."""
    names = outputs.get("endpoints") or {}
    splits = outputs.get("endpoint_splits") or {}
    if not isinstance(names, dict) or not isinstance(splits, dict):
        raise SpecError("stack outputs: endpoints and endpoint_splits must be objects")
    missing = sorted(k for k in names if not isinstance(splits.get(k), dict))
    if missing:
        raise SpecError(f"stack outputs: endpoint_splits has no split for {', '.join(missing)}")
    return {k: (names[k], {r: int(p) for r, p in splits[k].items() if int(p)}) for k in sorted(names)}


def check(outputs: dict[str, Any], region: str, client: Api | None = None) -> list[tuple[bool, str]]:
    """(ok, line) per endpoint, comparing the live traffic split with the one the stack deployed;
    SpecError when Vertex AI cannot be reached at all (no credentials)."""
    expected = expected_endpoints(outputs)
    api = client or GoogleApi()
    results: list[tuple[bool, str]] = []
    for key, (name, split) in expected.items():
        where = f"{key} ({name.rsplit('/', 1)[-1]})"
        try:
            live = api.call("GET", f"https://{region}-aiplatform.googleapis.com/v1/{name}")
        except ApiError as exc:
            results.append((False, f"{where}: reading the endpoint failed: {exc}"))
            continue
        except Exception as exc:  # google.auth: no Application Default Credentials
            raise SpecError(f"cannot reach Vertex AI in {region}: {exc}") from None
        names = {d["id"]: d["displayName"] for d in live.get("deployedModels", [])}
        serving = {names.get(i, i): int(p) for i, p in live.get("trafficSplit", {}).items() if int(p)}
        described = ", ".join(f"{r} {p}%" for r, p in sorted(serving.items())) or "nothing"
        if serving == split:
            results.append((True, f"{where}: serves {described}"))
        else:
            wanted = ", ".join(f"{r} {p}%" for r, p in sorted(split.items()))
            results.append((False, f"{where}: serves {described}, the stack deployed {wanted}"))
    return results
