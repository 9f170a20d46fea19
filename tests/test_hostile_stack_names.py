"""The real program under stack and endpoint names built to break names, checked against the API models.

`pulumi stack init` takes any of `[A-Za-z0-9_.-]{1,100}`; the spec takes endpoint and model names
of up to 32 characters. The naming layer's own tests hold each derived name to its rule; these run
the whole prod program of each cloud (the most resources) under hostile names and pass every
resource it registers through the same API-model and name checks as the shipped stacks: upper
case, `_` and `.`, the 100-character maximum, a name of punctuation only (nothing left after
cleaning), and every endpoint and model name at the spec's maximum.
"""

from __future__ import annotations

import json
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
    """The stack's config with every managed endpoint's name and model names grown to the spec's
    maximum (its own name, dashes, a digit: still distinct, still a valid spec name). In-cluster
    endpoints keep theirs: KServe's `{endpoint}-{model}-predictor` must fit 63 characters, which
    the spec checks with a keyed error."""
    endpoints = json.loads(config["ml-serving:endpoints"])
    for endpoint in (e for e in endpoints if e["serving"] == "managed"):
        endpoint["name"] = endpoint["name"].ljust(NAME_MAX - 1, "-")[: NAME_MAX - 1] + "9"
        for model in endpoint["models"]:
            model["name"] = model["name"].ljust(NAME_MAX - 1, "-")[: NAME_MAX - 1] + "9"
    return {**config, "ml-serving:endpoints": json.dumps(endpoints)}


@pytest.mark.parametrize("cloud", sorted(CHECKS))
@pytest.mark.parametrize(("stack", "longest"), [(LONGEST, False), ("_", False), (LONGEST, True)])
def test_every_request_fits_its_api_under_hostile_names(tmp_path: Path, cloud: str, stack: str, longest: bool) -> None:
    config = read_config(f"{cloud}-prod")
    run = run_program(tmp_path, stack, longest_names(config) if longest else config)
    assert run["error"] is None
    assert [r for r in run["resources"] if r["custom"] and r["type"].startswith(f"{cloud}")]
    assert CHECKS[cloud](run["resources"]) == []
