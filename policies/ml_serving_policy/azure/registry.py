"""Rules for Azure Container Registry."""

from __future__ import annotations

from ml_serving_policy.rules import Severity, expect, get, resource_rule

REGISTRY = "azure-native:containerregistry:Registry"


@resource_rule(
    "azure-acr-registry-private",
    REGISTRY,
    "Serving images are pulled only by identities through the private endpoint: Premium (private link),"
    " no admin user (a shared password), no anonymous pull, no public network access, no export.",
    severity=Severity.HIGH,
    remediation_steps="Use sku Premium with admin_user_enabled=False, anonymous_pull_enabled=False,"
    " public_network_access='Disabled' and policies.export_policy.status='disabled'.",
)
def registry_private(props):
    yield from expect(props, "sku", "name", equals="Premium")
    yield from expect(props, "adminUserEnabled", equals=False)
    yield from expect(props, "anonymousPullEnabled", equals=False)
    yield from expect(props, "publicNetworkAccess", equals="Disabled")
    yield from expect(props, "policies", "exportPolicy", "status", equals="disabled")


@resource_rule(
    "azure-acr-registry-cmk",
    REGISTRY,
    "Images are encrypted with the stack's customer-managed key, through a user-assigned identity.",
    severity=Severity.MEDIUM,
    remediation_steps="Set encryption.status='enabled' with key_vault_properties.key_identifier and identity.",
)
def registry_cmk(props):
    yield from expect(props, "encryption", "status", equals="enabled")
    for key in ("keyIdentifier", "identity"):
        if get(props, "encryption", "keyVaultProperties", key) is None:
            yield f"encryption.keyVaultProperties.{key} must be set"


@resource_rule(
    "azure-acr-registry-retention",
    REGISTRY,
    "Untagged manifests (failed and superseded pushes) expire; ACR's retention never removes a tagged"
    " manifest, and served images are pulled by tag, so no served image is removed.",
    severity=Severity.LOW,
    remediation_steps="Set policies.retention_policy.status='enabled' with days from 1 to 365.",
)
def registry_retention(props):
    yield from expect(props, "policies", "retentionPolicy", "status", equals="enabled")
    days = get(props, "policies", "retentionPolicy", "days")
    if not isinstance(days, (int, float)) or not 1 <= days <= 365:
        yield f"policies.retentionPolicy.days must be from 1 to 365 (got {days!r})"
