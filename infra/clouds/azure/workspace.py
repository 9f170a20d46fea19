"""The Azure ML workspace the online endpoints live in.

Public network access disabled (clients reach it through its private endpoint), customer-managed key
with service-side encryption (no extra Microsoft-managed resource group), a managed network that
allows only approved outbound traffic, a system identity (plus the key's user-assigned identity,
which exists before the workspace and so can unlock the key at create), and datastores reached
with Entra ID, since the model store takes no shared keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure

from infra.clouds.azure.keys import KeyUse
from infra.clouds.azure.site import Site
from infra.clouds.options import stateful

ml = azure.machinelearningservices


# The datastore model versions are registered from: the model store's container, read with the
# workspace's identity (the account takes no keys).
DATASTORE = "models"


@dataclass(frozen=True)
class WorkspaceArgs:
    """The workspace's name (naming layer), and the stack's resources it is bound to: the key, the
    model store's account and container, the registry and Application Insights."""

    site: Site
    workspace_name: str
    protect: bool  # high business impact (less diagnostic data leaves), protected and retained
    key: KeyUse
    account_id: pulumi.Input[str]
    account_name: pulumi.Input[str]
    container_name: pulumi.Input[str]
    registry_id: pulumi.Input[str]
    insights_id: pulumi.Input[str]


class Workspace(pulumi.ComponentResource):
    """Outputs: `workspace_id`, `workspace_name`, `datastore` (the models container's datastore name).
    For the endpoints: `name_ref`, the workspace resource's name (it carries the dependency on it)."""

    workspace_id: pulumi.Output[str]
    workspace_name: str
    datastore: str

    def __init__(self, name: str, args: WorkspaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:azure:Workspace", name, None, opts)
        site, key = args.site, args.key
        self.workspace_name = args.workspace_name
        workspace = ml.Workspace(
            f"{name}-workspace",
            resource_group_name=site.group_name,
            workspace_name=self.workspace_name,
            location=site.location,
            kind="Default",
            sku=ml.SkuArgs(name="Basic", tier=ml.SkuTier.BASIC),
            friendly_name=f"ml-serving {site.stack}",
            identity=ml.ManagedServiceIdentityArgs(
                type="SystemAssigned,UserAssigned", user_assigned_identities=[key.identity_id]
            ),
            storage_account=args.account_id,
            key_vault=key.vault_id,
            container_registry=args.registry_id,
            application_insights=args.insights_id,
            public_network_access="Disabled",
            managed_network=ml.ManagedNetworkSettingsArgs(isolation_mode="AllowOnlyApprovedOutbound"),
            encryption=ml.EncryptionPropertyArgs(
                status="Enabled",
                identity=ml.IdentityForCmkArgs(user_assigned_identity=key.identity_id),
                key_vault_properties=ml.KeyVaultPropertiesArgs(
                    key_vault_arm_id=key.vault_id, key_identifier=key.key_uri_with_version
                ),
            ),
            enable_service_side_cmk_encryption=True,
            # Less diagnostic data leaves the workspace for Microsoft where the data matters most.
            hbi_workspace=args.protect,
            system_datastores_auth_mode="identity",
            v1_legacy_mode=False,
            tags=site.tags,
            opts=pulumi.ResourceOptions.merge(
                stateful(args.protect, self), pulumi.ResourceOptions(depends_on=[key.unlock])
            ),
        )
        principal = workspace.identity.apply(lambda identity: identity.principal_id if identity else "")
        read_models = site.grant(f"{name}-reads-models", principal, "Storage Blob Data Reader", args.account_id, self)
        self.datastore = DATASTORE
        ml.Datastore(
            f"{name}-models-datastore",
            resource_group_name=site.group_name,
            workspace_name=workspace.name,
            name=DATASTORE,
            properties=ml.AzureBlobDatastoreArgs(
                datastore_type="AzureBlob",
                credentials=ml.NoneDatastoreCredentialsArgs(credentials_type="None"),
                account_name=args.account_name,
                container_name=args.container_name,
                service_data_access_auth_identity="WorkspaceSystemAssignedIdentity",
                description="Model artifacts, read with the workspace's identity",
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[read_models]),
        )
        self.workspace_id = workspace.id
        self.name_ref = workspace.name
        self.register_outputs(
            {"workspace_id": self.workspace_id, "workspace_name": self.workspace_name, "datastore": self.datastore}
        )
