"""One code path for EKS, GKE and AKS: the prod stacks serve the same `assist` endpoint, and the
Kubernetes objects the real program registers for it and for the platform are the same on each
cloud, apart from what the cloud supplies (the identity binding, its identity agent's address, the
registry and store addresses, the internal load balancer's annotations) and the figures each cloud's
own plan derives (pods, CPU and memory of its node type), which are checked against that plan before
they are set aside. A stack's other in-cluster endpoints (gcp-prod's `embed`) are not compared."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra.engine.mockrun import UNKNOWN
from infra.engine.stackfile import read_config
from infra.facts import cloud_facts
from infra.kubernetes_plan import KubernetesServing
from infra.plan import Plan, build_plan
from infra.spec import load_spec
from tests.conftest import STACKS, preview_of

PROD_STACKS = [s for s in ("aws-prod", "gcp-prod", "azure-prod") if s in STACKS]
IDENTITY_EGRESS = "ipBlock"  # the cloud's node-local identity agent (EKS Pod Identity, GKE metadata)
SHARED = "assist"  # the in-cluster endpoint every prod stack serves
ENDPOINT_PARENT = "ml-serving:kubernetes:Endpoint::k8s-"  # ends the parent URN of an endpoint's objects
Objects = dict[tuple[str, str], Any]


def plan_of(stack: str) -> Plan:
    return build_plan(load_spec(read_config(stack)), stack)


def serving_of(stack: str) -> KubernetesServing:
    (serving,) = [s for s in plan_of(stack).kubernetes if s.endpoint == SHARED]
    return serving


def checked(value: Any, expected: Any, what: str) -> str:
    """`value`, which the cloud's own plan derived, as a placeholder, once it equals the plan's."""
    assert value == expected, what
    return f"<{what}>"


def address(value: Any) -> str:
    """A registry or store address: unknown where the cloud computes it, a literal where it is named."""
    assert value == UNKNOWN or isinstance(value, str)
    return "<address>"


def normalized(stack: str) -> tuple[Objects, dict[str, Any]]:
    """The stack's Kubernetes objects with what the cloud supplies set aside (and returned)."""
    serving = serving_of(stack)
    # pod_labels: per predictor (stable, then each canary), so no predictor's labels go unchecked.
    supplied: dict[str, Any] = {"annotations": {}, "pod_labels": [], "egress": [], "load_balancer": None}
    objects: Objects = {}
    for resource in preview_of(stack)["resources"]:
        if not resource["type"].startswith("kubernetes:") or resource["type"].startswith("pulumi:"):
            continue
        parent = resource["parent"]
        if ENDPOINT_PARENT in parent and not parent.endswith(ENDPOINT_PARENT + SHARED):
            continue
        inputs = copy.deepcopy(resource["inputs"])
        kind = inputs.get("kind")
        if kind == "ServiceAccount":
            supplied["annotations"] = inputs["metadata"].pop("annotations", {})
        elif kind == "InferenceService":
            spec = inputs["spec"]
            for key in ("minReplicas", "maxReplicas"):
                pods = serving.min_pods if key == "minReplicas" else serving.max_pods
                spec["predictor"][key] = checked(spec["predictor"][key], pods, f"stable {key}")
            for canary, planned in zip(spec.get("canary", []), serving.canaries, strict=True):
                pods = canary["predictor"]["minReplicas"]
                canary["predictor"]["minReplicas"] = checked(pods, planned.replicas, "canary pods")
            for predictor in (spec["predictor"], *(c["predictor"] for c in spec.get("canary", []))):
                labels = predictor["labels"]
                supplied["pod_labels"].append(
                    {k: labels.pop(k) for k in list(labels) if not k.startswith("ml-serving/")}
                )
                container = predictor["containers"][0]
                container["image"] = address(container["image"])
                for variable in container["env"]:
                    if variable["name"] == "STORAGE_URI":
                        variable["value"] = address(variable["value"])
                resources = container["resources"]
                resources["requests"]["cpu"] = checked(resources["requests"]["cpu"], f"{serving.cpu_millis}m", "cpu")
                for side in ("requests", "limits"):
                    resources[side]["memory"] = checked(resources[side]["memory"], f"{serving.memory_gib}Gi", "memory")
        elif kind == "ScaledObject":
            spec = inputs["spec"]
            spec["minReplicaCount"] = checked(spec["minReplicaCount"], serving.min_pods, "stable minReplicas")
            spec["maxReplicaCount"] = checked(spec["maxReplicaCount"], serving.max_pods, "stable maxReplicas")
            trigger = spec["triggers"][0]["metadata"]
            trigger["threshold"] = checked(trigger["threshold"], str(serving.queue_per_pod), "queue per pod")
        elif kind == "NetworkPolicy" and inputs["metadata"]["name"] == "allow-egress":
            rules = inputs["spec"]["egress"]
            supplied["egress"] = [r for r in rules if IDENTITY_EGRESS in str(r)]
            inputs["spec"]["egress"] = [r for r in rules if IDENTITY_EGRESS not in str(r)]
        elif kind == "EnvoyProxy":
            kubernetes = inputs["spec"]["provider"]["kubernetes"]
            supplied["load_balancer"] = kubernetes["envoyService"].pop("annotations")
            container = kubernetes["envoyDeployment"]["container"]
            container["imageRepository"] = address(container["imageRepository"])
        elif resource["type"] == "kubernetes:helm.sh/v3:Release":
            inputs["values"] = _mirror_addresses(inputs["values"])
        objects[(resource["type"], resource["name"])] = inputs
    return objects, supplied


def _mirror_addresses(values: Any) -> Any:
    """Chart values with every image address (the stack registry's mirror) set aside."""
    if isinstance(values, dict):
        return {k: _mirror_addresses(v) for k, v in values.items()}
    if isinstance(values, list):
        return [_mirror_addresses(v) for v in values]
    return "<address>" if values == UNKNOWN or (isinstance(values, str) and "/mirror" in values) else values


@pytest.mark.parametrize("stack", PROD_STACKS[1:])
def test_the_kubernetes_objects_are_the_same_on_every_cloud_apart_from_what_the_cloud_supplies(stack) -> None:
    reference, _ = normalized(PROD_STACKS[0])
    objects, _ = normalized(stack)
    if cloud_facts()[plan_of(stack).cloud]["gpu_device_plugin"] != "install":
        reference = {k: v for k, v in reference.items() if k[1] != "serving-platform-nvidia-device-plugin"}
    assert set(objects) == set(reference)
    for key, inputs in reference.items():
        assert objects[key] == inputs, key


@pytest.mark.parametrize("stack", PROD_STACKS)
def test_what_the_cloud_supplies_is_its_identity_and_its_load_balancer(stack) -> None:
    _, supplied = normalized(stack)
    cloud = plan_of(stack).cloud
    assert supplied["load_balancer"] == cloud_facts()[cloud]["internal_load_balancer_annotations"]
    identity = {
        "aws": ({}, {}),  # Pod Identity: an association by namespace and account, an agent on the node
        "gcp": ({"iam.gke.io/gcp-service-account"}, {}),  # Workload Identity, the GKE metadata server
        "azure": ({"azure.workload.identity/client-id"}, {"azure.workload.identity/use": "true"}),
    }[cloud]
    assert set(supplied["annotations"]) == set(identity[0])
    assert supplied["pod_labels"] == [identity[1]] * (1 + len(serving_of(stack).canaries))
    # The identity agent's addresses are the cloud's facts, admitted as they are written there.
    assert supplied["egress"] == [
        {"to": [{"ipBlock": {"cidr": row["cidr"]}}], "ports": [{"protocol": "TCP", "port": row["port"]}]}
        for row in cloud_facts()[cloud]["identity_agent_egress"]
    ]
