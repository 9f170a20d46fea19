"""Every GCP price row counts exactly what the program registers, and every type it registers is
priced, billed by volume (the estimate's note says so) or free."""

from __future__ import annotations

import dataclasses

import pytest

from infra.estimate import estimate
from infra.prices import load_prices
from tests.conftest import preview_of
from tests.cost_rows import (
    KUBERNETES_FREE,
    Counter,
    Resources,
    assert_every_type_is_priced_or_free,
    assert_row_counts_the_preview,
    gateway_load_balancers,
    of,
    plan_of,
    row_cases,
)

STACKS = ("gcp-dev", "gcp-staging", "gcp-prod")


def _nat_nodes(rs: Resources) -> int:
    """Nodes a created NAT serves at most: every node pool's maximum (GKE's totals across zones)."""
    if not of(rs, "gcp:compute/routerNat:RouterNat"):
        return 0
    return int(sum(p["inputs"]["autoscaling"]["totalMaxNodeCount"] for p in of(rs, "gcp:container/nodePool:NodePool")))


COUNTED: dict[str, Counter] = {
    "cluster": lambda rs: len(of(rs, "gcp:container/cluster:Cluster")),
    "key_version": lambda rs: len(of(rs, "gcp:kms/cryptoKey:CryptoKey")),
    "rollback_alert_condition": lambda rs: sum(
        len(p["inputs"]["conditions"]) for p in of(rs, "gcp:monitoring/alertPolicy:AlertPolicy")
    ),
    # A forwarding rule with no load-balancing scheme is a Private Service Connect consumer endpoint.
    "psc_endpoint": lambda rs: sum(
        r["inputs"]["loadBalancingScheme"] == "" for r in of(rs, "gcp:compute/forwardingRule:ForwardingRule")
    ),
    "nat_gateway_vm": lambda rs: min(_nat_nodes(rs), 32),
    # AUTO_ONLY: Google allocates the NAT's external addresses, one at the least.
    "nat_ip": lambda rs: sum(
        r["inputs"]["natIpAllocateOption"] == "AUTO_ONLY" for r in of(rs, "gcp:compute/routerNat:RouterNat")
    ),
    "gateway_load_balancer": gateway_load_balancers,
}
# The GKE translator does not serve in-cluster yet: the plan (and so the estimate) has the gateway.

FREE = KUBERNETES_FREE | {
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
    "gcp:bigquery/datasetIamMember:DatasetIamMember",
    "gcp:compute/address:Address",  # internal addresses: no charge
    "gcp:compute/firewall:Firewall",  # VPC firewall rules: no charge
    "gcp:compute/network:Network",
    "gcp:compute/router:Router",  # Cloud Router bills nothing of its own; its NAT is priced
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
    "gcp:kms/keyRing:KeyRing",
    "gcp:projects/iAMMember:IAMMember",
    "gcp:projects/serviceIdentity:ServiceIdentity",
    "gcp:serviceaccount/account:Account",
    "gcp:serviceaccount/iAMMember:IAMMember",  # Workload Identity bindings
    "gcp:storage/bucketIAMMember:BucketIAMMember",
    "gcp:vertex/aiEndpoint:AiEndpoint",  # billed per deployed node, which the catalog prices
}
BY_VOLUME = {
    "gcp:artifactregistry/repository:Repository": "Artifact Registry storage",
    "gcp:bigquery/dataset:Dataset": "BigQuery request-log storage",
    "gcp:compute/subnetwork:Subnetwork": "VPC flow logs",
    "gcp:storage/bucket:Bucket": "Cloud Storage",
}
# Node pools: the system pool line, the endpoints' instances and the node volumes. The dynamic
# resources: the Vertex AI deployments (the endpoint lines) and the storage agent lookup (free).
BY_CATALOG = {"gcp:container/nodePool:NodePool", "pulumi-python:dynamic:Resource"}


def test_every_gcp_price_row_has_a_count_from_the_preview() -> None:
    assert set(COUNTED) == set(load_prices()["gcp"].items)


@pytest.mark.parametrize(("stack", "row"), row_cases(STACKS, "gcp", {}))
def test_each_price_row_counts_what_the_program_registers(stack: str, row: str) -> None:
    assert_row_counts_the_preview(stack, row, COUNTED)


@pytest.mark.parametrize("stack", STACKS)
def test_every_registered_type_is_priced_billed_by_volume_or_free(stack: str) -> None:
    assert_every_type_is_priced_or_free(stack, FREE, BY_VOLUME, BY_CATALOG)


def test_node_volume_lines_count_the_registered_pd_balanced_boot_disks() -> None:
    resources = preview_of("gcp-staging")["resources"]
    plan = plan_of("gcp-staging")
    assert plan.cluster
    lines = {i.what: i for i in estimate(plan).items if i.what.startswith("node volumes")}
    pools = {
        p["inputs"]["nodeConfig"]["labels"]["ml-serving/pool"]: p
        for p in of(resources, "gcp:container/nodePool:NodePool")
    }
    for pool in (plan.cluster.system_pool, *plan.cluster.gpu_pools):
        registered = pools[pool.name]["inputs"]
        size, scaling = registered["nodeConfig"].get("diskSizeGb"), registered["autoscaling"]
        line = lines[f"node volumes, pool {pool.name}: {pool.disk_gib} GiB per node"]
        assert registered["nodeConfig"]["diskType"] == "pd-balanced"
        assert (line.quantity_min, line.quantity_max) == (
            size * scaling["totalMinNodeCount"],
            size * scaling["totalMaxNodeCount"],
        )


def test_cloud_nat_is_billed_for_32_nodes_at_most() -> None:
    # The shipped stacks pull only from Artifact Registry (no NAT): give the plan egress and 40 GPU nodes.
    plan = plan_of("gcp-staging")
    assert plan.cluster
    (pool,) = plan.cluster.gpu_pools
    large = dataclasses.replace(
        plan,
        network=dataclasses.replace(plan.network, egress=True),
        cluster=dataclasses.replace(plan.cluster, gpu_pools=(dataclasses.replace(pool, max_nodes=40),)),
    )
    (line,) = [i for i in estimate(large).items if i.what.startswith("Cloud NAT gateway")]
    assert line.quantity_max == 32 and line.monthly_usd_max == pytest.approx(0.0014 * 32 * 730, abs=0.01)
