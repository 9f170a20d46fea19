"""Rules for SageMaker models, endpoint configurations, endpoints and their autoscaling, and the join
of a prod endpoint to its configuration and scalable targets."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ml_serving_policy.environments import ENVIRONMENT_CONFIG, PROD_MIN_REPLICAS, PROD_ROLLOUTS, environment_of
from ml_serving_policy.rules import (
    UNKNOWN,
    Severity,
    attached,
    expect,
    get,
    has,
    of_type,
    resource_rule,
    stack_rule,
)

MODEL = "aws:sagemaker/model:Model"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
TARGET = "aws:appautoscaling/target:Target"
VARIANT_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
# Pulumi's autoname: the logical name, a dash and seven random hex digits.
AUTONAME_SUFFIX = re.compile(r"-[0-9a-f]{7}")
# Blue/green step sizes SageMaker accepts, as a percentage of the variant's instances.
# Rollout strategies in SageMaker's words (restated from infra/clouds/aws/endpoint.py, pinned by a test).
ROUTING = {"canary": "CANARY", "linear": "LINEAR", "all-at-once": "ALL_AT_ONCE"}
STEP_PERCENT = {"canarySize": (1, 50), "linearStepSize": (10, 50)}


@resource_rule(
    "aws-sagemaker-model-network-isolation",
    MODEL,
    "A model container gets no network: a compromised or malicious model cannot call out or exfiltrate"
    " requests; SageMaker fetches its artifact and image for it.",
    severity=Severity.HIGH,
    remediation_steps="Set enable_network_isolation=True on the model.",
)
def model_network_isolation(props):
    yield from expect(props, "enableNetworkIsolation", equals=True)


@resource_rule(
    "aws-sagemaker-model-in-vpc",
    MODEL,
    "Model instances attach to the stack's private subnets and security group, never to SageMaker's default network.",
    severity=Severity.HIGH,
    remediation_steps="Set vpc_config with the stack's private subnet ids and workload security group on the model.",
)
def model_in_vpc(props):
    for key in ("subnets", "securityGroupIds"):
        value = get(props, "vpcConfig", key)
        if value is None or (value is not UNKNOWN and len(value) == 0):
            yield f"vpcConfig.{key} must list the stack's private {key}"


@resource_rule(
    "aws-sagemaker-endpoint-config-kms",
    CONFIG,
    "Instance storage volumes are encrypted with the stack's customer-managed key.",
    severity=Severity.HIGH,
    remediation_steps="Set kms_key_arn to the stack's key on the endpoint configuration.",
)
def config_kms(props):
    if get(props, "kmsKeyArn") is None:
        yield "kmsKeyArn must name the stack's key"


@stack_rule(
    "aws-sagemaker-endpoint-config-unnamed",
    "An endpoint configuration has no fixed name: every change replaces it, and an endpoint switches to"
    " a replacement only when its name changes (terraform-provider-aws PR #48993).",
    severity=Severity.HIGH,
    remediation_steps="Remove name and name_prefix from the endpoint configuration; let the engine autoname it.",
)
def config_unnamed(resources, config):
    for resource in of_type(resources, CONFIG):
        name = get(resource.props, "name")
        # At preview the engine fills in the autoname, which changes with every replacement.
        if name is not None and (name is UNKNOWN or not _is_autoname(resource.name, name)):
            yield f"{resource.name}: name must be left to the engine, not fixed (got {name!r})"
        if get(resource.props, "namePrefix") is not None:
            yield f"{resource.name}: namePrefix must not be set (the generated name is the engine's)"


def _is_autoname(resource_name: str, name: str) -> bool:
    return name.startswith(resource_name) and AUTONAME_SUFFIX.fullmatch(name[len(resource_name) :]) is not None


@resource_rule(
    "aws-sagemaker-endpoint-config-variants",
    CONFIG,
    "Variant names follow SageMaker's pattern (letters, digits, dashes), and shadow variants sit beside"
    " exactly one production variant, as CreateEndpointConfig requires.",
    severity=Severity.HIGH,
    remediation_steps="Name variants with letters, digits and dashes only; give shadow variants exactly one "
    "production variant beside them.",
)
def config_variants(props):
    live = get(props, "productionVariants", default=[])
    shadows = get(props, "shadowProductionVariants", default=[])
    if live is UNKNOWN or shadows is UNKNOWN:
        yield "productionVariants and shadowProductionVariants must be known at preview"
        return
    if not live:
        yield "productionVariants must list at least one variant"
    if shadows and len(live) != 1:
        yield f"shadow variants need exactly one production variant (got {len(live)})"
    for group, variants in (("productionVariants", live), ("shadowProductionVariants", shadows)):
        for i, variant in enumerate(variants):
            name = get(variant, "variantName")
            if not isinstance(name, str) or VARIANT_NAME.fullmatch(name) is None:
                yield f"{group}[{i}].variantName {name!r} must match {VARIANT_NAME.pattern}"


@resource_rule(
    "aws-sagemaker-endpoint-config-capture-encrypted",
    CONFIG,
    "Captured requests and responses are customer data: they are written encrypted with the stack's key.",
    severity=Severity.HIGH,
    remediation_steps="Set data_capture_config.kms_key_id to the stack's key.",
)
def config_capture_encrypted(props):
    if not has(props, "dataCaptureConfig") or get(props, "dataCaptureConfig", "enableCapture") is False:
        return
    if get(props, "dataCaptureConfig", "kmsKeyId") is None:
        yield "dataCaptureConfig.kmsKeyId must name the stack's key"


@resource_rule(
    "aws-sagemaker-endpoint-rollback",
    ENDPOINT,
    "Every deployment is blue/green with automatic rollback on alarms, so a bad model version returns"
    " traffic to the old fleet without a human.",
    severity=Severity.HIGH,
    remediation_steps="Set deployment_config with a blue_green_update_policy (ALL_AT_ONCE, CANARY or LINEAR, step "
    "in SageMaker's range) and auto_rollback_configuration naming the endpoint's alarms.",
)
def endpoint_rollback(props):
    routing = get(props, "deploymentConfig", "blueGreenUpdatePolicy", "trafficRoutingConfiguration")
    if routing is None or routing is UNKNOWN:
        yield "deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration must be set"
    else:
        kind = get(routing, "type")
        if kind not in ROUTING.values():
            yield f"trafficRoutingConfiguration.type must be ALL_AT_ONCE, CANARY or LINEAR (got {kind!r})"
        size = {"CANARY": "canarySize", "LINEAR": "linearStepSize"}.get(kind)
        if size is not None:
            low, high = STEP_PERCENT[size]
            step = get(routing, size, default={})
            value = get(step, "value")
            if (
                get(step, "type") != "CAPACITY_PERCENT"
                or not isinstance(value, (int, float))
                or not low <= value <= high
            ):
                yield f"trafficRoutingConfiguration.{size} must be CAPACITY_PERCENT from {low} to {high} (got {step!r})"
    alarms = get(props, "deploymentConfig", "autoRollbackConfiguration", "alarms", default=[])
    if alarms is UNKNOWN or not alarms:
        yield "deploymentConfig.autoRollbackConfiguration.alarms must name the endpoint's alarms"


@resource_rule(
    "aws-appautoscaling-sagemaker-bounds",
    TARGET,
    "A SageMaker variant scales between known bounds and never to zero: real-time variants cannot serve"
    " from zero instances.",
    severity=Severity.MEDIUM,
    remediation_steps="Give the scalable target literal min_capacity >= 1 and max_capacity >= min_capacity.",
)
def autoscaling_bounds(props):
    if get(props, "serviceNamespace") != "sagemaker":
        return
    low, high = get(props, "minCapacity"), get(props, "maxCapacity")
    if not isinstance(low, (int, float)) or not isinstance(high, (int, float)) or not 1 <= low <= high:
        yield f"minCapacity and maxCapacity must be known with 1 <= min <= max (got {low!r}, {high!r})"


@stack_rule(
    "aws-sagemaker-prod-endpoint-capacity-and-rollout",
    "Prod endpoints run at least two instances per variant (and never scale below two), so one"
    " instance failing does not take the endpoint down, and roll out canary or linear, never all at once."
    " The environment comes from this rule's `environment` config, else the endpoint's component.",
    severity=Severity.HIGH,
    remediation_steps="In the stack file leave prod's defaults (canary, at least two replicas) or set "
    "rollout.strategy to canary or linear and autoscaling.min_replicas to 2 or more.",
    config_schema=ENVIRONMENT_CONFIG,
)
def prod_endpoint_capacity_and_rollout(resources: list[Any], config: Mapping[str, Any]) -> Iterator[str]:
    prod_types = [ROUTING[s] for s in PROD_ROLLOUTS]
    targets = [t for t in of_type(resources, TARGET) if get(t.props, "serviceNamespace") == "sagemaker"]
    for endpoint in of_type(resources, ENDPOINT):
        env = environment_of(endpoint, config)
        if env is None:
            yield f"endpoint {endpoint.name}: cannot tell the environment (set this rule's `environment`)"
            continue
        if env != "prod":
            continue
        kind = get(endpoint.props, "deploymentConfig", "blueGreenUpdatePolicy", "trafficRoutingConfiguration", "type")
        if kind not in prod_types:
            yield f"endpoint {endpoint.name}: prod rolls out {' or '.join(prod_types)}, not {kind!r}"
        configs = [c for c in of_type(resources, CONFIG) if attached(endpoint, c, "endpointConfigName", "name")]
        if not configs:
            yield f"endpoint {endpoint.name}: its endpoint configuration is not in this stack"
        for config_resource in configs:
            for i, variant in enumerate(get(config_resource.props, "productionVariants", default=[]) or []):
                count = get(variant, "initialInstanceCount")
                if not isinstance(count, (int, float)) or count < PROD_MIN_REPLICAS:
                    yield (
                        f"endpoint {endpoint.name}: productionVariants[{i}] starts {count!r} instances,"
                        f" prod needs {PROD_MIN_REPLICAS}"
                    )
        name = get(endpoint.props, "name")
        prefix = f"endpoint/{name}/variant/" if isinstance(name, str) else None
        for target in targets:
            resource_id = get(target.props, "resourceId")
            if prefix is None or resource_id is UNKNOWN or not str(resource_id).startswith(prefix):
                continue
            low = get(target.props, "minCapacity")
            if not isinstance(low, (int, float)) or low < PROD_MIN_REPLICAS:
                yield (
                    f"endpoint {endpoint.name}: {resource_id} scales down to {low!r} instances,"
                    f" prod needs {PROD_MIN_REPLICAS}"
                )
