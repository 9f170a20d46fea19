"""Every body the Azure stacks send, checked against the Azure management API's own models.

The mocks accept any key and value; ARM ignores an unknown member and refuses a bad enum. Each
resource the real program registered is validated as the API request body it becomes: every member
must exist in the API model (so a snake_case key from a plain-dict union body fails here), none may
be read-only, enum values must be the API's, scalars of the right type, discriminated unions
resolved by their discriminator. The models come from the pinned SDK wheels, read as data
(`tests/azure/api_models.py`, `make api-models`).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.azure.api_models import api, check_model
from tests.conftest import preview_of

AZURE_STACKS = ["azure-dev", "azure-staging", "azure-prod"]
ML = "azure-ai-ml"
GROUP = "resourceGroupName"
WORKSPACE = "workspaceName"
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


@pytest.mark.parametrize("stack", AZURE_STACKS)
def test_every_body_the_stack_sends_fits_the_api_model(stack: str) -> None:
    checked: set[str] = set()
    problems: list[str] = []
    for resource in preview_of(stack)["resources"]:
        if resource["type"] not in BODIES:
            continue
        package, model, skip = BODIES[resource["type"]]
        problems += check_model(api(package), model, as_sent(resource["inputs"]), resource["name"], skip)
        checked.add(resource["type"])
    assert problems == []
    assert len(checked) >= 10


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
