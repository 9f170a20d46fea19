"""Fixtures for the Vertex AI deployment provider: the program's registered inputs, a fake endpoint."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.clouds.gcp.deployment import VertexDeploymentProvider
from infra.engine.mockrun import UNKNOWN
from infra.engine.stackfile import read_config
from tests.conftest import preview_of, run_program
from tests.gcp.fake_vertex import FakeVertex, RecordingClock

POLICIES = ["projects/acme-ml-staging/alertPolicies/11", "projects/acme-ml-staging/alertPolicies/12"]
OUTSIDE_IMAGE = "ghcr.io/huggingface/text-embeddings-inference:1.5"


@pytest.fixture(scope="session")
def outside_image(tmp_path_factory) -> dict[str, Any]:
    """What the program registers for gcp-staging with its embedding image taken from GitHub's
    registry, outside Google's: the one case that needs Cloud NAT (the shipped stacks have none)."""
    config = read_config("gcp-staging")
    endpoints = json.loads(config["ml-serving:endpoints"])
    (model,) = next(e for e in endpoints if e["serving"] == "kubernetes")["models"]
    del model["image_tag"]
    model["image"] = OUTSIDE_IMAGE
    variant = {**config, "ml-serving:endpoints": json.dumps(endpoints)}
    return run_program(tmp_path_factory.mktemp("outside-image"), "gcp-staging", variant)


def fill(value: Any, known: dict[str, Any]) -> Any:
    """Replace the preview's unknowns with what the cloud would have answered."""
    if isinstance(value, dict):
        return {k: known.get(k, fill(v, known)) if v == UNKNOWN else fill(v, known) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, known) for v in value]
    return value


@pytest.fixture
def props() -> dict[str, Any]:
    (resource,) = [r for r in preview_of("gcp-staging")["resources"] if r["name"] == "endpoint-chat-deployment"]
    inputs = {k: v for k, v in resource["inputs"].items() if k != "__provider"}
    known = {
        "kmsKeyName": "projects/acme-ml-staging/locations/us-central1/keyRings/r/cryptoKeys/k",
        "serviceAccount": "gcp-staging-chat@acme-ml-staging.iam.gserviceaccount.com",
    }
    filled = fill(inputs, known)
    filled["alert_policies"] = POLICIES
    return filled


@pytest.fixture
def fake() -> FakeVertex:
    fake = FakeVertex()
    fake.policies = {POLICIES[0]: "error-rate > 2", POLICIES[1]: "p95 > 12000"}
    return fake


def provider(fake: FakeVertex) -> VertexDeploymentProvider:
    return VertexDeploymentProvider(api_factory=lambda: fake, clock=RecordingClock(fake))
