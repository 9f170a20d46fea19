"""What sizing decided, per model version and node pool, as the `sizing` stack output shows it."""

from __future__ import annotations

from typing import Any

from infra.plan import EndpointPlan, Plan


def _replicas(e: EndpointPlan, version: str, most: int) -> list[int]:
    """A version's instance range: a Kubernetes canary's fixed nodes, else the endpoint's floor to `most`."""
    if version in e.canary_nodes:
        return [e.canary_nodes[version]] * 2
    return [e.min_replicas, most]


def sizing_summary(plan: Plan) -> dict[str, Any]:
    """`{endpoints: {name: {...}}, pools: {name: {...}}}`: instance type, replica range (count), capacity,
    the sizing explanation and the rollback thresholds (p95 latency in ms, 5xx share in percent)."""
    endpoints = {
        e.name: {
            "serving": e.serving,
            "instanceType": e.instance_type,
            "capacity": e.capacity,
            "replicas": [e.min_replicas, e.max_replicas],
            # Managed endpoints run a fleet per version; on Kubernetes a canary's fixed pods take
            # `canary_nodes` of the shared pool and the stable version the rest.
            "versions": {
                m.name: {"replicas": _replicas(e, m.name, m.max_replicas), "weight": m.weight, "shadow": m.shadow}
                for m in e.models
            },
            "explanation": e.explanation,
            "p95LatencyAlarmMs": e.latency_alarm_ms,
            "errorRateAlarmPercent": e.error_rate_alarm_percent,
        }
        for e in plan.endpoints
    }
    pools = {}
    if plan.cluster:
        for pool in (plan.cluster.system_pool, *plan.cluster.gpu_pools):
            pools[pool.name] = {
                "instanceType": pool.instance_type,
                "capacity": pool.capacity,
                "nodes": [pool.min_nodes, pool.max_nodes],
                "endpoint": pool.endpoint,
            }
    return {"endpoints": endpoints, "pools": pools}
