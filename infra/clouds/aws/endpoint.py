"""A SageMaker real-time endpoint: models, a traffic split, alarm-gated blue/green rollout, autoscaling.

Each model version runs as its own production variant under an execution role that can read only
its own artifact, pull only this stack's images and write only its endpoint's logs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

import pulumi
import pulumi_aws as aws

from infra.clouds.aws import iam
from infra.clouds.aws.network import Network
from infra.clouds.aws.storage import ModelStore, bucket_logical_name
from infra.clouds.options import child
from infra.plan import ALARM_PERIODS, EndpointPlan, ModelPlan, Plan

ShadowVariantArgs = aws.sagemaker.EndpointConfigurationShadowProductionVariantArgsDict
MetricQuery = aws.cloudwatch.MetricAlarmMetricQueryArgsDict
ROUTING = {"canary": "CANARY", "linear": "LINEAR", "all-at-once": "ALL_AT_ONCE"}
LOG_RETENTION_DAYS = 90
CAPTURE_PREFIX = "data-capture"
METRICS = "AWS/SageMaker"
# Instance metrics SageMaker publishes with the execution role.
INSTANCE_METRICS = "/aws/sagemaker/Endpoints"
ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/(?P<repo>[^:@]+)"
)


@dataclass(frozen=True)
class Shared:
    """What every endpoint of the stack runs on."""

    network: Network
    store: ModelStore
    key: aws.kms.Key
    key_alias: str
    repository: aws.ecr.Repository
    repository_name: str


@dataclass(frozen=True)
class Variant:
    name: str
    model: ModelPlan


def variants(endpoint: EndpointPlan) -> list[Variant]:
    """Variant names by position, not by model: a blue/green update keeps its guardrails only when
    the new configuration has the same variant names, so `live-1` stays `live-1` across versions."""
    live = [m for m in endpoint.models if not m.shadow]
    shadow = [m for m in endpoint.models if m.shadow]
    return [Variant(f"live-{i}", m) for i, m in enumerate(live, 1)] + [
        Variant(f"shadow-{i}", m) for i, m in enumerate(shadow, 1)
    ]


class ManagedEndpoint(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        plan: Plan,
        endpoint: EndpointPlan,
        shared: Shared,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        # The environment is registered with the component so stack policies can hold it to the
        # environment's rules (prod: two instances, canary-first).
        super().__init__("ml-serving:aws:ManagedEndpoint", name, {"environment": plan.environment}, opts)
        self.endpoint_name = f"{plan.stack}-{endpoint.name}"
        all_variants = variants(endpoint)
        live = [v for v in all_variants if not v.model.shadow]
        shadows = [v for v in all_variants if v.model.shadow]
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=self.log_group_name,
            kms_key_id=shared.key.arn,
            retention_in_days=LOG_RETENTION_DAYS,
            opts=child(self),
        )
        models = {v.name: self._model(name, plan, endpoint, v.model, shared) for v in all_variants}

        def variant(v: Variant) -> aws.sagemaker.EndpointConfigurationProductionVariantArgsDict:
            return {
                "variant_name": v.name,
                "model_name": models[v.name].name,
                "instance_type": endpoint.instance_type,
                "initial_instance_count": endpoint.initial_replicas,
                # A shadow's weight is its share of the live variant's requests it receives a copy of.
                "initial_variant_weight": float(v.model.weight),
            }

        capture: aws.sagemaker.EndpointConfigurationDataCaptureConfigArgsDict | None = None
        if plan.data_capture:
            capture = {
                "enable_capture": True,
                "initial_sampling_percentage": plan.data_capture_percent,
                "destination_s3_uri": pulumi.Output.concat(
                    "s3://", shared.store.bucket.bucket, f"/{CAPTURE_PREFIX}/{endpoint.name}"
                ),
                "kms_key_id": shared.key.arn,
                "capture_options": [{"capture_mode": "Input"}, {"capture_mode": "Output"}],
                "capture_content_type_header": {"json_content_types": ["application/json"]},
            }
        # No name: every change to a configuration replaces it, and only a new name makes the
        # endpoint pick the new one up (terraform-provider-aws PR #48993).
        self.config = aws.sagemaker.EndpointConfiguration(
            f"{name}-config",
            production_variants=[variant(v) for v in live],
            # The shadow variant's settings are the production variant's, under another name.
            shadow_production_variants=[cast(ShadowVariantArgs, variant(v)) for v in shadows] or None,
            kms_key_arn=shared.key.arn,
            data_capture_config=capture,
            opts=child(self),
        )
        alarms = self._alarms(name, endpoint, live)
        rollout = endpoint.rollout
        routing: aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationArgsDict = {
            "type": ROUTING[rollout.strategy],
            "wait_interval_in_seconds": rollout.wait_seconds,
        }
        if rollout.strategy == "canary":
            routing["canary_size"] = {"type": "CAPACITY_PERCENT", "value": rollout.step_percent}
        elif rollout.strategy == "linear":
            routing["linear_step_size"] = {"type": "CAPACITY_PERCENT", "value": rollout.step_percent}
        self.endpoint = aws.sagemaker.Endpoint(
            f"{name}-endpoint",
            name=self.endpoint_name,
            endpoint_config_name=self.config.name,
            deployment_config={
                "blue_green_update_policy": {
                    "traffic_routing_configuration": routing,
                    # Bake the new fleet once it takes all traffic before the old one goes.
                    "termination_wait_in_seconds": rollout.wait_seconds,
                },
                "auto_rollback_configuration": {"alarms": [{"alarm_name": a} for a in alarms]},
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(alarms.values())),
        )
        for v in all_variants:
            self._autoscaling(name, endpoint, v)
        self.register_outputs({"endpoint_name": self.endpoint_name, "endpoint_config_name": self.config.name})

    def _model(
        self, name: str, plan: Plan, endpoint: EndpointPlan, model: ModelPlan, shared: Shared
    ) -> aws.sagemaker.Model:
        role = iam.role(f"{name}-{model.name}-role", "sagemaker.amazonaws.com", child(self))
        access = aws.iam.RolePolicy(
            f"{name}-{model.name}-access",
            role=role.id,
            policy=iam.document(self._statements(plan, endpoint, model, shared)),
            opts=child(self),
        )
        if model.image is not None:
            image: pulumi.Input[str] = model.image
        else:
            image = pulumi.Output.concat(shared.repository.repository_url, ":", model.image_tag or "")
        if "://" in model.artifact:
            artifact: pulumi.Input[str] = model.artifact
        else:
            artifact = pulumi.Output.concat("s3://", shared.store.bucket.bucket, "/", model.artifact)
        return aws.sagemaker.Model(
            f"{name}-{model.name}",
            execution_role_arn=role.arn,
            primary_container={"image": image, "model_data_url": artifact},
            vpc_config={
                "subnets": shared.network.subnet_ids,
                "security_group_ids": [shared.network.workload_security_group.id],
            },
            # The container gets no network at all; SageMaker fetches the artifact and image for it.
            enable_network_isolation=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[access]),
        )

    def _statements(self, plan: Plan, endpoint: EndpointPlan, model: ModelPlan, shared: Shared) -> list[iam.Statement]:
        region = plan.region
        bucket = f"{bucket_logical_name(plan)}-*"
        if "://" in model.artifact:
            bucket, _, key = model.artifact.split("://", 1)[1].partition("/")
        else:
            key = model.artifact
        # The directory the artifact sits in (or the object itself when it has none).
        prefix = key.rsplit("/", 1)[0] + "/*" if "/" in key else key
        log_group = iam.arn(region, "logs", f"log-group:{self.log_group_name}")
        key_actions = ["kms:Decrypt"]
        statements: list[iam.Statement] = [
            {
                "Sid": "ReadOwnArtifact",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"arn:{iam.partition(region)}:s3:::{bucket}/{prefix}",
            },
            {
                "Sid": "PullImage",
                "Effect": "Allow",
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                "Resource": self._repository_arn(plan, endpoint, model, shared),
            },
            {
                # AWS-required exception: GetAuthorizationToken has no resource to scope to; the
                # token alone reads nothing without the repository permission above.
                "Sid": "RegistryToken",
                "Effect": "Allow",
                "Action": "ecr:GetAuthorizationToken",
                "Resource": "*",
            },
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": [log_group, f"{log_group}:log-stream:*"],
            },
            {
                # AWS-required exception: PutMetricData has no resources; the namespace condition scopes it.
                "Sid": "WriteInstanceMetrics",
                "Effect": "Allow",
                "Action": "cloudwatch:PutMetricData",
                "Resource": "*",
                "Condition": {"StringEquals": {"cloudwatch:namespace": INSTANCE_METRICS}},
            },
            {
                # SageMaker attaches the model's network interfaces in our subnets with this role.
                "Sid": "AttachToPrivateSubnets",
                "Effect": "Allow",
                "Action": [
                    "ec2:CreateNetworkInterface",
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                ],
                "Resource": [
                    iam.arn(region, "ec2", "network-interface/*"),
                    iam.arn(region, "ec2", "subnet/*"),
                    iam.arn(region, "ec2", "security-group/*"),
                ],
            },
            {
                # AWS-required exception: EC2 Describe calls support no resource-level permissions.
                "Sid": "DescribeNetwork",
                "Effect": "Allow",
                "Action": [
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeVpcs",
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                ],
                "Resource": "*",
            },
        ]
        if plan.data_capture:
            statements.append(
                {
                    "Sid": "WriteOwnCapture",
                    "Effect": "Allow",
                    "Action": "s3:PutObject",
                    "Resource": f"arn:{iam.partition(region)}:s3:::{bucket_logical_name(plan)}-*/"
                    f"{CAPTURE_PREFIX}/{endpoint.name}/*",
                }
            )
            key_actions += ["kms:GenerateDataKey", "kms:Encrypt"]
        statements.append({"Sid": "UseStackKey", **iam.key_usage(region, shared.key_alias, key_actions)})
        return statements

    @property
    def log_group_name(self) -> str:
        return f"/aws/sagemaker/Endpoints/{self.endpoint_name}"

    @staticmethod
    def _repository_arn(plan: Plan, endpoint: EndpointPlan, model: ModelPlan, shared: Shared) -> str:
        if model.image is None:
            return iam.arn(plan.region, "ecr", f"repository/{shared.repository_name}")
        found = ECR_IMAGE.match(model.image)
        assert found is not None  # the spec admits only ECR images for managed endpoints
        region = found["region"]
        return f"arn:{iam.partition(region)}:ecr:{region}:{found['account']}:repository/{found['repo']}"

    def _alarms(self, name: str, endpoint: EndpointPlan, live: list[Variant]) -> dict[str, aws.cloudwatch.MetricAlarm]:
        """The rollback alarms, over every live variant: 5xx share and p95 model latency."""

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
                        "dimensions": {"EndpointName": self.endpoint_name, "VariantName": v.name},
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
                # ModelLatency is reported in microseconds.
                endpoint.latency_alarm_ms * 1000,
                f"p95 model latency above {endpoint.latency_alarm_ms:g} ms",
            ),
        }
        alarms: dict[str, aws.cloudwatch.MetricAlarm] = {}
        for suffix, (expression, queries, threshold, description) in specs.items():
            alarm_name = f"{self.endpoint_name}-{suffix}"
            alarms[alarm_name] = aws.cloudwatch.MetricAlarm(
                f"{name}-{suffix}",
                name=alarm_name,
                alarm_description=f"{description}: rolls back a deployment of {self.endpoint_name}",
                comparison_operator="GreaterThanThreshold",
                threshold=threshold,
                evaluation_periods=ALARM_PERIODS,
                datapoints_to_alarm=ALARM_PERIODS,
                # No traffic is no evidence of failure.
                treat_missing_data="notBreaching",
                metric_queries=[{"id": "signal", "expression": expression, "return_data": True}, *queries],
                opts=child(self),
            )
        return alarms

    def _autoscaling(self, name: str, endpoint: EndpointPlan, variant: Variant) -> None:
        """Target tracking on invocations per instance.

        SageMaker refuses an update that changes an autoscaled variant's instance type (or removes
        the variant) until its scalable target is deregistered, and the provider's update does not
        retain the autoscaled instance count (RetainAllVariantProperties): a new configuration
        starts from `initial_instance_count`.
        """
        target = aws.appautoscaling.Target(
            f"{name}-{variant.name}-scaling",
            service_namespace="sagemaker",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            resource_id=f"endpoint/{self.endpoint_name}/variant/{variant.name}",
            min_capacity=endpoint.min_replicas,
            max_capacity=variant.model.max_replicas,
            # The resource id is a plain string: the variant must exist before it is registered.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.endpoint]),
        )
        aws.appautoscaling.Policy(
            f"{name}-{variant.name}-invocations",
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration={
                # Invocations per instance per minute.
                "target_value": endpoint.target_rps_per_replica * 60,
                "predefined_metric_specification": {"predefined_metric_type": "SageMakerVariantInvocationsPerInstance"},
                "scale_out_cooldown": 60,
                "scale_in_cooldown": 300,
            },
            opts=child(self),
        )
