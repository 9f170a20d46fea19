"""The cost estimate: every billable kind the plan creates, priced from data, and what the budget sees."""

from __future__ import annotations

import json

import pytest

from infra.engine.mockrun import run_config
from infra.engine.stackfile import read_config
from infra.estimate import estimate, quantities
from infra.plan import build_plan
from infra.prices import PRICES, load_prices
from infra.spec import load_spec
from tests.conftest import endpoints, preview_of, with_keys
from tests.policy_helpers import analyze, registered, set_path


def _plan(config: dict[str, str], stack: str = "aws-dev"):
    return build_plan(load_spec(config), stack)


def _kubernetes_dev(config: dict[str, str], capacity: str = "on-demand") -> dict[str, str]:
    """aws-dev with its chat endpoint on Kubernetes (dev: scales to zero)."""
    eps = endpoints(config)
    eps[0]["serving"] = "kubernetes"
    eps[0]["sizing"]["capacity"] = capacity
    return with_keys(config, endpoints=eps)


def _item(figures, start: str):
    (found,) = [i for i in figures.items if i.what.startswith(start)]
    return found


def test_a_dev_stack_with_a_cluster_has_a_nonzero_minimum_with_control_plane_and_system_pool(dev_config) -> None:
    plan = _plan(_kubernetes_dev(dev_config))
    figures = estimate(plan)
    chat = _item(figures, "endpoint chat")
    assert chat.quantity_min == plan.endpoints[0].min_replicas
    control = _item(figures, "EKS control plane")
    system = _item(figures, "cluster system pool")
    prices = load_prices()["aws"]
    assert control.monthly_usd_min == pytest.approx(prices.items["cluster"].usd_per_hour * 730)
    assert system.quantity_min == plan.cluster.system_pool.min_nodes == 2
    assert system.monthly_usd_min == pytest.approx(prices.instances["m7i.large"].usd_per_hour * 2 * 730, abs=0.01)
    assert figures.monthly_min >= control.monthly_usd_min + system.monthly_usd_min > 0
    assert figures.monthly_min == pytest.approx(sum(i.monthly_usd_min for i in figures.items), abs=0.01)


def test_private_endpoints_are_counted_per_zone_and_only_for_a_created_network(dev_config) -> None:
    created = _plan(with_keys(dev_config, network={"zones": ["us-east-1a", "us-east-1b", "us-east-1c"]}))
    assert _item(estimate(created), "interface VPC endpoint").quantity_max == len(created.network.private_endpoints) * 3
    existing = _plan(
        with_keys(dev_config, network={"vpc_id": "vpc-0a1b2c3d", "subnet_ids": ["subnet-0a1b2c3d", "subnet-0a1b2c3e"]})
    )
    assert quantities(existing)["private_endpoint_zone"] == 0
    assert not [i for i in estimate(existing).items if i.what.startswith("interface VPC endpoint")]


def test_spot_is_labelled_spot(dev_config) -> None:
    chat = _item(estimate(_plan(_kubernetes_dev(dev_config, "spot"))), "endpoint chat")
    assert chat.capacity == "spot"


def test_the_estimate_names_its_pricing_region_and_notes_a_stack_elsewhere(dev_config) -> None:
    here = estimate(_plan(dev_config))
    assert here.pricing_region == "us-east-1" and here.note is None
    there = estimate(_plan(with_keys(dev_config, region="eu-west-1", network={"cidr": "10.20.0.0/16"})))
    assert there.note == "list prices are for us-east-1; eu-west-1 may differ"


def test_line_items_are_in_the_json_preview_and_sum_to_the_stack_figure() -> None:
    cost = preview_of("aws-staging")["outputs"]["cost"]
    items = cost["lineItems"]
    assert {"what", "quantity_min", "quantity_max", "unit_usd", "unit", "capacity", "source"} <= set(items[0])
    assert cost["monthlyUsdMax"] == pytest.approx(sum(i["monthly_usd_max"] for i in items), abs=0.01)
    assert cost["monthlyUsdMax"] > sum(e["monthly_usd_max"] for e in cost["endpoints"].values())
    assert cost["pricingRegion"] == "us-east-1"


def test_the_budget_rule_holds_the_full_figure_not_only_the_instances() -> None:
    cost = registered("aws-staging", "ml-serving:index:CostEstimate")
    instances_only = sum(e["monthly_usd_max"] for e in cost["inputs"]["endpoints"].values())
    # A budget the instances fit in but the whole stack (control plane, system pool, endpoints...) does not.
    budget = (instances_only + cost["inputs"]["monthlyUsdMax"]) / 2
    found = analyze([set_path(json.loads(json.dumps(cost)), "budgetMonthlyUsd", budget)])
    assert [v.level for v in found if v.policy == "stack-cost-within-budget"] == ["mandatory"]


def test_a_misspelt_price_key_is_an_error_naming_the_file_and_row(tmp_path, monkeypatch) -> None:
    broken = PRICES.read_text().replace("usd_per_hour: 0.10\n", "usd_per_hr: 0.10\n", 1)
    bad = tmp_path / "prices.yaml"
    bad.write_text(broken)
    monkeypatch.setattr("infra.prices.PRICES", bad)
    load_prices.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"^prices.yaml: aws.items.cluster.usd_per_hr: Extra inputs"):
            load_prices()
    finally:
        load_prices.cache_clear()


def test_the_program_registers_the_estimate_the_plan_gives(dev_config) -> None:
    config = _kubernetes_dev(dev_config)
    result = run_config("aws-dev", config)
    registered_cost = next(r for r in result["resources"] if r["type"] == "ml-serving:index:CostEstimate")
    assert registered_cost["inputs"]["monthlyUsdMin"] == estimate(_plan(config)).monthly_min > 0


def test_shipped_stacks_price_every_item(dev_config) -> None:
    for stack in ("aws-dev", "aws-staging", "aws-prod"):
        figures = estimate(_plan(read_config(stack), stack))
        assert all(i.unit_usd > 0 and i.source for i in figures.items)


def test_a_cloud_without_price_data_is_priced_for_its_instances_and_says_so(dev_config, monkeypatch) -> None:
    monkeypatch.setattr("infra.estimate.load_prices", lambda: {})
    figures = estimate(_plan(_kubernetes_dev(dev_config)))
    assert figures.note == "prices.yaml has no aws section yet: only the endpoint instances are counted"
    assert [i.what.split(":")[0] for i in figures.items] == ["endpoint chat", "endpoint intent"]
