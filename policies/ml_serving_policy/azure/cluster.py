"""Rules for AKS clusters and their agent pools."""

from __future__ import annotations

from ml_serving_policy.rules import UNKNOWN, Severity, expect, get, resource_rule

CLUSTER = "azure-native:containerservice:ManagedCluster"
POOL = "azure-native:containerservice:AgentPool"
GPU_TAINT = "nvidia.com/gpu=true:NoSchedule"  # as on EKS: the device plugin and model servers tolerate it
NETWORK_POLICIES = ("azure", "calico", "cilium")


@resource_rule(
    "azure-aks-cluster-private-entra",
    CLUSTER,
    "The API server is private, sign-in is Entra ID only with Azure RBAC (no local accounts, whose"
    " credentials bypass Entra), and Kubernetes RBAC is on.",
    severity=Severity.CRITICAL,
    remediation_steps="Set api_server_access_profile.enable_private_cluster=True, disable_local_accounts=True,"
    " enable_rbac=True and aad_profile (managed, enable_azure_rbac).",
)
def cluster_private_entra(props):
    yield from expect(props, "apiServerAccessProfile", "enablePrivateCluster", equals=True)
    yield from expect(props, "disableLocalAccounts", equals=True)
    yield from expect(props, "enableRBAC", equals=True)
    yield from expect(props, "aadProfile", "managed", equals=True)
    yield from expect(props, "aadProfile", "enableAzureRBAC", equals=True)


@resource_rule(
    "azure-aks-cluster-workload-identity",
    CLUSTER,
    "Pods get Entra tokens through workload identity federation (the OIDC issuer), never node credentials.",
    severity=Severity.HIGH,
    remediation_steps="Set security_profile.workload_identity.enabled=True and oidc_issuer_profile.enabled=True.",
)
def cluster_workload_identity(props):
    yield from expect(props, "securityProfile", "workloadIdentity", "enabled", equals=True)
    yield from expect(props, "oidcIssuerProfile", "enabled", equals=True)


@resource_rule(
    "azure-aks-cluster-kms-etcd",
    CLUSTER,
    "Kubernetes secrets in etcd are encrypted with the stack's Key Vault key (KMS), reached privately.",
    severity=Severity.HIGH,
    remediation_steps="Set security_profile.azure_key_vault_kms with enabled=True, the key's versioned id,"
    " key_vault_network_access='Private' and the vault's resource id.",
)
def cluster_kms(props):
    yield from expect(props, "securityProfile", "azureKeyVaultKms", "enabled", equals=True)
    yield from expect(props, "securityProfile", "azureKeyVaultKms", "keyVaultNetworkAccess", equals="Private")
    if get(props, "securityProfile", "azureKeyVaultKms", "keyId") is None:
        yield "securityProfile.azureKeyVaultKms.keyId must name the stack's key"


@resource_rule(
    "azure-aks-cluster-network-policy",
    CLUSTER,
    "A network policy engine enforces Kubernetes NetworkPolicies between pods.",
    severity=Severity.MEDIUM,
    remediation_steps="Set network_profile.network_policy to cilium (or azure, calico).",
)
def cluster_network_policy(props):
    policy = get(props, "networkProfile", "networkPolicy")
    if policy not in NETWORK_POLICIES:
        yield f"networkProfile.networkPolicy must be one of {', '.join(NETWORK_POLICIES)} (got {policy!r})"


@resource_rule(
    "azure-aks-agent-pool-gpu",
    POOL,
    f"A GPU pool (N-series VMs) carries the {GPU_TAINT} taint so only inference pods that tolerate it land"
    " there, autoscales between known bounds, and a spot pool deletes evicted nodes.",
    severity=Severity.MEDIUM,
    remediation_steps=f"Set node_taints=['{GPU_TAINT}'], enable_auto_scaling with min_count <= max_count,"
    " and scale_set_eviction_policy='Delete' on spot pools.",
)
def agent_pool_gpu(props):
    size = get(props, "vmSize")
    if size is UNKNOWN or not str(size).startswith("Standard_N"):
        return
    taints = get(props, "nodeTaints", default=[])
    if taints is UNKNOWN or GPU_TAINT not in taints:
        yield f"nodeTaints must include {GPU_TAINT} (got {taints!r})"
    yield from expect(props, "enableAutoScaling", equals=True)
    low, high = get(props, "minCount"), get(props, "maxCount")
    if not isinstance(low, (int, float)) or not isinstance(high, (int, float)) or not 0 <= low <= high:
        yield f"minCount and maxCount must be known with 0 <= min <= max (got {low!r}, {high!r})"
    if get(props, "scaleSetPriority") == "Spot":
        yield from expect(props, "scaleSetEvictionPolicy", equals="Delete")
