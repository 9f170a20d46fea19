"""Rules for CloudWatch log groups and alarms."""

from __future__ import annotations

from ml_serving_policy.rules import UNKNOWN, get, resource_rule

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
# ModelLatency is in microseconds: a threshold below one millisecond is a millisecond value in the wrong unit.
MICROSECONDS_PER_MS = 1000


@resource_rule(
    "aws-cloudwatch-log-group-encrypted",
    "aws:cloudwatch/logGroup:LogGroup",
    "Model and control-plane logs can hold request data: they are encrypted with the stack's key and expire.",
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
)
def alarm_named(props):
    name = get(props, "name")
    if not isinstance(name, str) or not name:
        yield f"name must be a known alarm name (got {name!r})"
