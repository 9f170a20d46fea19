"""`python -m infra verify` on GCP: after `pulumi up`, every Vertex AI endpoint serves the revisions the
stack deployed at the stack's split. The endpoint is the in-memory Vertex AI the deployment
provider's tests use, deployed by the real provider from what the program registered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.errors import SpecError
from infra.verify import verify
from tests.gcp.conftest import POLICIES, provider
from tests.gcp.fake_vertex import FakeVertex


def deployed(props: dict[str, Any]) -> tuple[FakeVertex, dict[str, Any]]:
    """A fake endpoint after `pulumi up`, and the stack outputs that up leaves."""
    fake = FakeVertex()
    fake.policies = dict.fromkeys(POLICIES, "q")
    result = provider(fake).create(props)
    outputs = {"endpoints": {"chat": result.id}, "endpoint_splits": {"chat": result.outs["split"]}}
    return fake, outputs


def write(tmp_path: Path, outputs: Any) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


def test_an_endpoint_serving_the_stacks_split_passes(tmp_path, props) -> None:
    fake, outputs = deployed(props)
    status, lines = verify("gcp-staging", write(tmp_path, outputs), fake)
    v1, v2 = sorted(outputs["endpoint_splits"]["chat"])
    assert (status, lines) == (0, [f"chat (gcp-staging-chat): serves {v1} 50%, {v2} 50%"])


def test_traffic_moved_away_from_the_stacks_split_fails_naming_both(tmp_path, props) -> None:
    fake, outputs = deployed(props)
    v1, v2 = sorted(outputs["endpoint_splits"]["chat"])
    ids = {d["displayName"]: i for i, d in fake.deployed.items()}
    fake.split = {ids[v1]: 100, ids[v2]: 0}
    status, lines = verify("gcp-staging", write(tmp_path, outputs), fake)
    assert (status, lines) == (
        1,
        [f"chat (gcp-staging-chat): serves {v1} 100%, the stack deployed {v1} 50%, {v2} 50%"],
    )


def test_an_endpoint_serving_nothing_fails(tmp_path, props) -> None:
    fake, outputs = deployed(props)
    fake.split = {}
    status, lines = verify("gcp-staging", write(tmp_path, outputs), fake)
    assert status == 1 and lines[0].startswith("chat (gcp-staging-chat): serves nothing, the stack deployed")


def test_outputs_without_splits_are_a_usage_error(tmp_path) -> None:
    outputs = {"endpoints": {"chat": "projects/p/locations/us-central1/endpoints/gcp-staging-chat"}}
    with pytest.raises(SpecError, match="stack outputs: endpoint_splits has no split for chat"):
        verify("gcp-staging", write(tmp_path, outputs), FakeVertex())
