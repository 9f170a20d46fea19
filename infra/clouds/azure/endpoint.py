"""An Azure ML managed online endpoint: one deployment per model version, autoscaling and metric
alerts per endpoint, and the traffic split as its own alert-gated step after the deployments.

Every union-typed body (a deployment's properties, an alert's criteria, a datastore) is passed as
the SDK's Args class: as a plain dict the provider cannot tell which member it is, its keys reach
the engine in snake_case, and Azure ignores them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypedDict

import pulumi
import pulumi_azure_native as azure

from infra.clouds.azure.site import Site
from infra.clouds.azure.traffic import EndpointTraffic, TrafficArgs
from infra.clouds.options import child
from infra.plan import EndpointPlan, ModelPlan
from infra.runtime import engine_config, engine_routes

ml = azure.machinelearningservices
Direction = azure.monitor.ScaleDirection
Comparison = azure.monitor.ComparisonOperationType
METRICS = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
# The metric alerts each endpoint gets (what `_alerts` builds), the traffic step reads between steps.
ALERTS = ("p95-latency", "5xx")
# Alerts and autoscale read five-minute windows, evaluated every minute.
WINDOW = "PT5M"
WINDOW_MINUTES = 5


@dataclass(frozen=True)
class ManagedEndpointArgs:
    """One endpoint's plan, its names (naming layer), and what it runs on: the workspace, the
    registry its images come from and the model store's container its identity reads.

    `data_capture_percent` is None when the environment captures nothing. `workspace_name` is the
    workspace resource's name (it carries the dependency on the workspace)."""

    site: Site
    environment: str
    endpoint: EndpointPlan
    endpoint_name: str
    deployment_names: dict[str, str]  # model version -> its deployment's name
    alert_names: dict[str, str]  # each of ALERTS -> its metric alert rule's name
    data_capture_percent: int | None
    workspace_id: pulumi.Input[str]
    workspace_name: pulumi.Input[str]
    datastore: str  # the workspace's datastore for the models container
    registry_id: pulumi.Input[str]
    login_server: pulumi.Input[str]
    image_repository: str  # the repository image_tag models run from: `<login_server>/<repository>:<tag>`
    account_id: pulumi.Input[str]
    container_name: pulumi.Input[str]


class AssetVersion(TypedDict):
    """Where a version of an endpoint's workspace asset (model, environment) is registered: under
    the endpoint's name, versioned by the model version it serves."""

    resource_group_name: pulumi.Input[str]
    workspace_name: pulumi.Input[str]
    name: str
    version: str


def seconds(value: int) -> str:
    """An ISO 8601 duration in whole seconds, as Azure ML takes them (e.g. PT90S)."""
    return f"PT{value}S"


class ManagedEndpoint(pulumi.ComponentResource):
    """Outputs: `endpoint_name`, `endpoint_id`, `split` (deployment -> live %), `mirror` (deployment -> copied %)."""

    endpoint_name: str
    endpoint_id: pulumi.Output[str]
    split: dict[str, int]
    mirror: dict[str, int]

    def __init__(self, name: str, args: ManagedEndpointArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # The environment is registered with the component so stack policies can hold it to the
        # environment's rules (prod: two instances, canary-first).
        super().__init__("ml-serving:azure:ManagedEndpoint", name, {"environment": args.environment}, opts)
        site, endpoint = args.site, args.endpoint
        self.endpoint_name = args.endpoint_name
        identity = azure.managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_group_name=site.group_name,
            location=site.location,
            tags=site.tags,
            opts=child(self),
        )
        # What the deployments' containers may do: pull this stack's images, read the models
        # container, write metrics. Nothing at the subscription.
        grants = [
            site.grant(f"{name}-pull", identity.principal_id, "AcrPull", args.registry_id, self),
            site.grant(
                f"{name}-read-models",
                identity.principal_id,
                "Storage Blob Data Reader",
                pulumi.Output.concat(args.account_id, "/blobServices/default/containers/", args.container_name),
                self,
            ),
            site.grant(
                f"{name}-metrics",
                identity.principal_id,
                "AzureML Metrics Writer (preview)",
                args.workspace_id,
                self,
            ),
        ]
        self._endpoint = ml.OnlineEndpoint(
            f"{name}-endpoint",
            resource_group_name=site.group_name,
            workspace_name=args.workspace_name,
            endpoint_name=self.endpoint_name,
            location=site.location,
            kind="Managed",
            identity=ml.ManagedServiceIdentityArgs(type="UserAssigned", user_assigned_identities=[identity.id]),
            # No traffic here: it names deployments, which need this endpoint first (EndpointTraffic).
            properties=ml.OnlineEndpointPropertiesArgs(
                auth_mode="AADToken",
                public_network_access="Disabled",
                description=f"ml-serving {site.stack}: {endpoint.name}",
            ),
            tags=site.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=grants),
        )
        self.endpoint_id = self._endpoint.id
        deployments = [self._deployment(name, args, model) for model in endpoint.models]
        alerts = self._alerts(name, args)
        self.split = {args.deployment_names[m.name]: m.weight for m in endpoint.models if not m.shadow}
        self.mirror = {args.deployment_names[m.name]: m.weight for m in endpoint.models if m.shadow}
        EndpointTraffic(
            f"{name}-traffic",
            TrafficArgs(
                endpoint_id=self.endpoint_id,
                split=self.split,
                mirror=self.mirror,
                strategy=endpoint.rollout.strategy,
                step_percent=endpoint.rollout.step_percent,
                wait_seconds=endpoint.rollout.wait_seconds,
                alert_ids=[a.id for a in alerts],
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*deployments, *alerts]),
        )
        self.register_outputs(
            {
                "endpoint_name": self.endpoint_name,
                "endpoint_id": self.endpoint_id,
                "split": self.split,
                "mirror": self.mirror,
            }
        )

    def _deployment(
        self, name: str, args: ManagedEndpointArgs, model: ModelPlan
    ) -> azure.machinelearningservices.OnlineDeployment:
        site, endpoint = args.site, args.endpoint
        if "://" in model.artifact:
            model_uri: pulumi.Input[str] = model.artifact
        else:
            model_uri = f"azureml://datastores/{args.datastore}/paths/{model.artifact}"
        asset = AssetVersion(
            resource_group_name=site.group_name,
            workspace_name=args.workspace_name,
            name=endpoint.name,
            version=model.name,
        )
        version = ml.ModelVersion(
            f"{name}-{model.name}-model",
            **asset,
            properties=ml.ModelVersionPropertiesArgs(
                model_type="custom_model",
                model_uri=model_uri,
                description=f"{endpoint.name} {model.name}",
            ),
            opts=child(self),
        )
        runtime = model.runtime
        # The engine's own routes and port (engines.yaml `http`): Azure ML probes and scores there.
        routes = engine_routes(runtime, endpoint.platform)
        if model.image is not None:
            image: pulumi.Input[str] = model.image
        else:
            image = pulumi.Output.concat(args.login_server, "/", args.image_repository, ":", model.image_tag or "")
        environment = ml.EnvironmentVersion(
            f"{name}-{model.name}-environment",
            **asset,
            properties=ml.EnvironmentVersionPropertiesArgs(
                image=image,
                os_type="Linux",
                inference_config=ml.InferenceContainerPropertiesArgs(
                    liveness_route=ml.RouteArgs(path=routes.health, port=routes.port),
                    readiness_route=ml.RouteArgs(path=routes.health, port=routes.port),
                    scoring_route=ml.RouteArgs(path=routes.scoring, port=routes.port),
                ),
            ),
            opts=child(self),
        )
        collector = None
        if args.data_capture_percent is not None:
            rate = args.data_capture_percent / 100
            collector = ml.DataCollectorArgs(
                collections={
                    kind: ml.CollectionArgs(data_collection_mode="Enabled", sampling_rate=rate)
                    for kind in ("request", "response")
                },
                rolling_rate="Hour",
            )
        deployment = ml.OnlineDeployment(
            f"{name}-{model.name}",
            resource_group_name=site.group_name,
            workspace_name=args.workspace_name,
            endpoint_name=self._endpoint.name,
            deployment_name=args.deployment_names[model.name],
            location=site.location,
            kind="Managed",
            sku=ml.SkuArgs(name="Default", capacity=endpoint.initial_replicas),
            properties=ml.ManagedOnlineDeploymentArgs(
                endpoint_compute_type="Managed",
                instance_type=endpoint.instance_type,
                model=version.id,
                environment_id=environment.id,
                # A managed deployment takes no container arguments: the engine is told through its
                # environment (the engine table's variables, which the serving images read).
                environment_variables=engine_config(runtime, endpoint.platform).env,
                # Instance counts follow the autoscale setting below.
                scale_settings=ml.DefaultScaleSettingsArgs(scale_type="Default"),
                request_settings=ml.OnlineRequestSettingsArgs(
                    request_timeout=seconds(endpoint.request_timeout_seconds),
                    # Azure ML's default is 1 request per instance: a batching server would answer 429s.
                    max_concurrent_requests_per_instance=runtime.max_num_seqs * runtime.copies_per_server,
                ),
                # Liveness waits for the weights to load; readiness keeps traffic off until they have.
                liveness_probe=ml.ProbeSettingsArgs(
                    initial_delay=seconds(endpoint.startup_timeout_s),
                    period=seconds(10),
                    timeout=seconds(5),
                    failure_threshold=30,
                    success_threshold=1,
                ),
                readiness_probe=ml.ProbeSettingsArgs(
                    initial_delay=seconds(30),
                    period=seconds(10),
                    timeout=seconds(5),
                    failure_threshold=math.ceil(endpoint.startup_timeout_s / 10),
                    success_threshold=1,
                ),
                app_insights_enabled=True,
                data_collector=collector,
            ),
            tags=site.tags,
            opts=child(self),
        )
        self._autoscale(name, args, model, deployment)
        return deployment

    def _autoscale(
        self,
        name: str,
        args: ManagedEndpointArgs,
        model: ModelPlan,
        deployment: azure.machinelearningservices.OnlineDeployment,
    ) -> None:
        """Requests per minute per instance against the plan's target, from the endpoint's metric
        filtered to this deployment: out by one instance above it, in by one below half of it."""
        site, endpoint = args.site, args.endpoint
        per_minute = endpoint.target_rps_per_replica * 60

        def rule(
            direction: azure.monitor.ScaleDirection,
            operator: azure.monitor.ComparisonOperationType,
            threshold: float,
            cooldown: str,
        ) -> azure.monitor.ScaleRuleArgs:
            return azure.monitor.ScaleRuleArgs(
                metric_trigger=azure.monitor.MetricTriggerArgs(
                    metric_name="RequestsPerMinute",
                    metric_namespace=METRICS,
                    metric_resource_uri=self.endpoint_id,
                    dimensions=[
                        azure.monitor.ScaleRuleMetricDimensionArgs(
                            dimension_name="deployment",
                            operator="Equals",
                            values=[args.deployment_names[model.name]],
                        )
                    ],
                    divide_per_instance=True,
                    operator=operator,
                    statistic=azure.monitor.MetricStatisticType.AVERAGE,
                    threshold=round(threshold, 2),
                    time_aggregation=azure.monitor.TimeAggregationType.AVERAGE,
                    time_grain="PT1M",
                    time_window=WINDOW,
                ),
                scale_action=azure.monitor.ScaleActionArgs(
                    direction=direction, type=azure.monitor.ScaleType.CHANGE_COUNT, value="1", cooldown=cooldown
                ),
            )

        azure.monitor.AutoscaleSetting(
            f"{name}-{model.name}-autoscale",
            resource_group_name=site.group_name,
            location=site.location,
            enabled=True,
            target_resource_uri=deployment.id,
            profiles=[
                azure.monitor.AutoscaleProfileArgs(
                    name="requests-per-instance",
                    capacity=azure.monitor.ScaleCapacityArgs(
                        minimum=str(endpoint.min_replicas),
                        maximum=str(model.max_replicas),
                        default=str(endpoint.initial_replicas),
                    ),
                    rules=[
                        rule(Direction.INCREASE, Comparison.GREATER_THAN, per_minute, "PT5M"),
                        rule(Direction.DECREASE, Comparison.LESS_THAN, per_minute / 2, "PT10M"),
                    ],
                )
            ],
            tags=site.tags,
            opts=child(self),
        )

    def _alerts(self, name: str, args: ManagedEndpointArgs) -> list[azure.monitor.MetricAlert]:
        """p95 request latency above the target, and 5xx responses above the error budget.

        Metric alerts take no ratio of two metrics, so the 5xx alert counts errors: the
        environment's error-rate percent of the requests the minimum fleet carries in a window.
        """
        site, endpoint = args.site, args.endpoint
        floor_requests = endpoint.min_replicas * endpoint.target_rps_per_replica * 60 * WINDOW_MINUTES
        errors = max(1, math.ceil(floor_requests * endpoint.error_rate_alarm_percent / 100))
        specs = {
            "p95-latency": (
                "RequestLatency_P95",
                "Average",
                endpoint.latency_alarm_ms,
                None,
                f"p95 request latency above {endpoint.latency_alarm_ms:g} ms",
            ),
            "5xx": (
                "RequestsPerMinute",
                "Total",
                float(errors),
                azure.monitor.MetricDimensionArgs(name="statusCodeClass", operator="Include", values=["5xx"]),
                f"more than {errors} 5xx responses in {WINDOW_MINUTES} minutes",
            ),
        }
        alerts = []
        for suffix, (metric, aggregation, threshold, dimension, description) in specs.items():
            alerts.append(
                azure.monitor.MetricAlert(
                    f"{name}-{suffix}",
                    resource_group_name=site.group_name,
                    rule_name=args.alert_names[suffix],
                    location="global",
                    description=f"{description}: stops and reverts a traffic rollout of {self.endpoint_name}",
                    severity=2,
                    enabled=True,
                    scopes=[self.endpoint_id],
                    target_resource_type=METRICS,
                    target_resource_region=site.location,
                    evaluation_frequency="PT1M",
                    window_size=WINDOW,
                    auto_mitigate=True,
                    criteria=azure.monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
                        odata_type="Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                        all_of=[
                            azure.monitor.MetricCriteriaArgs(
                                criterion_type="StaticThresholdCriterion",
                                name=suffix,
                                metric_name=metric,
                                metric_namespace=METRICS,
                                operator="GreaterThan",
                                threshold=threshold,
                                time_aggregation=aggregation,
                                dimensions=[dimension] if dimension else None,
                            )
                        ],
                    ),
                    tags=site.tags,
                    opts=child(self),
                )
            )
        return alerts
