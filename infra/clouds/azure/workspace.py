"""The Azure ML workspace the online endpoints live in.

Public network access disabled (clients reach it through its private endpoint), customer-managed key
with service-side encryption (no extra Microsoft-managed resource group), a managed network that
allows only approved outbound traffic, a system identity (plus the key's user-assigned identity,
which exists before the workspace and so can unlock the key at create), and datastores reached
with Entra ID, since the model store takes no shared keys.
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

from infra.clouds.azure.keys import Keys
from infra.clouds.azure.monitoring import Observability
from infra.clouds.azure.network import Network
from infra.clouds.azure.registry import Registry
from infra.clouds.azure.site import Site
from infra.clouds.azure.storage import ModelStore
from infra.clouds.options import stateful

ml = azure.machinelearningservices


# The datastore model versions are registered from: the model store's container, read with the
# workspace's identity (the account takes no keys).
DATASTORE = "models"


class Workspace(pulumi.ComponentResource):
    """Outputs: `workspace_id`, `workspace_name`, `datastore` (the models container's datastore name)."""

    workspace: azure.machinelearningservices.Workspace
    workspace_name: str
    datastore: str

    def __init__(
        self,
        name: str,
        site: Site,
        keys: Keys,
        store: ModelStore,
        registry: Registry,
        observability: Observability,
        network: Network,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("ml-serving:azure:Workspace", name, None, opts)
        plan = site.plan
        self.workspace_name = site.name("ml_workspace", "ml")
        self.workspace = ml.Workspace(
            f"{name}-workspace",
            resource_group_name=site.group_name,
            workspace_name=self.workspace_name,
            location=site.location,
            kind="Default",
            sku=ml.SkuArgs(name="Basic", tier=ml.SkuTier.BASIC),
            friendly_name=f"ml-serving {plan.stack}",
            identity=ml.ManagedServiceIdentityArgs(
                type="SystemAssigned,UserAssigned", user_assigned_identities=[keys.identity.id]
            ),
            storage_account=store.account.id,
            key_vault=keys.vault.id,
            container_registry=registry.registry.id,
            application_insights=observability.insights.id,
            public_network_access="Disabled",
            managed_network=ml.ManagedNetworkSettingsArgs(isolation_mode="AllowOnlyApprovedOutbound"),
            encryption=ml.EncryptionPropertyArgs(
                status="Enabled",
                identity=ml.IdentityForCmkArgs(user_assigned_identity=keys.identity.id),
                key_vault_properties=ml.KeyVaultPropertiesArgs(
                    key_vault_arm_id=keys.vault.id, key_identifier=keys.key.key_uri_with_version
                ),
            ),
            enable_service_side_cmk_encryption=True,
            # Less diagnostic data leaves the workspace for Microsoft where the data matters most.
            hbi_workspace=plan.protect,
            system_datastores_auth_mode="identity",
            v1_legacy_mode=False,
            tags=site.tags,
            opts=pulumi.ResourceOptions.merge(
                stateful(plan.protect, self), pulumi.ResourceOptions(depends_on=[keys.unlock])
            ),
        )
        network.private_endpoint("workspace", self.workspace.id)
        principal = self.workspace.identity.apply(lambda identity: identity.principal_id if identity else "")
        read_models = site.grant(f"{name}-reads-models", principal, "Storage Blob Data Reader", store.account.id, self)
        self.datastore = DATASTORE
        ml.Datastore(
            f"{name}-models-datastore",
            resource_group_name=site.group_name,
            workspace_name=self.workspace.name,
            name=DATASTORE,
            properties=ml.AzureBlobDatastoreArgs(
                datastore_type="AzureBlob",
                credentials=ml.NoneDatastoreCredentialsArgs(credentials_type="None"),
                account_name=store.account.name,
                container_name=store.container.name,
                service_data_access_auth_identity="WorkspaceSystemAssignedIdentity",
                description="Model artifacts, read with the workspace's identity",
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[read_models]),
        )
        self.register_outputs(
            {"workspace_id": self.workspace.id, "workspace_name": self.workspace_name, "datastore": DATASTORE}
        )
