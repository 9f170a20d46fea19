"""Cloud-neutral rules: the stack's estimated cost against its budget."""

from __future__ import annotations

from ml_serving_policy.rules import UNKNOWN, Severity, get, of_type, stack_rule

COST_ESTIMATE = "ml-serving:index:CostEstimate"


@stack_rule(
    "stack-cost-within-budget",
    "The stack's estimated monthly cost at maximum replicas, every billable resource with a list price counted"
    " (instances, control plane, system pool, private endpoints, keys, alarms), stays within budget_monthly_usd.",
    severity=Severity.MEDIUM,
    remediation_steps="Lower max_replicas, pick a smaller profile or a quantized precision (`python -m infra"
    " size` shows the alternatives), or raise budget_monthly_usd in the stack file on purpose.",
)
def cost_within_budget(resources, config):
    for resource in of_type(resources, COST_ESTIMATE):
        budget = get(resource.props, "budgetMonthlyUsd")
        estimate = get(resource.props, "monthlyUsdMax")
        if budget is None:
            continue
        if estimate is UNKNOWN or budget is UNKNOWN:
            yield "the cost estimate and budget must be known at preview"
        elif estimate > budget:
            yield (
                f"estimated ${estimate:,.2f}/month at maximum replicas (every billable resource, see the"
                f" estimate's line items) exceeds the budget of ${budget:,.2f}/month (budget_monthly_usd)"
            )
