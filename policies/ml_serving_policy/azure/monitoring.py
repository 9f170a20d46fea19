"""Rules for metric alerts and autoscale settings."""

from __future__ import annotations

from ml_serving_policy.rules import UNKNOWN, Severity, expect, get, resource_rule

ALERT = "azure-native:monitor:MetricAlert"
AUTOSCALE = "azure-native:monitor:AutoscaleSetting"


@resource_rule(
    "azure-monitor-metric-alert-armed",
    ALERT,
    "An alert that gates a rollout is enabled, watches a resource, and evaluates at least every five minutes.",
    severity=Severity.HIGH,
    remediation_steps="Set enabled=True, scopes to the endpoint, and evaluation_frequency PT1M or PT5M.",
)
def metric_alert_armed(props):
    yield from expect(props, "enabled", equals=True)
    scopes = get(props, "scopes", default=[])
    if scopes is not UNKNOWN and not scopes:
        yield "scopes must name the watched resource"
    if get(props, "evaluationFrequency") not in ("PT1M", "PT5M"):
        yield f"evaluationFrequency must be PT1M or PT5M (got {get(props, 'evaluationFrequency')!r})"


@resource_rule(
    "azure-monitor-autoscale-bounds",
    AUTOSCALE,
    "A managed deployment scales between known bounds and never to zero: it cannot serve from zero instances.",
    severity=Severity.MEDIUM,
    remediation_steps="Give every profile a capacity with 1 <= minimum <= default <= maximum.",
)
def autoscale_bounds(props):
    profiles = get(props, "profiles", default=[])
    if profiles is UNKNOWN or not profiles:
        yield "profiles must be known and non-empty"
        return
    for i, profile in enumerate(profiles):
        capacity = get(profile, "capacity", default={})
        try:
            low, default, high = (int(get(capacity, k)) for k in ("minimum", "default", "maximum"))
        except (TypeError, ValueError):
            yield f"profiles[{i}].capacity must give minimum, default and maximum as numbers (got {capacity!r})"
            continue
        if not 1 <= low <= default <= high:
            yield f"profiles[{i}].capacity must have 1 <= minimum <= default <= maximum (got {low}, {default}, {high})"
