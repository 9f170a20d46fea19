"""Azure translator: Plan -> Azure resources in one resource group, through one explicit provider.

Each component gets its typed args: the slice of the plan it needs, the names of what it builds
(from the naming layer), the stack's `Site` (resource group, region, tags, directory) and the
outputs of the components it runs on. Stack outputs are read from the components' outputs.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_azure_native as azure

from infra import kubernetes
from infra.clouds.azure.cluster import Cluster, ClusterArgs
from infra.clouds.azure.cluster_access import KubernetesAccess, KubernetesAccessArgs
from infra.clouds.azure.endpoint import ALERTS, ManagedEndpoint, ManagedEndpointArgs
from infra.clouds.azure.keys import Keys, KeysArgs
from infra.clouds.azure.monitoring import Observability, ObservabilityArgs
from infra.clouds.azure.network import Network, NetworkArgs
from infra.clouds.azure.registry import Registry, RegistryArgs
from infra.clouds.azure.site import ResourceGroup, ResourceGroupArgs, Site, directory_ids
from infra.clouds.azure.storage import ModelStore, ModelStoreArgs
from infra.clouds.azure.workspace import Workspace, WorkspaceArgs
from infra.kubernetes import Stores
from infra.kubernetes.access import ClusterAccess
from infra.plan import Plan


def translate(plan: Plan) -> dict[str, Any]:
    names = plan.names
    subscription_id, tenant_id = directory_ids(plan)
    provider = azure.Provider("azure", location=plan.region, subscription_id=subscription_id, tenant_id=tenant_id)
    opts = pulumi.ResourceOptions(providers=[provider])
    group = ResourceGroup(
        "resource-group",
        ResourceGroupArgs(names("resource_group", "ml-serving"), plan.region, plan.tags, plan.protect),
        opts,
    )
    site = Site(plan.stack, plan.region, plan.tags, subscription_id, tenant_id, group.group_name)
    keys = Keys("keys", KeysArgs(site, names("key_vault", "kv"), plan.protect), opts)
    registry = Registry(
        "registry", RegistryArgs(site, names("container_registry", plan.registry_name), plan.protect, keys.use), opts
    )
    store = ModelStore(
        "model-store", ModelStoreArgs(site, names("storage_account", "models"), plan.protect, keys.use), opts
    )
    observability = Observability("observability", ObservabilityArgs(site, plan.protect), opts)
    # Every service the stack stores data in is reached through a private endpoint in the network.
    private_endpoints: dict[str, pulumi.Input[str]] = {
        "vault": keys.vault_id,
        "registry": registry.registry_id,
        "blob": store.account_id,
    }
    outputs: dict[str, Any] = {
        "resource_group": site.group_name,
        "key_uri": keys.key_uri,
        "registry_url": registry.login_server,
        "storage_account": store.account_name,
    }
    managed = [e for e in plan.endpoints if e.serving == "managed"]
    if managed:
        workspace = Workspace(
            "workspace",
            WorkspaceArgs(
                site=site,
                workspace_name=names("ml_workspace", "ml"),
                protect=plan.protect,
                key=keys.use,
                account_id=store.account_id,
                account_name=store.account_name,
                container_name=store.container_name,
                registry_id=registry.registry_id,
                insights_id=observability.insights_id,
            ),
            opts,
        )
        private_endpoints["workspace"] = workspace.workspace_id
        endpoints = {
            e.name: ManagedEndpoint(
                f"endpoint-{e.name}",
                ManagedEndpointArgs(
                    site=site,
                    environment=plan.environment,
                    endpoint=e,
                    endpoint_name=names("ml_online_endpoint", e.name),
                    deployment_names={m.name: names("ml_online_deployment", m.name) for m in e.models},
                    alert_names={k: names("monitor_metric_alert", e.name, k) for k in ALERTS},
                    data_capture_percent=plan.data_capture_percent if plan.data_capture else None,
                    workspace_id=workspace.workspace_id,
                    workspace_name=workspace.name_ref,
                    datastore=workspace.datastore,
                    registry_id=registry.registry_id,
                    login_server=registry.login_server,
                    image_repository=plan.registry_name,
                    account_id=store.account_id,
                    container_name=store.container_name,
                ),
                opts,
            )
            for e in managed
        }
        outputs["workspace"] = workspace.workspace_name
        outputs["endpoints"] = {k: e.endpoint_name for k, e in endpoints.items()}
        # What `python -m infra verify` holds each live endpoint to after `pulumi up`.
        outputs["endpoint_ids"] = {k: e.endpoint_id for k, e in endpoints.items()}
        outputs["traffic"] = {k: {"split": e.split, "mirror": e.mirror} for k, e in endpoints.items()}
    net = plan.network
    network = Network(
        "network",
        NetworkArgs(
            site=site,
            cidr=net.cidr if net.create else None,
            ranges=net.ranges,
            vnet_id=net.vpc_id,
            subnet_ids=net.subnet_ids,
            private_dns_zone_ids=net.private_dns_zone_ids,
            private_endpoints=private_endpoints,
        ),
        opts,
    )
    if plan.cluster is not None:
        cluster = Cluster(
            "cluster",
            ClusterArgs(
                site=site,
                cluster=plan.cluster,
                cluster_name=names("aks_cluster", "aks"),
                dns_prefix=names("aks_dns_prefix", "aks"),
                pool_names={
                    p.name: names("aks_agent_pool", p.endpoint or p.name)
                    for p in (plan.cluster.system_pool, *plan.cluster.gpu_pools)
                },
                protect=plan.protect,
                node_subnet_id=network.node_subnet_id,
                key=keys.use,
                registry_id=registry.registry_id,
                log_workspace_id=observability.log_workspace_id,
            ),
            opts,
        )
        outputs["cluster_name"] = cluster.cluster_name
        outputs["cluster"] = {
            "resource_group": cluster.resource_group,
            "oidc_issuer_url": cluster.oidc_issuer_url,
            "kubelet_identity": cluster.kubelet_identity,
            "api_server_fqdn": cluster.api_server_fqdn,
        }
        if plan.kubernetes:
            access = KubernetesAccess(
                "kubernetes-access",
                KubernetesAccessArgs(
                    site=site,
                    cluster_name=cluster.cluster_name,
                    cluster_id=cluster.cluster_id,
                    resource_group=cluster.resource_group,
                    api_server_fqdn=cluster.api_server_fqdn,
                    oidc_issuer_url=cluster.oidc_issuer_url,
                    container_id=store.container_id,
                    credential_names={
                        k.endpoint: names("federated_identity_credential", k.endpoint) for k in plan.kubernetes
                    },
                ),
                opts,
            )
            stores = Stores(
                registry.login_server.apply(lambda server: f"{server}/{plan.registry_name}"),
                # ACR takes any repository path: the mirror needs no repositories of its own.
                registry.login_server.apply(lambda server: f"{server}/mirror"),
                lambda key: pulumi.Output.concat(store.blob_endpoint, store.container_name, "/", key),
            )
            outputs |= kubernetes.serve(plan, ClusterAccess(access.provider, access.bind_identity), stores, opts)
    return outputs
