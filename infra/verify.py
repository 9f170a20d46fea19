"""`python -m infra verify STACK`: read every endpoint back after `pulumi up`.

The provider can report success after SageMaker silently rolled an update back: the endpoint is
InService again, on its previous configuration (terraform-provider-aws #39099, #46663, #48997).
So for each endpoint in the stack's outputs, DescribeEndpoint must say InService and name the
endpoint configuration the stack exported. Exit status: 0 all good, 1 an endpoint differs,
2 a usage error (unknown stack, unreadable outputs, no AWS access).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from infra.engine.stackfile import ROOT, read_config
from infra.errors import SpecError
from infra.spec import config_to_input


def stack_outputs(stack: str, outputs_file: Path | None) -> dict[str, Any]:
    """The stack's outputs from `--outputs FILE`, else from `pulumi stack output --json`."""
    if outputs_file is not None:
        try:
            text = outputs_file.read_text()
        except OSError as exc:
            raise SpecError(f"--outputs: cannot read {outputs_file}: {exc.strerror}") from None
    else:
        try:
            proc = subprocess.run(
                ["pulumi", "stack", "output", "--json", "-s", stack], cwd=ROOT, capture_output=True, text=True
            )
        except FileNotFoundError:
            raise SpecError("the pulumi CLI is not installed; pass the stack's outputs with --outputs FILE") from None
        if proc.returncode != 0:
            raise SpecError(f"pulumi stack output -s {stack} failed: {' '.join(proc.stderr.split())}")
        text = proc.stdout
    try:
        outputs = json.loads(text)
    except ValueError:
        raise SpecError(f"stack outputs of {stack} are not JSON") from None
    if not isinstance(outputs, dict):
        raise SpecError(f"stack outputs of {stack} must be a JSON object")
    return outputs


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


def check(outputs: dict[str, Any], client: Any) -> list[tuple[bool, str]]:
    """(ok, line) per endpoint, comparing DescribeEndpoint with the stack's outputs."""
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


def region_of(stack: str) -> str:
    region = config_to_input(read_config(stack)).get("region")
    if not isinstance(region, str):
        raise SpecError(f"stack {stack!r}: ml-serving:region is not set")
    return region


def verify(stack: str, outputs_file: Path | None = None, client: Any = None) -> tuple[int, list[str]]:
    """Exit status and one line per endpoint; SpecError for a usage error."""
    region = region_of(stack)
    outputs = stack_outputs(stack, outputs_file)
    try:
        results = check(outputs, client or boto3.client("sagemaker", region_name=region))
    except BotoCoreError as exc:  # no credentials, no network
        raise SpecError(f"cannot reach SageMaker in {region}: {exc}") from None
    if not results:
        return 0, [f"{stack}: no managed endpoints to verify"]
    return (0 if all(ok for ok, _ in results) else 1), [line for _, line in results]
