"""Rules for the model servers: KServe InferenceServices (their stable predictor and named canaries)
and the KEDA ScaledObjects that scale them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ml_serving_policy.environments import ENVIRONMENT_CONFIG, PROD_MIN_REPLICAS, PROD_ROLLOUTS, environment_of
from ml_serving_policy.kubernetes.serving import (
    INFERENCE_SERVICE,
    REGISTRIES,
    SCALED_OBJECT,
    containers,
    predictors,
)
from ml_serving_policy.rules import UNKNOWN, Severity, get, of_type, resource_rule, stack_rule

DEVICES = ("nvidia.com/gpu", "aws.amazon.com/neuron")
# What a model server must be bounded by: a pod without them can take a node's memory or fill its
# disk with weights and evict its neighbours.
LIMITS = ("memory", "ephemeral-storage")
DIGEST_ENVIRONMENTS = ("staging", "prod")


@resource_rule(
    "kubernetes-inferenceservice-resource-limits",
    INFERENCE_SERVICE,
    "Every model-server container has memory and ephemeral-storage limits, and requests as many"
    " accelerators as it is limited to: an unbounded pod can exhaust its node and evict the others.",
    severity=Severity.HIGH,
    remediation_steps="Set resources.limits.memory and resources.limits.ephemeral-storage on every predictor"
    " container, and equal requests and limits for nvidia.com/gpu or aws.amazon.com/neuron.",
)
def resource_limits(props):
    for where, predictor in predictors(props):
        if not get(predictor, "containers", default=[]):
            yield f"{where}.containers must define the model server"
    for where, _, container in containers(props):
        limits = get(container, "resources", "limits", default={})
        requests = get(container, "resources", "requests", default={})
        if limits is UNKNOWN or requests is UNKNOWN:
            yield f"{where}.resources must be known at preview"
            continue
        for name in LIMITS:
            if get(limits, name) is None:
                yield f"{where}.resources.limits.{name} must be set"
        for device in DEVICES:
            if get(limits, device) != get(requests, device):
                yield f"{where}: {device} requests and limits must be equal"


@resource_rule(
    "kubernetes-inferenceservice-non-root",
    INFERENCE_SERVICE,
    "Model servers run as a non-root user with the runtime's default seccomp profile, no privilege"
    " escalation and no Linux capabilities: the Pod Security 'restricted' profile.",
    severity=Severity.HIGH,
    remediation_steps="Set the predictor's securityContext runAsNonRoot=true and seccompProfile.type=RuntimeDefault,"
    " and each container's allowPrivilegeEscalation=false and capabilities.drop=[ALL].",
)
def non_root(props):
    for where, predictor in predictors(props):
        if get(predictor, "securityContext", "runAsNonRoot") is not True:
            yield f"{where}.securityContext.runAsNonRoot must be true"
        if get(predictor, "securityContext", "seccompProfile", "type") != "RuntimeDefault":
            yield f"{where}.securityContext.seccompProfile.type must be RuntimeDefault"
    for where, _, container in containers(props):
        context = get(container, "securityContext", default={})
        if get(context, "allowPrivilegeEscalation") is not False:
            yield f"{where}.securityContext.allowPrivilegeEscalation must be false"
        if get(context, "privileged") is True or get(context, "runAsNonRoot") is False:
            yield f"{where}.securityContext must not run privileged or as root"
        drop = get(context, "capabilities", "drop", default=[])
        if drop is UNKNOWN or "ALL" not in drop:
            yield f"{where}.securityContext.capabilities.drop must include ALL"


@stack_rule(
    "kubernetes-inferenceservice-own-registry",
    "Model servers run images from the stack's own registry (scanned, immutable, reachable from the"
    " private network), pinned by digest in staging and prod so what was tested is what runs. An image"
    " computed at preview must come from the stack's registry resource; a literal one must be a digest"
    " there. The environment comes from this rule's `environment` config, else the endpoint's component.",
    severity=Severity.HIGH,
    remediation_steps="Push the image to the stack's registry and give image_tag with digest: sha256:... in the"
    " stack file, instead of an image from another registry.",
    config_schema=ENVIRONMENT_CONFIG,
)
def own_registry(resources: list[Any], config: Mapping[str, Any]) -> Iterator[str]:
    registries = [(r, form) for t, form in REGISTRIES.items() for r in of_type(resources, t)]
    for isvc in of_type(resources, INFERENCE_SERVICE):
        from_registry = any(
            dep.urn == r.urn for dep in isvc.property_dependencies.get("spec", []) for r, _ in registries
        )
        pinned = environment_of(isvc, config) in DIGEST_ENVIRONMENTS
        for where, _, container in containers(isvc.props):
            image = get(container, "image")
            if image is UNKNOWN:
                if not from_registry:
                    yield f"{isvc.name} {where}.image is computed from nothing in this stack's registry"
                continue
            if not isinstance(image, str) or not any(form.holds(r, image) for r, form in registries):
                yield f"{isvc.name} {where}.image {image!r} is not in this stack's registry"
            elif pinned and "@sha256:" not in image:
                yield f"{isvc.name} {where}.image {image!r} must be pinned by digest (@sha256:...) in staging and prod"


@stack_rule(
    "kubernetes-inferenceservice-prod-capacity-and-canary",
    "Prod model servers keep at least two pods (the predictor and its autoscaler's floor), so one pod"
    " or node failing does not take the endpoint down, and new versions arrive as named canaries"
    " (canary or linear rollout), never by replacing the stable predictor at once."
    " The environment comes from this rule's `environment` config, else the endpoint's component.",
    severity=Severity.HIGH,
    remediation_steps="In the stack file leave prod's defaults (canary, at least two replicas), or set"
    " rollout.strategy to canary or linear and autoscaling.min_replicas to 2 or more.",
    config_schema=ENVIRONMENT_CONFIG,
)
def prod_capacity_and_canary(resources: list[Any], config: Mapping[str, Any]) -> Iterator[str]:
    scalers = of_type(resources, SCALED_OBJECT)
    for isvc in of_type(resources, INFERENCE_SERVICE):
        env = environment_of(isvc, config)
        if env is None:
            yield f"{isvc.name}: cannot tell the environment (set this rule's `environment`)"
            continue
        if env != "prod":
            continue
        low = get(isvc.props, "spec", "predictor", "minReplicas")
        if not isinstance(low, (int, float)) or low < PROD_MIN_REPLICAS:
            yield f"{isvc.name}: spec.predictor.minReplicas is {low!r}, prod needs {PROD_MIN_REPLICAS}"
        rollout = get(isvc.parent.props, "rollout") if isvc.parent is not None else None
        if rollout not in PROD_ROLLOUTS:
            yield f"{isvc.name}: prod rolls out {' or '.join(PROD_ROLLOUTS)} through named canaries, not {rollout!r}"
        namespace = get(isvc.props, "metadata", "namespace")
        mine = [s for s in scalers if get(s.props, "metadata", "namespace") == namespace]
        if not mine:
            yield f"{isvc.name}: no ScaledObject scales it"
        for scaler in mine:
            floor = get(scaler.props, "spec", "minReplicaCount")
            if not isinstance(floor, (int, float)) or floor < PROD_MIN_REPLICAS:
                yield f"{isvc.name}: its ScaledObject scales down to {floor!r} pods, prod needs {PROD_MIN_REPLICAS}"


@resource_rule(
    "kubernetes-scaledobject-queue-depth",
    SCALED_OBJECT,
    "Model servers scale on requests waiting (the engine's queue, through Prometheus), not on CPU,"
    " memory or GPU utilisation, which stay high whether or not requests wait.",
    severity=Severity.MEDIUM,
    remediation_steps="Use a prometheus trigger on the engine's queue gauge (vLLM vllm:num_requests_waiting).",
)
def scaled_object_queue_depth(props):
    triggers = get(props, "spec", "triggers", default=[])
    if triggers is UNKNOWN or not triggers:
        yield "spec.triggers must scale on the model server's queue"
        return
    for i, trigger in enumerate(triggers):
        if get(trigger, "type") != "prometheus":
            yield f"spec.triggers[{i}].type must be prometheus (the queue gauge), not {get(trigger, 'type')!r}"
