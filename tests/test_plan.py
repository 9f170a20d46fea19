"""The plan: environment defaults, replica bounds, traffic, rollout, cost; plain functions."""

from __future__ import annotations

import pytest

from infra.catalog import load_catalog
from infra.engine.stackfile import read_config
from infra.errors import SpecError
from infra.estimate import estimate
from infra.plan import build_plan
from infra.spec import load_spec
from tests.conftest import endpoints, with_keys


def plan_of(config: dict[str, str]):
    return build_plan(load_spec(config), "test")


def test_prod_defaults_two_replicas_canary_protection_and_capture() -> None:
    plan = plan_of(read_config("aws-prod"))
    assert plan.protect and plan.data_capture
    for endpoint in plan.endpoints:
        assert endpoint.min_replicas >= 2 and endpoint.initial_replicas >= 2
        assert endpoint.rollout.strategy == "canary"
        assert endpoint.error_rate_alarm_percent == 1.0


def test_dev_rolls_out_at_once_and_keeps_one_replica_where_nothing_scales_from_zero(dev_config) -> None:
    eps = endpoints(dev_config)
    eps.append({**eps[0], "name": "chat-k8s", "serving": "kubernetes"})
    plan = plan_of(with_keys(dev_config, endpoints=eps))
    by_name = {e.name: e for e in plan.endpoints}
    assert not plan.protect and not plan.data_capture
    assert by_name["chat"].rollout.strategy == "all-at-once"
    assert by_name["chat"].min_replicas == 1  # SageMaker variants keep one instance
    # EKS node groups scale to zero, the model server does not (tests/kubernetes/test_plan.py).
    assert by_name["chat-k8s"].min_replicas == 1
    assert by_name["chat-k8s"].initial_replicas == 1
    assert plan.cluster is not None and [p.name for p in plan.cluster.gpu_pools] == ["gpu-chat-k8s"]


def test_no_cluster_without_kubernetes_endpoints_or_cluster_key(dev_config) -> None:
    assert plan_of(dev_config).cluster is None
    cluster = plan_of(with_keys(dev_config, cluster={"kubernetes_version": "1.35"})).cluster
    assert cluster is not None and cluster.kubernetes_version == "1.35" and cluster.gpu_pools == ()
    assert cluster.system_pool.instance_type == "m7i.large"


def test_traffic_split_and_shadow_pass_through_to_the_plan() -> None:
    by_name = {e.name: e for e in plan_of(read_config("aws-prod")).endpoints}
    assert [(m.name, m.weight, m.shadow) for m in by_name["chat"].models] == [
        ("llama3-8b-v1", 90, False),
        ("llama3-8b-v2", 10, False),
    ]
    assert [(m.name, m.weight, m.shadow) for m in by_name["intent"].models] == [
        ("deberta-intent-v3", 100, False),
        ("deberta-intent-v4", 20, True),
    ]
    chat = by_name["chat"]
    assert chat.rollout.wait_seconds == 15 * 60 and chat.rollout.step_percent == 10
    assert chat.latency_alarm_ms == 10000


def test_autoscaling_overrides_are_checked_against_the_peak(dev_config) -> None:
    eps = endpoints(dev_config)
    eps[0]["autoscaling"] = {"max_replicas": 1}
    eps[0]["sizing"]["requirements"]["peak_rps"] = 50
    with pytest.raises(SpecError) as caught:
        plan_of(with_keys(dev_config, endpoints=eps))
    assert caught.value.lines[0].startswith("ml-serving:endpoints[0].autoscaling.max_replicas: 1 replica carries")
    assert "below peak_rps 50" in caught.value.lines[0]


def test_an_impossible_workload_is_a_sizing_error_naming_the_closest_option(dev_config) -> None:
    eps = endpoints(dev_config)
    eps[0]["sizing"]["requirements"]["p95_latency_ms"] = 100
    with pytest.raises(SpecError) as caught:
        plan_of(with_keys(dev_config, endpoints=eps))
    assert caught.value.lines == [caught.value.lines[0]]
    assert caught.value.lines[0].startswith(
        "ml-serving:endpoints[0].sizing: no aws managed instance type meets p95 latency 100 ms"
    )


def test_stack_cost_is_the_sum_of_endpoint_costs_at_min_and_max() -> None:
    plan = plan_of(read_config("aws-prod"))
    assert plan.cost.hourly_max == pytest.approx(sum(e.cost.hourly_max for e in plan.endpoints))
    for endpoint in plan.endpoints:
        assert endpoint.cost.hourly_min <= endpoint.cost.hourly_max
        assert endpoint.cost.monthly_max == pytest.approx(endpoint.cost.hourly_max * 730, abs=0.01)


def test_named_profile_and_auto_both_drive_instance_type_and_bounds() -> None:
    plan = plan_of(read_config("aws-prod"))
    by_name = {e.name: e for e in plan.endpoints}
    small = [
        r
        for r in load_catalog().rows("aws", "managed")
        if r.gpu and r.gpu.vendor == "nvidia" and r.gpus == 1 and r.gpu_memory_gib >= 21
    ]
    assert by_name["intent"].instance_type == min(small, key=lambda r: r.hourly_usd).name
    assert (by_name["intent"].min_replicas, by_name["intent"].max_replicas) == (2, 3)
    assert by_name["chat"].instance_type.startswith("ml.")
    assert by_name["chat"].max_replicas > by_name["chat"].min_replicas


@pytest.mark.parametrize("instance_type", ["m5.large", "c7g.xlarge"])
def test_a_system_pool_type_without_a_list_price_is_named_in_the_estimate(dev_config, instance_type) -> None:
    # Any instance type may run the system pool; one the price data lacks is planned, and the estimate
    # (which the budget rule reads) names what it could not count rather than crashing or guessing.
    config = with_keys(dev_config, cluster={"system_pool": {"instance_type": instance_type}})
    plan = plan_of(config)
    assert plan.cluster is not None and plan.cluster.system_pool.instance_type == instance_type
    priced = estimate(plan)
    assert not [i for i in priced.items if i.what.startswith("cluster system pool")]
    assert priced.note is not None and f"system pool type {instance_type!r} has no list price" in priced.note


def test_a_priced_graviton_system_pool_plans_arm64() -> None:
    config = with_keys(read_config("aws-dev"), cluster={"system_pool": {"instance_type": "t4g.medium"}})
    plan = plan_of(config)
    assert plan.cluster is not None and plan.cluster.system_pool.architecture == "arm64"
