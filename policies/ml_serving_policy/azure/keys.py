"""Rules for Key Vault and its keys."""

from __future__ import annotations

from ml_serving_policy.rules import UNKNOWN, Severity, expect, get, resource_rule

VAULT = "azure-native:keyvault:Vault"
KEY = "azure-native:keyvault:Key"
MIN_RSA_BITS = 3072


@resource_rule(
    "azure-keyvault-vault-rbac-private",
    VAULT,
    "The vault authorizes with Azure RBAC (auditable role assignments, no access policies) and takes no"
    " public traffic: it is reached through its private endpoint and ARM only.",
    severity=Severity.HIGH,
    remediation_steps="Set properties.enable_rbac_authorization=True, public_network_access='Disabled' and"
    " network_acls.default_action='Deny'.",
)
def vault_rbac_private(props):
    yield from expect(props, "properties", "enableRbacAuthorization", equals=True)
    yield from expect(props, "properties", "publicNetworkAccess", equals="Disabled")
    yield from expect(props, "properties", "networkAcls", "defaultAction", equals="Deny")


@resource_rule(
    "azure-keyvault-vault-purge-protection",
    VAULT,
    "Soft delete with purge protection: a deleted key, which makes everything it encrypted unreadable,"
    " can be recovered for the retention period and never purged early.",
    severity=Severity.CRITICAL,
    remediation_steps="Set properties.enable_soft_delete=True and properties.enable_purge_protection=True.",
)
def vault_purge_protection(props):
    yield from expect(props, "properties", "enableSoftDelete", equals=True)
    yield from expect(props, "properties", "enablePurgeProtection", equals=True)


@resource_rule(
    "azure-keyvault-key-rotation",
    KEY,
    "The customer-managed key rotates on a policy and is RSA of at least 3072 bits, so a leaked key"
    " version stops protecting new data.",
    severity=Severity.MEDIUM,
    remediation_steps="Give the key a rotation_policy with a 'rotate' lifetime action (time_after_create)"
    " and kty RSA or RSA-HSM with key_size >= 3072.",
)
def key_rotation(props):
    actions = get(props, "properties", "rotationPolicy", "lifetimeActions", default=[])
    if actions is UNKNOWN or not any(
        get(a, "action", "type") == "rotate" and get(a, "trigger", "timeAfterCreate") is not None for a in actions
    ):
        yield "properties.rotationPolicy.lifetimeActions must rotate the key after a set time"
    size = get(props, "properties", "keySize")
    if (
        get(props, "properties", "kty") not in ("RSA", "RSA-HSM")
        or not isinstance(size, (int, float))
        or size < MIN_RSA_BITS
    ):
        yield f"properties must be kty RSA or RSA-HSM with keySize >= {MIN_RSA_BITS} (got {size!r})"
