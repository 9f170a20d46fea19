"""How long one request may run: REQUEST_TIMEOUT_FACTOR x the whole-request latency bound, within the
most each managed platform lets a request run (facts.yaml `serving.managed.max_request_timeout_s`). A
bound that needs more is one keyed line before any resource, never a limit cut silently."""

from __future__ import annotations

from typing import Any

import pytest

from infra.engine.stackfile import read_config
from infra.facts import cloud_facts
from infra.plan import REQUEST_TIMEOUT_FACTOR
from tests.conftest import run_program, with_keys
from tests.test_runtime import llm, plan_with, spec_error

# The limits the platforms publish (see facts.yaml for each source).
LIMITS = {"aws": 60, "azure": 180, "gcp": 600}


def test_each_managed_platform_states_its_request_limit_and_kubernetes_none() -> None:
    for cloud, limit in LIMITS.items():
        serving = cloud_facts()[cloud]["serving"]
        assert serving["managed"]["max_request_timeout_s"] == limit
        assert "max_request_timeout_s" not in serving["kubernetes"]


def stated(cloud: str, p95_ms: int, serving: str = "managed") -> dict[str, Any]:
    """An 8B chat endpoint on `cloud`'s dev stack whose whole requests are bound by `p95_ms`."""
    return {**llm(8, p95_latency_ms=p95_ms), "serving": serving}


@pytest.mark.parametrize("cloud", sorted(LIMITS))
def test_the_longest_bound_a_platform_allows_is_planned_with_that_timeout(cloud: str) -> None:
    limit = LIMITS[cloud]
    bound_ms = int(limit * 1000 / REQUEST_TIMEOUT_FACTOR)
    (planned,) = plan_with(read_config(f"{cloud}-dev"), stated(cloud, bound_ms)).values()
    assert planned.request_timeout_seconds == limit


@pytest.mark.parametrize("cloud", sorted(LIMITS))
def test_a_bound_past_the_platform_limit_is_one_line_naming_the_key_the_limit_and_what_to_do(cloud: str) -> None:
    limit = LIMITS[cloud]
    bound_ms = int(limit * 1000 / REQUEST_TIMEOUT_FACTOR) + 1000
    (line,) = spec_error(read_config(f"{cloud}-dev"), stated(cloud, bound_ms))
    timeout = -(-bound_ms * int(REQUEST_TIMEOUT_FACTOR) // 1000)
    platform = cloud_facts()[cloud]["serving"]["managed"]["platform"]
    assert line.startswith(
        f"ml-serving:endpoints[0].sizing.requirements.p95_latency_ms: {bound_ms} ms needs a request timeout of"
        f" {timeout} s (2 x the whole-request latency), above the {limit} s {platform} lets one request run;"
    )
    assert "serving: kubernetes" in line


def test_the_same_bound_served_on_kubernetes_has_no_platform_limit() -> None:
    (planned,) = plan_with(read_config("aws-dev"), stated("aws", 45_000, serving="kubernetes")).values()
    assert planned.request_timeout_seconds == 90


def test_a_long_generation_without_a_stated_bound_names_its_output_tokens() -> None:
    ep = llm(8, output_tokens=3000, context_tokens=4096)
    ep["sizing"]["requirements"] |= {"p95_latency_ms": None, "ttft_ms": 500, "tpot_ms": 40}
    (line,) = spec_error(read_config("aws-dev"), ep)
    # 500 ms + 2999 x 40 ms = 120.5 s a request: a 241 s timeout against SageMaker's 60 s.
    assert line.startswith(
        "ml-serving:endpoints[0].sizing.requirements.output_tokens: 3000 tokens (120 s a request) needs a request"
        " timeout of 241 s"
    )


def test_azure_registers_the_planned_timeout_and_refuses_past_its_limit_before_any_resource(tmp_path) -> None:
    config = with_keys(read_config("azure-dev"), endpoints=[stated("azure", 85_000)])
    document = run_program(tmp_path, "azure-variant", config)
    assert document["error"] is None
    (deployment,) = [
        r for r in document["resources"] if r["type"] == "azure-native:machinelearningservices:OnlineDeployment"
    ]
    # Azure ML's default of 5 s would answer long generations with HTTP 408; 170 s, not clamped.
    assert deployment["inputs"]["properties"]["requestSettings"]["requestTimeout"] == "PT170S"
    refused = run_program(tmp_path, "azure-variant", with_keys(config, endpoints=[stated("azure", 95_000)]))
    assert refused["resources"] == []
    assert refused["error"].startswith("ml-serving:endpoints[0].sizing.requirements.p95_latency_ms: 95000 ms")
