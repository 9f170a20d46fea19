"""Every body the Azure stacks send, checked against the Azure management API's own models.

The mocks accept any key and value; ARM ignores an unknown member and refuses a bad enum. Each
resource the real program registered is validated as the API request body it becomes: every member
must exist in the API model (so a snake_case key from a plain-dict union body fails here), none may
be read-only, enum values must be the API's, scalars of the right type, discriminated unions
resolved by their discriminator. The models come from the pinned SDK wheels, read as data
(`tests/azure/api_models.py`, `make api-models`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from infra.naming import name_rules
from tests.api_check import Node, check, set_at
from tests.azure.api_models import api, check_model
from tests.conftest import preview_of

AZURE_STACKS = ["azure-dev", "azure-staging", "azure-prod"]
ML = "azure-ai-ml"
GROUP = "resourceGroupName"
WORKSPACE = "workspaceName"
NETWORK = "azure-mgmt-network"
DNS = "azure-mgmt-privatedns"
MONITOR = "azure-mgmt-monitor"
IDENTITY = "azure-mgmt-msi"
# Pulumi type -> (wheel, the API model of its request body, inputs that are URL parameters)
BODIES: dict[str, tuple[str, str, frozenset[str]]] = {
    "azure-native:keyvault:Vault": (
        "azure-mgmt-keyvault",
        "VaultCreateOrUpdateParameters",
        frozenset({GROUP, "vaultName"}),
    ),
    "azure-native:keyvault:Key": (
        "azure-mgmt-keyvault",
        "KeyCreateParameters",
        frozenset({GROUP, "vaultName", "keyName"}),
    ),
    "azure-native:containerregistry:Registry": (
        "azure-mgmt-containerregistry",
        "Registry",
        frozenset({GROUP, "registryName"}),
    ),
    "azure-native:storage:StorageAccount": (
        "azure-mgmt-storage",
        "StorageAccountCreateParameters",
        frozenset({GROUP, "accountName"}),
    ),
    "azure-native:storage:BlobServiceProperties": (
        "azure-mgmt-storage",
        "BlobServiceProperties",
        frozenset({GROUP, "accountName", "blobServicesName"}),
    ),
    "azure-native:storage:BlobContainer": (
        "azure-mgmt-storage",
        "BlobContainer",
        frozenset({GROUP, "accountName", "containerName"}),
    ),
    "azure-native:containerservice:ManagedCluster": (
        "azure-mgmt-containerservice",
        "ManagedCluster",
        frozenset({GROUP, "resourceName"}),
    ),
    "azure-native:containerservice:AgentPool": (
        "azure-mgmt-containerservice",
        "AgentPool",
        frozenset({GROUP, "resourceName", "agentPoolName"}),
    ),
    "azure-native:machinelearningservices:Workspace": (ML, "Workspace", frozenset({GROUP, WORKSPACE})),
    "azure-native:machinelearningservices:OnlineEndpoint": (
        ML,
        "OnlineEndpoint",
        frozenset({GROUP, WORKSPACE, "endpointName"}),
    ),
    "azure-native:machinelearningservices:OnlineDeployment": (
        ML,
        "OnlineDeployment",
        frozenset({GROUP, WORKSPACE, "endpointName", "deploymentName"}),
    ),
    "azure-native:machinelearningservices:ModelVersion": (
        ML,
        "ModelVersion",
        frozenset({GROUP, WORKSPACE, "name", "version"}),
    ),
    "azure-native:machinelearningservices:EnvironmentVersion": (
        ML,
        "EnvironmentVersion",
        frozenset({GROUP, WORKSPACE, "name", "version"}),
    ),
    "azure-native:machinelearningservices:Datastore": (ML, "Datastore", frozenset({GROUP, WORKSPACE, "name"})),
    "azure-native:resources:ResourceGroup": ("azure-mgmt-resource", "ResourceGroup", frozenset({GROUP})),
    "azure-native:network:VirtualNetwork": (NETWORK, "VirtualNetwork", frozenset({GROUP, "virtualNetworkName"})),
    "azure-native:network:Subnet": (NETWORK, "Subnet", frozenset({GROUP, "virtualNetworkName", "subnetName"})),
    "azure-native:network:NetworkSecurityGroup": (
        NETWORK,
        "NetworkSecurityGroup",
        frozenset({GROUP, "networkSecurityGroupName"}),
    ),
    "azure-native:network:PrivateEndpoint": (NETWORK, "PrivateEndpoint", frozenset({GROUP, "privateEndpointName"})),
    "azure-native:network:PrivateDnsZoneGroup": (
        NETWORK,
        "PrivateDnsZoneGroup",
        frozenset({GROUP, "privateEndpointName", "privateDnsZoneGroupName"}),
    ),
    "azure-native:privatedns:PrivateZone": (DNS, "PrivateZone", frozenset({GROUP, "privateZoneName"})),
    "azure-native:privatedns:VirtualNetworkLink": (
        DNS,
        "VirtualNetworkLink",
        frozenset({GROUP, "privateZoneName", "virtualNetworkLinkName"}),
    ),
    "azure-native:monitor:MetricAlert": (MONITOR, "MetricAlertResource", frozenset({GROUP, "ruleName"})),
    "azure-native:monitor:AutoscaleSetting": (
        MONITOR,
        "AutoscaleSettingResource",
        frozenset({GROUP, "autoscaleSettingName"}),
    ),
    "azure-native:operationalinsights:Workspace": (
        "azure-mgmt-loganalytics",
        "Workspace",
        frozenset({GROUP, "workspaceName"}),
    ),
    "azure-native:applicationinsights:Component": (
        "azure-mgmt-applicationinsights",
        "ApplicationInsightsComponent",
        frozenset({GROUP, "resourceName"}),
    ),
    "azure-native:authorization:RoleAssignment": (
        "azure-mgmt-authorization",
        "RoleAssignmentCreateParameters",
        frozenset({"scope", "roleAssignmentName"}),
    ),
    "azure-native:managedidentity:UserAssignedIdentity": (IDENTITY, "Identity", frozenset({GROUP, "resourceName"})),
    "azure-native:managedidentity:FederatedIdentityCredential": (
        IDENTITY,
        "FederatedIdentityCredential",
        frozenset({GROUP, "resourceName", "federatedIdentityCredentialResourceName"}),
    ),
}


def as_sent(value: Any) -> Any:
    """Inputs as the provider sends them: it takes user-assigned identities as a list of resource
    ids and sends ARM the map keyed by id."""
    if isinstance(value, dict):
        return {
            k: {i: {} for i in v} if k == "userAssignedIdentities" and isinstance(v, list) else as_sent(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [as_sent(v) for v in value]
    return value


# Pulumi type -> the inputs naming it, each with the naming.yaml kind whose documented rule it must
# meet: every name the program derives for Azure, held to its rule where the program registers it.
NAMES = {
    "azure-native:resources:ResourceGroup": {GROUP: "resource_group"},
    "azure-native:storage:StorageAccount": {"accountName": "storage_account"},
    "azure-native:keyvault:Vault": {"vaultName": "key_vault"},
    "azure-native:containerregistry:Registry": {"registryName": "container_registry"},
    "azure-native:machinelearningservices:Workspace": {WORKSPACE: "ml_workspace"},
    "azure-native:machinelearningservices:OnlineEndpoint": {"endpointName": "ml_online_endpoint"},
    "azure-native:machinelearningservices:OnlineDeployment": {"deploymentName": "ml_online_deployment"},
    "azure-native:containerservice:ManagedCluster": {
        "resourceName": "aks_cluster",
        "dnsPrefix": "aks_dns_prefix",
        "agentPoolProfiles": "aks_agent_pool",  # the system pool, named with the cluster
    },
    "azure-native:containerservice:AgentPool": {"agentPoolName": "aks_agent_pool"},
    "azure-native:network:VirtualNetwork": {"virtualNetworkName": "virtual_network"},
    "azure-native:network:Subnet": {"subnetName": "subnet"},
    "azure-native:network:PrivateEndpoint": {"privateEndpointName": "private_endpoint"},
    "azure-native:operationalinsights:Workspace": {"workspaceName": "log_analytics_workspace"},
    "azure-native:applicationinsights:Component": {"resourceName": "application_insights"},
    "azure-native:managedidentity:UserAssignedIdentity": {"resourceName": "user_assigned_identity"},
    "azure-native:managedidentity:FederatedIdentityCredential": {
        "federatedIdentityCredentialResourceName": "federated_identity_credential"
    },
    "azure-native:monitor:MetricAlert": {"ruleName": "monitor_metric_alert"},
}


def problems_of(resources: list[dict[str, Any]]) -> list[str]:
    """Every `azure-native` resource's body against its API model, and its name (where the
    program sets one; azure-native names the others after their logical names) against the rule
    `naming.yaml` cites. Fails on a type with no mapping here."""
    problems: list[str] = []
    for resource in resources:
        kind = resource["type"]
        if not resource["custom"] or not kind.startswith("azure-native:"):
            continue  # components, providers, the Kubernetes objects, our traffic resource
        assert kind in BODIES, f"{kind} has no API model in this test"
        package, model, skip = BODIES[kind]
        problems += check_model(api(package), model, as_sent(resource["inputs"]), resource["name"], skip)
        for key, rule in ((k, name_rules()["azure"][v]) for k, v in NAMES.get(kind, {}).items()):
            spec = Node("string", rule.kind, pattern=rule.pattern, min_length=rule.min, max_length=rule.max)
            value = resource["inputs"].get(key)
            # A list (the cluster's agent pool profiles) is held to the rule by each item's name.
            named = (
                {f"{key}[{i}].name": v.get("name") for i, v in enumerate(value)}
                if isinstance(value, list)
                else {key: value}
            )
            problems += [p for at, v in named.items() for p in check(v, spec, f"{resource['name']}.{at}")]
    return problems


@pytest.mark.parametrize("stack", AZURE_STACKS)
def test_every_body_the_stack_sends_fits_the_api_model(stack: str) -> None:
    assert problems_of(preview_of(stack)["resources"]) == []


def _resource(stack: str, resource_type: str) -> dict[str, Any]:
    """A copy of a resource of the type (the first by name: registration order varies)."""
    found = sorted((r for r in preview_of(stack)["resources"] if r["type"] == resource_type), key=lambda r: r["name"])
    return json.loads(json.dumps(found[0]))


ALERT = "azure-native:monitor:MetricAlert"
AUTOSCALE = "azure-native:monitor:AutoscaleSetting"
NSG = "azure-native:network:NetworkSecurityGroup"
BROKEN = [
    # (resource type, mutation, what ARM would refuse)
    (NSG, set_at(["securityRules", 0, "protocol"], "Any"), "SecurityRuleProtocol's values"),
    (NSG, set_at(["securityRules", 0, "source_address_prefix"], "Internet"), "has no member 'source_address_prefix'"),
    ("azure-native:network:Subnet", set_at(["privateEndpointNetworkPolicies"], "On"), "values"),
    ("azure-native:network:PrivateEndpoint", set_at(["privateLinkServiceConnections", 0, "groupId"], "x"), "no member"),
    ("azure-native:network:VirtualNetwork", set_at(["provisioningState"], "Succeeded"), "read-only"),
    ("azure-native:privatedns:VirtualNetworkLink", set_at(["registrationEnabled"], "false"), "expected a boolean"),
    (ALERT, set_at(["criteria", "allOf", 0, "operator"], "Above"), "Operator's values"),
    (ALERT, set_at(["criteria", "allOf", 0, "timeAggregation"], "Mean"), "AggregationTypeEnum's values"),
    (ALERT, set_at(["windowSize"], "5m"), "ISO 8601 duration"),
    (AUTOSCALE, set_at(["profiles", 0, "rules", 0, "scaleAction", "direction"], "Up"), "ScaleDirection's values"),
    (AUTOSCALE, set_at(["profiles", 0, "rules", 0, "metricTrigger", "timeGrain"], "1m"), "ISO 8601 duration"),
    (AUTOSCALE, set_at(["profiles", 0, "capacity", "minimum"], 2), "expected a string"),
    ("azure-native:operationalinsights:Workspace", set_at(["sku", "name"], "PerGB"), "values"),
    ("azure-native:applicationinsights:Component", set_at(["ingestionMode"], "Workspace"), "values"),
    ("azure-native:authorization:RoleAssignment", set_at(["principalType"], "ManagedIdentity"), "values"),
    ("azure-native:storage:StorageAccount", set_at(["accountName"], "azure_prod_models"), "storage_account"),
    ("azure-native:keyvault:Vault", set_at(["vaultName"], "azure-prod-keys-0123456789abcdef"), "key_vault"),
    ("azure-native:containerservice:ManagedCluster", set_at(["dnsPrefix"], "azure_prod-aks"), "aks_dns_prefix"),
    (ALERT, set_at(["ruleName"], "azure-prod-chat-5xx."), "monitor_metric_alert"),
    (
        "azure-native:containerservice:ManagedCluster",
        set_at(["agentPoolProfiles", 0, "name"], "system-pool"),
        "aks_agent_pool",
    ),
    (
        "azure-native:managedidentity:FederatedIdentityCredential",
        set_at(["federatedIdentityCredentialResourceName"], "-assist"),
        "federated_identity_credential",
    ),
]


@pytest.mark.parametrize(("resource_type", "mutate", "expected"), BROKEN)
def test_a_value_arm_refuses_fails_here(resource_type: str, mutate: Callable, expected: str) -> None:
    resource = _resource("azure-prod", resource_type)
    mutate(resource["inputs"])
    problems = problems_of([resource])
    assert any(expected in p for p in problems), problems


def test_a_type_with_no_model_fails_the_mapping() -> None:
    resource = {**_resource("azure-prod", NSG), "type": "azure-native:network:ApplicationSecurityGroup"}
    with pytest.raises(AssertionError, match="ApplicationSecurityGroup has no API model"):
        problems_of([resource])


def test_the_checker_catches_a_snake_case_key_a_bad_enum_and_a_read_only_member() -> None:
    deployment = next(
        r["inputs"]
        for r in preview_of("azure-prod")["resources"]
        if r["type"] == "azure-native:machinelearningservices:OnlineDeployment"
    )
    package, model, skip = BODIES["azure-native:machinelearningservices:OnlineDeployment"]
    snake = {**deployment, "properties": {**deployment["properties"], "instance_type": "Standard_NC24ads_A100_v4"}}
    assert check_model(api(package), model, snake, "d", skip) == [
        "d.properties.instance_type: ManagedOnlineDeployment has no member 'instance_type'"
    ]
    bad_enum = {**deployment, "properties": {**deployment["properties"], "egressPublicNetworkAccess": "Off"}}
    assert (
        "is not one of EgressPublicNetworkAccessType's values"
        in check_model(api(package), model, bad_enum, "d", skip)[0]
    )
    read_only = {**deployment, "properties": {**deployment["properties"], "provisioningState": "Succeeded"}}
    assert check_model(api(package), model, read_only, "d", skip) == [
        "d.properties.provisioningState: ManagedOnlineDeployment.provisioningState is read-only"
    ]
