"""Rules for Vertex AI endpoints, the deployment resource that serves models on them, their alert
policies, and the joins: an endpoint serves, its rollout is gated by alerts that watch it, prod
runs two replicas and rolls out canary-first, staging and prod log requests."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ml_serving_policy.environments import ENVIRONMENT_CONFIG, PROD_MIN_REPLICAS, PROD_ROLLOUTS, environment_of
from ml_serving_policy.gcp.keys import names_key
from ml_serving_policy.rules import UNKNOWN, Severity, get, has, of_type, resource_rule, stack_rule

ENDPOINT = "gcp:vertex/aiEndpoint:AiEndpoint"
DYNAMIC = "pulumi-python:dynamic:Resource"  # the type every dynamic resource registers with
ALERT = "gcp:monitoring/alertPolicy:AlertPolicy"
LOGGED_ENVIRONMENTS = ("staging", "prod")


def is_deployment(props: Mapping[str, Any]) -> bool:
    """The Vertex AI deployment resource, among dynamic resources, by its inputs."""
    return has(props, "models") and has(props, "endpoint_id")


def deployments(resources: list[Any]) -> list[Any]:
    return [r for r in of_type(resources, DYNAMIC) if is_deployment(r.props)]


@resource_rule(
    "gcp-vertex-endpoint-private",
    ENDPOINT,
    "The endpoint is reachable only privately (Private Service Connect or a peered VPC), never on"
    " Vertex AI's public address.",
    severity=Severity.HIGH,
    remediation_steps="Set private_service_connect_config.enable_private_service_connect=True with the"
    " project allowlist (or network=<peered VPC>).",
)
def endpoint_private(props):
    psc = get(props, "privateServiceConnectConfig", "enablePrivateServiceConnect")
    if psc is not True and get(props, "network") is None:
        yield "the endpoint must be private: privateServiceConnectConfig.enablePrivateServiceConnect or network"


@resource_rule(
    "gcp-vertex-endpoint-cmek",
    ENDPOINT,
    "The endpoint and its deployed models' data are encrypted with the stack's customer-managed key.",
    severity=Severity.HIGH,
    remediation_steps="Set encryption_spec={'kms_key_name': <the stack's crypto key>} on the endpoint.",
)
def endpoint_cmek(props):
    yield from names_key(props, "encryptionSpec", "kmsKeyName")


def _model_problems(i: int, model: Any) -> Iterator[str]:
    at = f"models[{i}] ({get(model, 'name')!r})"
    if get(model, "model", "encryptionSpec", "kmsKeyName") is None:
        yield f"{at}: model.encryptionSpec.kmsKeyName must name the stack's crypto key"
    account = get(model, "deployment", "serviceAccount")
    if account is None or (isinstance(account, str) and account.endswith("-compute@developer.gserviceaccount.com")):
        yield f"{at}: deployment.serviceAccount must be the endpoint's own account (got {account!r})"
    resources = get(model, "deployment", "dedicatedResources", default={})
    low, high = get(resources, "minReplicaCount"), get(resources, "maxReplicaCount")
    if not isinstance(low, (int, float)) or not isinstance(high, (int, float)) or not 1 <= low <= high:
        yield f"{at}: replicas must be known with 1 <= minReplicaCount <= maxReplicaCount (got {low!r}, {high!r})"
    if not get(resources, "autoscalingMetricSpecs", default=[]):
        yield f"{at}: dedicatedResources.autoscalingMetricSpecs must name the signal it scales on"


@resource_rule(
    "gcp-vertex-deployment-spec",
    DYNAMIC,
    "Every model version is encrypted with the stack's key, runs as the endpoint's own service account,"
    " autoscales between known bounds, and the live versions' weights sum to 100.",
    severity=Severity.HIGH,
    remediation_steps="Keep what the program derives from the stack file: models' weights summing to 100,"
    " autoscaling bounds from sizing, the endpoint's service account.",
)
def deployment_spec(props):
    if not is_deployment(props):
        return
    models = get(props, "models", default=[])
    if models is UNKNOWN or not models:
        yield "models must be known at preview and list at least one"
        return
    for i, model in enumerate(models):
        yield from _model_problems(i, model)
    live = [get(m, "weight") for m in models if get(m, "shadow") is not True]
    if sum(w for w in live if isinstance(w, (int, float))) != 100:
        yield f"live models' weights must sum to 100 (got {live})"


@resource_rule(
    "gcp-monitoring-alert-policy-enabled",
    ALERT,
    "A rollout gate reads its alert policy: a disabled or condition-less policy never stops a bad version.",
    severity=Severity.HIGH,
    remediation_steps="Leave enabled unset (true) and keep the policy's condition.",
)
def alert_policy_enabled(props):
    if get(props, "enabled", default=True) is not True:
        yield "enabled must be true"
    if not get(props, "conditions", default=[]):
        yield "conditions must not be empty"


@stack_rule(
    "gcp-vertex-endpoint-serves",
    "Every Vertex AI endpoint has the deployment resource that uploads and deploys its models: an"
    " `AiEndpoint` alone serves nothing (terraform-provider-google #15303).",
    severity=Severity.HIGH,
    remediation_steps="Deploy the endpoint's models through the program's VertexDeployment resource.",
)
def endpoint_serves(resources, _config):
    served = {get(d.props, "endpoint_id") for d in deployments(resources)}
    for endpoint in of_type(resources, ENDPOINT):
        if get(endpoint.props, "name") not in served:
            yield f"endpoint {endpoint.name} ({get(endpoint.props, 'name')!r}) has no deployment: it serves nothing"


def _queries(alert: Any) -> list[str]:
    conditions = get(alert.props, "conditions", default=[])
    if conditions is UNKNOWN:
        return []
    return [q for c in conditions if isinstance(q := get(c, "conditionPrometheusQueryLanguage", "query"), str)]


@stack_rule(
    "gcp-vertex-endpoint-alerts-exist",
    "A deployment's rollout is gated by alert policies of this stack that watch its endpoint: one on the"
    " 5xx share and one on latency. A gate naming a missing or unrelated policy never stops anything.",
    severity=Severity.HIGH,
    remediation_steps="Keep the endpoint's error-rate and p95-latency alert policies the program creates"
    " and pass them to its deployment.",
)
def endpoint_alerts_exist(resources, _config):
    alerts = of_type(resources, ALERT)
    for deployment in deployments(resources):
        endpoint_id = get(deployment.props, "endpoint_id")
        urns = {d.urn for d in deployment.property_dependencies.get("alert_policies", [])}
        gates = [a for a in alerts if a.urn in urns]
        watching = [q for a in gates for q in _queries(a) if f'endpoint_id="{endpoint_id}"' in q]
        if not any("response_code" in q for q in watching):
            yield f"deployment {deployment.name}: no alert policy of this stack gates on {endpoint_id}'s 5xx share"
        if not any("latenc" in q for q in watching):
            yield f"deployment {deployment.name}: no alert policy of this stack gates on {endpoint_id}'s latency"


@stack_rule(
    "gcp-vertex-prod-endpoint-capacity-and-rollout",
    "Prod deployments keep at least two replicas per model version, so one failing does not take the"
    " endpoint down, and roll out canary or linear, never all at once. The environment comes from this"
    " rule's `environment` config, else the endpoint's component.",
    severity=Severity.HIGH,
    remediation_steps="In the stack file leave prod's defaults (canary, at least two replicas) or set "
    "rollout.strategy to canary or linear and autoscaling.min_replicas to 2 or more.",
    config_schema=ENVIRONMENT_CONFIG,
)
def prod_capacity_and_rollout(resources, config):
    for deployment in deployments(resources):
        env = environment_of(deployment, config)
        if env is None:
            yield f"deployment {deployment.name}: cannot tell the environment (set this rule's `environment`)"
            continue
        if env != "prod":
            continue
        strategy = get(deployment.props, "rollout", "strategy")
        if strategy not in PROD_ROLLOUTS:
            yield f"deployment {deployment.name}: prod rolls out {' or '.join(PROD_ROLLOUTS)}, not {strategy!r}"
        for i, model in enumerate(get(deployment.props, "models", default=[]) or []):
            low = get(model, "deployment", "dedicatedResources", "minReplicaCount")
            if not isinstance(low, (int, float)) or low < PROD_MIN_REPLICAS:
                yield f"deployment {deployment.name}: models[{i}] runs {low!r} replicas, prod needs {PROD_MIN_REPLICAS}"


@stack_rule(
    "gcp-vertex-endpoint-request-logging",
    "Staging and prod endpoints log a sample of requests and responses to the stack's encrypted BigQuery"
    " dataset, to compare versions and investigate incidents.",
    severity=Severity.MEDIUM,
    remediation_steps="Keep the environment's request-response logging (predict_request_response_logging_config"
    " with a bq:// destination).",
    config_schema=ENVIRONMENT_CONFIG,
)
def endpoint_request_logging(resources, config):
    for endpoint in of_type(resources, ENDPOINT):
        env = environment_of(endpoint, config)
        if env is None:
            yield f"endpoint {endpoint.name}: cannot tell the environment (set this rule's `environment`)"
        elif env in LOGGED_ENVIRONMENTS:
            logging = get(endpoint.props, "predictRequestResponseLoggingConfig", default={})
            if get(logging, "enabled") is not True or get(logging, "bigqueryDestination", "outputUri") is None:
                yield f"endpoint {endpoint.name}: {env} logs requests and responses to BigQuery"
