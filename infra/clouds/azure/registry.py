"""ACR (Premium) for serving images: no admin user, no anonymous pull, private only, CMK.

The retention policy deletes untagged manifests only (ACR's retention never touches a tagged
manifest), and managed deployments and pods pull this stack's images by tag (`image_tag`), so
retention never removes a served image; it clears the layers failed and superseded pushes leave.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure

from infra.clouds.azure.keys import KeyUse
from infra.clouds.azure.site import Site
from infra.clouds.options import stateful

UNTAGGED_RETENTION_DAYS = 7


@dataclass(frozen=True)
class RegistryArgs:
    site: Site
    registry_name: str  # naming layer
    protect: bool  # zone redundant, protected and retained
    key: KeyUse


class Registry(pulumi.ComponentResource):
    """Outputs: `registry_id`, `login_server`."""

    registry_id: pulumi.Output[str]
    login_server: pulumi.Output[str]

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:azure:Registry", name, None, opts)
        site, key = args.site, args.key
        registry = azure.containerregistry.Registry(
            f"{name}-registry",
            resource_group_name=site.group_name,
            registry_name=args.registry_name,
            location=site.location,
            sku=azure.containerregistry.SkuArgs(name="Premium"),
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access="Disabled",
            network_rule_bypass_options="None",
            zone_redundancy="Enabled" if args.protect else "Disabled",
            identity=azure.containerregistry.IdentityPropertiesArgs(
                type=azure.containerregistry.ResourceIdentityType.USER_ASSIGNED,
                # A map keyed by the identity's resource id, known only once it exists.
                user_assigned_identities=key.identity_id.apply(
                    lambda identity: {identity: azure.containerregistry.UserIdentityPropertiesArgs()}
                ),
            ),
            encryption=azure.containerregistry.EncryptionPropertyArgs(
                status="enabled",
                key_vault_properties=azure.containerregistry.KeyVaultPropertiesArgs(
                    key_identifier=key.key_uri, identity=key.identity_client_id
                ),
            ),
            policies=azure.containerregistry.PoliciesArgs(
                retention_policy=azure.containerregistry.RetentionPolicyArgs(
                    status="enabled", days=UNTAGGED_RETENTION_DAYS
                ),
                # Images leave only through this registry's private endpoint, never by export.
                export_policy=azure.containerregistry.ExportPolicyArgs(status="disabled"),
            ),
            tags=site.tags,
            opts=pulumi.ResourceOptions.merge(
                stateful(args.protect, self), pulumi.ResourceOptions(depends_on=[key.unlock])
            ),
        )
        self.registry_id = registry.id
        self.login_server = registry.login_server
        self.register_outputs({"registry_id": self.registry_id, "login_server": self.login_server})
