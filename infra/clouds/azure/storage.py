"""The model store: a storage account for model artifacts (and the ML workspace's own files).

No public blob access, HTTPS only with TLS 1.2 at least, no shared keys (Entra ID only), private
only, infrastructure encryption plus the stack's customer-managed key, blob versioning, and soft
delete for blobs and containers.
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

from infra.clouds.azure.keys import Keys
from infra.clouds.azure.network import Network
from infra.clouds.azure.site import Site
from infra.clouds.options import child, stateful

MODELS_CONTAINER = "models"


class ModelStore(pulumi.ComponentResource):
    """Outputs: `account_id`, `account_name`, `blob_endpoint`, `container`."""

    account: azure.storage.StorageAccount
    container: azure.storage.BlobContainer

    def __init__(
        self, name: str, site: Site, keys: Keys, network: Network, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ml-serving:azure:ModelStore", name, None, opts)
        plan = site.plan
        retention_days = 30 if plan.protect else 7
        self.account = azure.storage.StorageAccount(
            f"{name}-account",
            resource_group_name=site.group_name,
            account_name=site.name("storage_account", "models"),
            location=site.location,
            kind="StorageV2",
            sku=azure.storage.SkuArgs(name="Standard_ZRS" if plan.protect else "Standard_LRS"),
            allow_blob_public_access=False,
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            public_network_access="Disabled",
            network_rule_set=azure.storage.NetworkRuleSetArgs(
                default_action=azure.storage.DefaultAction.DENY, bypass="None"
            ),
            identity=azure.storage.IdentityArgs(type="UserAssigned", user_assigned_identities=[keys.identity.id]),
            encryption=azure.storage.EncryptionArgs(
                key_source="Microsoft.Keyvault",
                require_infrastructure_encryption=True,
                encryption_identity=azure.storage.EncryptionIdentityArgs(
                    encryption_user_assigned_identity=keys.identity.id
                ),
                # No key version: the account follows the key's rotation.
                key_vault_properties=azure.storage.KeyVaultPropertiesArgs(
                    key_name=keys.key_name, key_vault_uri=keys.vault.properties.vault_uri
                ),
                services=azure.storage.EncryptionServicesArgs(
                    blob=azure.storage.EncryptionServiceArgs(enabled=True, key_type="Account"),
                    file=azure.storage.EncryptionServiceArgs(enabled=True, key_type="Account"),
                ),
            ),
            tags=site.tags,
            opts=pulumi.ResourceOptions.merge(
                stateful(plan.protect, self), pulumi.ResourceOptions(depends_on=[keys.unlock])
            ),
        )
        azure.storage.BlobServiceProperties(
            f"{name}-blob-service",
            resource_group_name=site.group_name,
            account_name=self.account.name,
            blob_services_name="default",
            is_versioning_enabled=True,
            delete_retention_policy=azure.storage.DeleteRetentionPolicyArgs(enabled=True, days=retention_days),
            container_delete_retention_policy=azure.storage.DeleteRetentionPolicyArgs(
                enabled=True, days=retention_days
            ),
            opts=child(self),
        )
        self.container = azure.storage.BlobContainer(
            f"{name}-models",
            resource_group_name=site.group_name,
            account_name=self.account.name,
            container_name=MODELS_CONTAINER,
            public_access=azure.storage.PublicAccess.NONE,
            opts=stateful(plan.protect, self),
        )
        network.private_endpoint("blob", self.account.id)
        self.blob_endpoint = self.account.primary_endpoints.blob
        self.register_outputs(
            {
                "account_id": self.account.id,
                "account_name": self.account.name,
                "blob_endpoint": self.blob_endpoint,
                "container": MODELS_CONTAINER,
            }
        )
