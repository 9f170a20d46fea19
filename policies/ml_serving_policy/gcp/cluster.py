"""Rules for the GKE cluster and its node pools."""

from __future__ import annotations

from ml_serving_policy.gcp.keys import names_key
from ml_serving_policy.rules import UNKNOWN, Severity, expect, get, resource_rule

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
CHANNELS = ("RAPID", "REGULAR", "STABLE", "EXTENDED")
REQUIRED_LOGS = {"SYSTEM_COMPONENTS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER"}
GPU_TAINT = "nvidia.com/gpu"


@resource_rule(
    "gcp-container-cluster-private",
    CLUSTER,
    "Nodes have no external address and the control plane only a private endpoint, reachable from the"
    " authorized networks alone (never Google Cloud's public ranges).",
    severity=Severity.HIGH,
    remediation_steps="Set private_cluster_config enable_private_nodes and enable_private_endpoint to True and"
    " master_authorized_networks_config with the stack's CIDR and gcp_public_cidrs_access_enabled=False.",
)
def cluster_private(props):
    yield from expect(props, "privateClusterConfig", "enablePrivateNodes", equals=True)
    yield from expect(props, "privateClusterConfig", "enablePrivateEndpoint", equals=True)
    yield from expect(props, "masterAuthorizedNetworksConfig", "gcpPublicCidrsAccessEnabled", equals=False)
    blocks = get(props, "masterAuthorizedNetworksConfig", "cidrBlocks", default=[])
    if blocks is UNKNOWN or any(get(b, "cidrBlock") in ("0.0.0.0/0", UNKNOWN) for b in blocks):
        yield "masterAuthorizedNetworksConfig.cidrBlocks must be known and never 0.0.0.0/0"


@resource_rule(
    "gcp-container-cluster-workload-identity",
    CLUSTER,
    "Pods authenticate as their own Kubernetes service account through Workload Identity, never as the node.",
    severity=Severity.HIGH,
    remediation_steps="Set workload_identity_config={'workload_pool': '<project>.svc.id.goog'}.",
)
def cluster_workload_identity(props):
    pool = get(props, "workloadIdentityConfig", "workloadPool")
    if not isinstance(pool, str) or not pool.endswith(".svc.id.goog"):
        yield f"workloadIdentityConfig.workloadPool must be '<project>.svc.id.goog' (got {pool!r})"


@resource_rule(
    "gcp-container-cluster-hardening",
    CLUSTER,
    "Shielded nodes, a release channel for security patches, Dataplane V2 (network policy enforced in"
    " eBPF), no client certificate and no legacy ABAC.",
    severity=Severity.HIGH,
    remediation_steps="Set enable_shielded_nodes=True, release_channel.channel (REGULAR or STABLE),"
    " datapath_provider='ADVANCED_DATAPATH', master_auth.client_certificate_config.issue_client_certificate=False.",
)
def cluster_hardening(props):
    yield from expect(props, "enableShieldedNodes", equals=True)
    channel = get(props, "releaseChannel", "channel")
    if channel not in CHANNELS:
        yield f"releaseChannel.channel must be one of {', '.join(CHANNELS)} (got {channel!r})"
    yield from expect(props, "datapathProvider", equals="ADVANCED_DATAPATH")
    yield from expect(
        props, "masterAuth", "clientCertificateConfig", "issueClientCertificate", equals=False, default=False
    )
    if get(props, "enableLegacyAbac") is True:
        yield "enableLegacyAbac must not be True"


@resource_rule(
    "gcp-container-cluster-secrets-cmek",
    CLUSTER,
    "Kubernetes secrets are encrypted at the application layer with the stack's key.",
    severity=Severity.HIGH,
    remediation_steps="Set database_encryption={'state': 'ENCRYPTED', 'key_name': <the stack's crypto key>}.",
)
def cluster_secrets_cmek(props):
    yield from expect(props, "databaseEncryption", "state", equals="ENCRYPTED")
    yield from names_key(props, "databaseEncryption", "keyName")


@resource_rule(
    "gcp-container-cluster-control-plane-logs",
    CLUSTER,
    "The control plane logs its API server, controller manager and scheduler, for audit and debugging.",
    severity=Severity.MEDIUM,
    remediation_steps=f"Set logging_config.enable_components to include {', '.join(sorted(REQUIRED_LOGS))}.",
)
def cluster_control_plane_logs(props):
    components = get(props, "loggingConfig", "enableComponents", default=[])
    missing = REQUIRED_LOGS - set(components if components is not UNKNOWN else [])
    if missing:
        yield f"loggingConfig.enableComponents lacks {', '.join(sorted(missing))}"


def _node_config_problems(config) -> list[str]:
    problems: list[str] = []
    if get(config, "workloadMetadataConfig", "mode") != "GKE_METADATA":
        problems.append("nodeConfig.workloadMetadataConfig.mode must be GKE_METADATA (pods never see node credentials)")
    if get(config, "shieldedInstanceConfig", "enableSecureBoot") is not True:
        problems.append("nodeConfig.shieldedInstanceConfig.enableSecureBoot must be true")
    account = get(config, "serviceAccount")
    if (
        account is None
        or account == "default"
        or (isinstance(account, str) and account.endswith("-compute@developer.gserviceaccount.com"))
    ):
        problems.append(f"nodeConfig.serviceAccount must be a dedicated node account (got {account!r})")
    if get(config, "bootDiskKmsKey") is None:
        problems.append("nodeConfig.bootDiskKmsKey must name the stack's crypto key")
    return problems


@resource_rule(
    "gcp-container-cluster-node-hardening",
    CLUSTER,
    "The default pool GKE boots before removing it runs like every pool: GKE metadata server, secure"
    " boot, the dedicated node account and CMEK boot disks, never the Compute Engine default account.",
    severity=Severity.HIGH,
    remediation_steps="Set the cluster's node_config like a node pool's (see gcp-container-node-pool-hardening).",
)
def cluster_node_hardening(props):
    yield from _node_config_problems(get(props, "nodeConfig", default={}))


@resource_rule(
    "gcp-container-node-pool-hardening",
    NODE_POOL,
    "Nodes expose only the GKE metadata server to pods, boot verified (Shielded VM secure boot), run"
    " as a dedicated least-privilege account and encrypt boot disks with the stack's key.",
    severity=Severity.HIGH,
    remediation_steps="Set node_config workload_metadata_config.mode='GKE_METADATA',"
    " shielded_instance_config.enable_secure_boot=True, service_account=<node account>, boot_disk_kms_key.",
)
def node_pool_hardening(props):
    yield from _node_config_problems(get(props, "nodeConfig", default={}))


@resource_rule(
    "gcp-container-node-pool-gpu",
    NODE_POOL,
    "A GPU pool installs its NVIDIA driver, is tainted so only GPU workloads land on it, and autoscales within bounds.",
    severity=Severity.MEDIUM,
    remediation_steps="Set guest_accelerators[].gpu_driver_installation_config.gpu_driver_version, a"
    " taint nvidia.com/gpu:NoSchedule and autoscaling total_min/total_max_node_count.",
)
def node_pool_gpu(props):
    accelerators = get(props, "nodeConfig", "guestAccelerators", default=[])
    if accelerators is UNKNOWN:
        yield "nodeConfig.guestAccelerators must be known at preview"
        return
    if get(props, "autoscaling") is None:
        yield "autoscaling must bound the pool"
    if not accelerators:
        return
    for i, accelerator in enumerate(accelerators):
        if get(accelerator, "gpuDriverInstallationConfig", "gpuDriverVersion") in (None, "INSTALLATION_DISABLED"):
            yield f"nodeConfig.guestAccelerators[{i}]: GKE must install the GPU driver"
    taints = get(props, "nodeConfig", "taints", default=[])
    if taints is UNKNOWN or not any(get(t, "key") == GPU_TAINT and get(t, "effect") == "NO_SCHEDULE" for t in taints):
        yield f"nodeConfig.taints must include {GPU_TAINT} with effect NO_SCHEDULE"
