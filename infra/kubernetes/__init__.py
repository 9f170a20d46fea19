"""In-cluster serving: one code path for EKS, GKE and AKS.

A cloud translator calls `serve` with its `ClusterAccess` (a provider for its cluster and an
identity binder, see `access.py`) and where its stack keeps images and artifacts; everything
registered here is the same on every cloud.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi

from infra.facts import cloud_facts
from infra.kubernetes.access import ClusterAccess
from infra.kubernetes.endpoint import EndpointArgs, KubernetesEndpoint
from infra.kubernetes.manifests import Server
from infra.kubernetes.platform import PlatformArgs, ServingPlatform
from infra.kubernetes_plan import KubernetesServing, ModelServer
from infra.plan import EndpointPlan, Plan
from infra.runtime import ServingRuntime, engine_config, engine_routes


@dataclass(frozen=True)
class Stores:
    """Where a stack keeps what its pods pull.

    registry_url: the serving-image repository (`image_tag` models); mirror: the registry prefix
    the add-on images are copied under; artifact_uri: a model-store key -> its URI (s3://, gs://, https://).
    """

    registry_url: pulumi.Input[str]
    mirror: pulumi.Input[str]
    artifact_uri: Callable[[str], pulumi.Input[str]]


def serve(plan: Plan, access: ClusterAccess, stores: Stores, opts: pulumi.ResourceOptions) -> dict[str, Any]:
    """Register the platform and every `serving: kubernetes` endpoint; return the stack outputs."""
    if not plan.kubernetes:
        return {}
    facts = cloud_facts()[plan.cloud]
    in_cluster = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers=[access.provider]))
    platform = ServingPlatform(
        "serving-platform",
        PlatformArgs(plan.cloud, stores.mirror, facts["internal_load_balancer_annotations"]),
        in_cluster,
    )
    identity_egress = tuple((row["cidr"], row["port"]) for row in facts["identity_agent_egress"])
    after_platform = pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(depends_on=[platform]))
    planned = {e.name: e for e in plan.endpoints}
    for s in plan.kubernetes:
        KubernetesEndpoint(
            f"k8s-{s.endpoint}",
            EndpointArgs(
                s,
                plan.environment,
                planned[s.endpoint].rollout.strategy,
                _servers(s, planned[s.endpoint], stores),
                access.bind_identity,
                identity_egress,
            ),
            after_platform,
        )
    return {
        "kubernetes_endpoints": {
            s.endpoint: {"namespace": s.namespace, "inference_service": s.inference_service} for s in plan.kubernetes
        }
    }


def _servers(serving: KubernetesServing, endpoint: EndpointPlan, stores: Stores) -> dict[str, Server]:
    runtimes = {m.name: m.runtime for m in endpoint.models}
    return {m.name: _server(m, runtimes[m.name], endpoint, stores) for m in (serving.stable, *serving.canaries)}


def _server(server: ModelServer, runtime: ServingRuntime, endpoint: EndpointPlan, stores: Stores) -> Server:
    """The model version's container: its image (by digest when pinned), its artifact, the engine's
    args and environment from the serving runtime contract (the same table every translator reads),
    as the engine reads them in a pod, and its health route and port for the pod's probes, with the
    time the plan gives it to load its weights."""
    model = server.model
    image = model.image or pulumi.Output.concat(stores.registry_url, ":", model.image_tag or "")
    if model.digest:
        image = pulumi.Output.concat(image, "@", model.digest)
    artifact = model.artifact if "://" in model.artifact else stores.artifact_uri(model.artifact)
    command = engine_config(runtime, endpoint.platform)
    routes = engine_routes(runtime, endpoint.platform)
    return Server(image, artifact, command.args, command.env, routes.health, routes.port, endpoint.startup_timeout_s)
