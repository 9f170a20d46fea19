"""Autoscaling of a SageMaker endpoint's variants: target tracking on invocations per instance."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.clouds.aws.endpoint_args import ManagedEndpointArgs, Variant
from infra.clouds.options import child

SCALE_OUT_COOLDOWN_S = 60
SCALE_IN_COOLDOWN_S = 300


def autoscale(
    parent: pulumi.Resource,
    name: str,
    args: ManagedEndpointArgs,
    variant: Variant,
    endpoint: aws.sagemaker.Endpoint,
) -> None:
    """The variant's scalable target (`<name>-<variant>-scaling`) and policy (`...-invocations`).

    SageMaker refuses an update that changes an autoscaled variant's instance type (or removes
    the variant) until its scalable target is deregistered, and the provider's update does not
    retain the autoscaled instance count (RetainAllVariantProperties): a new configuration
    starts from `initial_instance_count`.
    """
    target = aws.appautoscaling.Target(
        f"{name}-{variant.name}-scaling",
        service_namespace="sagemaker",
        scalable_dimension="sagemaker:variant:DesiredInstanceCount",
        resource_id=f"endpoint/{args.endpoint_name}/variant/{variant.name}",
        min_capacity=args.endpoint.min_replicas,
        max_capacity=variant.model.max_replicas,
        # The resource id is a plain string: the variant must exist before it is registered.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[endpoint]),
    )
    aws.appautoscaling.Policy(
        f"{name}-{variant.name}-invocations",
        policy_type="TargetTrackingScaling",
        service_namespace=target.service_namespace,
        scalable_dimension=target.scalable_dimension,
        resource_id=target.resource_id,
        target_tracking_scaling_policy_configuration={
            # Invocations per instance per minute.
            "target_value": args.endpoint.target_rps_per_replica * 60,
            "predefined_metric_specification": {"predefined_metric_type": "SageMakerVariantInvocationsPerInstance"},
            "scale_out_cooldown": SCALE_OUT_COOLDOWN_S,
            "scale_in_cooldown": SCALE_IN_COOLDOWN_S,
        },
        opts=child(parent),
    )
