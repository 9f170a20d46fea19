"""Rules for role assignments."""

from __future__ import annotations

import re

from ml_serving_policy.rules import UNKNOWN, Severity, get, resource_rule

ASSIGNMENT = "azure-native:authorization:RoleAssignment"
# Built-in Owner and Contributor (learn.microsoft.com, "Azure built-in roles").
BROAD_ROLES = {"8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner", "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor"}
SUBSCRIPTION_SCOPE = re.compile(r"^/subscriptions/[^/]+/?$", re.IGNORECASE)


@resource_rule(
    "azure-authorization-no-broad-subscription-role",
    ASSIGNMENT,
    "No identity holds Owner or Contributor on a whole subscription: the stack grants each identity one"
    " role on one resource.",
    severity=Severity.CRITICAL,
    remediation_steps="Grant a narrower role (AcrPull, Storage Blob Data Reader, ...) on the resource itself.",
)
def no_broad_subscription_role(props):
    role = get(props, "roleDefinitionId")
    scope = get(props, "scope")
    if role is UNKNOWN:
        yield "roleDefinitionId must be known at preview"
        return
    name = BROAD_ROLES.get(str(role).rsplit("/", 1)[-1].lower())
    if name is None:
        return
    if scope is UNKNOWN or scope is None or SUBSCRIPTION_SCOPE.match(str(scope)):
        yield f"{name} must not be assigned at subscription scope (scope {scope!r})"
