"""Rules for the Azure ML workspace, online endpoints, deployments and their traffic step; stack
joins hold an endpoint to its alerts, autoscale settings and the prod environment's rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ml_serving_policy.environments import ENVIRONMENT_CONFIG, PROD_MIN_REPLICAS, PROD_ROLLOUTS, environment_of
from ml_serving_policy.rules import (
    UNKNOWN,
    Severity,
    expect,
    get,
    of_type,
    resource_rule,
    stack_rule,
)

ML = "azure-native:machinelearningservices"
WORKSPACE = f"{ML}:Workspace"
ENDPOINT = f"{ML}:OnlineEndpoint"
DEPLOYMENT = f"{ML}:OnlineDeployment"
ALERT = "azure-native:monitor:MetricAlert"
AUTOSCALE = "azure-native:monitor:AutoscaleSetting"
TRAFFIC = "pulumi-python:dynamic:Resource"
COMPONENT = "ml-serving:azure:ManagedEndpoint"
# The metrics a rollout is gated on: p95 latency and 5xx responses.
GATING_METRICS = {"RequestLatency_P95", "RequestsPerMinute"}
TOKEN_AUTH = ("AADToken", "AMLToken")
MAX_MIRROR_PERCENT = 50  # Azure ML mirrors at most 50% of live requests (restated from infra/facts.yaml)
DEFAULT_TIMEOUT_SECONDS = 5  # Azure ML's request_timeout default (longer requests get HTTP 408) and our floor


@resource_rule(
    "azure-ml-workspace-private-cmk",
    WORKSPACE,
    "The workspace takes no public traffic, encrypts with the stack's key, isolates its managed compute"
    " in a managed network that allows only approved outbound traffic, and has a system identity.",
    severity=Severity.HIGH,
    remediation_steps="Set public_network_access='Disabled', encryption (status Enabled, key vault"
    " properties), managed_network.isolation_mode='AllowOnlyApprovedOutbound' and a SystemAssigned identity.",
)
def workspace_private_cmk(props):
    yield from expect(props, "publicNetworkAccess", equals="Disabled")
    yield from expect(props, "encryption", "status", equals="Enabled")
    if get(props, "encryption", "keyVaultProperties", "keyIdentifier") is None:
        yield "encryption.keyVaultProperties.keyIdentifier must name the stack's key"
    yield from expect(props, "managedNetwork", "isolationMode", equals="AllowOnlyApprovedOutbound")
    kind = get(props, "identity", "type")
    if not isinstance(kind, str) or "SystemAssigned" not in kind:
        yield f"identity.type must include SystemAssigned (got {kind!r})"


@resource_rule(
    "azure-ml-endpoint-private",
    ENDPOINT,
    "An online endpoint is scored through the workspace's private endpoint only, with tokens, and sets no"
    " traffic itself: traffic naming deployments that do not exist yet fails (Azure/azureml-examples #3311).",
    severity=Severity.HIGH,
    remediation_steps="Set properties.public_network_access='Disabled', auth_mode AADToken or AMLToken, and"
    " move traffic to the EndpointTraffic step.",
)
def endpoint_private(props):
    yield from expect(props, "properties", "publicNetworkAccess", equals="Disabled")
    for key in ("traffic", "mirrorTraffic"):
        if get(props, "properties", key) not in (None, {}):
            yield f"properties.{key} must be left to the traffic step, which runs after the deployments"


@resource_rule(
    "azure-ml-deployment-settings",
    DEPLOYMENT,
    "A deployment runs on managed compute with explicit request settings (a timeout above Azure ML's 5 s"
    " default, which fails long generations with HTTP 408, set explicitly), liveness and readiness probes, Application"
    " Insights, and default scale settings driven by an autoscale setting.",
    severity=Severity.MEDIUM,
    remediation_steps="Set request_settings.request_timeout from the latency target, liveness_probe and"
    " readiness_probe, app_insights_enabled=True and scale_settings.scale_type='Default'.",
)
def deployment_settings(props):
    yield from expect(props, "properties", "endpointComputeType", equals="Managed")
    yield from expect(props, "properties", "appInsightsEnabled", equals=True)
    yield from expect(props, "properties", "scaleSettings", "scaleType", equals="Default")
    timeout = _seconds(get(props, "properties", "requestSettings", "requestTimeout"))
    if timeout is None or timeout < DEFAULT_TIMEOUT_SECONDS:
        yield (
            f"properties.requestSettings.requestTimeout must be set, at least PT{DEFAULT_TIMEOUT_SECONDS}S"
            f" (got {timeout!r} s)"
        )
    for probe in ("livenessProbe", "readinessProbe"):
        if get(props, "properties", probe, "initialDelay") is None:
            yield f"properties.{probe} must be set with an initialDelay sized for the model's load time"


def _seconds(duration: Any) -> int | None:
    """PT<n>S as whole seconds; None for anything else."""
    if isinstance(duration, str) and duration.startswith("PT") and duration.endswith("S"):
        try:
            return int(duration[2:-1])
        except ValueError:
            return None
    return None


def _owned(resources: list[Any], endpoint: Any, resource_type: str, prop: str) -> list[Any]:
    """Resources of `resource_type` whose input `prop` depends on `endpoint`."""
    return [
        r
        for r in of_type(resources, resource_type)
        if any(d.urn == endpoint.urn for d in r.property_dependencies.get(prop, []))
    ]


@stack_rule(
    "azure-ml-endpoint-has-alerts",
    "An endpoint has enabled metric alerts on p95 latency and 5xx responses that watch it: the traffic"
    " step reads them between steps, and an endpoint without them rolls out blind.",
    severity=Severity.HIGH,
    remediation_steps="Create MetricAlerts scoped to the endpoint on RequestLatency_P95 and on"
    " RequestsPerMinute filtered to statusCodeClass 5xx, and pass their ids to the traffic step.",
)
def endpoint_has_alerts(resources, _config):
    for endpoint in of_type(resources, ENDPOINT):
        metrics = {
            get(criterion, "metricName")
            for alert in _owned(resources, endpoint, ALERT, "scopes")
            if get(alert.props, "enabled") is True
            for criterion in get(alert.props, "criteria", "allOf", default=[]) or []
        }
        missing = GATING_METRICS - metrics
        if missing:
            yield f"endpoint {endpoint.name} has no enabled alert on {', '.join(sorted(missing))}"


@stack_rule(
    "azure-ml-deployment-has-autoscale",
    "Every deployment has an autoscale setting targeting it: its scale settings are 'Default', so without"
    " one it never scales.",
    severity=Severity.MEDIUM,
    remediation_steps="Create an AutoscaleSetting whose target_resource_uri is the deployment's id.",
)
def deployment_has_autoscale(resources, _config):
    for deployment in of_type(resources, DEPLOYMENT):
        if not _owned(resources, deployment, AUTOSCALE, "targetResourceUri"):
            yield f"deployment {deployment.name} has no autoscale setting"


def _traffic_of(resources: list[Any], endpoint: Any) -> list[Any]:
    return _owned(resources, endpoint, TRAFFIC, "endpointId")


@stack_rule(
    "azure-ml-endpoint-traffic-step",
    "Each endpoint's traffic is one step applied after all its deployments: the live split sums to 100"
    " over its own deployments, and mirrored shares stay within Azure ML's 50% cap.",
    severity=Severity.HIGH,
    remediation_steps="Give the endpoint one EndpointTraffic depending on every deployment, with a split"
    " summing to 100 and mirror shares of at most 50.",
)
def endpoint_traffic_step(resources, _config):
    for endpoint in of_type(resources, ENDPOINT):
        steps = _traffic_of(resources, endpoint)
        if len(steps) != 1:
            yield f"endpoint {endpoint.name} has {len(steps)} traffic steps, expected 1"
            continue
        (step,) = steps
        deployments = _owned(resources, endpoint, DEPLOYMENT, "endpointName")
        names = {get(d.props, "deploymentName") for d in deployments}
        waits_for = set(step.dependencies or []) if hasattr(step, "dependencies") else set()
        split, mirror = get(step.props, "split", default={}), get(step.props, "mirror", default={})
        if split is UNKNOWN or mirror is UNKNOWN:
            yield f"endpoint {endpoint.name}: the traffic split must be known at preview"
            continue
        total = sum(split.values())
        if total != 100:
            yield f"endpoint {endpoint.name}: traffic weights sum to {total}, they must sum to 100"
        for name in {**split, **mirror}:
            if name not in names:
                yield f"endpoint {endpoint.name}: traffic names {name!r}, which is not one of its deployments"
        for name, share in mirror.items():
            if share > MAX_MIRROR_PERCENT:
                yield f"endpoint {endpoint.name}: mirror {name} {share}% is above Azure ML's {MAX_MIRROR_PERCENT}%"
        if waits_for and not {d.urn for d in deployments} <= {getattr(w, "urn", w) for w in waits_for}:
            yield f"endpoint {endpoint.name}: the traffic step does not wait for every deployment"


@stack_rule(
    "azure-ml-endpoint-environment",
    "Staging and prod endpoints authenticate with tokens (never keys) and collect requests and responses;"
    " prod deployments run and scale from at least two instances and roll out canary or linear. The"
    " environment comes from this rule's `environment` config, else the endpoint's component.",
    severity=Severity.HIGH,
    remediation_steps="Keep the environment's defaults in the stack file: auth_mode AADToken, data"
    " collection on, at least two replicas and a canary or linear rollout in prod.",
    config_schema=ENVIRONMENT_CONFIG,
)
def endpoint_environment_rules(resources, config) -> Iterator[str]:
    for endpoint in of_type(resources, ENDPOINT):
        env = environment_of(endpoint, config)
        if env is None:
            yield f"endpoint {endpoint.name}: cannot tell the environment (set this rule's `environment`)"
            continue
        if env == "dev":
            continue
        auth = get(endpoint.props, "properties", "authMode")
        if auth not in TOKEN_AUTH:
            yield f"endpoint {endpoint.name}: {env} authenticates with {' or '.join(TOKEN_AUTH)}, not {auth!r}"
        deployments = _owned(resources, endpoint, DEPLOYMENT, "endpointName")
        for deployment in deployments:
            if get(deployment.props, "properties", "dataCollector") is None:
                yield f"deployment {deployment.name}: {env} collects requests and responses (dataCollector)"
        if env != "prod":
            continue
        for step in _traffic_of(resources, endpoint):
            strategy = get(step.props, "strategy")
            if strategy not in PROD_ROLLOUTS:
                yield f"endpoint {endpoint.name}: prod rolls out {' or '.join(PROD_ROLLOUTS)}, not {strategy!r}"
        for deployment in deployments:
            count = get(deployment.props, "sku", "capacity")
            if not isinstance(count, (int, float)) or count < PROD_MIN_REPLICAS:
                yield f"deployment {deployment.name}: starts {count!r} instances, prod needs {PROD_MIN_REPLICAS}"
            for setting in _owned(resources, deployment, AUTOSCALE, "targetResourceUri"):
                for profile in get(setting.props, "profiles", default=[]) or []:
                    low = get(profile, "capacity", "minimum")
                    if not str(low).isdigit() or int(low) < PROD_MIN_REPLICAS:
                        yield (
                            f"deployment {deployment.name}: scales down to {low!r} instances,"
                            f" prod needs {PROD_MIN_REPLICAS}"
                        )
