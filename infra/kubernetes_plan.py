"""In-cluster serving decisions: the plan slice the Kubernetes layer builds from, for every cloud.

Pure functions over the spec, the endpoint plans and the catalog (no Pulumi import). Per
`serving: kubernetes` endpoint: who serves which share of the traffic (the stable version and
KServe's named canaries), how many model-server pods and GPUs, how much disk the weights need
on the node and in the pod, and the queue depth the autoscaler holds each pod to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

import yaml

from infra.catalog import load_catalog
from infra.environments import ENVIRONMENTS
from infra.errors import EndpointKeyError
from infra.facts import cloud_facts
from infra.naming import Names
from infra.sizing import formulas
from infra.sizing.layout import Layout
from infra.spec import Endpoint, Model, Spec
from infra.spec.stack import live_models

# Node root volume beyond the weights: the OS (EKS AL2023 / GKE COS / AKS Ubuntu images take
# 5-20 GiB), the system add-ons' images, and the serving images of the two versions a canary runs
# side by side (a CUDA vLLM image is ~10 GB compressed and ~25 GiB unpacked; containerd keeps both
# layers and snapshots). An estimate, rounded up.
NODE_RESERVE_GIB = 100
SYSTEM_POOL_DISK_GIB = 50
# Each model-server pod downloads its version's weights into its own emptyDir (KServe's storage
# initializer, /mnt/models), so the pod's ephemeral storage is the weights plus 5% for the
# artifact's packaging and 10 GiB of scratch (logs, /tmp, compile caches under HOME=/tmp).
WEIGHTS_PACKAGING = 1.05
POD_SCRATCH_GIB = 10
# A queue with fewer waiting requests than this never triggers a scale-out, so a blip of one
# request waiting behind a full batch does not start a GPU node.
MIN_QUEUE_PER_POD = 1
# The share of a node's vCPU and RAM the model-server pods may request: the rest is the kubelet's
# and system reserves (EKS: 255 MiB + 11 MiB per pod of memory, a share of the first cores) and the
# DaemonSets every node runs (CNI, device plugin, metadata and identity agents).
NODE_ALLOCATABLE = 0.8


class SizedEndpoint(Protocol):
    """What this module reads of the plan's `EndpointPlan` (the plan imports this module)."""

    @property
    def layout(self) -> Layout: ...
    @property
    def instance_type(self) -> str: ...
    @property
    def gpu(self) -> str: ...
    @property
    def gpus(self) -> int: ...
    @property
    def accelerator(self) -> str | None: ...
    @property
    def min_replicas(self) -> int: ...
    @property
    def max_replicas(self) -> int: ...


@dataclass(frozen=True)
class ModelServer:
    """One model version's pods: the spec's model (image, digest, artifact, weight) and how many pods.

    `predictor` is its KServe predictor name (naming layer), which KServe joins into its Deployment
    and Service `{inference_service}-{predictor}-predictor`; its weight the traffic percent.
    replicas: a canary's fixed pods (KServe scales only the stable predictor), the stable
    predictor's minimum.
    """

    model: Model
    predictor: str
    replicas: int

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def traffic_percent(self) -> int:
        return self.model.weight


@dataclass(frozen=True)
class KubernetesServing:
    """What the Kubernetes layer builds for one endpoint (all sizes in GiB, counts in pods).

    namespace/service_account/inference_service: the endpoint's names in the cluster (naming layer,
        `kubernetes` rows: they always fit, shortened with a stable hash where needed).
    stable: the version that takes the traffic the canaries leave (the spec's first live model).
    canaries: KServe `spec.canary[]` entries, each with its `trafficPercent`; rollback = drop one.
    accelerator: nvidia | neuron | None (CPU); gpus_per_pod: tensor-parallel degree (accelerators
        of that kind each pod requests); pods_per_node: model copies on one node.
    cpu_millis/memory_gib: what each pod requests (its share of the node's allocatable).
    min_pods/max_pods: the stable predictor's autoscaling bounds (KEDA ScaledObject).
    queue_metric: the stable engine's gauge of requests waiting for a batch slot (`queue_metrics.yaml`).
    queue_per_pod: waiting requests per pod the autoscaler holds to.
    weights_gib: what one copy downloads (from the requirements, or at most the GPUs' memory).
    pod_storage_gib: ephemeral-storage request and limit of one model-server pod.
    node_disk_gib: root volume of each node of the endpoint's GPU pool.
    floor_note: why the pool never scales below its minimum, for the cost estimate.
    """

    endpoint: str
    namespace: str
    service_account: str
    inference_service: str
    stable: ModelServer
    canaries: tuple[ModelServer, ...]
    accelerator: str | None
    gpus_per_pod: int
    pods_per_node: int
    cpu_millis: int
    memory_gib: int
    min_pods: int
    max_pods: int
    queue_metric: str
    queue_per_pod: int
    weights_gib: float
    pod_storage_gib: int
    node_disk_gib: int
    floor_note: str | None


def serving(spec: Spec, ep: Endpoint, plan_ep: SizedEndpoint, names: Names) -> KubernetesServing:
    """The Kubernetes serving plan of endpoint `ep`, whose sizing and replicas `plan_ep` holds;
    `names` derives the names in the cluster (`Names("kubernetes", stack)`).

    Raises EndpointKeyError (`sizing`) when a copy of the weights and its scratch space cannot fit
    on the largest node disk the cloud offers.
    """
    layout = plan_ep.layout
    weights = _weights_gib(ep, plan_ep)
    pod_storage = math.ceil(weights * WEIGHTS_PACKAGING + POD_SCRATCH_GIB)
    copies = max(layout.copies_per_instance, 1)
    disk = NODE_RESERVE_GIB + copies * pod_storage
    limit = int(cloud_facts()[spec.cloud]["max_node_disk_gib"])
    if disk > limit:
        raise EndpointKeyError(
            "sizing",
            f"{weights:.0f} GiB of weights x {copies} model copies per {plan_ep.instance_type} node need a"
            f" {disk} GiB node disk; {spec.cloud} node disks stop at {limit} GiB (quantize, or use an instance"
            " type with fewer, larger GPUs)",
        )
    min_pods = plan_ep.min_replicas * copies
    row = load_catalog().find(spec.cloud, plan_ep.instance_type, "kubernetes")
    assert row is not None  # the solver placed the endpoint on this row
    stable, *others = live_models(ep)
    engine = ep.engine_of(stable)
    metric = queue_metrics().get(engine)
    if metric is None:
        raise EndpointKeyError(
            f"models[{ep.models.index(stable)}].engine",
            f"{engine!r} exports no queue gauge for the autoscaler; on Kubernetes use one of"
            f" {', '.join(queue_metrics())}",
        )
    canaries = tuple(
        # A canary runs fixed replicas: its share of the stable minimum, at least one pod, and never
        # above the stable minimum (KServe's validation webhook refuses more).
        ModelServer(
            m,
            names("kserve_predictor", m.name),
            min(max(1, math.ceil(max(min_pods, 1) * m.weight / 100)), max(min_pods, 1)),
        )
        for m in others
    )
    return KubernetesServing(
        endpoint=ep.name,
        namespace=names("namespace", ep.name),
        service_account=names("service_account", ep.name),
        inference_service=names("inference_service", ep.name),
        stable=ModelServer(stable, names("kserve_predictor", stable.name), min_pods),
        canaries=canaries,
        accelerator=plan_ep.accelerator,
        gpus_per_pod=max(layout.tensor_parallel, 1) if plan_ep.gpus else 0,
        pods_per_node=copies,
        cpu_millis=int(row.vcpu * 1000 * NODE_ALLOCATABLE / copies),
        memory_gib=int(row.ram_gib * NODE_ALLOCATABLE / copies),
        min_pods=min_pods,
        max_pods=plan_ep.max_replicas * copies,
        queue_metric=metric["metric"],
        queue_per_pod=_queue_per_pod(ep, layout),
        weights_gib=round(weights, 1),
        pod_storage_gib=pod_storage,
        node_disk_gib=disk,
        floor_note=_floor_note(spec, plan_ep.min_replicas),
    )


def canary_nodes(serving: KubernetesServing) -> dict[str, int]:
    """Per canary model version: the nodes its fixed pods occupy beside the stable version's
    (pods_per_node model copies fit one node)."""
    return {c.model.name: math.ceil(c.replicas / serving.pods_per_node) for c in serving.canaries}


@cache
def queue_metrics() -> dict[str, dict[str, str]]:
    """Per engine: the gauge of requests waiting for a batch slot, with its source."""
    return yaml.safe_load((Path(__file__).parent / "queue_metrics.yaml").read_text())


def _floor_note(spec: Spec, min_replicas: int) -> str | None:
    """Why a pool the environment would let scale to zero keeps a node: the cost counts it."""
    if ENVIRONMENTS[spec.environment].min_replicas > 0 or min_replicas == 0:
        return None
    return (
        f"{spec.environment} would scale to zero, but the model server cannot come back from zero pods"
        " (KServe Standard keeps one, kserve/kserve #3514; a queue-depth trigger has no metric without a"
        f" pod): {min_replicas} node kept and counted"
    )


def _weights_gib(ep: Endpoint, plan_ep: SizedEndpoint) -> float:
    """Weights of one copy: from the requirements; without them (a named profile) at most the memory
    of the GPUs one copy runs on, since the weights must fit there."""
    req = ep.sizing.requirements
    if req is not None:
        return formulas.weights_gib(req)
    gpu = load_catalog().accelerators.get(plan_ep.gpu)
    return (gpu.memory_gib if gpu else 0.0) * max(plan_ep.layout.tensor_parallel, 1)


def _queue_per_pod(ep: Endpoint, layout: Layout) -> int:
    """Waiting requests per pod before scaling out.

    A request waits until a batch slot frees: slots free at `batch / latency` per second, so q
    waiting requests add about q x latency / batch. The queue may grow until that wait uses up
    the whole-request latency target's headroom over the predicted latency: q = batch x
    (target - latency) / latency, at least MIN_QUEUE_PER_POD, at most one more full batch.
    Without a target (a named profile, or no SLO a whole request can be held to) any wait scales out.
    """
    req = ep.sizing.requirements
    target = req.request_latency_slo_ms(layout.tpot_ms) if req is not None else None
    if target is None or layout.latency_ms <= 0:
        return MIN_QUEUE_PER_POD
    headroom = max(target - layout.latency_ms, 0.0) / layout.latency_ms
    return max(MIN_QUEUE_PER_POD, min(layout.max_num_seqs, math.floor(layout.max_num_seqs * headroom)))
