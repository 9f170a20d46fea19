"""A private Vertex AI endpoint that serves: models deployed at the stack's split, alert-gated rollout.

Per endpoint: a least-privilege service account the model containers run as, the `AiEndpoint`
(Private Service Connect only, CMEK, request-response logging to BigQuery where the environment
captures), the two alert policies that gate a rollout (5xx share and p95 latency, PromQL over the
endpoint's Vertex AI metrics), the `VertexDeployment` that uploads, deploys and moves traffic, and
the PSC consumer address and forwarding rule that make the endpoint reachable in the stack's VPC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from infra.clouds.gcp.artifacts import OBJECT_VIEWER, read_condition
from infra.clouds.gcp.deployment import VertexDeployment
from infra.clouds.gcp.keys import KeyUse
from infra.clouds.gcp.machines import machine_type, vertex_accelerator
from infra.clouds.options import child
from infra.plan import ALARM_PERIODS, EndpointPlan, ModelPlan
from infra.runtime import engine_config, engine_routes

VERTEX_ENDPOINT = 'monitored_resource="aiplatform.googleapis.com/Endpoint"'
RESPONSES = "aiplatform_googleapis_com:prediction_online_response_count"
LATENCIES = "aiplatform_googleapis_com:prediction_online_prediction_latencies_bucket"
# The per-replica signal Vertex AI scales on (MachineSpec with GPUs: duty cycle; without: CPU), in
# percent, as AutoscalingMetricSpec documents them (aiplatform v1 discovery document).
GPU_SIGNAL = "aiplatform.googleapis.com/prediction/online/accelerator/duty_cycle"
CPU_SIGNAL = "aiplatform.googleapis.com/prediction/online/cpu/utilization"
UTILIZATION_TARGET = 60


@dataclass(frozen=True)
class ManagedEndpointArgs:
    project: str
    region: str
    environment: str
    endpoint: EndpointPlan
    endpoint_id: str  # Vertex AI endpoint id (naming layer)
    service_account_id: str
    alert_names: dict[str, str]  # alert kind -> display name
    image_base: str  # this stack's registry URL: image_tag models run `<image_base>:<tag>`
    bucket_name: str
    log_sampling_percent: int  # 0: no request-response logging
    dataset_id: pulumi.Input[str] | None  # where requests are logged (None: nowhere)
    key: KeyUse
    network_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]  # where the PSC consumer address lives


class ManagedEndpoint(pulumi.ComponentResource):
    endpoint_name: pulumi.Output[str]  # projects/<p>/locations/<r>/endpoints/<id>
    split: pulumi.Output[dict[str, int]]  # revision -> percent, as deployed (what `verify` expects)
    private_address: pulumi.Output[str]  # the PSC address clients in the VPC call

    def __init__(self, name: str, args: ManagedEndpointArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # The environment is registered with the component so stack policies can hold it to the
        # environment's rules (prod: two replicas, canary-first).
        super().__init__("ml-serving:gcp:ManagedEndpoint", name, {"environment": args.environment}, opts)
        plan = args.endpoint
        account = gcp.serviceaccount.Account(
            f"{name}-serving",
            account_id=args.service_account_id,
            display_name=f"ml-serving {plan.name}: model containers",
            description="Runs this endpoint's model containers; reads only their artifacts.",
            opts=child(self),
        )
        reads = self._artifact_read(name, args, account)
        logging: gcp.vertex.AiEndpointPredictRequestResponseLoggingConfigArgsDict | None = None
        if args.log_sampling_percent and args.dataset_id is not None:
            logging = {
                "enabled": True,
                "sampling_rate": args.log_sampling_percent / 100,
                "bigquery_destination": {
                    "output_uri": pulumi.Output.concat("bq://", args.project, ".", args.dataset_id)
                },
            }
        endpoint = gcp.vertex.AiEndpoint(
            f"{name}-endpoint",
            name=args.endpoint_id,
            display_name=args.endpoint_id,
            description=f"ml-serving endpoint {plan.name}",
            location=args.region,
            region=args.region,
            encryption_spec={"kms_key_name": args.key.key_id},
            # Reachable only through a forwarding rule in an allowed project's VPC, never publicly.
            private_service_connect_config={
                "enable_private_service_connect": True,
                "project_allowlists": [args.project],
            },
            predict_request_response_logging_config=logging,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.key.grants)),
        )
        alerts = self._alerts(name, args)
        deployment = VertexDeployment(
            f"{name}-deployment",
            {
                "project": args.project,
                "region": args.region,
                "endpoint_id": args.endpoint_id,
                "models": [self._model(args, m, account) for m in plan.models],
                "rollout": {
                    "strategy": plan.rollout.strategy,
                    "step_percent": plan.rollout.step_percent,
                    "wait_seconds": plan.rollout.wait_seconds,
                },
                "alert_policies": [a.name for a in alerts],
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[endpoint, *reads]),
        )
        address = gcp.compute.Address(
            f"{name}-psc-address",
            address_type="INTERNAL",
            subnetwork=args.subnet_id,
            region=args.region,
            opts=child(self),
        )
        gcp.compute.ForwardingRule(
            f"{name}-psc",
            network=args.network_id,
            ip_address=address.id,
            # A PSC consumer endpoint: no load-balancing scheme, the service attachment as target.
            load_balancing_scheme="",
            target=deployment.service_attachment,
            region=args.region,
            opts=child(self),
        )
        self.endpoint_name = endpoint.id
        self.split = deployment.split
        self.private_address = address.address
        self.register_outputs(
            {"endpoint_name": self.endpoint_name, "split": self.split, "private_address": self.private_address}
        )

    def _artifact_read(
        self, name: str, args: ManagedEndpointArgs, account: gcp.serviceaccount.Account
    ) -> list[pulumi.Resource]:
        """The serving account reads its models' artifact prefixes in the stack's bucket, nothing else."""
        prefixes = sorted({m.artifact.rstrip("/") for m in args.endpoint.models if "://" not in m.artifact})
        if not prefixes:
            return []
        return [
            gcp.storage.BucketIAMMember(
                f"{name}-reads-artifacts",
                bucket=args.bucket_name,
                role=OBJECT_VIEWER,
                member=account.member,
                condition=read_condition(args.bucket_name, prefixes),
                opts=child(self),
            )
        ]

    def _model(
        self, args: ManagedEndpointArgs, model: ModelPlan, account: gcp.serviceaccount.Account
    ) -> dict[str, Any]:
        """The Vertex AI Model (upload) and DeployedModel (deploy) bodies of one model version, verbatim
        as the API takes them (camelCase)."""
        plan = args.endpoint
        image = model.image or f"{args.image_base}:{model.image_tag}"
        artifact = model.artifact if "://" in model.artifact else f"gs://{args.bucket_name}/{model.artifact}"
        # The runtime contract: what sizing decided, as the engine reads it on Vertex AI (variables, or
        # arguments after the image's entrypoint for an engine that reads only arguments).
        told = engine_config(model.runtime, plan.platform)
        # Vertex AI probes healthRoute and forwards requests to predictRoute, on the first port. An engine
        # without one predict route (Triton, per model) answers Vertex AI's default AIP_* routes itself.
        routes = engine_routes(model.runtime, plan.platform)
        served = {"healthRoute": routes.health, "predictRoute": routes.predict} if routes.predict else {}
        machine: dict[str, Any] = {"machineType": machine_type(plan.instance_type, plan.instance_extra)}
        accelerator = vertex_accelerator(plan.instance_extra)
        if accelerator is not None:
            machine |= {"acceleratorType": accelerator, "acceleratorCount": plan.gpus}
        return {
            "name": model.name,
            "weight": model.weight,
            "shadow": model.shadow,
            "model": {
                "artifactUri": artifact,
                "containerSpec": {
                    "imageUri": image,
                    "env": [{"name": k, "value": v} for k, v in sorted(told.env.items())],
                    **({"args": list(told.args)} if told.args else {}),
                    "ports": [{"containerPort": routes.port}],
                    **served,
                },
                "encryptionSpec": {"kmsKeyName": args.key.key_id},
            },
            "deployment": {
                "serviceAccount": account.email,
                "dedicatedResources": {
                    "machineSpec": machine,
                    "minReplicaCount": plan.min_replicas,
                    "maxReplicaCount": model.max_replicas,
                    "autoscalingMetricSpecs": [
                        {
                            "metricName": GPU_SIGNAL if accelerator else CPU_SIGNAL,
                            "target": UTILIZATION_TARGET,
                        }
                    ],
                },
                "enableAccessLogging": True,
            },
        }

    def _alerts(self, name: str, args: ManagedEndpointArgs) -> list[gcp.monitoring.AlertPolicy]:
        """The rollback alerts: 5xx share and p95 latency, over every deployed model of the endpoint."""
        plan = args.endpoint
        where = f'{VERTEX_ENDPOINT},endpoint_id="{args.endpoint_id}"'
        window = "5m"
        queries = {
            "error-rate": (
                f'100 * sum(rate({RESPONSES}{{{where},response_code=~"5.."}}[{window}]))'
                f" / sum(rate({RESPONSES}{{{where}}}[{window}])) > {plan.error_rate_alarm_percent:g}",
                f"5xx responses above {plan.error_rate_alarm_percent:g}% of requests",
            ),
            "p95-latency": (
                f'histogram_quantile(0.95, sum by (le) (rate({LATENCIES}{{{where},latency_type="total"}}'
                f"[{window}]))) > {plan.latency_alarm_ms:g}",
                f"p95 latency above {plan.latency_alarm_ms:g} ms",
            ),
        }
        return [
            gcp.monitoring.AlertPolicy(
                f"{name}-{kind}",
                display_name=args.alert_names[kind],
                combiner="OR",
                severity="ERROR",
                conditions=[
                    {
                        "display_name": description,
                        "condition_prometheus_query_language": {
                            "query": query,
                            "duration": f"{ALARM_PERIODS * 60}s",
                            "evaluation_interval": "60s",
                        },
                    }
                ],
                documentation={
                    "content": f"{description}: stops and rolls back a rollout to {args.endpoint_id}.",
                    "mime_type": "text/markdown",
                },
                alert_strategy={"auto_close": "1800s"},
                opts=child(self),
            )
            for kind, (query, description) in queries.items()
        ]
