"""The Azure rules through the Analyzer protocol: the resources the real program registered pass, and
each insecure variant of them (its inputs mutated) fails the rule as a mandatory violation."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra.engine.analyzer import PolicyPackProcess
from ml_serving_policy.rules import REGISTRY
from tests.conftest import preview_of
from tests.policy_helpers import DELETE, UNKNOWN, fired, set_path

ML = "azure-native:machinelearningservices"
VAULT = "azure-native:keyvault:Vault"
KEY = "azure-native:keyvault:Key"
ACR = "azure-native:containerregistry:Registry"
ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
CONTAINER = "azure-native:storage:BlobContainer"
SUBNET = "azure-native:network:Subnet"
NSG = "azure-native:network:NetworkSecurityGroup"
PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ALERT = "azure-native:monitor:MetricAlert"
AUTOSCALE = "azure-native:monitor:AutoscaleSetting"
WORKSPACE = f"{ML}:Workspace"
ENDPOINT = f"{ML}:OnlineEndpoint"
DEPLOYMENT = f"{ML}:OnlineDeployment"
TRAFFIC = "pulumi-python:dynamic:Resource"
COMPONENT = "ml-serving:azure:ManagedEndpoint"
CLUSTER = "azure-native:containerservice:ManagedCluster"
POOL = "azure-native:containerservice:AgentPool"
SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-000000000000"
OWNER = f"{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
OPEN_RULE = {
    "name": "ssh",
    "priority": 100,
    "direction": "Inbound",
    "access": "Allow",
    "protocol": "Tcp",
    "sourceAddressPrefix": "Internet",
    "sourcePortRange": "*",
    "destinationAddressPrefix": "*",
    "destinationPortRange": "22",
}


def resource(resource_type: str, stack: str = "azure-staging") -> dict[str, Any]:
    return copy.deepcopy(next(r for r in preview_of(stack)["resources"] if r["type"] == resource_type))


def of_types(stack: str, *types: str) -> list[dict[str, Any]]:
    return copy.deepcopy([r for r in preview_of(stack)["resources"] if r["type"] in types])


@pytest.fixture(scope="module")
def pack():
    with PolicyPackProcess() as running:
        running.configure({"all": "mandatory"})
        yield running


# (rule, resource type, insecure path, insecure value)
CASES: list[tuple[str, str, str, Any]] = [
    ("azure-keyvault-vault-rbac-private", VAULT, "properties.enableRbacAuthorization", False),
    ("azure-keyvault-vault-rbac-private", VAULT, "properties.publicNetworkAccess", "Enabled"),
    ("azure-keyvault-vault-rbac-private", VAULT, "properties.networkAcls.defaultAction", "Allow"),
    ("azure-keyvault-vault-purge-protection", VAULT, "properties.enablePurgeProtection", DELETE),
    ("azure-keyvault-vault-purge-protection", VAULT, "properties.enableSoftDelete", False),
    ("azure-keyvault-key-rotation", KEY, "properties.rotationPolicy", DELETE),
    ("azure-keyvault-key-rotation", KEY, "properties.keySize", 2048),
    ("azure-acr-registry-private", ACR, "adminUserEnabled", True),
    ("azure-acr-registry-private", ACR, "anonymousPullEnabled", True),
    ("azure-acr-registry-private", ACR, "publicNetworkAccess", "Enabled"),
    ("azure-acr-registry-private", ACR, "sku.name", "Standard"),
    ("azure-acr-registry-cmk", ACR, "encryption.status", "disabled"),
    ("azure-acr-registry-cmk", ACR, "encryption.keyVaultProperties", DELETE),
    ("azure-acr-registry-retention", ACR, "policies.retentionPolicy.status", "disabled"),
    ("azure-storage-account-private", ACCOUNT, "allowBlobPublicAccess", True),
    ("azure-storage-account-private", ACCOUNT, "allowSharedKeyAccess", DELETE),
    ("azure-storage-account-private", ACCOUNT, "enableHttpsTrafficOnly", False),
    ("azure-storage-account-private", ACCOUNT, "minimumTlsVersion", "TLS1_0"),
    ("azure-storage-account-private", ACCOUNT, "publicNetworkAccess", "Enabled"),
    ("azure-storage-account-cmk", ACCOUNT, "encryption.keySource", "Microsoft.Storage"),
    ("azure-storage-account-cmk", ACCOUNT, "encryption.requireInfrastructureEncryption", False),
    ("azure-storage-blob-service-recovery", BLOB_SERVICE, "isVersioningEnabled", False),
    ("azure-storage-blob-service-recovery", BLOB_SERVICE, "deleteRetentionPolicy.days", 1),
    ("azure-storage-container-private", CONTAINER, "publicAccess", "Blob"),
    ("azure-network-subnet-private", SUBNET, "defaultOutboundAccess", True),
    ("azure-network-subnet-private", SUBNET, "networkSecurityGroup", DELETE),
    ("azure-network-nsg-no-internet-inbound", NSG, "securityRules[0]", OPEN_RULE),
    ("azure-network-nsg-no-internet-inbound", NSG, "securityRules", UNKNOWN),
    ("azure-authorization-no-broad-subscription-role", ASSIGNMENT, "roleDefinitionId", OWNER),
    ("azure-monitor-metric-alert-armed", ALERT, "enabled", False),
    ("azure-monitor-metric-alert-armed", ALERT, "evaluationFrequency", "PT1H"),
    ("azure-monitor-autoscale-bounds", AUTOSCALE, "profiles[0].capacity.minimum", "0"),
    ("azure-ml-workspace-private-cmk", WORKSPACE, "publicNetworkAccess", "Enabled"),
    ("azure-ml-workspace-private-cmk", WORKSPACE, "managedNetwork.isolationMode", "AllowInternetOutbound"),
    ("azure-ml-workspace-private-cmk", WORKSPACE, "encryption", DELETE),
    ("azure-ml-workspace-private-cmk", WORKSPACE, "identity.type", "UserAssigned"),
    ("azure-ml-endpoint-private", ENDPOINT, "properties.publicNetworkAccess", "Enabled"),
    ("azure-ml-endpoint-private", ENDPOINT, "properties.traffic", {"azure-staging-llama3-8b-v1": 100}),
    ("azure-ml-deployment-settings", DEPLOYMENT, "properties.requestSettings", DELETE),
    ("azure-ml-deployment-settings", DEPLOYMENT, "properties.livenessProbe", DELETE),
    ("azure-ml-deployment-settings", DEPLOYMENT, "properties.appInsightsEnabled", False),
    ("azure-aks-cluster-private-entra", CLUSTER, "apiServerAccessProfile.enablePrivateCluster", False),
    ("azure-aks-cluster-private-entra", CLUSTER, "disableLocalAccounts", False),
    ("azure-aks-cluster-private-entra", CLUSTER, "aadProfile.enableAzureRBAC", False),
    ("azure-aks-cluster-workload-identity", CLUSTER, "securityProfile.workloadIdentity.enabled", False),
    ("azure-aks-cluster-workload-identity", CLUSTER, "oidcIssuerProfile", DELETE),
    ("azure-aks-cluster-kms-etcd", CLUSTER, "securityProfile.azureKeyVaultKms.keyVaultNetworkAccess", "Public"),
    ("azure-aks-cluster-kms-etcd", CLUSTER, "securityProfile.azureKeyVaultKms", DELETE),
    ("azure-aks-cluster-network-policy", CLUSTER, "networkProfile.networkPolicy", "none"),
    ("azure-aks-agent-pool-gpu", POOL, "nodeTaints", []),
    ("azure-aks-agent-pool-gpu", POOL, "scaleSetEvictionPolicy", "Deallocate"),
    ("azure-aks-agent-pool-gpu", POOL, "maxCount", 0),
]


@pytest.mark.parametrize(("rule", "rtype", "path", "value"), CASES)
def test_rule_passes_secure_and_fails_insecure(pack, rule, rtype, path, value) -> None:
    registered = resource(rtype)
    assert fired(pack, rule, [registered]) == set()
    insecure = set_path(copy.deepcopy(registered), path, value)
    assert fired(pack, rule, [insecure]) == {"mandatory"}


STATEFUL = (VAULT, ACR, ACCOUNT, WORKSPACE, PRIVATE_ENDPOINT)


@pytest.mark.parametrize("service", [VAULT, ACR, ACCOUNT, WORKSPACE])
def test_every_stateful_service_has_its_private_endpoint(pack, service) -> None:
    rule = "azure-network-private-endpoint-per-service"
    stack = of_types("azure-staging", *STATEFUL)
    assert fired(pack, rule, stack) == set()
    (target,) = [r for r in stack if r["type"] == service]
    without = [
        r
        for r in stack
        if not (
            r["type"] == PRIVATE_ENDPOINT
            and target["urn"] in r["propertyDependencies"].get("privateLinkServiceConnections", [])
        )
    ]
    assert fired(pack, rule, without) == {"mandatory"}


def test_every_account_has_its_recovery_settings(pack) -> None:
    rule = "azure-storage-account-has-recovery"
    store = of_types("azure-staging", ACCOUNT, BLOB_SERVICE)
    assert fired(pack, rule, store) == set()
    assert fired(pack, rule, [r for r in store if r["type"] == ACCOUNT]) == {"mandatory"}


ENDPOINT_PARTS = (COMPONENT, ENDPOINT, DEPLOYMENT, ALERT, AUTOSCALE, TRAFFIC)


def chat(stack: str) -> list[dict[str, Any]]:
    return [r for r in of_types(stack, *ENDPOINT_PARTS) if "chat" in r["name"]]


def test_an_endpoint_needs_its_latency_and_5xx_alerts(pack) -> None:
    rule = "azure-ml-endpoint-has-alerts"
    parts = chat("azure-staging")
    assert fired(pack, rule, parts) == set()
    assert fired(pack, rule, [r for r in parts if not r["name"].endswith("-5xx")]) == {"mandatory"}
    disabled = copy.deepcopy(parts)
    set_path(next(r for r in disabled if r["name"].endswith("p95-latency")), "enabled", False)
    assert fired(pack, rule, disabled) == {"mandatory"}


def test_every_deployment_has_its_autoscale_setting(pack) -> None:
    rule = "azure-ml-deployment-has-autoscale"
    parts = chat("azure-staging")
    assert fired(pack, rule, parts) == set()
    assert fired(pack, rule, [r for r in parts if r["type"] != AUTOSCALE]) == {"mandatory"}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("split", {"llama3-8b-v1": 50, "llama3-8b-v2": 40}),
        ("split", {"llama3-8b-v9": 100}),
        ("mirror", {"llama3-8b-v2": 60}),
    ],
)
def test_traffic_sums_to_100_over_the_endpoints_own_deployments(pack, path, value) -> None:
    rule = "azure-ml-endpoint-traffic-step"
    parts = chat("azure-staging")
    assert fired(pack, rule, parts) == set()
    set_path(next(r for r in parts if r["type"] == TRAFFIC), path, value)
    assert fired(pack, rule, parts) == {"mandatory"}


def test_an_endpoint_without_its_traffic_step_fails(pack) -> None:
    parts = [r for r in chat("azure-staging") if r["type"] != TRAFFIC]
    assert fired(pack, "azure-ml-endpoint-traffic-step", parts) == {"mandatory"}


ENVIRONMENT_RULE = "azure-ml-endpoint-environment"


@pytest.mark.parametrize(
    ("rtype", "path", "value"),
    [
        (DEPLOYMENT, "sku.capacity", 1),
        (AUTOSCALE, "profiles[0].capacity.minimum", "1"),
        (TRAFFIC, "strategy", "all-at-once"),
        (ENDPOINT, "properties.authMode", "Key"),
        (DEPLOYMENT, "properties.dataCollector", DELETE),
    ],
)
def test_prod_endpoints_run_two_instances_canary_first_with_tokens_and_capture(pack, rtype, path, value) -> None:
    parts = chat("azure-prod")
    assert fired(pack, ENVIRONMENT_RULE, parts) == set()
    set_path(next(r for r in parts if r["type"] == rtype), path, value)
    assert fired(pack, ENVIRONMENT_RULE, parts) == {"mandatory"}


def test_key_auth_is_fine_in_dev_only_and_the_environment_comes_from_config_first() -> None:
    dev = chat("azure-dev")
    set_path(next(r for r in dev if r["type"] == ENDPOINT), "properties.authMode", "Key")
    with PolicyPackProcess() as pack:
        pack.configure({"all": "mandatory"})
        assert fired(pack, ENVIRONMENT_RULE, dev) == set()
        assert fired(pack, ENVIRONMENT_RULE, [r for r in dev if r["type"] != COMPONENT]) == {"mandatory"}
        pack.configure({"all": "mandatory", ENVIRONMENT_RULE: {"enforcementLevel": "mandatory", "environment": "prod"}})
        assert fired(pack, ENVIRONMENT_RULE, dev) == {"mandatory"}


def test_a_role_at_a_resource_passes_and_owner_at_the_subscription_fails(pack) -> None:
    rule = "azure-authorization-no-broad-subscription-role"
    at_resource = set_path(resource(ASSIGNMENT), "roleDefinitionId", OWNER)
    at_resource = set_path(at_resource, "scope", f"{SUBSCRIPTION}/resourceGroups/rg")
    assert fired(pack, rule, [at_resource]) == set()
    assert fired(pack, rule, [set_path(copy.deepcopy(at_resource), "scope", SUBSCRIPTION)]) == {"mandatory"}


def test_every_azure_rule_is_exercised_here() -> None:
    exercised = {c[0] for c in CASES} | {
        "azure-network-private-endpoint-per-service",
        "azure-storage-account-has-recovery",
        "azure-ml-endpoint-has-alerts",
        "azure-ml-deployment-has-autoscale",
        "azure-ml-endpoint-traffic-step",
        ENVIRONMENT_RULE,
    }
    assert {p.name for p in REGISTRY if p.name.startswith("azure-")} == exercised
