"""A SageMaker endpoint's rollback alarms: the 5xx share and the p95 model latency over every live
variant, in metric math, named so the endpoint's deployment configuration can refer to them."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.clouds.aws.endpoint_args import ManagedEndpointArgs, Variant
from infra.clouds.options import child
from infra.plan import ALARM_PERIODS

MetricQuery = aws.cloudwatch.MetricAlarmMetricQueryArgsDict
METRICS = "AWS/SageMaker"
US_PER_MS = 1000  # SageMaker reports ModelLatency in microseconds
ALARMS = ("5xx-rate", "p95-latency")  # the rollback alarms, by the suffix of their names


def rollback_alarms(
    parent: pulumi.Resource, name: str, args: ManagedEndpointArgs, live: list[Variant]
) -> dict[str, aws.cloudwatch.MetricAlarm]:
    """Alarm name -> alarm (`<name>-5xx-rate`, `<name>-p95-latency`), each over all live variants."""
    endpoint = args.endpoint

    def per_variant(prefix: str, metric_name: str, stat: str) -> tuple[str, list[MetricQuery]]:
        """One query per live variant, and the metric-math list of their ids."""
        ids = [f"{prefix}{i}" for i in range(len(live))]
        found: list[MetricQuery] = [
            {
                "id": query_id,
                "return_data": False,
                "metric": {
                    "namespace": METRICS,
                    "metric_name": metric_name,
                    "dimensions": {"EndpointName": args.endpoint_name, "VariantName": v.name},
                    "period": 60,
                    "stat": stat,
                },
            }
            for query_id, v in zip(ids, live, strict=True)
        ]
        return f"[{', '.join(ids)}]", found

    errors, error_queries = per_variant("errors", "Invocation5XXErrors", "Sum")
    calls, call_queries = per_variant("calls", "Invocations", "Sum")
    latency, latency_queries = per_variant("latency", "ModelLatency", "p95")
    specs = {
        "5xx-rate": (
            f"100 * SUM({errors}) / SUM({calls})",
            error_queries + call_queries,
            endpoint.error_rate_alarm_percent,
            f"5xx responses above {endpoint.error_rate_alarm_percent:g}% of invocations",
        ),
        "p95-latency": (
            f"MAX({latency})",
            latency_queries,
            endpoint.latency_alarm_ms * US_PER_MS,
            f"p95 model latency above {endpoint.latency_alarm_ms:g} ms",
        ),
    }
    alarms: dict[str, aws.cloudwatch.MetricAlarm] = {}
    for suffix, (expression, queries, threshold, description) in specs.items():
        alarm_name = args.alarm_names[suffix]
        alarms[alarm_name] = aws.cloudwatch.MetricAlarm(
            f"{name}-{suffix}",
            name=alarm_name,
            alarm_description=f"{description}: rolls back a deployment of {args.endpoint_name}",
            comparison_operator="GreaterThanThreshold",
            threshold=threshold,
            evaluation_periods=ALARM_PERIODS,
            datapoints_to_alarm=ALARM_PERIODS,
            # No traffic is no evidence of failure.
            treat_missing_data="notBreaching",
            metric_queries=[{"id": "signal", "expression": expression, "return_data": True}, *queries],
            opts=child(parent),
        )
    return alarms
