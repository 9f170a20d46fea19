"""One-step instance-type changes on an autoscaled SageMaker endpoint.

SageMaker refuses an UpdateEndpoint that changes an autoscaled variant's instance type (or drops
the variant) while its scalable target is registered (terraform-provider-aws #14337). The
endpoint's `before_update` hook deregisters the targets of exactly those variants, reading what
runs now from SageMaker; the targets themselves are replaced with the instance type
(`replacement_trigger`), so `pulumi up` registers them again once the endpoint is updated.

A resource hook runs only under a real engine (never at preview); its function takes its
clients as a parameter so tests drive it against botocore stubs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import boto3
import pulumi
from botocore.exceptions import ClientError

Clients = Callable[[str], Any]  # service name -> a boto3 client for it
NAMESPACE = "sagemaker"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"


def scaling_resource_id(endpoint_name: str, variant: str) -> str:
    """Application Auto Scaling's id for a SageMaker variant: `endpoint/<endpoint>/variant/<variant>`."""
    return f"endpoint/{endpoint_name}/variant/{variant}"


def deregister_changing_variants(endpoint_name: str, instance_types: Mapping[str, str], clients: Clients) -> list[str]:
    """Deregister the scalable targets of the variants of `endpoint_name` whose instance type is not
    the one in `instance_types` (variant name -> the type the update deploys; a variant not in it
    is being removed). Returns the resource ids deregistered; nothing when the endpoint does not
    exist yet. Deregistering a target also deletes its scaling policies (Application Auto
    Scaling DeregisterScalableTarget)."""
    sagemaker = clients("sagemaker")
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=endpoint_name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ValidationException":
            return []  # not created yet: nothing is registered
        raise
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    running = [*config["ProductionVariants"], *config.get("ShadowProductionVariants", [])]
    changing = [
        scaling_resource_id(endpoint_name, v["VariantName"])
        for v in running
        if instance_types.get(v["VariantName"]) != v.get("InstanceType")
    ]
    if not changing:
        return []
    scaling = clients("application-autoscaling")
    registered = scaling.describe_scalable_targets(ServiceNamespace=NAMESPACE, ResourceIds=changing)
    deregistered: list[str] = []
    for target in registered["ScalableTargets"]:
        scaling.deregister_scalable_target(
            ServiceNamespace=NAMESPACE, ResourceId=target["ResourceId"], ScalableDimension=target["ScalableDimension"]
        )
        deregistered.append(target["ResourceId"])
    return deregistered


def before_instance_change(
    name: str, region: str, endpoint_name: str, instance_types: Mapping[str, str], clients: Clients | None = None
) -> pulumi.ResourceHook:
    """The endpoint's `before_update` hook: `deregister_changing_variants` with boto3 clients for
    `region` (the credentials the Pulumi CLI runs with)."""
    make = clients or (lambda service: boto3.client(service, region_name=region))

    def deregister(args: pulumi.ResourceHookArgs) -> None:
        for resource_id in deregister_changing_variants(endpoint_name, instance_types, make):
            pulumi.log.info(f"deregistered scalable target {resource_id} before the instance-type change")

    return pulumi.ResourceHook(name, deregister)
