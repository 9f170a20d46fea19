"""Rules for the serving namespaces: each denies all traffic unless a policy admits it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ml_serving_policy.kubernetes.serving import NAMESPACE, NETWORK_POLICY
from ml_serving_policy.rules import UNKNOWN, Severity, get, of_type, stack_rule

DIRECTIONS = {"Ingress", "Egress"}


def default_deny(policy: Any) -> bool:
    """A NetworkPolicy selecting every pod, for both directions, admitting nothing."""
    spec = get(policy.props, "spec", default={})
    selector = get(spec, "podSelector")
    types = get(spec, "policyTypes", default=[])
    return (
        selector is not UNKNOWN
        and selector is not None
        and not get(selector, "matchLabels")
        and not get(selector, "matchExpressions")
        and types is not UNKNOWN
        and set(types) >= DIRECTIONS
        and not get(spec, "ingress")
        and not get(spec, "egress")
    )


@stack_rule(
    "kubernetes-namespace-default-deny",
    "Every namespace the stack declares has a default-deny NetworkPolicy (all pods, ingress and egress),"
    " so its pods are reachable only from where a further policy admits (the gateway, Prometheus).",
    severity=Severity.HIGH,
    remediation_steps="Add a NetworkPolicy in the namespace with podSelector {} and policyTypes [Ingress, Egress]"
    " and no rules; admit the gateway and Prometheus with further policies.",
)
def namespace_default_deny(resources: list[Any], config: Mapping[str, Any]) -> Iterator[str]:
    policies = of_type(resources, NETWORK_POLICY)
    for namespace in of_type(resources, NAMESPACE):
        name = get(namespace.props, "metadata", "name")
        if name is UNKNOWN or name is None:
            yield f"{namespace.name}: metadata.name must be known at preview"
            continue
        if not any(get(p.props, "metadata", "namespace") == name and default_deny(p) for p in policies):
            yield f"namespace {name} has no default-deny NetworkPolicy"
