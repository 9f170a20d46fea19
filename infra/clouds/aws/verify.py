"""`python -m infra verify` for AWS: each SageMaker endpoint InService on the configuration the stack deployed.

The provider can report success after SageMaker silently rolled an update back: the endpoint is
InService again, on its previous configuration (terraform-provider-aws #39099, #46663, #48997).
So for each endpoint in the stack's outputs, DescribeEndpoint must say InService and name the
endpoint configuration the stack exported.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from infra.errors import SpecError


def expected_endpoints(outputs: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Per endpoint: (SageMaker endpoint name, endpoint configuration name) from the stack's outputs."""
    names = outputs.get("endpoints") or {}
    configs = outputs.get("endpoint_configs") or {}
    if not isinstance(names, dict) or not isinstance(configs, dict):
        raise SpecError("stack outputs: endpoints and endpoint_configs must be objects")
    missing = sorted(set(names) - set(configs))
    if missing:
        raise SpecError(f"stack outputs: endpoint_configs has no entry for {', '.join(missing)}")
    return {key: (names[key], configs[key]) for key in sorted(names)}


def check(outputs: dict[str, Any], region: str, client: Any = None) -> list[tuple[bool, str]]:
    """(ok, line) per endpoint, comparing DescribeEndpoint with the stack's outputs; SpecError when
    SageMaker cannot be reached (no credentials, no network)."""
    if not expected_endpoints(outputs):
        return []
    try:
        return _check(outputs, client or boto3.client("sagemaker", region_name=region))
    except BotoCoreError as exc:
        raise SpecError(f"cannot reach SageMaker in {region}: {exc}") from None


def _check(outputs: dict[str, Any], client: Any) -> list[tuple[bool, str]]:
    results: list[tuple[bool, str]] = []
    for key, (endpoint_name, expected_config) in expected_endpoints(outputs).items():
        where = f"{key} ({endpoint_name})"
        try:
            live = client.describe_endpoint(EndpointName=endpoint_name)
        except ClientError as exc:
            results.append((False, f"{where}: DescribeEndpoint failed: {exc.response['Error'].get('Message', exc)}"))
            continue
        status, config = live.get("EndpointStatus"), live.get("EndpointConfigName")
        problems = []
        if status != "InService":
            reason = live.get("FailureReason")
            problems.append(f"EndpointStatus is {status}, expected InService" + (f" ({reason})" if reason else ""))
        if config != expected_config:
            problems.append(
                f"serves endpoint configuration {config!r}, the stack deployed {expected_config!r}"
                " (SageMaker rolled the update back)"
            )
        results.append(
            (not problems, f"{where}: {'; '.join(problems)}" if problems else f"{where}: InService on {config}")
        )
    return results
