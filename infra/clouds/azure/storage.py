"""The model store: a storage account for model artifacts (and the ML workspace's own files).

No public blob access, HTTPS only with TLS 1.2 at least, no shared keys (Entra ID only), private
only, infrastructure encryption plus the stack's customer-managed key, blob versioning, and soft
delete for blobs and containers.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure

from infra.clouds.azure.keys import KeyUse
from infra.clouds.azure.site import Site
from infra.clouds.options import child, stateful

MODELS_CONTAINER = "models"


@dataclass(frozen=True)
class ModelStoreArgs:
    site: Site
    account_name: str  # naming layer
    protect: bool  # zone-redundant, longer soft delete, protected and retained
    key: KeyUse


class ModelStore(pulumi.ComponentResource):
    """Outputs: `account_id`, `account_name`, `blob_endpoint`, `container` (the models container's
    name). For the components that read models: `container_name` and `container_id`, the container
    resource's own (they carry the dependency on it)."""

    account_id: pulumi.Output[str]
    account_name: pulumi.Output[str]
    blob_endpoint: pulumi.Output[str]
    container: str

    def __init__(self, name: str, args: ModelStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:azure:ModelStore", name, None, opts)
        site, key = args.site, args.key
        retention_days = 30 if args.protect else 7
        account = azure.storage.StorageAccount(
            f"{name}-account",
            resource_group_name=site.group_name,
            account_name=args.account_name,
            location=site.location,
            kind="StorageV2",
            sku=azure.storage.SkuArgs(name="Standard_ZRS" if args.protect else "Standard_LRS"),
            allow_blob_public_access=False,
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            public_network_access="Disabled",
            network_rule_set=azure.storage.NetworkRuleSetArgs(
                default_action=azure.storage.DefaultAction.DENY, bypass="None"
            ),
            identity=azure.storage.IdentityArgs(type="UserAssigned", user_assigned_identities=[key.identity_id]),
            encryption=azure.storage.EncryptionArgs(
                key_source="Microsoft.Keyvault",
                require_infrastructure_encryption=True,
                encryption_identity=azure.storage.EncryptionIdentityArgs(
                    encryption_user_assigned_identity=key.identity_id
                ),
                # No key version: the account follows the key's rotation.
                key_vault_properties=azure.storage.KeyVaultPropertiesArgs(
                    key_name=key.key_name, key_vault_uri=key.vault_uri
                ),
                services=azure.storage.EncryptionServicesArgs(
                    blob=azure.storage.EncryptionServiceArgs(enabled=True, key_type="Account"),
                    file=azure.storage.EncryptionServiceArgs(enabled=True, key_type="Account"),
                ),
            ),
            tags=site.tags,
            opts=pulumi.ResourceOptions.merge(
                stateful(args.protect, self), pulumi.ResourceOptions(depends_on=[key.unlock])
            ),
        )
        azure.storage.BlobServiceProperties(
            f"{name}-blob-service",
            resource_group_name=site.group_name,
            account_name=account.name,
            blob_services_name="default",
            is_versioning_enabled=True,
            delete_retention_policy=azure.storage.DeleteRetentionPolicyArgs(enabled=True, days=retention_days),
            container_delete_retention_policy=azure.storage.DeleteRetentionPolicyArgs(
                enabled=True, days=retention_days
            ),
            opts=child(self),
        )
        container = azure.storage.BlobContainer(
            f"{name}-models",
            resource_group_name=site.group_name,
            account_name=account.name,
            container_name=MODELS_CONTAINER,
            public_access=azure.storage.PublicAccess.NONE,
            opts=stateful(args.protect, self),
        )
        self.account_id = account.id
        self.account_name = account.name
        self.blob_endpoint = account.primary_endpoints.blob
        self.container = MODELS_CONTAINER
        self.container_name = container.name
        self.container_id = container.id
        self.register_outputs(
            {
                "account_id": self.account_id,
                "account_name": self.account_name,
                "blob_endpoint": self.blob_endpoint,
                "container": self.container,
            }
        )
