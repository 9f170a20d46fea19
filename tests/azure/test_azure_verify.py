"""`python -m infra verify` on Azure against a stub ARM: each endpoint must be Succeeded, serve the
stack's split and mirror, and every deployment the split names must be Succeeded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra.clouds.azure import arm
from infra.verify import verify
from tests.conftest import preview_of

SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-000000000000"


def deployed_outputs(stack: str) -> dict[str, Any]:
    """The stack's outputs as `pulumi up` leaves them: the preview's, with the endpoints' ids known."""
    outputs = dict(preview_of(stack)["outputs"])
    group = f"{SUBSCRIPTION}/resourceGroups/{outputs['resource_group']}"
    workspace = f"{group}/providers/Microsoft.MachineLearningServices/workspaces/{outputs['workspace']}"
    outputs["endpoint_ids"] = {key: f"{workspace}/onlineEndpoints/{name}" for key, name in outputs["endpoints"].items()}
    return outputs


class Response:
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status_code, self._body, self.content, self.text = status, body, b"{}", ""

    def json(self) -> dict[str, Any]:
        return self._body


def stub_arm(documents: dict[str, dict[str, Any]]) -> arm.Arm:
    """ARM answering GET per resource id from `documents` (404 for anything else)."""

    def send(method: str, url: str, **_: Any) -> Response:
        path = url.removeprefix(arm.MANAGEMENT)
        if method == "GET" and path in documents:
            return Response(200, documents[path])
        return Response(404, {"error": {"code": "NotFound", "message": f"{path} not found"}})

    return arm.Arm(send, lambda: "token", lambda _s: None)


def serving(outputs: dict[str, Any], **changes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """ARM documents of every endpoint serving exactly the stack's traffic, then `changes` per endpoint key."""
    documents: dict[str, dict[str, Any]] = {}
    for key, endpoint_id in outputs["endpoint_ids"].items():
        traffic = outputs["traffic"][key]
        properties = {"provisioningState": "Succeeded", "traffic": traffic["split"], "mirrorTraffic": traffic["mirror"]}
        documents[endpoint_id] = {"properties": {**properties, **changes.get(key, {})}}
        for deployment in [*traffic["split"], *traffic["mirror"]]:
            documents[f"{endpoint_id}/deployments/{deployment}"] = {"properties": {"provisioningState": "Succeeded"}}
    return documents


def write(tmp_path: Path, outputs: dict[str, Any]) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


def test_endpoints_serving_the_stacks_split_pass(tmp_path) -> None:
    outputs = deployed_outputs("azure-prod")
    status, lines = verify("azure-prod", write(tmp_path, outputs), stub_arm(serving(outputs)))
    assert status == 0
    assert (
        lines[1].startswith("intent (azure-prod-intent-")
        and "mirroring {'azure-prod-deberta-intent-v4': 20}" in lines[1]
    )


def test_a_reverted_rollout_is_named_with_what_the_endpoint_serves(tmp_path) -> None:
    outputs = deployed_outputs("azure-prod")
    reverted = {"chat": {"traffic": {"azure-prod-llama3-8b-v1": 100, "azure-prod-llama3-8b-v2": 0}}}
    status, lines = verify("azure-prod", write(tmp_path, outputs), stub_arm(serving(outputs, **reverted)))
    assert status == 1
    assert "serves {'azure-prod-llama3-8b-v1': 100}, the stack deployed" in lines[0]
    assert lines[1].endswith("mirroring {'azure-prod-deberta-intent-v4': 20}")


def test_a_failed_deployment_or_a_missing_endpoint_fails(tmp_path) -> None:
    outputs = deployed_outputs("azure-prod")
    documents = serving(outputs)
    chat = outputs["endpoint_ids"]["chat"]
    documents[f"{chat}/deployments/azure-prod-llama3-8b-v2"] = {"properties": {"provisioningState": "Failed"}}
    del documents[outputs["endpoint_ids"]["intent"]]
    status, lines = verify("azure-prod", write(tmp_path, outputs), stub_arm(documents))
    assert status == 1
    assert "deployment azure-prod-llama3-8b-v2 is Failed, expected Succeeded" in lines[0]
    assert "HTTP 404 NotFound" in lines[1]
