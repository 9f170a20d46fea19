"""GCP translator: Plan -> Google Cloud resources, all through one explicit provider for the plan's
region and the project named by the stack's `gcp:project`."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_gcp as gcp

from infra import kubernetes
from infra.addons import control_plane_ports
from infra.clouds.gcp.cluster import Cluster, ClusterArgs
from infra.clouds.gcp.cluster_access import KubernetesAccess, KubernetesAccessArgs
from infra.clouds.gcp.endpoint import ManagedEndpoint, ManagedEndpointArgs
from infra.clouds.gcp.keys import Keys, KeysArgs
from infra.clouds.gcp.network import Network, NetworkArgs
from infra.clouds.gcp.registry import Registry, RegistryArgs
from infra.clouds.gcp.storage import ModelStore, ModelStoreArgs
from infra.kubernetes import Stores
from infra.kubernetes.access import ClusterAccess
from infra.plan import Plan


def translate(plan: Plan) -> dict[str, Any]:
    project = plan.provider_config["gcp:project"]  # checked with the spec (cloud_rules.yaml)
    names = plan.names
    provider = gcp.Provider("gcp", project=project, region=plan.region, default_labels=plan.tags)
    opts = pulumi.ResourceOptions(providers=[provider])
    managed = [e for e in plan.endpoints if e.serving == "managed"]
    agents = ["aiplatform", "artifactregistry", "storage"]
    agents += ["bigquery"] if plan.data_capture and managed else []
    agents += ["container", "compute"] if plan.cluster is not None else []
    keys = Keys("keys", KeysArgs(project, plan.region, plan.protect, tuple(agents)), opts)
    served_tags = tuple(sorted({m.image_tag for e in plan.endpoints for m in e.models if m.image_tag}))
    registry = Registry(
        "registry",
        RegistryArgs(
            project,
            plan.region,
            names("artifact_registry_repository", plan.registry_name),
            plan.registry_name,
            plan.keep_images,
            served_tags,
            plan.protect,
            keys.use,
        ),
        opts,
    )
    net = plan.network
    network = Network(
        "network",
        NetworkArgs(
            plan.region,
            net.ranges if net.create else None,
            net.secondary_ranges,
            net.vpc_id,
            net.subnet_ids[0] if net.subnet_ids else None,  # the spec admits exactly one on GCP
            net.egress,
            names("compute_network", "vpc"),
            names("compute_subnetwork", plan.region),
        ),
        opts,
    )
    bucket_name = names("gcs_bucket", "models")
    store = ModelStore(
        "model-store",
        ModelStoreArgs(
            plan.region,
            bucket_name,
            names("bigquery_dataset", "request_logs") if plan.data_capture and managed else None,
            plan.protect,
            keys.use,
            keys.agent_emails["aiplatform"],
        ),
        opts,
    )
    endpoints = {
        e.name: ManagedEndpoint(
            f"endpoint-{e.name}",
            ManagedEndpointArgs(
                project=project,
                region=plan.region,
                environment=plan.environment,
                endpoint=e,
                endpoint_id=names("vertex_endpoint_id", e.name),
                service_account_id=names("service_account_id", e.name),
                alert_names={k: names("alert_policy_display_name", e.name, k) for k in ("error-rate", "p95-latency")},
                image_base=registry.images,
                bucket_name=bucket_name,
                log_sampling_percent=plan.data_capture_percent if plan.data_capture else 0,
                dataset_id=store.dataset_id,
                key=keys.use,
                network_id=network.network_id,
                subnet_id=network.subnet_id,
            ),
            opts,
        )
        for e in managed
    }
    outputs: dict[str, Any] = {
        "kms_key": keys.key_id,
        "registry_url": registry.url,
        "bucket": store.bucket_name,
        "network": network.network_id,
        "endpoints": {k: e.endpoint_name for k, e in endpoints.items()},
        # What `python -m infra verify` holds each live endpoint to after `pulumi up`.
        "endpoint_splits": {k: e.split for k, e in endpoints.items()},
        "endpoint_addresses": {k: e.private_address for k, e in endpoints.items()},
    }
    if plan.cluster is not None:
        cluster_name = names("gke_cluster", "gpu")
        cluster = Cluster(
            "cluster",
            ClusterArgs(
                project=project,
                region=plan.region,
                zones=net.zones,
                cluster=plan.cluster,
                cluster_name=cluster_name,
                pool_names={
                    p.name: names("gke_node_pool", p.name) for p in (plan.cluster.system_pool, *plan.cluster.gpu_pools)
                },
                node_account_id=names("service_account_id", "nodes"),
                authorized_cidrs=(net.cidr,) if net.cidr else (),
                release_channel=plan.cluster.upgrade_channel or "UNSPECIFIED",  # UNSPECIFIED: no channel
                protect=plan.protect,
                key=keys.use,
                network_id=network.network_id,
                subnet_id=network.subnet_id,
                secondary_ranges=net.secondary_ranges,
                repository_id=names("artifact_registry_repository", plan.registry_name),
                control_plane_cidr=net.ranges.get("control_plane"),
                webhook_ports=control_plane_ports(plan.cloud) if plan.kubernetes else (),
            ),
            opts,
        )
        outputs |= {
            "cluster_name": cluster.name,
            "cluster_location": cluster.location,
            "cluster_endpoint": cluster.endpoint,
            "cluster_ca_certificate": pulumi.Output.secret(cluster.ca_certificate),
            "node_service_account": cluster.node_service_account,
            "workload_identity_pool": cluster.workload_identity_pool,
        }
        access = KubernetesAccess(
            "kubernetes-access",
            KubernetesAccessArgs(
                cluster_name=cluster_name,
                endpoint=cluster.endpoint,
                ca_certificate=cluster.ca_certificate,
                workload_identity_pool=cluster.workload_identity_pool,
                bucket_name=bucket_name,
                names=names,
            ),
            opts,
        )
        stores = Stores(
            registry.images,
            # An Artifact Registry repository holds any image path: the mirror needs none of its own,
            # and the nodes' pull grant on the repository covers it.
            f"{registry.url}/mirror",
            lambda key: pulumi.Output.concat("gs://", store.bucket_name, "/", key),
        )
        outputs |= kubernetes.serve(plan, ClusterAccess(access.provider, access.bind_identity), stores, opts)
    return outputs
