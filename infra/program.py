"""The Pulumi program: config -> spec -> plan -> the cloud's translator -> stack outputs.

The whole spec is validated and planned before the first resource is registered; a user's
mistake becomes a `pulumi.RunError`, which the language host prints without a traceback.
"""

from __future__ import annotations

import pulumi
from pulumi.runtime.config import CONFIG, get_config_env

from infra import clouds
from infra.cost import CostEstimate
from infra.errors import SpecError
from infra.plan import Plan, build_plan
from infra.secret_config import mark_secret_inputs, masked, secret_keys, secret_strings
from infra.spec import load_spec
from infra.summary import sizing_summary


def stack_config() -> dict[str, str]:
    """Every config key the engine passed, whether through set_all_config or PULUMI_CONFIG."""
    return {**get_config_env(), **CONFIG.get()}


def plan_from_config(config: dict[str, str]) -> Plan:
    try:
        return build_plan(load_spec(config), pulumi.get_stack())
    except SpecError as exc:
        # Under `pulumi up` a secure value arrives decrypted: an error line must not print it.
        raise pulumi.RunError(masked(str(exc), secret_strings(config, secret_keys(config)))) from None


def main() -> None:
    config = stack_config()
    plan = plan_from_config(config)
    secrets = secret_strings(config, secret_keys(config))
    if secrets:
        mark_secret_inputs(secrets)
    outputs = clouds.translate(plan)
    for name, value in outputs.items():
        pulumi.export(name, value)
    pulumi.export("cost", CostEstimate("cost", plan).figures)
    pulumi.export("sizing", sizing_summary(plan))
