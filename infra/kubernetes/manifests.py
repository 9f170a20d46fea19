"""The Kubernetes objects of one endpoint, as plain manifests (no Pulumi resources here).

Built from the plan's `KubernetesServing` slice; values computed by a cloud (image and artifact
addresses, identity annotations) are passed in as Pulumi inputs and left as they are.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_kubernetes.meta.v1 import LabelSelectorArgsDict
from pulumi_kubernetes.networking.v1 import (
    NetworkPolicyPeerArgsDict,
    NetworkPolicyPortArgsDict,
    NetworkPolicySpecArgsDict,
)

from infra.kubernetes_plan import KubernetesServing, ModelServer

# The device resource each accelerator's device plugin advertises, and the taint its pools carry.
DEVICE_RESOURCE = {"nvidia": "nvidia.com/gpu", "neuron": "aws.amazon.com/neuron"}
SERVER_PORT = 8080  # the engines' --port (runtime contract); KServe's default container port
PORT_NAME = "http1"  # KServe names the predictor's port http1 (Knative's convention)
USER_ID = 1000  # any non-root UID: the serving images run as whatever UID they are given
GATEWAY_NAMESPACE = "envoy-gateway-system"
PROMETHEUS_NAMESPACE = "monitoring"
PROMETHEUS_URL = "http://prometheus-kube-prometheus-prometheus.monitoring.svc:9090"
ENDPOINT_LABEL = "ml-serving/endpoint"
# KEDA asks Prometheus every 15 s and keeps a scaled-out fleet 5 minutes after the queue drains:
# GPU nodes take minutes to join, so flapping costs more than a few idle minutes.
POLL_SECONDS = 15
COOLDOWN_SECONDS = 300
# Probes ask every 10 s and wait 5 s: a batching server answers /health between decode steps.
PROBE_PERIOD_SECONDS = 10
PROBE_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class Server:
    """How one model version's container starts: its image, its artifact, the engine's args and
    environment (the runtime contract), the GET route and port that answer once the model is loaded,
    and how long loading may take (seconds)."""

    image: pulumi.Input[str]
    artifact: pulumi.Input[str]
    args: Sequence[str]
    env: Mapping[str, str]
    health: str
    port: int
    startup_seconds: int


def namespace_labels(serving: KubernetesServing) -> dict[str, str]:
    """Pod Security Admission holds every pod of the namespace to the `restricted` profile."""
    return {
        ENDPOINT_LABEL: serving.endpoint,
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
    }


def network_policies(
    serving: KubernetesServing, identity_egress: Sequence[tuple[str, int]]
) -> dict[str, NetworkPolicySpecArgsDict]:
    """name -> NetworkPolicy spec: deny everything, then admit the gateway's proxies and Prometheus to
    the server port, and let the pods resolve names, reach the private service endpoints (443:
    artifact store, registry, identity tokens) and the cloud's identity agent (`identity_egress`,
    (CIDR, port) pairs from the cloud's facts)."""
    port: list[NetworkPolicyPortArgsDict] = [{"protocol": "TCP", "port": SERVER_PORT}]
    endpoint_pods: LabelSelectorArgsDict = {"match_labels": {ENDPOINT_LABEL: serving.endpoint}}

    def peer(namespace: str, pods: dict[str, str]) -> NetworkPolicyPeerArgsDict:
        return {
            "namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": namespace}},
            "pod_selector": {"match_labels": pods},
        }

    return {
        "default-deny": {"pod_selector": {}, "policy_types": ["Ingress", "Egress"]},
        "allow-gateway": {
            "pod_selector": endpoint_pods,
            "policy_types": ["Ingress"],
            "ingress": [{"from_": [peer(GATEWAY_NAMESPACE, {"app.kubernetes.io/component": "proxy"})], "ports": port}],
        },
        "allow-metrics": {
            "pod_selector": endpoint_pods,
            "policy_types": ["Ingress"],
            "ingress": [
                {"from_": [peer(PROMETHEUS_NAMESPACE, {"app.kubernetes.io/name": "prometheus"})], "ports": port}
            ],
        },
        "allow-egress": {
            "pod_selector": {},
            "policy_types": ["Egress"],
            "egress": [
                {
                    "to": [peer("kube-system", {"k8s-app": "kube-dns"})],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                },
                {"ports": [{"protocol": "TCP", "port": 443}]},
                *(
                    {"to": [{"ip_block": {"cidr": cidr}}], "ports": [{"protocol": "TCP", "port": p}]}
                    for cidr, p in identity_egress
                ),
            ],
        },
    }


def inference_service(
    serving: KubernetesServing, servers: Mapping[str, Server], pod_labels: Mapping[str, str]
) -> dict[str, Any]:
    """The InferenceService spec: the stable version as the predictor, autoscaled between the plan's
    bounds by the endpoint's ScaledObject (KServe's own autoscaler off: class `external`), and each
    canary as a named `spec.canary[]` entry with its `trafficPercent` and fixed replicas."""
    stable = {
        **_predictor(serving, serving.stable, servers[serving.stable.name], pod_labels),
        "minReplicas": serving.min_pods,
        "maxReplicas": serving.max_pods,
    }
    spec: dict[str, Any] = {"predictor": stable}
    if serving.canaries:
        spec["canary"] = [
            {
                "trafficPercent": c.traffic_percent,
                "predictor": {**_predictor(serving, c, servers[c.name], pod_labels), "minReplicas": c.replicas},
            }
            for c in serving.canaries
        ]
    return spec


def inference_service_annotations() -> dict[str, str]:
    return {
        "serving.kserve.io/deploymentMode": "Standard",
        # KEDA owns the stable Deployment's replicas; KServe creates no HPA and leaves them alone.
        "serving.kserve.io/autoscalerClass": "external",
    }


def predictor_deployment(serving: KubernetesServing, model: ModelServer) -> str:
    """KServe's Deployment for a named predictor: `{isvc}-{name}-predictor`."""
    return f"{serving.inference_service}-{model.predictor}-predictor"


def _predictor(
    serving: KubernetesServing, model: ModelServer, server: Server, pod_labels: Mapping[str, str]
) -> dict[str, Any]:
    device = DEVICE_RESOURCE.get(serving.accelerator or "")
    storage = f"{serving.pod_storage_gib}Gi"
    requests: dict[str, str] = {
        "cpu": f"{serving.cpu_millis}m",
        "memory": f"{serving.memory_gib}Gi",
        "ephemeral-storage": storage,
    }
    limits = {"memory": f"{serving.memory_gib}Gi", "ephemeral-storage": storage}
    if device:
        requests[device] = limits[device] = str(serving.gpus_per_pod)
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {}}]
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]
    if serving.gpus_per_pod > 1:
        # Tensor-parallel workers exchange activations through shared memory (NCCL); the
        # container runtime's default /dev/shm is 64 MiB.
        volumes.append({"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}})
        mounts.append({"name": "shm", "mountPath": "/dev/shm"})
    return {
        "name": model.predictor,
        "serviceAccountName": serving.service_account,
        "labels": {ENDPOINT_LABEL: serving.endpoint, "ml-serving/model": model.name, **pod_labels},
        "nodeSelector": {ENDPOINT_LABEL: serving.endpoint},
        "tolerations": [{"key": device, "operator": "Exists", "effect": "NoSchedule"}] if device else [],
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": USER_ID,
            "runAsGroup": USER_ID,
            "fsGroup": USER_ID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": "kserve-container",
                "image": server.image,
                "args": list(server.args),
                "env": [
                    # KServe's storage initializer downloads this URI to /mnt/models before start.
                    {"name": "STORAGE_URI", "value": server.artifact},
                    # Caches (Hugging Face, Triton, torch.compile) follow HOME onto the writable /tmp.
                    {"name": "HOME", "value": "/tmp"},
                    *({"name": k, "value": v} for k, v in server.env.items()),
                ],
                "ports": [{"name": PORT_NAME, "containerPort": SERVER_PORT, "protocol": "TCP"}],
                **_probes(server),
                "resources": {"requests": requests, "limits": limits},
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "runAsNonRoot": True,
                    "capabilities": {"drop": ["ALL"]},
                },
                "volumeMounts": mounts,
            }
        ],
        "volumes": volumes,
    }


def _probes(server: Server) -> dict[str, Any]:
    """The engine's health route as the pod's probes: the startup probe allows the plan's load time
    before liveness may restart the container; readiness keeps traffic off until the model answers."""
    check = {"httpGet": {"path": server.health, "port": server.port}, "periodSeconds": PROBE_PERIOD_SECONDS}
    return {
        "startupProbe": {**check, "failureThreshold": math.ceil(server.startup_seconds / PROBE_PERIOD_SECONDS)},
        "livenessProbe": {**check, "timeoutSeconds": PROBE_TIMEOUT_SECONDS, "failureThreshold": 3},
        "readinessProbe": {**check, "timeoutSeconds": PROBE_TIMEOUT_SECONDS, "failureThreshold": 3},
    }


def scaled_object(serving: KubernetesServing) -> dict[str, Any]:
    """KEDA ScaledObject on the stable predictor's Deployment: scale out when more requests wait for a
    batch slot than the plan's `queue_per_pod` (the engine's queue gauge, e.g. vLLM
    `vllm:num_requests_waiting`), never on GPU utilisation, which is high whether or not requests wait."""
    deployment = predictor_deployment(serving, serving.stable)
    query = f'sum({serving.queue_metric}{{namespace="{serving.namespace}",pod=~"{deployment}-.*"}})'
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
        "minReplicaCount": serving.min_pods,
        "maxReplicaCount": serving.max_pods,
        "pollingInterval": POLL_SECONDS,
        "cooldownPeriod": COOLDOWN_SECONDS,
        "advanced": {
            "horizontalPodAutoscalerConfig": {
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": COOLDOWN_SECONDS}}
            }
        },
        "triggers": [
            {
                "type": "prometheus",
                "metricType": "AverageValue",
                "metadata": {
                    "serverAddress": PROMETHEUS_URL,
                    "query": query,
                    "threshold": str(serving.queue_per_pod),
                },
            }
        ],
    }


def pod_monitor(serving: KubernetesServing) -> dict[str, Any]:
    """Prometheus scrapes every model-server pod of the endpoint (the engines serve /metrics on
    their API port)."""
    return {
        "selector": {"matchLabels": {ENDPOINT_LABEL: serving.endpoint}},
        "podMetricsEndpoints": [{"port": PORT_NAME, "path": "/metrics", "interval": f"{POLL_SECONDS}s"}],
    }
