"""AWS translator: Plan -> AWS resources, all through one explicit provider for the plan's region.

Each component gets its typed args: the slice of the plan it needs, the names of what it builds
(from the naming layer) and the outputs of the components it runs on. Stack outputs are read from
the components' outputs, never recomputed.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from infra import kubernetes
from infra.addons import mirrored_paths
from infra.clouds.aws.alarms import ALARMS
from infra.clouds.aws.cluster import Cluster, ClusterArgs
from infra.clouds.aws.cluster_access import KubernetesAccess, KubernetesAccessArgs
from infra.clouds.aws.endpoint import ManagedEndpoint
from infra.clouds.aws.endpoint_args import ManagedEndpointArgs
from infra.clouds.aws.keys import Keys, KeysArgs
from infra.clouds.aws.mirror import Mirror, MirrorArgs
from infra.clouds.aws.network import Network, NetworkArgs
from infra.clouds.aws.registry import Registry, RegistryArgs
from infra.clouds.aws.storage import ModelStore, ModelStoreArgs
from infra.kubernetes import Stores
from infra.kubernetes.access import ClusterAccess
from infra.plan import Plan


def translate(plan: Plan) -> dict[str, Any]:
    names = plan.names
    provider = aws.Provider("aws", region=plan.region, default_tags={"tags": plan.tags})
    opts = pulumi.ResourceOptions(providers=[provider])
    keys = Keys("keys", KeysArgs(plan.stack, plan.region, plan.protect, names("kms_alias")), opts)
    registry = Registry(
        "registry",
        RegistryArgs(
            names("ecr_repository", plan.registry_name),
            plan.keep_images,
            plan.served_image_tags,
            plan.protect,
            keys.key_arn,
        ),
        opts,
    )
    zones = plan.network.zones
    network = Network(
        "network",
        NetworkArgs(
            stack=plan.stack,
            region=plan.region,
            network=plan.network,
            vpc_name=names("ec2_name_tag"),
            subnet_names={z: names("ec2_name_tag", "private", z) for z in zones},
            route_table_names={z: names("ec2_name_tag", z) for z in zones},
            security_group_names={g: names("ec2_security_group", g) for g in ("endpoints", "workloads")},
        ),
        opts,
    )
    bucket = names("s3_bucket", "models")
    store = ModelStore(
        "model-store",
        ModelStoreArgs(
            stack=plan.stack,
            region=plan.region,
            protect=plan.protect,
            bucket_logical_name=bucket,
            package_groups={e.name: names("sagemaker_model_package_group", e.name) for e in plan.endpoints},
            key_arn=keys.key_arn,
        ),
        opts,
    )
    endpoints = {
        e.name: ManagedEndpoint(
            f"endpoint-{e.name}",
            ManagedEndpointArgs(
                endpoint=e,
                environment=plan.environment,
                region=plan.region,
                data_capture_percent=plan.data_capture_percent if plan.data_capture else None,
                endpoint_name=names("sagemaker_endpoint", e.name),
                log_group_name=names("sagemaker_log_group", e.name),
                alarm_names={a: names("cloudwatch_alarm", e.name, a) for a in ALARMS},
                key_arn=keys.key_arn,
                key_alias=keys.alias_name,
                subnet_ids=network.subnet_ids,
                security_group_id=network.workload_security_group_id,
                bucket_name=store.bucket_name,
                bucket_pattern=f"{bucket}-*",
                repository_url=registry.repository_url,
                repository_name=registry.repository_name,
                names=names,
            ),
            opts,
        )
        for e in plan.endpoints
        if e.serving == "managed"
    }
    outputs: dict[str, Any] = {
        "kms_key_arn": keys.key_arn,
        "registry_url": registry.repository_url,
        "bucket": store.bucket_name,
        "model_package_groups": store.package_group_names,
        "endpoints": {k: e.endpoint_name for k, e in endpoints.items()},
        # What `python -m infra verify` holds each live endpoint to after `pulumi up`.
        "endpoint_configs": {k: e.endpoint_config_name for k, e in endpoints.items()},
    }
    if plan.cluster is not None:
        cluster = Cluster(
            "cluster",
            ClusterArgs(
                stack=plan.stack,
                region=plan.region,
                protect=plan.protect,
                cluster=plan.cluster,
                cluster_name=names("eks_cluster"),
                log_group_name=names("eks_log_group"),
                subnet_ids=network.subnet_ids,
                key_arn=keys.key_arn,
                names=names,
            ),
            opts,
        )
        outputs["cluster_name"] = cluster.cluster_name
        access = KubernetesAccess(
            "kubernetes-access",
            KubernetesAccessArgs(
                region=plan.region,
                cluster_name=names("eks_cluster"),
                cluster=cluster.cluster_name,
                endpoint=cluster.endpoint,
                certificate_authority_data=cluster.certificate_authority_data,
                key_alias=keys.alias_name,
                bucket_pattern=f"{bucket}-*",
                names=names,
            ),
            opts,
        )
        mirror = names("ecr_repository", "mirror")
        if plan.kubernetes:
            Mirror("mirror", MirrorArgs(mirror, mirrored_paths(plan.cloud), plan.protect, keys.key_arn), opts)
        stores = Stores(
            registry.repository_url,
            registry.repository_url.apply(lambda url: f"{url.split('/', 1)[0]}/{mirror}"),
            lambda key: pulumi.Output.concat("s3://", store.bucket_name, "/", key),
        )
        outputs |= kubernetes.serve(plan, ClusterAccess(access.provider, access.bind_identity), stores, opts)
    return outputs
