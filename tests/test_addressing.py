"""Network ranges are the plan's: carved from the stack's CIDR by the cloud's layout, disjoint, inside
the CIDR, built as planned, and a CIDR too small for the cluster's pod ranges is refused."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.addressing import carve
from infra.engine.mockrun import run_config
from infra.engine.stackfile import read_config
from infra.errors import SpecError
from infra.plan import build_plan
from infra.spec import load_spec
from tests.conftest import preview_of, with_keys

ZONES = {"aws": ("us-east-1a", "us-east-1b", "us-east-1c"), "gcp": (), "azure": ()}


@given(
    cloud=st.sampled_from(sorted(ZONES)),
    prefix=st.integers(16, 22),
    second_octet=st.integers(0, 255),
    zone_count=st.integers(2, 3),
)
def test_ranges_are_disjoint_and_inside_the_cidr(cloud: str, prefix: int, second_octet: int, zone_count: int) -> None:
    cidr = str(ipaddress.IPv4Network(f"10.{second_octet}.0.0/{prefix}", strict=False))
    ranges = carve(cloud, cidr, ZONES[cloud][:zone_count])
    blocks = [ipaddress.IPv4Network(r) for r in ranges.values()]
    assert blocks and all(b.subnet_of(ipaddress.IPv4Network(cidr)) for b in blocks)
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])
    if cloud == "aws":
        assert set(ranges) == set(ZONES["aws"][:zone_count])


def test_a_gcp_cidr_whose_pod_range_cannot_hold_the_cluster_is_a_keyed_error() -> None:
    # A /22 leaves GKE a /23 pod range: two nodes at a /24 each, fewer than the cluster's pools.
    config = with_keys(read_config("gcp-staging"), network={"cidr": "10.30.0.0/22"})
    with pytest.raises(SpecError) as caught:
        build_plan(load_spec(config), "gcp-staging")
    (line,) = [line for line in caught.value.lines if line.startswith("ml-serving:network.cidr:")]
    assert line.startswith("ml-serving:network.cidr: '10.30.0.0/22' leaves a /23 pod range, room for 2 nodes")


def test_a_gcp_cidr_with_room_for_every_node_plans() -> None:
    plan = build_plan(load_spec(with_keys(read_config("gcp-staging"), network={"cidr": "10.30.0.0/20"})), "x")
    assert plan.cluster is not None
    nodes = sum(p.max_nodes for p in (plan.cluster.system_pool, *plan.cluster.gpu_pools))
    assert nodes <= 2 ** (24 - ipaddress.IPv4Network(plan.network.ranges["pods"]).prefixlen)


@pytest.mark.parametrize("stack", ["aws-prod", "gcp-staging", "azure-prod"])
def test_the_program_builds_the_ranges_the_plan_carves(stack: str) -> None:
    plan = build_plan(load_spec(read_config(stack)), stack)
    built: set[str] = set()
    for resource in preview_of(stack)["resources"]:
        inputs = resource["inputs"]
        built |= {inputs[k] for k in ("cidrBlock", "ipCidrRange", "addressPrefix") if k in inputs}
        built |= {r["ipCidrRange"] for r in inputs.get("secondaryIpRanges", [])}
        built |= {
            c["masterIpv4CidrBlock"] for c in [inputs.get("privateClusterConfig", {})] if "masterIpv4CidrBlock" in c
        }
    # Every planned range is built (the VPC's own block aside, nothing else is carved).
    assert set(plan.network.ranges.values()) == built - {plan.network.cidr}


def test_an_existing_gcp_subnet_is_used_with_the_secondary_ranges_the_stack_names() -> None:
    network = {
        "vpc_id": "projects/acme-net/global/networks/shared",
        "subnet_ids": ["projects/acme-net/regions/us-central1/subnetworks/serving"],
        "secondary_ranges": {"pods": "gke-pods"},
    }
    result = run_config("gcp-staging", with_keys(read_config("gcp-staging"), network=network))
    assert result["error"] is None, result["error"]
    types = {r["type"] for r in result["resources"]}
    assert "gcp:compute/subnetwork:Subnetwork" not in types and "gcp:compute/network:Network" not in types
    (cluster,) = [r for r in result["resources"] if r["type"] == "gcp:container/cluster:Cluster"]
    assert cluster["inputs"]["subnetwork"] == network["subnet_ids"][0]
    assert cluster["inputs"]["ipAllocationPolicy"] == {
        "clusterSecondaryRangeName": "gke-pods",
        "servicesSecondaryRangeName": "services",
    }
