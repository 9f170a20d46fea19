"""AWS translator: Plan -> AWS resources, all through one explicit provider for the plan's region."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from infra import kubernetes
from infra.clouds.aws.cluster import Cluster
from infra.clouds.aws.cluster_access import KubernetesAccess
from infra.clouds.aws.endpoint import ManagedEndpoint, Shared
from infra.clouds.aws.keys import Keys
from infra.clouds.aws.network import Network
from infra.clouds.aws.registry import Registry
from infra.clouds.aws.storage import ModelStore
from infra.kubernetes import Stores
from infra.plan import Plan


def translate(plan: Plan) -> dict[str, Any]:
    provider = aws.Provider("aws", region=plan.region, default_tags={"tags": plan.tags})
    opts = pulumi.ResourceOptions(providers=[provider])
    keys = Keys("keys", plan, opts)
    registry = Registry("registry", plan, keys.key, opts)
    network = Network("network", plan, opts)
    store = ModelStore("model-store", plan, keys.key, opts)
    shared = Shared(network, store, keys.key, keys.alias_name, registry.repository, registry.repository_name)
    endpoints = {
        e.name: ManagedEndpoint(f"endpoint-{e.name}", plan, e, shared, opts)
        for e in plan.endpoints
        if e.serving == "managed"
    }
    outputs: dict[str, Any] = {
        "kms_key_arn": keys.key.arn,
        "registry_url": registry.url,
        "bucket": store.bucket.bucket,
        "model_package_groups": {k: g.model_package_group_name for k, g in store.package_groups.items()},
        "endpoints": {k: e.endpoint_name for k, e in endpoints.items()},
        # What `python -m infra verify` holds each live endpoint to after `pulumi up`.
        "endpoint_configs": {k: e.config.name for k, e in endpoints.items()},
    }
    if plan.cluster is not None:
        cluster = Cluster("cluster", plan, network, keys.key, opts)
        outputs["cluster_name"] = cluster.cluster_name
        access = KubernetesAccess("kubernetes-access", plan, cluster, keys.alias_name, opts)
        stores = Stores(
            registry.url,
            registry.url.apply(lambda url: f"{url.split('/', 1)[0]}/ml-serving/{plan.stack}/mirror"),
            lambda key: pulumi.Output.concat("s3://", store.bucket.bucket, "/", key),
        )
        outputs |= kubernetes.serve(plan, access.access, stores, opts)
    return outputs
