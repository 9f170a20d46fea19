"""Autoscaling of a SageMaker endpoint's variants: target tracking on invocations per instance."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.clouds.aws.endpoint_args import ManagedEndpointArgs, Variant
from infra.clouds.aws.rescale import DIMENSION, NAMESPACE, scaling_resource_id
from infra.clouds.options import renamed

SCALE_OUT_COOLDOWN_S = 60
SCALE_IN_COOLDOWN_S = 300


def autoscale(
    parent: pulumi.Resource,
    name: str,
    args: ManagedEndpointArgs,
    variant: Variant,
    endpoint: aws.sagemaker.Endpoint,
) -> None:
    """The variant's scalable target (`<name>-<variant>-scaling`) and its policy.

    SageMaker refuses an update that changes an autoscaled variant's instance type (or removes
    the variant) while its scalable target is registered (terraform-provider-aws #14337): the
    endpoint's before-update hook deregisters it (`rescale`), and the target and its policy are
    replaced with the instance type, the old deleted first, after the endpoint (they depend on
    it), so they register against the new fleet in the same `pulumi up`. The provider's update
    does not retain the autoscaled instance count (RetainAllVariantProperties): a new
    configuration starts from `initial_instance_count`.
    """
    replaced_with_type = pulumi.ResourceOptions(
        replacement_trigger=args.endpoint.instance_type, delete_before_replace=True
    )
    target = aws.appautoscaling.Target(
        f"{name}-{variant.name}-scaling",
        service_namespace=NAMESPACE,
        scalable_dimension=DIMENSION,
        resource_id=scaling_resource_id(args.endpoint_name, variant.name),
        min_capacity=args.endpoint.min_replicas,
        max_capacity=variant.model.max_replicas,
        # The resource id is a plain string: the variant must exist before it is registered.
        opts=pulumi.ResourceOptions.merge(
            pulumi.ResourceOptions(parent=parent, depends_on=[endpoint]), replaced_with_type
        ),
    )
    policy_name = args.names("appautoscaling_policy", args.endpoint.name, "invocations", variant.name)
    aws.appautoscaling.Policy(
        policy_name,
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
        opts=pulumi.ResourceOptions.merge(
            renamed(parent, f"{name}-{variant.name}-invocations", policy_name), replaced_with_type
        ),
    )
