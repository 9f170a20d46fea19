"""Observability: a Log Analytics workspace and the workspace-based Application Insights that the
ML workspace and every online deployment report to."""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

from infra.clouds.azure.site import Site
from infra.clouds.options import child


class Observability(pulumi.ComponentResource):
    """Outputs: `log_workspace_id`, `insights_id`."""

    logs: azure.operationalinsights.Workspace
    insights: azure.applicationinsights.Component

    def __init__(self, name: str, site: Site, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:azure:Observability", name, None, opts)
        retention = 90 if site.plan.protect else 30
        self.logs = azure.operationalinsights.Workspace(
            f"{name}-logs",
            resource_group_name=site.group_name,
            location=site.location,
            sku=azure.operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=retention,
            tags=site.tags,
            opts=child(self),
        )
        self.insights = azure.applicationinsights.Component(
            f"{name}-insights",
            resource_group_name=site.group_name,
            location=site.location,
            kind="web",
            application_type="web",
            workspace_resource_id=self.logs.id,
            ingestion_mode="LogAnalytics",
            retention_in_days=retention,
            tags=site.tags,
            opts=child(self),
        )
        self.register_outputs({"log_workspace_id": self.logs.id, "insights_id": self.insights.id})
