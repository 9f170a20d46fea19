"""Azure translator: Plan -> Azure resources in one resource group, through one explicit provider."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_azure_native as azure

from infra import kubernetes
from infra.clouds.azure.cluster import Cluster
from infra.clouds.azure.cluster_access import KubernetesAccess
from infra.clouds.azure.endpoint import ManagedEndpoint, Shared
from infra.clouds.azure.keys import Keys
from infra.clouds.azure.monitoring import Observability
from infra.clouds.azure.network import Network
from infra.clouds.azure.registry import Registry
from infra.clouds.azure.site import ResourceGroup, Site, directory_ids
from infra.clouds.azure.storage import ModelStore
from infra.clouds.azure.workspace import Workspace
from infra.kubernetes import Stores
from infra.plan import Plan


def translate(plan: Plan) -> dict[str, Any]:
    subscription_id, tenant_id = directory_ids(plan)
    provider = azure.Provider("azure", location=plan.region, subscription_id=subscription_id, tenant_id=tenant_id)
    opts = pulumi.ResourceOptions(providers=[provider])
    group = ResourceGroup("resource-group", plan, opts)
    site = Site(plan, subscription_id, tenant_id, group.group)
    network = Network("network", site, opts)
    keys = Keys("keys", site, network, opts)
    registry = Registry("registry", site, keys, network, opts)
    store = ModelStore("model-store", site, keys, network, opts)
    observability = Observability("observability", site, opts)
    outputs: dict[str, Any] = {
        "resource_group": site.group_name,
        "key_uri": keys.key.key_uri,
        "registry_url": registry.registry.login_server,
        "storage_account": store.account.name,
    }
    managed = [e for e in plan.endpoints if e.serving == "managed"]
    if managed:
        workspace = Workspace("workspace", site, keys, store, registry, observability, network, opts)
        shared = Shared(workspace, registry, store)
        endpoints = {e.name: ManagedEndpoint(f"endpoint-{e.name}", site, e, shared, opts) for e in managed}
        outputs["workspace"] = workspace.workspace_name
        outputs["endpoints"] = {k: e.endpoint_name for k, e in endpoints.items()}
        # What `python -m infra verify` holds each live endpoint to after `pulumi up`.
        outputs["endpoint_ids"] = {k: e.endpoint.id for k, e in endpoints.items()}
        outputs["traffic"] = {k: {"split": e.split, "mirror": e.mirror} for k, e in endpoints.items()}
    if plan.cluster is not None:
        cluster = Cluster("cluster", site, network, keys, registry, observability, opts)
        outputs["cluster_name"] = cluster.cluster_name
        outputs["cluster"] = {
            "resource_group": cluster.resource_group,
            "oidc_issuer_url": cluster.oidc_issuer_url,
            "kubelet_identity": cluster.kubelet_identity,
            "api_server_fqdn": cluster.api_server_fqdn,
        }
        if plan.kubernetes:
            access = KubernetesAccess("kubernetes-access", site, cluster, store, opts)
            stores = Stores(
                registry.registry.login_server.apply(lambda server: f"{server}/{plan.registry_name}"),
                # ACR takes any repository path: the mirror needs no repositories of its own.
                registry.registry.login_server.apply(lambda server: f"{server}/mirror"),
                lambda key: pulumi.Output.concat(store.blob_endpoint, store.container.name, "/", key),
            )
            outputs |= kubernetes.serve(plan, access.access, stores, opts)
    return outputs
