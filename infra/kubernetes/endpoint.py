"""One model endpoint in the cluster: its namespace, identity, network policies, InferenceService
(stable predictor and named canaries), metrics scrape and queue-depth autoscaler."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.kubernetes import manifests
from infra.kubernetes.access import BindIdentity, Workload
from infra.kubernetes_plan import KubernetesServing


@dataclass(frozen=True)
class EndpointArgs:
    """serving: the plan's slice for this endpoint; environment and rollout: registered with the
    component so stack policies hold it to its environment's rules (prod: canary-first);
    servers: per model version (the stable's and each canary's name) its image, artifact, engine
    args and queue metric; bind_identity: the cloud's binder for the endpoint's service account;
    identity_egress: (CIDR, TCP port) of the node-local agent the pods fetch credentials from (the
    cloud's `identity_agent_egress` fact), admitted by their egress policy."""

    serving: KubernetesServing
    environment: str
    rollout: str
    servers: Mapping[str, manifests.Server]
    bind_identity: BindIdentity
    identity_egress: tuple[tuple[str, int], ...]


class KubernetesEndpoint(pulumi.ComponentResource):
    """`ml-serving:kubernetes:Endpoint`: the same objects on EKS, GKE and AKS; only the service
    account's identity annotations (and what the binder adds) come from the cloud."""

    namespace: k8s.core.v1.Namespace
    inference_service: k8s.apiextensions.CustomResource

    def __init__(self, name: str, args: EndpointArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(
            "ml-serving:kubernetes:Endpoint", name, {"environment": args.environment, "rollout": args.rollout}, opts
        )
        s = args.serving
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": s.namespace, "labels": manifests.namespace_labels(s)},
            opts=pulumi.ResourceOptions(parent=self),
        )
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        binding = args.bind_identity(
            Workload(
                s.endpoint, s.namespace, s.service_account, tuple(m.model.artifact for m in (s.stable, *s.canaries))
            ),
            self,
        )
        account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata={"name": s.service_account, "namespace": s.namespace, "annotations": dict(binding.annotations)},
            automount_service_account_token=False,
            opts=in_namespace,
        )
        policies = [
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy}",
                metadata={"name": policy, "namespace": s.namespace},
                spec=spec,
                opts=in_namespace,
            )
            for policy, spec in manifests.network_policies(s, args.identity_egress).items()
        ]
        self.inference_service = k8s.apiextensions.CustomResource(
            f"{name}-inference-service",
            api_version="serving.kserve.io/v1beta1",
            kind="InferenceService",
            metadata={
                "name": s.inference_service,
                "namespace": s.namespace,
                "annotations": manifests.inference_service_annotations(),
            },
            spec=manifests.inference_service(s, args.servers, binding.pod_labels),
            # The pods start only once they can reach their weights and only what they may reach.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[account, *policies, *binding.resources]),
        )
        k8s.apiextensions.CustomResource(
            f"{name}-pod-monitor",
            api_version="monitoring.coreos.com/v1",
            kind="PodMonitor",
            metadata={"name": s.endpoint, "namespace": s.namespace},
            spec=manifests.pod_monitor(s),
            opts=in_namespace,
        )
        k8s.apiextensions.CustomResource(
            f"{name}-scaled-object",
            api_version="keda.sh/v1alpha1",
            kind="ScaledObject",
            metadata={"name": s.endpoint, "namespace": s.namespace},
            spec=manifests.scaled_object(s),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.inference_service]),
        )
        self.register_outputs({"namespace": s.namespace, "inference_service": s.inference_service})
