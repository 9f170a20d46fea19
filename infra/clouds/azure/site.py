"""What every Azure component of a stack shares: its resource group, region, tags and directory.

The subscription and tenant come from the provider's own config (`azure-native:subscriptionId`,
`azure-native:tenantId`), which the provider needs anyway: the program makes no data-source call,
so role definitions and the Key Vault tenant are known at preview and the policy pack reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure

from infra.clouds.options import stateful
from infra.plan import Plan

# Built-in role definition ids (learn.microsoft.com, "Azure built-in roles"; not re-fetched this session).
ROLES = {
    "AcrPull": "7f951dff-4b18-4a9f-8ab1-1b6fa8bd71ad",
    "Key Vault Crypto Service Encryption User": "e147488a-f6f5-4113-8e2d-b22465e65bf6",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "Managed Identity Operator": "f1a07417-d97a-45cb-824c-7a7467783830",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "AzureML Metrics Writer (preview)": "635dd51f-9968-44d3-b7fb-6d9a6bd613ae",
}


def directory_ids(plan: Plan) -> tuple[str, str]:
    """(subscription id, tenant id), lower case, from the provider's config (checked with the spec)."""
    return (
        plan.provider_config["azure-native:subscriptionId"].lower(),
        plan.provider_config["azure-native:tenantId"].lower(),
    )


@dataclass(frozen=True)
class ResourceGroupArgs:
    """The group's name (naming layer), region and tags; protected and retained where the plan says."""

    group_name: str
    location: str
    tags: dict[str, str]
    protect: bool


class ResourceGroup(pulumi.ComponentResource):
    """The stack's resource group. Outputs: `group_name`, known at preview and carrying the
    dependency on the group, so every resource placed in it is created after it."""

    group_name: pulumi.Output[str]

    def __init__(self, name: str, args: ResourceGroupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:azure:ResourceGroup", name, None, opts)
        group = azure.resources.ResourceGroup(
            f"{name}-group",
            resource_group_name=args.group_name,
            location=args.location,
            tags=args.tags,
            opts=stateful(args.protect, self),
        )
        # The provider's `name` is computed (unknown at preview): the planned name, after the group.
        self.group_name = group.urn.apply(lambda _: args.group_name)
        self.register_outputs({"group_name": self.group_name})


@dataclass(frozen=True)
class Site:
    """Where every resource of a stack goes: its resource group (`group_name` from ResourceGroup),
    region and tags, and the directory its role grants name (subscription and tenant ids)."""

    stack: str
    location: str
    tags: dict[str, str]
    subscription_id: str
    tenant_id: str
    group_name: pulumi.Output[str]

    def role(self, role: str) -> str:
        """A built-in role's definition id in this subscription."""
        return f"/subscriptions/{self.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{ROLES[role]}"

    def grant(
        self,
        name: str,
        principal_id: pulumi.Input[str],
        role: str,
        scope: pulumi.Input[str],
        parent: pulumi.Resource,
    ) -> azure.authorization.RoleAssignment:
        """One role for a managed identity on one resource (never the subscription)."""
        return azure.authorization.RoleAssignment(
            name,
            principal_id=principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=self.role(role),
            scope=scope,
            description=f"ml-serving {self.stack}: {role}",
            opts=pulumi.ResourceOptions(parent=parent),
        )
