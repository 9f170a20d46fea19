"""Every Azure price row counts exactly what the program registers, and every type it registers is
priced, billed by volume (the estimate's note says so) or free."""

from __future__ import annotations

import math

import pytest
import yaml

from infra.engine.stackfile import ROOT
from infra.estimate import estimate
from infra.facts import cloud_facts
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

STACKS = ("azure-dev", "azure-staging", "azure-prod")
CLUSTER = "azure-native:containerservice:ManagedCluster"


def _private_clusters(rs: Resources) -> int:
    return sum(bool(c["inputs"]["apiServerAccessProfile"]["enablePrivateCluster"]) for c in of(rs, CLUSTER))


def _time_series(rs: Resources) -> int:
    """Metric time series the alerts watch: per criterion, one per included value of each dimension."""
    return sum(
        math.prod(len(d["values"]) for d in criterion.get("dimensions", []))
        for alert in of(rs, "azure-native:monitor:MetricAlert")
        for criterion in alert["inputs"]["criteria"]["allOf"]
        if len(alert["inputs"]["scopes"]) == 1
    )


COUNTED: dict[str, Counter] = {
    "cluster_uptime_sla": lambda rs: sum(c["inputs"]["sku"]["tier"] == "Standard" for c in of(rs, CLUSTER)),
    # A private cluster reaches its API server through a private endpoint and a private DNS zone that
    # AKS creates in the node resource group.
    "cluster_api_endpoint": _private_clusters,
    "cluster_api_dns_zone": _private_clusters,
    "private_endpoint": lambda rs: len(of(rs, "azure-native:network:PrivateEndpoint")),
    "private_dns_zone": lambda rs: len(of(rs, "azure-native:privatedns:PrivateZone")),
    "workspace_managed_endpoints": lambda rs: (
        4
        * sum(
            w["inputs"]["managedNetwork"]["isolationMode"] == "AllowOnlyApprovedOutbound"
            for w in of(rs, "azure-native:machinelearningservices:Workspace")
        )
    ),
    "key": lambda rs: sum(k["inputs"]["properties"]["kty"] == "RSA-HSM" for k in of(rs, "azure-native:keyvault:Key")),
    "rollback_alert": _time_series,
    "registry": lambda rs: sum(
        r["inputs"]["sku"]["name"] == "Premium" for r in of(rs, "azure-native:containerregistry:Registry")
    ),
    "gateway_load_balancer": gateway_load_balancers,
}

FREE = KUBERNETES_FREE | {
    "azure-native:authorization:RoleAssignment",
    "azure-native:machinelearningservices:Datastore",
    "azure-native:machinelearningservices:EnvironmentVersion",  # names a built image; no build runs
    "azure-native:machinelearningservices:ModelVersion",  # its files stay in the model store
    "azure-native:machinelearningservices:OnlineEndpoint",  # billed per deployment instance
    "azure-native:managedidentity:FederatedIdentityCredential",
    "azure-native:managedidentity:UserAssignedIdentity",
    "azure-native:monitor:AutoscaleSetting",
    "azure-native:network:NetworkSecurityGroup",
    "azure-native:network:PrivateDnsZoneGroup",
    "azure-native:network:Subnet",
    "azure-native:network:VirtualNetwork",
    "azure-native:privatedns:VirtualNetworkLink",
    "azure-native:resources:ResourceGroup",
    "azure-native:storage:BlobContainer",
    "azure-native:storage:BlobServiceProperties",
}
BY_VOLUME = {
    "azure-native:applicationinsights:Component": "Application Insights ingestion",
    "azure-native:keyvault:Vault": "Key Vault operations",
    "azure-native:operationalinsights:Workspace": "Log Analytics",
    "azure-native:storage:StorageAccount": "storage account",
}
# GPU pools and managed deployments: the endpoints' instances (catalog) and the node volumes. The
# dynamic resources: the traffic steps, which bill nothing.
BY_CATALOG = {
    "azure-native:containerservice:AgentPool",
    "azure-native:machinelearningservices:OnlineDeployment",
    "pulumi-python:dynamic:Resource",
}


def test_every_azure_price_row_has_a_count_from_the_preview() -> None:
    assert set(COUNTED) == set(load_prices()["azure"].items)


@pytest.mark.parametrize(("stack", "row"), row_cases(STACKS, "azure", {}))
def test_each_price_row_counts_what_the_program_registers(stack: str, row: str) -> None:
    assert_row_counts_the_preview(stack, row, COUNTED)


@pytest.mark.parametrize("stack", STACKS)
def test_every_registered_type_is_priced_billed_by_volume_or_free(stack: str) -> None:
    assert_every_type_is_priced_or_free(stack, FREE, BY_VOLUME, BY_CATALOG)


def test_the_aks_tier_priced_is_the_one_registered_free_below_prod() -> None:
    for stack, tier in (("azure-staging", "Free"), ("azure-prod", "Standard")):
        (cluster,) = of(preview_of(stack)["resources"], CLUSTER)
        assert cluster["inputs"]["sku"]["tier"] == tier
        sla = [i for i in estimate(plan_of(stack)).items if i.what.startswith("AKS Standard tier")]
        assert len(sla) == (tier == "Standard")


@pytest.mark.parametrize("stack", ["azure-staging", "azure-prod"])
def test_node_volume_lines_count_the_registered_os_disks_at_their_tier(stack: str) -> None:
    resources = preview_of(stack)["resources"]
    plan = plan_of(stack)
    assert plan.cluster
    (cluster,) = of(resources, CLUSTER)
    registered = [
        *cluster["inputs"]["agentPoolProfiles"],
        *(p["inputs"] for p in of(resources, "azure-native:containerservice:AgentPool")),
    ]
    tiers = load_prices()["azure"].node_volume.tiers
    assert tiers
    lines = [i for i in estimate(plan).items if i.what.startswith("node volumes")]
    assert len(lines) == len(registered) == 1 + len(plan.cluster.gpu_pools)
    for pool, line in zip(registered, lines, strict=True):
        size = pool["osDiskSizeGB"]
        tier = min(t for t in tiers if t >= size)
        assert line.what.endswith(f": {size:g} GiB per node")
        assert (line.quantity_min, line.quantity_max) == (pool["minCount"], pool["maxCount"])
        assert line.unit_usd == tiers[tier]


def test_disk_tiers_hold_the_largest_disk_aks_takes() -> None:
    tiers = load_prices()["azure"].node_volume.tiers
    assert tiers and max(tiers) >= cloud_facts()["azure"]["max_node_disk_gib"]


def test_the_private_dns_zones_in_facts_are_those_of_the_translators_private_link_table() -> None:
    table = yaml.safe_load((ROOT / "infra/clouds/azure/private_link.yaml").read_text())
    facts = cloud_facts()["azure"]
    assert sorted(facts["private_dns_zones"]) == sorted({z for row in table.values() for z in row["zones"]})
    assert {*facts["private_endpoints"]["always"], *facts["private_endpoints"]["managed"]} == set(table)
