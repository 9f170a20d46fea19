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


def group_name(plan: Plan) -> str:
    return plan.names("resource_group", "ml-serving")


class ResourceGroup(pulumi.ComponentResource):
    """The stack's resource group. Outputs: `group_name`."""

    group: azure.resources.ResourceGroup
    group_name: str

    def __init__(self, name: str, plan: Plan, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:azure:ResourceGroup", name, None, opts)
        self.group_name = group_name(plan)
        self.group = azure.resources.ResourceGroup(
            f"{name}-group",
            resource_group_name=self.group_name,
            location=plan.region,
            tags=plan.tags,
            opts=stateful(plan.protect, self),
        )
        self.register_outputs({"group_name": self.group_name})


@dataclass(frozen=True)
class Site:
    plan: Plan
    subscription_id: str
    tenant_id: str
    group: azure.resources.ResourceGroup

    @property
    def group_name(self) -> pulumi.Output[str]:
        """The group's name, known at preview, carrying the dependency on the group."""
        return self.group.urn.apply(lambda _: group_name(self.plan))

    @property
    def location(self) -> str:
        return self.plan.region

    @property
    def tags(self) -> dict[str, str]:
        return self.plan.tags

    def name(self, kind: str, *parts: str) -> str:
        """The physical name of a `kind` resource of this stack (`infra.naming`, Azure's rules)."""
        return self.plan.names(kind, *parts)

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
            description=f"ml-serving {self.plan.stack}: {role}",
            opts=pulumi.ResourceOptions(parent=parent),
        )
