"""Rules for CloudWatch log groups and alarms, and the join of an endpoint to its rollback alarms."""

from __future__ import annotations

from typing import Any

from ml_serving_policy.aws.sagemaker import ENDPOINT
from ml_serving_policy.rules import UNKNOWN, Severity, get, of_type, resource_rule, stack_rule

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
# ModelLatency is in microseconds: a threshold below one millisecond is a millisecond value in the wrong unit.
MICROSECONDS_PER_MS = 1000


@resource_rule(
    "aws-cloudwatch-log-group-encrypted",
    "aws:cloudwatch/logGroup:LogGroup",
    "Model and control-plane logs can hold request data: they are encrypted with the stack's key and expire.",
    severity=Severity.MEDIUM,
    remediation_steps="Set kms_key_id to the stack's key and retention_in_days to a positive number of days.",
)
def log_group_encrypted(props):
    if get(props, "kmsKeyId") is None:
        yield "kmsKeyId must name the stack's key"
    days = get(props, "retentionInDays", default=0)
    if days is UNKNOWN or days <= 0:
        yield f"retentionInDays must be a known number of days (got {days!r}); logs must not be kept forever"


def latency_metrics(props) -> list[str]:
    """Where an alarm reads SageMaker's ModelLatency, directly or in a metric-math query."""
    found = ["metricName"] if get(props, "metricName") == "ModelLatency" else []
    queries = get(props, "metricQueries", default=[])
    if queries is not UNKNOWN:
        found += [
            f"metricQueries[{i}]" for i, q in enumerate(queries) if get(q, "metric", "metricName") == "ModelLatency"
        ]
    return found


@resource_rule(
    "aws-cloudwatch-model-latency-in-microseconds",
    ALARM,
    "SageMaker reports ModelLatency in microseconds: a latency alarm's threshold in milliseconds would"
    " fire on every request and roll every deployment back.",
    severity=Severity.HIGH,
    remediation_steps="Express the ModelLatency threshold in microseconds (milliseconds x 1000).",
)
def model_latency_in_microseconds(props):
    if not latency_metrics(props):
        return
    threshold = get(props, "threshold")
    if not isinstance(threshold, (int, float)) or threshold < MICROSECONDS_PER_MS:
        yield f"threshold {threshold!r} on ModelLatency must be a known value in microseconds (>= 1000 for 1 ms)"


@resource_rule(
    "aws-cloudwatch-alarm-named",
    ALARM,
    "Rollback alarms have fixed names: the endpoint's deployment configuration refers to them by name.",
    severity=Severity.MEDIUM,
    remediation_steps="Give the alarm a literal name; the endpoint's rollback configuration refers to it by that name.",
)
def alarm_named(props):
    name = get(props, "name")
    if not isinstance(name, str) or not name:
        yield f"name must be a known alarm name (got {name!r})"


@stack_rule(
    "aws-sagemaker-endpoint-alarms-exist",
    "An endpoint's rollback alarms exist in this stack and watch this endpoint; a rollback that names a"
    " missing or unrelated alarm never fires.",
    severity=Severity.HIGH,
    remediation_steps="Name in auto_rollback_configuration only alarms of this stack whose metrics carry the "
    "endpoint's EndpointName dimension.",
)
def endpoint_alarms_exist(resources, config):
    alarms = {get(a.props, "name"): a for a in of_type(resources, ALARM)}
    for endpoint in of_type(resources, ENDPOINT):
        endpoint_name = get(endpoint.props, "name")
        names = get(endpoint.props, "deploymentConfig", "autoRollbackConfiguration", "alarms", default=[])
        if names is UNKNOWN or not names:
            yield f"endpoint {endpoint.name} names no rollback alarms"
            continue
        for entry in names:
            alarm_name = get(entry, "alarmName")
            alarm = alarms.get(alarm_name) if isinstance(alarm_name, str) else None
            if alarm is None:
                yield f"endpoint {endpoint.name}: rollback alarm {alarm_name!r} is not an alarm of this stack"
            elif endpoint_name not in watched_endpoints(alarm.props):
                yield f"endpoint {endpoint.name}: alarm {alarm_name!r} does not watch endpoint {endpoint_name!r}"


def watched_endpoints(props: Any) -> set[Any]:
    """The EndpointName dimensions an alarm's metrics carry."""
    found = {get(props, "dimensions", "EndpointName")}
    queries = get(props, "metricQueries", default=[])
    if queries is not UNKNOWN:
        found |= {get(q, "metric", "dimensions", "EndpointName") for q in queries}
    return found - {None}
