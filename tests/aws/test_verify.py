"""`python -m infra verify`: after `pulumi up`, every endpoint must be InService on the endpoint
configuration the stack deployed; a silent rollback (terraform-provider-aws #39099, #46663, #48997)
is caught here. SageMaker is a botocore Stubber, so the checks run offline against the real client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from infra.engine.stackfile import ROOT
from infra.errors import SpecError
from infra.verify import verify
from tests.conftest import preview_of

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def deployed_outputs(stack: str) -> dict[str, Any]:
    """The stack's outputs as `pulumi up` leaves them: the preview's, with the configs' names known."""
    outputs = dict(preview_of(stack)["outputs"])
    outputs["endpoint_configs"] = {key: f"endpoint-{key}-config-0a1b2c3" for key in outputs["endpoints"]}
    return outputs


def stubbed(answers: dict[str, dict[str, Any] | str]) -> Any:
    """A real SageMaker client answering DescribeEndpoint per endpoint name (a str answer: an API error)."""
    client = botocore.session.get_session().create_client(
        "sagemaker", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    stub = Stubber(client)
    for name, answer in answers.items():
        if isinstance(answer, str):
            stub.add_client_error(
                "describe_endpoint", "ValidationException", answer, expected_params={"EndpointName": name}
            )
        else:
            response = {
                "EndpointName": name,
                "EndpointArn": f"arn:aws:sagemaker:us-east-1:111122223333:endpoint/{name}",
                "CreationTime": NOW,
                "LastModifiedTime": NOW,
                **answer,
            }
            stub.add_response("describe_endpoint", response, {"EndpointName": name})
    stub.activate()
    return client


def write(tmp_path: Path, outputs: dict[str, Any]) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


def test_all_endpoints_in_service_on_the_deployed_configuration(tmp_path) -> None:
    outputs = deployed_outputs("aws-prod")
    answers = {
        outputs["endpoints"][key]: {"EndpointStatus": "InService", "EndpointConfigName": config}
        for key, config in outputs["endpoint_configs"].items()
    }
    status, lines = verify("aws-prod", write(tmp_path, outputs), stubbed(answers))
    assert status == 0
    assert lines == [
        f"{k} (aws-prod-{k}): InService on endpoint-{k}-config-0a1b2c3" for k in sorted(outputs["endpoints"])
    ]


def test_a_silently_rolled_back_endpoint_fails_with_one_line_saying_what_differs(tmp_path) -> None:
    outputs = deployed_outputs("aws-prod")
    answers = {
        "aws-prod-chat": {"EndpointStatus": "InService", "EndpointConfigName": "endpoint-chat-config-9f8e7d6"},
        "aws-prod-intent": {"EndpointStatus": "InService", "EndpointConfigName": "endpoint-intent-config-0a1b2c3"},
    }
    status, lines = verify("aws-prod", write(tmp_path, outputs), stubbed(answers))
    assert status == 1
    assert lines == [
        "chat (aws-prod-chat): serves endpoint configuration 'endpoint-chat-config-9f8e7d6', the stack deployed"
        " 'endpoint-chat-config-0a1b2c3' (SageMaker rolled the update back)",
        "intent (aws-prod-intent): InService on endpoint-intent-config-0a1b2c3",
    ]


@pytest.mark.parametrize("endpoint_status", ["Updating", "RollingBack", "Failed", "OutOfService"])
def test_an_endpoint_not_in_service_fails(tmp_path, endpoint_status: str) -> None:
    outputs = deployed_outputs("aws-dev")
    answers: dict[str, dict[str, Any] | str] = {
        name: {"EndpointStatus": "InService", "EndpointConfigName": outputs["endpoint_configs"][key]}
        for key, name in outputs["endpoints"].items()
    }
    answers["aws-dev-chat"] = {
        "EndpointStatus": endpoint_status,
        "EndpointConfigName": "endpoint-chat-config-0a1b2c3",
        "FailureReason": "health check failed",
    }
    status, lines = verify("aws-dev", write(tmp_path, outputs), stubbed(answers))
    assert status == 1
    assert (
        lines[0]
        == f"chat (aws-dev-chat): EndpointStatus is {endpoint_status}, expected InService (health check failed)"
    )


def test_a_missing_endpoint_fails(tmp_path) -> None:
    outputs = {"endpoints": {"chat": "aws-dev-chat"}, "endpoint_configs": {"chat": "cfg"}}
    client = stubbed({"aws-dev-chat": 'Could not find endpoint "aws-dev-chat".'})
    status, lines = verify("aws-dev", write(tmp_path, outputs), client)
    assert (status, lines) == (
        1,
        [
            "intent: in the stack file but not in the stack's outputs (was `pulumi up` run for aws-dev?)",
            'chat (aws-dev-chat): DescribeEndpoint failed: Could not find endpoint "aws-dev-chat".',
        ],
    )


@pytest.mark.parametrize("outputs", [{}, {"registry_url": "x"}, {"endpoints": {}}])
def test_outputs_without_the_stacks_endpoints_fail_instead_of_reading_as_all_good(tmp_path, outputs) -> None:
    # Empty outputs, or another stack's, must not pass `verify` after `pulumi up` (newcomer trial).
    status, lines = verify("aws-dev", write(tmp_path, outputs), stubbed({}))
    assert status == 1
    assert [line.split(":")[0] for line in lines] == ["chat", "intent"]


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        ({"endpoints": {"chat": "aws-dev-chat"}}, "stack outputs: endpoint_configs has no entry for chat"),
        ({"endpoints": ["aws-dev-chat"]}, "stack outputs: endpoints and endpoint_configs must be objects"),
        ([1, 2], "stack outputs of aws-dev must be a JSON object"),
    ],
)
def test_unusable_outputs_are_usage_errors(tmp_path, outputs: Any, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        verify("aws-dev", write(tmp_path, outputs), stubbed({}))


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The command in a fresh process; AWS_* variables come from `env` only."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | env
    return subprocess.run(
        [sys.executable, "-m", "infra", "verify", *args], cwd=ROOT, capture_output=True, text=True, env=environment
    )


def test_cli_exits_2_for_an_unknown_stack_or_unreadable_outputs(tmp_path) -> None:
    unknown = _cli("aws-nowhere", "--outputs", str(write(tmp_path, {})))
    assert unknown.returncode == 2 and unknown.stderr.startswith("stack 'aws-nowhere': no file")
    unreadable = _cli("aws-dev", "--outputs", str(tmp_path / "missing.json"))
    assert unreadable.returncode == 2 and unreadable.stderr.startswith("--outputs: cannot read")
    assert "Traceback" not in unknown.stderr + unreadable.stderr


def test_cli_without_pulumi_or_credentials_exits_2_with_one_line(tmp_path) -> None:
    no_pulumi = _cli("aws-dev", PATH=str(Path(sys.executable).parent))
    assert no_pulumi.returncode == 2
    assert no_pulumi.stderr.strip() == "the pulumi CLI is not installed; pass the stack's outputs with --outputs FILE"
    no_credentials = _cli(
        "aws-dev",
        "--outputs",
        str(write(tmp_path, deployed_outputs("aws-dev"))),
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_CONFIG_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    assert no_credentials.returncode == 2
    assert no_credentials.stderr.strip() == "cannot reach SageMaker in us-east-1: Unable to locate credentials"
