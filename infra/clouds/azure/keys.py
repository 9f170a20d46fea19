"""The stack's Key Vault and customer-managed key: everything that stores data encrypts with it.

The vault authorizes through Azure RBAC (no access policies), keeps deleted keys for the soft-delete
period with purge protection, and takes no public traffic: the stack reaches it through a private
endpoint and ARM (the key is created through the management plane, which works without one).
The services that encrypt with the key use one user-assigned identity holding only
"Key Vault Crypto Service Encryption User" on this vault: ACR and storage need a user-assigned
identity for a customer-managed key, and it exists before the services it unlocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure

from infra.clouds.azure.site import Site
from infra.clouds.options import child, stateful

# Rotate yearly, expire a version after two years, and notify 30 days before a version expires.
ROTATE_AFTER = "P1Y"
EXPIRE_AFTER = "P2Y"
NOTIFY_BEFORE_EXPIRY = "P30D"
# RSA 3072 is the smallest size ACR, Storage, Azure ML and AKS KMS all accept above the 2048 minimum.
KEY_SIZE = 3072


@dataclass(frozen=True)
class KeyUse:
    """What a component needs to encrypt with the stack's key: the vault and key as each service
    names them, the user-assigned identity that unwraps it, and `unlock`, that identity's crypto
    grant (a service created before it cannot reach the key)."""

    vault_id: pulumi.Output[str]
    vault_uri: pulumi.Output[str]
    key_name: str
    key_uri: pulumi.Output[str]  # versionless: follows rotation
    key_uri_with_version: pulumi.Output[str]
    identity_id: pulumi.Output[str]
    identity_client_id: pulumi.Output[str]
    unlock: azure.authorization.RoleAssignment


@dataclass(frozen=True)
class KeysArgs:
    site: Site
    vault_name: str  # naming layer
    protect: bool  # longest soft-delete retention, protected and retained


class Keys(pulumi.ComponentResource):
    """Outputs: `vault_id`, `key_name`, `key_uri` (versionless, follows rotation),
    `key_uri_with_version`, `identity_id`, `identity_client_id`. `use` is what the components that
    encrypt with the key take; it also carries the vault's URI, a property Azure sets at create."""

    vault_id: pulumi.Output[str]
    key_name: str
    key_uri: pulumi.Output[str]
    key_uri_with_version: pulumi.Output[str]
    identity_id: pulumi.Output[str]
    identity_client_id: pulumi.Output[str]

    def __init__(self, name: str, args: KeysArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:azure:Keys", name, None, opts)
        site = args.site
        vault = azure.keyvault.Vault(
            f"{name}-vault",
            resource_group_name=site.group_name,
            vault_name=args.vault_name,
            location=site.location,
            properties=azure.keyvault.VaultPropertiesArgs(
                tenant_id=site.tenant_id,
                sku=azure.keyvault.SkuArgs(family="A", name=azure.keyvault.SkuName.PREMIUM),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=90 if args.protect else 7,
                enable_purge_protection=True,
                public_network_access="Disabled",
                network_acls=azure.keyvault.NetworkRuleSetArgs(default_action="Deny", bypass="None"),
            ),
            tags=site.tags,
            opts=stateful(args.protect, self),
        )
        self.key_name = "cmk"
        key = azure.keyvault.Key(
            f"{name}-key",
            resource_group_name=site.group_name,
            vault_name=vault.name,
            key_name=self.key_name,
            properties=azure.keyvault.KeyPropertiesArgs(
                kty="RSA-HSM",
                key_size=KEY_SIZE,
                key_ops=["wrapKey", "unwrapKey", "encrypt", "decrypt"],
                rotation_policy=azure.keyvault.RotationPolicyArgs(
                    attributes=azure.keyvault.KeyRotationPolicyAttributesArgs(expiry_time=EXPIRE_AFTER),
                    lifetime_actions=[
                        azure.keyvault.LifetimeActionArgs(
                            action=azure.keyvault.ActionArgs(type=azure.keyvault.KeyRotationPolicyActionType.ROTATE),
                            trigger=azure.keyvault.TriggerArgs(time_after_create=ROTATE_AFTER),
                        ),
                        azure.keyvault.LifetimeActionArgs(
                            action=azure.keyvault.ActionArgs(type=azure.keyvault.KeyRotationPolicyActionType.NOTIFY),
                            trigger=azure.keyvault.TriggerArgs(time_before_expiry=NOTIFY_BEFORE_EXPIRY),
                        ),
                    ],
                ),
            ),
            tags=site.tags,
            opts=stateful(args.protect, self),
        )
        identity = azure.managedidentity.UserAssignedIdentity(
            f"{name}-cmk-identity",
            resource_group_name=site.group_name,
            location=site.location,
            tags=site.tags,
            opts=child(self),
        )
        unlock = site.grant(
            f"{name}-cmk-identity-crypto",
            identity.principal_id,
            "Key Vault Crypto Service Encryption User",
            vault.id,
            self,
        )
        self.vault_id = vault.id
        self.key_uri = key.key_uri
        self.key_uri_with_version = key.key_uri_with_version
        self.identity_id = identity.id
        self.identity_client_id = identity.client_id
        self.use = KeyUse(
            vault_id=vault.id,
            vault_uri=vault.properties.vault_uri,
            key_name=self.key_name,
            key_uri=key.key_uri,
            key_uri_with_version=key.key_uri_with_version,
            identity_id=identity.id,
            identity_client_id=identity.client_id,
            unlock=unlock,
        )
        self.register_outputs(
            {
                "vault_id": self.vault_id,
                "key_name": self.key_name,
                "key_uri": self.key_uri,
                "key_uri_with_version": self.key_uri_with_version,
                "identity_id": self.identity_id,
                "identity_client_id": self.identity_client_id,
            }
        )
