"""An AKS cluster: private API server, Entra ID with Azure RBAC and no local accounts, workload
identity with the OIDC issuer, Cilium network policy, etcd secrets encrypted with the stack's Key
Vault key (KMS, reached privately), network isolated (no outbound route; images bootstrap from the
stack's registry cache), a system pool for cluster add-ons and one GPU pool per Kubernetes endpoint.

Outputs for in-cluster serving: the cluster's name and resource group, the OIDC issuer URL (workload
identity federation), the kubelet identity (image pulls) and the private API server FQDN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

import pulumi
import pulumi_azure_native as azure

from infra.clouds.azure.keys import KeyUse
from infra.clouds.azure.site import Site
from infra.clouds.options import child
from infra.plan import ClusterPlan, NodePoolPlan

cs = azure.containerservice
# The device's own taint, as on EKS: the NVIDIA device plugin and the model servers tolerate it.
GPU_TAINT = "nvidia.com/gpu=true:NoSchedule"
# Overlay pod and service ranges: outside every VNet range the spec admits (10.x private /16-/22).
POD_CIDR = "192.168.0.0/16"
SERVICE_CIDR = "172.16.0.0/16"
DNS_SERVICE_IP = "172.16.0.10"
PRIORITY = {"on-demand": "Regular", "spot": "Spot"}


@dataclass(frozen=True)
class ClusterArgs:
    """The plan's cluster (version, system and GPU pools), its names (naming layer), and what it runs
    on: the nodes' subnet, the key that encrypts etcd secrets, the registry its nodes bootstrap and
    pull from, and the Log Analytics workspace its monitoring add-on writes to."""

    site: Site
    cluster: ClusterPlan
    cluster_name: str
    dns_prefix: str  # the API server's DNS label: a narrower rule than the cluster name's
    pool_names: dict[str, str]  # pool plan name (the system pool's and each GPU pool's) -> AKS agent pool name
    protect: bool  # the Standard tier (uptime SLA), and the cluster protected
    node_subnet_id: pulumi.Input[str]
    key: KeyUse
    registry_id: pulumi.Input[str]
    log_workspace_id: pulumi.Input[str]


class PoolShape(TypedDict):
    """What an AKS node pool takes from its plan: the VM size, disk, subnet and autoscaled node count."""

    vm_size: str
    os_type: str
    os_sku: str
    os_disk_size_gb: int
    vnet_subnet_id: pulumi.Input[str]
    enable_auto_scaling: bool
    count: int
    min_count: int
    max_count: int


def pool_shape(pool: NodePoolPlan, os_sku: str, subnet_id: pulumi.Input[str]) -> PoolShape:
    """The node pool as the plan sized it (the disk: OS and images, plus the weights of every model
    copy), Linux nodes of `os_sku` autoscaled in the nodes' subnet, starting at its minimum."""
    return PoolShape(
        vm_size=pool.instance_type,
        os_type="Linux",
        os_sku=os_sku,
        os_disk_size_gb=pool.disk_gib,
        vnet_subnet_id=subnet_id,
        enable_auto_scaling=True,
        count=pool.min_nodes,
        min_count=pool.min_nodes,
        max_count=pool.max_nodes,
    )


class Cluster(pulumi.ComponentResource):
    """Outputs: `cluster_name`, `resource_group`, `kubelet_identity` (client_id, object_id,
    resource_id) and `api_server_fqdn`. For the cluster's access: `cluster_id` and
    `oidc_issuer_url`, which AKS reports once the cluster exists."""

    cluster_name: str
    resource_group: pulumi.Output[str]
    kubelet_identity: dict[str, pulumi.Output[str]]
    api_server_fqdn: pulumi.Output[str]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:azure:Cluster", name, None, opts)
        site, plan = args.site, args.cluster
        identities = {
            role: azure.managedidentity.UserAssignedIdentity(
                f"{name}-{role}-identity",
                resource_group_name=site.group_name,
                location=site.location,
                tags=site.tags,
                opts=child(self),
            )
            for role in ("control-plane", "kubelet")
        }
        control, kubelet = identities["control-plane"], identities["kubelet"]
        grants = [
            site.grant(f"{name}-kms", control.principal_id, "Key Vault Crypto User", args.key.vault_id, self),
            site.grant(f"{name}-subnet", control.principal_id, "Network Contributor", args.node_subnet_id, self),
            site.grant(f"{name}-kubelet-operator", control.principal_id, "Managed Identity Operator", kubelet.id, self),
            site.grant(f"{name}-kubelet-pull", kubelet.principal_id, "AcrPull", args.registry_id, self),
        ]
        self.cluster_name = args.cluster_name
        cluster = cs.ManagedCluster(
            f"{name}-cluster",
            resource_group_name=site.group_name,
            resource_name_=self.cluster_name,
            location=site.location,
            dns_prefix=args.dns_prefix,
            kubernetes_version=plan.kubernetes_version,
            sku=cs.ManagedClusterSKUArgs(name="Base", tier="Standard" if args.protect else "Free"),
            identity=cs.ManagedClusterIdentityArgs(
                type=cs.ResourceIdentityType.USER_ASSIGNED, user_assigned_identities=[control.id]
            ),
            identity_profile={
                "kubeletidentity": cs.UserAssignedIdentityArgs(
                    resource_id=kubelet.id, client_id=kubelet.client_id, object_id=kubelet.principal_id
                )
            },
            enable_rbac=True,
            disable_local_accounts=True,
            aad_profile=cs.ManagedClusterAADProfileArgs(managed=True, enable_azure_rbac=True, tenant_id=site.tenant_id),
            api_server_access_profile=cs.ManagedClusterAPIServerAccessProfileArgs(
                enable_private_cluster=True, enable_private_cluster_public_fqdn=False, disable_run_command=True
            ),
            public_network_access="Disabled",
            oidc_issuer_profile=cs.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=cs.ManagedClusterSecurityProfileArgs(
                workload_identity=cs.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True),
                azure_key_vault_kms=cs.AzureKeyVaultKmsArgs(
                    enabled=True,
                    # KMS takes a versioned key id; a rotation is picked up by updating the cluster.
                    key_id=args.key.key_uri_with_version,
                    key_vault_network_access="Private",
                    key_vault_resource_id=args.key.vault_id,
                ),
            ),
            network_profile=cs.ContainerServiceNetworkProfileArgs(
                network_plugin="azure",
                network_plugin_mode="overlay",
                network_dataplane="cilium",
                network_policy="cilium",
                pod_cidr=POD_CIDR,
                service_cidr=SERVICE_CIDR,
                dns_service_ip=DNS_SERVICE_IP,
                # Network isolated: no egress route; node images and add-ons come from the registry cache.
                outbound_type="none",
            ),
            bootstrap_profile=cs.ManagedClusterBootstrapProfileArgs(
                artifact_source="Cache", container_registry_id=args.registry_id
            ),
            auto_upgrade_profile=cs.ManagedClusterAutoUpgradeProfileArgs(
                upgrade_channel=plan.upgrade_channel, node_os_upgrade_channel="NodeImage"
            ),
            addon_profiles={
                "omsagent": cs.ManagedClusterAddonProfileArgs(
                    enabled=True, config={"logAnalyticsWorkspaceResourceID": args.log_workspace_id}
                )
            },
            agent_pool_profiles=[
                cs.ManagedClusterAgentPoolProfileArgs(
                    name=args.pool_names[plan.system_pool.name],
                    mode="System",
                    **pool_shape(plan.system_pool, "AzureLinux", args.node_subnet_id),
                    # Only cluster add-ons run on the system pool.
                    node_taints=["CriticalAddonsOnly=true:NoSchedule"],
                )
            ],
            tags=site.tags,
            # AKS has no deletion protection of its own: protected in state in prod, as GKE and EKS are.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[*grants, args.key.unlock]),
        )
        for pool in plan.gpu_pools:
            self._gpu_pool(name, args, cluster.name, pool)
        self.cluster_id = cluster.id
        self.resource_group = site.group_name
        self.oidc_issuer_url = cluster.oidc_issuer_profile.apply(lambda p: p.issuer_url if p else "")
        self.kubelet_identity = {
            "client_id": kubelet.client_id,
            "object_id": kubelet.principal_id,
            "resource_id": kubelet.id,
        }
        self.api_server_fqdn = cluster.private_fqdn
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "resource_group": self.resource_group,
                "kubelet_identity": self.kubelet_identity,
                "api_server_fqdn": self.api_server_fqdn,
            }
        )

    def _gpu_pool(self, name: str, args: ClusterArgs, cluster: pulumi.Output[str], pool: NodePoolPlan) -> None:
        spot = pool.capacity == "spot"
        cs.AgentPool(
            f"{name}-{pool.name}",
            resource_group_name=args.site.group_name,
            resource_name_=cluster,
            agent_pool_name=args.pool_names[pool.name],
            mode="User",
            **pool_shape(pool, "Ubuntu", args.node_subnet_id),
            node_taints=[GPU_TAINT] if pool.accelerator else None,
            node_labels={
                "ml-serving/endpoint": pool.endpoint or "",
                "ml-serving/gpu": pool.gpu or "cpu",
                # The device plugin's node selector (infra/addons.yaml).
                **({"ml-serving/accelerator": pool.accelerator} if pool.accelerator else {}),
            },
            scale_set_priority=PRIORITY[pool.capacity],
            # A spot pool gives evicted nodes back (Delete) and pays up to the on-demand price (-1).
            scale_set_eviction_policy="Delete" if spot else None,
            spot_max_price=-1 if spot else None,
            tags=args.site.tags,
            opts=child(self),
        )
