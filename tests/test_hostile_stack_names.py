"""The real program under stack and endpoint names built to break names, checked against the API models.

`pulumi stack init` takes any of `[A-Za-z0-9_.-]{1,100}`; the spec takes endpoint and model names
of up to 32 characters. The naming layer's own tests hold each derived name to its rule; these run
the whole prod program of each cloud (the most resources) under hostile names and pass every
resource it registers through the same API-model and name checks as the shipped stacks: upper
case, `_` and `.`, the 100-character maximum, a name of punctuation only (nothing left after
cleaning), and every endpoint and model name at the spec's maximum; and every Kubernetes object
they register to Kubernetes' name rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.engine.stackfile import read_config
from infra.spec.base import NAME_MAX
from tests.aws import test_api_model as aws
from tests.azure import test_azure_api_model as azure
from tests.conftest import run_program
from tests.gcp import test_api_model as gcp

LONGEST = ("Team_A.Prod-" * 9)[:100]


def _aws(resources: list[dict[str, Any]]) -> list[str]:
    requests = aws.requests_of(resources)
    return aws.api_problems(requests) + aws.documented_problems(requests)


def _gcp(resources: list[dict[str, Any]]) -> list[str]:
    return gcp.problems_of(gcp.requests_of(resources))


# cloud -> every problem the cloud's API-model test finds in what the program registered.
CHECKS: dict[str, Callable[[list[dict[str, Any]]], list[str]]] = {
    "aws": _aws,
    "gcp": _gcp,
    "azure": azure.problems_of,
}


def longest_names(config: dict[str, str]) -> dict[str, str]:
    """The stack's config with every endpoint and model name grown to the spec's maximum (its own
    name, dashes, a digit: still distinct, still a valid spec name)."""
    endpoints = json.loads(config["ml-serving:endpoints"])
    for endpoint in endpoints:
        endpoint["name"] = endpoint["name"].ljust(NAME_MAX - 1, "-")[: NAME_MAX - 1] + "9"
        for model in endpoint["models"]:
            model["name"] = model["name"].ljust(NAME_MAX - 1, "-")[: NAME_MAX - 1] + "9"
    return {**config, "ml-serving:endpoints": json.dumps(endpoints)}


DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def kubernetes_name_problems(resources: list[dict[str, Any]]) -> list[str]:
    """Kubernetes names: every object's an RFC 1123 subdomain (253), a namespace's an RFC 1123 label
    (63), and each Service KServe names after an InferenceService's predictor an RFC 1035 label
    (63) (kubernetes.io "Object Names and IDs")."""
    problems = []
    for r in resources:
        metadata = r["inputs"].get("metadata") if r["type"].startswith("kubernetes:") else None
        name = metadata.get("name") if isinstance(metadata, dict) else None
        if not isinstance(name, str):
            continue
        label = r["type"] == "kubernetes:core/v1:Namespace"
        if not (DNS_LABEL if label else DNS_SUBDOMAIN).fullmatch(name) or len(name) > (63 if label else 253):
            problems.append(f"{r['name']}: {name!r} is not a Kubernetes {'label' if label else 'name'}")
        spec = r["inputs"].get("spec") or {}
        if r["inputs"].get("kind") == "InferenceService":
            for p in [spec["predictor"], *(c["predictor"] for c in spec.get("canary", []))]:
                service = f"{name}-{p['name']}-predictor"
                if len(service) > 63 or not re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", service):
                    problems.append(f"{r['name']}: KServe's Service {service!r} is not an RFC 1035 label")
    return problems


@pytest.mark.parametrize("cloud", sorted(CHECKS))
# The longest stack name with the longest endpoint and model names, and a stack name of punctuation only.
@pytest.mark.parametrize(("stack", "longest"), [(LONGEST, True), ("_", False)])
def test_every_request_fits_its_api_under_hostile_names(tmp_path: Path, cloud: str, stack: str, longest: bool) -> None:
    config = read_config(f"{cloud}-prod")
    run = run_program(tmp_path, stack, longest_names(config) if longest else config)
    assert run["error"] is None
    assert [r for r in run["resources"] if r["custom"] and r["type"].startswith(f"{cloud}")]
    assert CHECKS[cloud](run["resources"]) == []
    assert kubernetes_name_problems(run["resources"]) == []
    assert cloud == "gcp" or any(r["inputs"].get("kind") == "InferenceService" for r in run["resources"])
