"""Rules for SageMaker models, endpoint configurations, endpoints and their autoscaling."""

from __future__ import annotations

import re

from ml_serving_policy.rules import UNKNOWN, expect, get, has, of_type, resource_rule, stack_rule

MODEL = "aws:sagemaker/model:Model"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
TARGET = "aws:appautoscaling/target:Target"
VARIANT_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
# Pulumi's autoname: the logical name, a dash and seven random hex digits.
AUTONAME_SUFFIX = re.compile(r"-[0-9a-f]{7}")
# Blue/green step sizes SageMaker accepts, as a percentage of the variant's instances.
STEP_PERCENT = {"canarySize": (1, 50), "linearStepSize": (10, 50)}


@resource_rule(
    "aws-sagemaker-model-network-isolation",
    MODEL,
    "A model container gets no network: a compromised or malicious model cannot call out or exfiltrate"
    " requests; SageMaker fetches its artifact and image for it.",
)
def model_network_isolation(props):
    yield from expect(props, "enableNetworkIsolation", equals=True)


@resource_rule(
    "aws-sagemaker-model-in-vpc",
    MODEL,
    "Model instances attach to the stack's private subnets and security group, never to SageMaker's default network.",
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
)
def config_kms(props):
    if get(props, "kmsKeyArn") is None:
        yield "kmsKeyArn must name the stack's key"


@stack_rule(
    "aws-sagemaker-endpoint-config-unnamed",
    "An endpoint configuration has no fixed name: every change replaces it, and an endpoint switches to"
    " a replacement only when its name changes (terraform-provider-aws PR #48993).",
)
def config_unnamed(resources):
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
)
def endpoint_rollback(props):
    routing = get(props, "deploymentConfig", "blueGreenUpdatePolicy", "trafficRoutingConfiguration")
    if routing is None or routing is UNKNOWN:
        yield "deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration must be set"
    else:
        kind = get(routing, "type")
        if kind not in ("ALL_AT_ONCE", "CANARY", "LINEAR"):
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
)
def autoscaling_bounds(props):
    if get(props, "serviceNamespace") != "sagemaker":
        return
    low, high = get(props, "minCapacity"), get(props, "maxCapacity")
    if not isinstance(low, (int, float)) or not isinstance(high, (int, float)) or not 1 <= low <= high:
        yield f"minCapacity and maxCapacity must be known with 1 <= min <= max (got {low!r}, {high!r})"
