"""The serving platform of a cluster: the pinned add-ons as Helm releases, and the Gateway the
model endpoints are reached through (Envoy Gateway, internal load balancer, mirrored image)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.addons import AddOn, addons_for, load_addons
from infra.kubernetes.manifests import GATEWAY_NAMESPACE

GATEWAY_CLASS = "envoy"
GATEWAY = ("kserve", "kserve-ingress-gateway")  # KServe's `kserveGateway` (addons.yaml) names it
ENVOY_IMAGE = "docker.io/envoyproxy/envoy"
HELM_TIMEOUT_SECONDS = 900  # KServe's webhooks wait for cert-manager to issue their certificates
# The gateway's proxies run on the system pool beside the add-ons (see addons.yaml).
SYSTEM_POOL_TOLERATIONS = [{"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"}]


@dataclass(frozen=True)
class PlatformArgs:
    """cloud: picks the add-ons its facts call for (no device plugin where the cloud runs one).
    mirror: the stack registry's mirror prefix (host and path) the add-on images were copied to.
    load_balancer_annotations: what makes the cloud's load balancer for the Gateway internal."""

    cloud: str
    mirror: pulumi.Input[str]
    load_balancer_annotations: dict[str, str]


class ServingPlatform(pulumi.ComponentResource):
    """Add-ons in order (each release waits for the one before), then GatewayClass and Gateway."""

    releases: dict[str, k8s.helm.v3.Release]
    gateway: k8s.apiextensions.CustomResource

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:kubernetes:ServingPlatform", name, None, opts)
        self.releases = {}
        previous: list[pulumi.Resource] = []
        for addon in addons_for(args.cloud):
            release = self._release(name, addon, args.mirror, previous)
            self.releases[addon.name] = release
            previous = [release]
        proxy = k8s.apiextensions.CustomResource(
            f"{name}-envoy-proxy",
            api_version="gateway.envoyproxy.io/v1alpha1",
            kind="EnvoyProxy",
            metadata={"name": "ml-serving", "namespace": GATEWAY_NAMESPACE},
            spec={
                "provider": {
                    "type": "Kubernetes",
                    "kubernetes": {
                        "envoyDeployment": {
                            "replicas": 2,
                            "pod": {"tolerations": SYSTEM_POOL_TOLERATIONS},
                            "container": {"imageRepository": pulumi.Output.concat(args.mirror, "/", _envoy_path())},
                        },
                        "envoyService": {"type": "LoadBalancer", "annotations": args.load_balancer_annotations},
                    },
                }
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=previous),
        )
        gateway_class = k8s.apiextensions.CustomResource(
            f"{name}-gateway-class",
            api_version="gateway.networking.k8s.io/v1",
            kind="GatewayClass",
            metadata={"name": GATEWAY_CLASS},
            spec={
                "controllerName": "gateway.envoyproxy.io/gatewayclass-controller",
                "parametersRef": {
                    "group": "gateway.envoyproxy.io",
                    "kind": "EnvoyProxy",
                    "name": "ml-serving",
                    "namespace": GATEWAY_NAMESPACE,
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[proxy]),
        )
        namespace, gateway = GATEWAY
        self.gateway = k8s.apiextensions.CustomResource(
            f"{name}-gateway",
            api_version="gateway.networking.k8s.io/v1",
            kind="Gateway",
            metadata={"name": gateway, "namespace": namespace},
            spec={
                "gatewayClassName": GATEWAY_CLASS,
                # KServe writes one HTTPRoute per InferenceService, in the endpoint's namespace.
                "listeners": [
                    {"name": "http", "port": 80, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "All"}}}
                ],
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway_class]),
        )
        self.register_outputs({"releases": {k: r.name for k, r in self.releases.items()}, "gateway": self.gateway})

    def _release(
        self, name: str, addon: AddOn, mirror: pulumi.Input[str], after: list[pulumi.Resource]
    ) -> k8s.helm.v3.Release:
        oci = addon.repository.startswith("oci://")
        return k8s.helm.v3.Release(
            f"{name}-{addon.name}",
            name=addon.name,
            chart=f"{addon.repository}/{addon.chart}" if oci else addon.chart,
            repository_opts=None if oci else {"repo": addon.repository},
            version=addon.version,
            namespace=addon.namespace,
            create_namespace=True,
            values=addon.chart_values(mirror),
            atomic=True,
            timeout=HELM_TIMEOUT_SECONDS,
            opts=pulumi.ResourceOptions(parent=self, depends_on=after),
        )


def _envoy_path() -> str:
    """The Envoy data-plane image's path in the mirror (the gateway add-on lists it)."""
    return next(a for a in load_addons() if a.name == "envoy-gateway").image(ENVOY_IMAGE).path
