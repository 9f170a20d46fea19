"""The stack's cost estimate as a component, so the policy pack can hold it against the budget."""

from __future__ import annotations

import pulumi

from infra.plan import Plan


class CostEstimate(pulumi.ComponentResource):
    """Registered with its figures as properties: stack policies see resources, not outputs."""

    def __init__(self, name: str, plan: Plan, opts: pulumi.ResourceOptions | None = None) -> None:
        figures = {
            "currency": "USD",
            "monthlyUsdMin": plan.cost.monthly_min,
            "monthlyUsdMax": plan.cost.monthly_max,
            "budgetMonthlyUsd": plan.budget_monthly_usd,
            "endpoints": {e.name: e.cost.as_dict() for e in plan.endpoints},
        }
        super().__init__("ml-serving:index:CostEstimate", name, figures, opts)
        self.figures = figures
        self.register_outputs(figures)
