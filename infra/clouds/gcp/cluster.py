"""A private GKE cluster with a CPU system pool and one GPU node pool per Kubernetes endpoint.

The control plane has only a private endpoint, reachable from the stack's VPC; nodes have no
external addresses, run Shielded VMs with secure boot under a dedicated node service account
(never the Compute Engine default account), and expose only the GKE metadata server to pods, so
workloads authenticate through Workload Identity. Secrets are encrypted with the stack's key.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.clouds.gcp.keys import KeyUse
from infra.clouds.gcp.machines import gke_accelerator, machine_type
from infra.clouds.options import child
from infra.plan import ClusterPlan, NodePoolPlan

# Google's least-privilege role for node service accounts: write logs and metrics, read metadata
# (cloud.google.com/kubernetes-engine/docs/how-to/service-accounts#default-gke-service-agent).
NODE_ROLE = "roles/container.defaultNodeServiceAccount"
CONTROL_PLANE_LOGS = ["SYSTEM_COMPONENTS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER", "WORKLOADS"]
GPU_TAINT = "nvidia.com/gpu"
# A private cluster's control plane reaches its nodes on TCP 443 and 10250 only (the firewall rule GKE
# creates for it): a webhook or aggregated API on any other pod port times out until a rule of the
# stack's own admits it (GKE "Add firewall rules for specific use cases"; kedacore/keda #1642).
GKE_ADMITTED_PORTS = frozenset({443, 10250})


@dataclass(frozen=True)
class ClusterArgs:
    project: str
    region: str
    zones: tuple[str, ...]
    cluster: ClusterPlan
    cluster_name: str
    pool_names: dict[str, str]  # node pool plan name -> GKE node pool name
    node_account_id: str
    authorized_cidrs: tuple[str, ...]  # who may reach the private control plane
    release_channel: str
    protect: bool
    key: KeyUse
    network_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    secondary_ranges: dict[str, str]  # {"pods": name, "services": name} of the subnet's secondary ranges
    repository_id: str  # the stack's Artifact Registry repository the nodes pull from
    # The /28 the private control plane is peered into (carved from the stack's CIDR, in no subnet);
    # None on a network the stack does not create: GKE picks the range, and no rule can name it.
    control_plane_cidr: str | None = None
    webhook_ports: tuple[int, ...] = ()  # pod ports the control plane calls (the add-ons' webhooks)


class Cluster(pulumi.ComponentResource):
    """Outputs for the Kubernetes layer: name, location, endpoint (the private control plane's address,
    known once every node pool exists), CA (base64 PEM), node account, Workload Identity pool."""

    node_service_account: pulumi.Output[str]  # the node account's email
    name: pulumi.Output[str]
    location: str
    endpoint: pulumi.Output[str]
    ca_certificate: pulumi.Output[str]
    workload_identity_pool: str

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:gcp:Cluster", name, None, opts)
        account = gcp.serviceaccount.Account(
            f"{name}-nodes",
            account_id=args.node_account_id,
            display_name="ml-serving GKE nodes",
            description="Node identity: logs, metrics and image pulls only; workloads use Workload Identity.",
            opts=child(self),
        )
        node_grants = [
            gcp.projects.IAMMember(
                f"{name}-nodes-role",
                project=args.project,
                role=NODE_ROLE,
                member=account.member,
                opts=child(self),
            ),
            gcp.artifactregistry.RepositoryIamMember(
                f"{name}-nodes-pull",
                project=args.project,
                location=args.region,
                repository=args.repository_id,
                role="roles/artifactregistry.reader",
                member=account.member,
                opts=child(self),
            ),
        ]
        self.workload_identity_pool = f"{args.project}.svc.id.goog"
        self.location = args.region
        cluster = gcp.container.Cluster(
            f"{name}-cluster",
            name=args.cluster_name,
            location=args.region,
            node_locations=list(args.zones),
            network=args.network_id,
            subnetwork=args.subnet_id,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy={
                "cluster_secondary_range_name": args.secondary_ranges["pods"],
                "services_secondary_range_name": args.secondary_ranges["services"],
            },
            private_cluster_config={
                "enable_private_nodes": True,
                "enable_private_endpoint": True,
                "master_ipv4_cidr_block": args.control_plane_cidr,
            },
            master_authorized_networks_config={
                "cidr_blocks": [{"cidr_block": c, "display_name": "stack network"} for c in args.authorized_cidrs],
                "gcp_public_cidrs_access_enabled": False,
            },
            master_auth={"client_certificate_config": {"issue_client_certificate": False}},
            workload_identity_config={"workload_pool": self.workload_identity_pool},
            enable_shielded_nodes=True,
            release_channel={"channel": args.release_channel},
            min_master_version=args.cluster.kubernetes_version,
            database_encryption={"state": "ENCRYPTED", "key_name": args.key.key_id},
            datapath_provider="ADVANCED_DATAPATH",
            logging_config={"enable_components": CONTROL_PLANE_LOGS},
            # GKE boots the default pool before removing it: give it the node account and hardening
            # too, or it briefly runs as the Compute Engine default account.
            remove_default_node_pool=True,
            initial_node_count=1,
            node_config=_node_config(args, account, args.cluster.system_pool),
            deletion_protection=args.protect,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[*args.key.grants, *node_grants]),
        )
        pools = [
            self._pool(name, args, cluster, account, p) for p in (args.cluster.system_pool, *args.cluster.gpu_pools)
        ]
        self._admit_control_plane(name, args, account)
        self.name = cluster.name
        # Handed on once every node pool exists: what runs on the cluster (add-ons first) needs nodes.
        self.endpoint = pulumi.Output.all(cluster.endpoint, *(p.id for p in pools)).apply(lambda values: values[0])
        self.ca_certificate = cluster.master_auth.cluster_ca_certificate.apply(lambda c: c or "")
        self.node_service_account = account.email
        self.register_outputs(
            {
                "name": self.name,
                "location": self.location,
                "endpoint": self.endpoint,
                "ca_certificate": self.ca_certificate,
                "node_service_account": self.node_service_account,
                "workload_identity_pool": self.workload_identity_pool,
            }
        )

    def _admit_control_plane(self, name: str, args: ClusterArgs, account: gcp.serviceaccount.Account) -> None:
        """Let the control plane call the webhooks and aggregated APIs GKE's own rule leaves out, on
        the cluster's nodes only (by their service account), from its /28 only, logged."""
        ports = sorted(set(args.webhook_ports) - GKE_ADMITTED_PORTS)
        if not ports or args.control_plane_cidr is None:
            return
        gcp.compute.Firewall(
            f"{name}-control-plane-webhooks",
            network=args.network_id,
            description="GKE control plane to the add-ons' admission webhooks and aggregated APIs on the nodes",
            direction="INGRESS",
            source_ranges=[args.control_plane_cidr],
            target_service_accounts=[account.email],
            allows=[{"protocol": "tcp", "ports": [str(p) for p in ports]}],
            log_config={"metadata": "INCLUDE_ALL_METADATA"},
            opts=child(self),
        )

    def _pool(
        self,
        name: str,
        args: ClusterArgs,
        cluster: gcp.container.Cluster,
        account: gcp.serviceaccount.Account,
        pool: NodePoolPlan,
    ) -> gcp.container.NodePool:
        return gcp.container.NodePool(
            f"{name}-{pool.name}",
            name=args.pool_names[pool.name],
            cluster=cluster.id,
            location=args.region,
            node_locations=list(args.zones),
            autoscaling={
                "total_min_node_count": pool.min_nodes,
                "total_max_node_count": pool.max_nodes,
                # GPUs are scarce per zone: take capacity wherever the region has it.
                "location_policy": "ANY",
            },
            management={"auto_repair": True, "auto_upgrade": True},
            node_config=_node_config(args, account, pool),
            opts=child(self),
        )


def _node_config(
    args: ClusterArgs, account: gcp.serviceaccount.Account, pool: NodePoolPlan
) -> gcp.container.NodePoolNodeConfigArgsDict:
    labels = {"ml-serving/pool": pool.name}
    if pool.endpoint is not None:
        labels["ml-serving/endpoint"] = pool.endpoint
    if pool.accelerator is not None:  # as on EKS and AKS: the runtime the pool's devices need
        labels["ml-serving/accelerator"] = pool.accelerator
    config: gcp.container.NodePoolNodeConfigArgsDict = {
        "machine_type": machine_type(pool.instance_type, pool.instance_extra),
        "image_type": pool.node_image,  # from the plan: the node image for the pool's architecture
        "service_account": account.email,
        "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],  # IAM, not scopes, limits it
        "workload_metadata_config": {"mode": "GKE_METADATA"},
        "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
        "boot_disk_kms_key": args.key.key_id,
        "disk_type": "pd-balanced",
        # Sized by the plan: OS and images, plus on GPU pools the weights of every model copy.
        "disk_size_gb": pool.disk_gib,
        "metadata": {"disable-legacy-endpoints": "true"},
        "labels": labels,
        "spot": pool.capacity == "spot",
    }
    accelerator = gke_accelerator(pool.instance_extra)
    if accelerator is not None:
        config["guest_accelerators"] = [
            {
                "type": accelerator,
                "count": pool.gpus,
                # GKE installs the driver and runs its own device plugin. Left unset, the version is
                # GPU_DRIVER_VERSION_UNSPECIFIED, which installs no driver at all; LATEST (COS only, the
                # plan's node image) gives the newest driver GKE ships for the node version
                # (GKE API, GPUDriverInstallationConfig.GPUDriverVersion).
                "gpu_driver_installation_config": {"gpu_driver_version": "LATEST"},
            }
        ]
        config["taints"] = [{"key": GPU_TAINT, "value": "present", "effect": "NO_SCHEDULE"}]
        config["labels"] = {**labels, "ml-serving/gpu": pool.gpu or accelerator}
    return config
