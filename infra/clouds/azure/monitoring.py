"""Observability: a Log Analytics workspace and the workspace-based Application Insights that the
ML workspace and every online deployment report to."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure

from infra.clouds.azure.site import Site
from infra.clouds.options import child


@dataclass(frozen=True)
class ObservabilityArgs:
    site: Site
    protect: bool  # keeps logs and telemetry 90 days (else 30)


class Observability(pulumi.ComponentResource):
    """Outputs: `log_workspace_id`, `insights_id`."""

    log_workspace_id: pulumi.Output[str]
    insights_id: pulumi.Output[str]

    def __init__(self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:azure:Observability", name, None, opts)
        site, retention = args.site, 90 if args.protect else 30
        logs = azure.operationalinsights.Workspace(
            f"{name}-logs",
            resource_group_name=site.group_name,
            location=site.location,
            sku=azure.operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=retention,
            tags=site.tags,
            opts=child(self),
        )
        insights = azure.applicationinsights.Component(
            f"{name}-insights",
            resource_group_name=site.group_name,
            location=site.location,
            kind="web",
            application_type="web",
            workspace_resource_id=logs.id,
            ingestion_mode="LogAnalytics",
            retention_in_days=retention,
            tags=site.tags,
            opts=child(self),
        )
        self.log_workspace_id = logs.id
        self.insights_id = insights.id
        self.register_outputs({"log_workspace_id": self.log_workspace_id, "insights_id": self.insights_id})
