"""The cost estimate: every billable kind the plan creates, priced from data, and what the budget sees."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from infra.catalog import load_catalog
from infra.engine.mockrun import run_config
from infra.engine.stackfile import read_config
from infra.environments import ENVIRONMENTS
from infra.estimate import estimate, quantities
from infra.facts import cloud_facts
from infra.plan import Plan, build_plan
from infra.prices import PRICES, Item, VolumePrice, load_prices
from infra.spec import load_spec
from tests.conftest import SHIPPED, endpoints, preview_of, with_keys
from tests.cost_rows import of
from tests.policy_helpers import analyze, registered, set_path


def _plan(config: dict[str, str], stack: str = "aws-dev") -> Plan:
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
    assert quantities(existing)["private_endpoint_zone"] == (0, 0)
    assert not [i for i in estimate(existing).items if i.what.startswith("interface VPC endpoint")]


def test_spot_is_labelled_spot(dev_config) -> None:
    chat = _item(estimate(_plan(_kubernetes_dev(dev_config, "spot"))), "endpoint chat")
    assert chat.capacity == "spot"


def test_the_estimate_names_its_pricing_region_and_notes_a_stack_elsewhere(dev_config) -> None:
    here = estimate(_plan(dev_config))
    assert here.pricing_region == "us-east-1" and "may differ" not in here.note
    there = estimate(_plan(with_keys(dev_config, region="eu-west-1", network={"cidr": "10.20.0.0/16"})))
    assert there.note.endswith("; list prices are for us-east-1; eu-west-1 may differ")


@pytest.mark.parametrize("stack", ["aws-dev", "gcp-dev", "azure-dev"])
def test_the_note_names_what_is_billed_by_volume_and_not_counted(stack: str) -> None:
    """Storage, log and traffic volumes are unknown to the stack: named, never priced at a guess."""
    plan = _plan(read_config(stack), stack)
    figures = estimate(plan)
    not_counted = load_prices()[plan.cloud].not_counted
    assert not_counted and figures.note.startswith(f"not counted (billed by volume): {', '.join(not_counted)}")
    assert preview_of(stack)["outputs"]["cost"]["note"] == figures.note


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


def test_the_registered_cost_prices_the_control_plane_and_system_nodes_the_program_registers(dev_config) -> None:
    """Quantities read from the registered EKS cluster and system node group (found by its pool label),
    at prices.yaml's list prices, not from the estimate the program itself calls: each is a line of
    the registered CostEstimate, and its lines sum to the registered minimum."""
    resources = run_config("aws-dev", _kubernetes_dev(dev_config))["resources"]
    (cost,) = [r["inputs"] for r in of(resources, "ml-serving:index:CostEstimate")]
    (system,) = [
        g["inputs"]
        for g in of(resources, "aws:eks/nodeGroup:NodeGroup")
        if g["inputs"]["labels"]["ml-serving/pool"] == "system"
    ]
    (instance_type,) = system["instanceTypes"]
    prices = load_prices()["aws"]
    registered = [
        (len(of(resources, "aws:eks/cluster:Cluster")), prices.items["cluster"].price[0]),
        (system["scalingConfig"]["minSize"], prices.instances[instance_type].usd_per_hour),
    ]
    for quantity, usd_per_hour in registered:
        assert quantity > 0 and [
            i
            for i in cost["lineItems"]
            if (i["quantity_min"], i["unit_usd"], i["unit"]) == (quantity, usd_per_hour, "hour")
            and i["monthly_usd_min"] == pytest.approx(quantity * usd_per_hour * 730, abs=0.01)
        ]
    assert cost["monthlyUsdMin"] == pytest.approx(sum(i["monthly_usd_min"] for i in cost["lineItems"]), abs=0.01)


@pytest.mark.parametrize("stack", sorted(SHIPPED) + [f"{c}-{e}" for c in ("gcp", "azure") for e in ENVIRONMENTS])
def test_shipped_stacks_price_every_item(stack: str) -> None:
    figures = estimate(_plan(read_config(stack), stack))
    assert all(i.unit_usd > 0 and i.source for i in figures.items)


def test_every_cloud_has_prices_in_its_catalog_pricing_region() -> None:
    """No cloud is priced for its instances alone: each has every section, in the catalog's region."""
    prices = load_prices()
    assert set(prices) == set(cloud_facts())
    for cloud, section in prices.items():
        assert section.region == load_catalog().price_regions[cloud]
        assert cloud_facts()[cloud]["system_pool_instance_type"] in section.instances


@pytest.mark.parametrize(("stack", "control_plane"), [("gcp-dev", "GKE cluster"), ("azure-dev", "AKS private API")])
def test_other_clouds_dev_stacks_with_a_cluster_count_its_control_plane_and_system_pool(
    stack: str, control_plane: str
) -> None:
    """AKS runs dev clusters on the Free tier: its cluster lines are the private API server's endpoint
    and DNS zone; GKE charges its management fee on every regional cluster."""
    plan = _plan(_kubernetes_dev(read_config(stack)), stack)
    assert plan.cluster and not plan.protect
    figures = estimate(plan)
    cluster = [i for i in figures.items if i.what.startswith(control_plane)]
    system = _item(figures, "cluster system pool")
    assert cluster and all(i.monthly_usd_min > 0 for i in cluster)
    assert system.quantity_min == plan.cluster.system_pool.min_nodes and system.monthly_usd_min > 0
    assert figures.monthly_min >= sum(i.monthly_usd_min for i in cluster) + system.monthly_usd_min
    assert not [i for i in figures.items if i.what.startswith("AKS Standard tier")]


def test_a_price_is_given_once_and_a_day_rate_is_a_730_hour_month() -> None:
    with pytest.raises(ValidationError, match="exactly one of usd_per_hour, usd_per_day or usd_per_month"):
        Item(what="x", per="stack", usd_per_hour=1.0, usd_per_day=1.0, source="s")
    registry = load_prices()["azure"].items["registry"]
    (line,) = [i for i in estimate(_plan(read_config("azure-dev"), "azure-dev")).items if i.what == registry.what]
    assert line.unit == "day" and line.monthly_usd_max == pytest.approx(1.667 * 730 / 24, abs=0.01)


def test_a_tiered_disk_is_billed_at_the_next_tier_up() -> None:
    volume = VolumePrice(tiers={64: 10.0, 128: 20.0}, source="s")
    assert volume.per_node(50) == (1, "disk-month (64 GiB tier)", 10.0)
    assert volume.per_node(64)[2] == 10.0 and volume.per_node(65)[2] == 20.0
    with pytest.raises(ValueError, match="no disk tier holds 129 GiB"):
        volume.per_node(129)
