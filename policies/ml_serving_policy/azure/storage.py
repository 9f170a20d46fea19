"""Rules for the model store's storage account, its blob service and containers."""

from __future__ import annotations

from ml_serving_policy.rules import Severity, attached, expect, get, of_type, resource_rule, stack_rule

ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
CONTAINER = "azure-native:storage:BlobContainer"
MIN_RETENTION_DAYS = 7


@resource_rule(
    "azure-storage-account-private",
    ACCOUNT,
    "Model weights are read with Entra ID over TLS 1.2+ through a private endpoint only: no public"
    " blobs, no shared keys or SAS signed with them, no plain HTTP, no public network access.",
    severity=Severity.HIGH,
    remediation_steps="Set allow_blob_public_access=False, allow_shared_key_access=False,"
    " enable_https_traffic_only=True, minimum_tls_version='TLS1_2' and public_network_access='Disabled'.",
)
def account_private(props):
    yield from expect(props, "allowBlobPublicAccess", equals=False)
    yield from expect(props, "allowSharedKeyAccess", equals=False)
    yield from expect(props, "enableHttpsTrafficOnly", equals=True)
    yield from expect(props, "minimumTlsVersion", equals="TLS1_2")
    yield from expect(props, "publicNetworkAccess", equals="Disabled")


@resource_rule(
    "azure-storage-account-cmk",
    ACCOUNT,
    "Blobs are encrypted twice: infrastructure encryption and the stack's customer-managed key.",
    severity=Severity.MEDIUM,
    remediation_steps="Set encryption.key_source='Microsoft.Keyvault' with key_vault_properties (key name"
    " and vault URI) and require_infrastructure_encryption=True.",
)
def account_cmk(props):
    yield from expect(props, "encryption", "keySource", equals="Microsoft.Keyvault")
    yield from expect(props, "encryption", "requireInfrastructureEncryption", equals=True)
    if get(props, "encryption", "keyVaultProperties", "keyName") is None:
        yield "encryption.keyVaultProperties.keyName must name the stack's key"


@resource_rule(
    "azure-storage-blob-service-recovery",
    BLOB_SERVICE,
    "Every overwrite keeps the previous model version and a deleted blob or container can be restored.",
    severity=Severity.MEDIUM,
    remediation_steps=f"Set is_versioning_enabled=True and delete retention (blobs and containers) of at"
    f" least {MIN_RETENTION_DAYS} days.",
)
def blob_service_recovery(props):
    yield from expect(props, "isVersioningEnabled", equals=True)
    for policy in ("deleteRetentionPolicy", "containerDeleteRetentionPolicy"):
        yield from expect(props, policy, "enabled", equals=True)
        days = get(props, policy, "days")
        if not isinstance(days, (int, float)) or days < MIN_RETENTION_DAYS:
            yield f"{policy}.days must be at least {MIN_RETENTION_DAYS} (got {days!r})"


@resource_rule(
    "azure-storage-container-private",
    CONTAINER,
    "A container never serves blobs anonymously.",
    severity=Severity.HIGH,
    remediation_steps="Set public_access='None'.",
)
def container_private(props):
    yield from expect(props, "publicAccess", equals="None")


@stack_rule(
    "azure-storage-account-has-recovery",
    "Every storage account has its blob service settings (versioning, soft delete) in this stack:"
    " an account without them is an account someone forgot.",
    severity=Severity.MEDIUM,
    remediation_steps="Register a BlobServiceProperties ('default') for the account.",
)
def account_has_recovery(resources, _config):
    services = of_type(resources, BLOB_SERVICE)
    for account in of_type(resources, ACCOUNT):
        if not any(attached(s, account, "accountName", "accountName") for s in services):
            yield f"storage account {account.name} has no blob service settings (versioning, soft delete)"
