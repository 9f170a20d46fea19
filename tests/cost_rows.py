"""Holding prices.yaml to what the program registers, for any cloud: each price row's quantity in the
estimate equals what the shipped stack's preview holds of it, and every type the program registers is
priced, billed by volume (named in the estimate's note) or free."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pytest

from infra.engine.stackfile import read_config
from infra.estimate import estimate
from infra.plan import Plan, build_plan
from infra.prices import load_prices
from infra.spec import load_spec
from tests.conftest import preview_of

Resources = list[dict[str, Any]]
# How many of a price row's units the registered resources hold (per zone, per condition, per node...).
Counter = Callable[[Resources], int]

# In-cluster objects: they run on the priced nodes and bill nothing of their own. The gateway's
# EnvoyProxy is not here: its Service of type LoadBalancer makes the cloud's load balancer (a price row).
KUBERNETES_FREE = frozenset(
    {
        "kubernetes:core/v1:Namespace",
        "kubernetes:core/v1:ServiceAccount",
        "kubernetes:gateway.networking.k8s.io/v1:Gateway",
        "kubernetes:gateway.networking.k8s.io/v1:GatewayClass",
        "kubernetes:helm.sh/v3:Release",
        "kubernetes:keda.sh/v1alpha1:ScaledObject",
        "kubernetes:monitoring.coreos.com/v1:PodMonitor",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "kubernetes:serving.kserve.io/v1beta1:InferenceService",
    }
)


def of(resources: Resources, rtype: str) -> Resources:
    return [r for r in resources if r["type"] == rtype]


def gateway_load_balancers(resources: Resources) -> int:
    """The serving gateways whose Service is of type LoadBalancer: each makes one cloud load balancer."""
    return sum(
        r["inputs"]["spec"]["provider"]["kubernetes"]["envoyService"]["type"] == "LoadBalancer"
        for r in of(resources, "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy")
    )


def plan_of(stack: str) -> Plan:
    return build_plan(load_spec(read_config(stack)), stack)


def row_cases(stacks: Iterable[str], cloud: str, broken: Mapping[tuple[str, str], str]) -> list[Any]:
    """(stack, price row) pairs for parametrize; a pair in `broken` is a strict xfail with its reason,
    so it fails again the moment the program registers what the row prices."""
    return [
        pytest.param(stack, row, marks=[pytest.mark.xfail(reason=broken[stack, row], strict=True)])
        if (stack, row) in broken
        else pytest.param(stack, row)
        for stack in stacks
        for row in load_prices()[cloud].items
    ]


def assert_row_counts_the_preview(stack: str, row: str, counted: Mapping[str, Counter]) -> None:
    """The estimate's quantity for `row` (at the maximum) is what the preview registers, and a row with
    a nonzero quantity names a resource type the preview holds."""
    resources = preview_of(stack)["resources"]
    plan = plan_of(stack)
    item = load_prices()[plan.cloud].items[row]
    line = next((i for i in estimate(plan).items if i.what == item.what), None)
    registered = counted[row](resources)
    assert (line.quantity_max if line else 0) == registered
    if item.resource and registered:
        assert of(resources, item.resource)


def assert_every_type_is_priced_or_free(
    stack: str, free: Iterable[str], by_volume: Mapping[str, str], by_catalog: Iterable[str]
) -> None:
    """Every type the preview registers is a price row's resource, priced through the catalog or the
    cluster lines (`by_catalog`), billed by a volume the estimate's note names (`by_volume`: type ->
    words of `not_counted`), or free; components and providers bill nothing."""
    resources = preview_of(stack)["resources"]
    prices = load_prices()[plan_of(stack).cloud]
    priced = {i.resource for i in prices.items.values() if i.resource}
    known = priced | set(free) | set(by_volume) | set(by_catalog)
    unknown = {
        r["type"]
        for r in resources
        if r["type"] not in known and not r["type"].startswith(("ml-serving:", "pulumi:providers:"))
    }
    assert not unknown, f"classify as priced, by volume or free: {sorted(unknown)}"
    for rtype, words in by_volume.items():
        assert any(words in n for n in prices.not_counted), (rtype, words)
