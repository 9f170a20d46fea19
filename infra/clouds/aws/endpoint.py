"""A SageMaker real-time endpoint: models, a traffic split, alarm-gated blue/green rollout, autoscaling.

Each model version runs as its own production variant under an execution role that can read only
its own artifact, pull only this stack's images and write only its endpoint's logs (`roles`);
rollback alarms (`alarms`) gate every deployment; each variant scales on its own (`scaling`).
"""

from __future__ import annotations

from typing import cast

import pulumi
import pulumi_aws as aws

from infra.clouds.aws.alarms import rollback_alarms
from infra.clouds.aws.endpoint_args import CAPTURE_PREFIX, ManagedEndpointArgs, Variant, variants
from infra.clouds.aws.rescale import before_instance_change
from infra.clouds.aws.roles import execution_role
from infra.clouds.aws.scaling import autoscale
from infra.clouds.options import child, renamed
from infra.plan import ModelPlan, RolloutPlan
from infra.runtime import engine_config

ShadowVariantArgs = aws.sagemaker.EndpointConfigurationShadowProductionVariantArgsDict
RoutingArgs = aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationArgsDict
ROUTING = {"canary": "CANARY", "linear": "LINEAR", "all-at-once": "ALL_AT_ONCE"}
LOG_RETENTION_DAYS = 90


class ManagedEndpoint(pulumi.ComponentResource):
    """`ml-serving:aws:ManagedEndpoint`: one endpoint, its configuration, models, roles, alarms and
    scaling. The environment is registered with the component so stack policies can hold its
    endpoint to the environment's rules (prod: two instances, canary-first).

    Outputs: `endpoint_name` and `endpoint_config_name` (what `verify` checks after `pulumi up`).
    """

    endpoint_name: pulumi.Output[str]
    endpoint_config_name: pulumi.Output[str]

    def __init__(self, name: str, args: ManagedEndpointArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:aws:ManagedEndpoint", name, {"environment": args.environment}, opts)
        plan = args.endpoint
        all_variants = variants(plan)
        live = [v for v in all_variants if not v.model.shadow]
        shadows = [v for v in all_variants if v.model.shadow]
        aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=args.log_group_name,
            kms_key_id=args.key_arn,
            retention_in_days=LOG_RETENTION_DAYS,
            opts=child(self),
        )
        models = {v.name: self._model(name, args, v.model) for v in all_variants}

        def variant(v: Variant) -> aws.sagemaker.EndpointConfigurationProductionVariantArgsDict:
            return {
                "variant_name": v.name,
                "model_name": models[v.name].name,
                "instance_type": plan.instance_type,
                "initial_instance_count": plan.initial_replicas,
                # A shadow's weight is its share of the live variant's requests it receives a copy of.
                "initial_variant_weight": float(v.model.weight),
                # The defaults are too short for a large model to download and load (plan: from its weights).
                "model_data_download_timeout_in_seconds": plan.download_timeout_s,
                "container_startup_health_check_timeout_in_seconds": plan.startup_timeout_s,
            }

        # No name: every change to a configuration replaces it, and only a new name makes the
        # endpoint pick the new one up (terraform-provider-aws PR #48993).
        config_name = args.names("sagemaker_endpoint_config", plan.name)
        config = aws.sagemaker.EndpointConfiguration(
            config_name,
            production_variants=[variant(v) for v in live],
            # The shadow variant's settings are the production variant's, under another name.
            shadow_production_variants=[cast(ShadowVariantArgs, variant(v)) for v in shadows] or None,
            kms_key_arn=args.key_arn,
            data_capture_config=_capture(args),
            opts=renamed(self, f"{name}-config", config_name),
        )
        alarms = rollback_alarms(self, name, args, live)
        endpoint = aws.sagemaker.Endpoint(
            f"{name}-endpoint",
            name=args.endpoint_name,
            endpoint_config_name=config.name,
            deployment_config={
                "blue_green_update_policy": {
                    "traffic_routing_configuration": _routing(plan.rollout),
                    # Bake the new fleet once it takes all traffic before the old one goes.
                    "termination_wait_in_seconds": plan.rollout.wait_seconds,
                },
                "auto_rollback_configuration": {"alarms": [{"alarm_name": a} for a in alarms]},
            },
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(alarms.values()),
                # SageMaker refuses to move an autoscaled variant to another instance type: its
                # scalable target goes first (`scaling` registers it again, replaced with the type).
                hooks=pulumi.ResourceHookBinding(
                    before_update=[
                        before_instance_change(
                            f"{name}-deregister-scaling",
                            args.region,
                            args.endpoint_name,
                            {v.name: plan.instance_type for v in all_variants},
                        )
                    ]
                ),
            ),
        )
        for v in all_variants:
            autoscale(self, name, args, v, endpoint)
        self.endpoint_name = endpoint.name
        self.endpoint_config_name = config.name
        self.register_outputs({"endpoint_name": self.endpoint_name, "endpoint_config_name": self.endpoint_config_name})

    def _model(self, name: str, args: ManagedEndpointArgs, model: ModelPlan) -> aws.sagemaker.Model:
        role, access = execution_role(self, name, args, model)
        if model.image is not None:
            image: pulumi.Input[str] = model.image
        else:
            image = pulumi.Output.concat(args.repository_url, ":", model.image_tag or "")
        if "://" in model.artifact:
            artifact: pulumi.Input[str] = model.artifact
        else:
            artifact = pulumi.Output.concat("s3://", args.bucket_name, "/", model.artifact)
        model_name = args.names("sagemaker_model", args.endpoint.name, model.name)
        return aws.sagemaker.Model(
            model_name,
            execution_role_arn=role.arn,
            # What sizing decided, as the serving engine reads it on SageMaker (infra/engines.yaml):
            # a SageMaker container takes environment variables only.
            primary_container={
                "image": image,
                "model_data_url": artifact,
                "environment": engine_config(model.runtime, args.endpoint.platform).env,
            },
            vpc_config={"subnets": args.subnet_ids, "security_group_ids": [args.security_group_id]},
            # The container gets no network at all; SageMaker fetches the artifact and image for it.
            enable_network_isolation=True,
            opts=renamed(self, f"{name}-{model.name}", model_name, depends_on=[access]),
        )


def _capture(args: ManagedEndpointArgs) -> aws.sagemaker.EndpointConfigurationDataCaptureConfigArgsDict | None:
    """Request and response capture into the model store, encrypted with the stack's key."""
    if args.data_capture_percent is None:
        return None
    return {
        "enable_capture": True,
        "initial_sampling_percentage": args.data_capture_percent,
        "destination_s3_uri": pulumi.Output.concat(
            "s3://", args.bucket_name, f"/{CAPTURE_PREFIX}/{args.endpoint.name}"
        ),
        "kms_key_id": args.key_arn,
        "capture_options": [{"capture_mode": "Input"}, {"capture_mode": "Output"}],
        "capture_content_type_header": {"json_content_types": ["application/json"]},
    }


def _routing(rollout: RolloutPlan) -> RoutingArgs:
    """Blue/green traffic shifting: all at once, or canary/linear steps of the plan's size."""
    routing: RoutingArgs = {"type": ROUTING[rollout.strategy], "wait_interval_in_seconds": rollout.wait_seconds}
    if rollout.strategy == "canary":
        routing["canary_size"] = {"type": "CAPACITY_PERCENT", "value": rollout.step_percent}
    elif rollout.strategy == "linear":
        routing["linear_step_size"] = {"type": "CAPACITY_PERCENT", "value": rollout.step_percent}
    return routing
