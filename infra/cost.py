"""The stack's cost estimate as a component, so the policy pack can hold it against the budget."""

from __future__ import annotations

import pulumi

from infra.estimate import estimate
from infra.plan import Plan


class CostEstimate(pulumi.ComponentResource):
    """Registered with its figures as properties: stack policies see resources, not outputs.

    `monthlyUsdMin`/`monthlyUsdMax` are the whole stack's list-price cost (USD per 730-hour month)
    at minimum and maximum replicas, every billable resource included; `lineItems` itemises them.
    """

    def __init__(self, name: str, plan: Plan, opts: pulumi.ResourceOptions | None = None) -> None:
        figures = {
            **estimate(plan).as_dict(),
            "budgetMonthlyUsd": plan.budget_monthly_usd,
            "endpoints": {e.name: e.cost.as_dict() for e in plan.endpoints},
        }
        super().__init__("ml-serving:index:CostEstimate", name, figures, opts)
        self.figures = figures
        self.register_outputs(figures)
