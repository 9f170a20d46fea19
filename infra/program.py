"""The Pulumi program: config -> spec -> plan -> the cloud's translator -> stack outputs.

The whole spec is validated and planned before the first resource is registered; a user's
mistake becomes a `pulumi.RunError`, which the language host prints without a traceback.
"""

from __future__ import annotations

import pulumi
from pulumi.runtime.config import CONFIG, get_config_env

from infra import clouds
from infra.cost import CostEstimate
from infra.environments import ENVIRONMENTS
from infra.errors import SpecError
from infra.plan import Plan, build_plan
from infra.secret_config import mark_secret_inputs, masked, secret_keys, secret_strings
from infra.spec import config_to_input, load_spec
from infra.spec.credentials import plain_credentials
from infra.summary import sizing_summary


def stack_config() -> dict[str, str]:
    """Every config key the engine passed, whether through set_all_config or PULUMI_CONFIG."""
    return {**get_config_env(), **CONFIG.get()}


def plan_from_config(config: dict[str, str]) -> Plan:
    """Validate and plan the stack; a mistake, or a credential in plain text where policies are
    mandatory, is a RunError (one line each). In an advisory environment a plain credential is a warning."""
    keys = secret_keys(config)
    plain = plain_credentials(config, keys)
    # Under `pulumi up` a secure value arrives decrypted: no line may print it, nor a plain credential.
    hidden = secret_strings(config, keys) | {c.value for c in plain}
    lines = [c.line(pulumi.get_stack()) for c in plain]
    environment = ENVIRONMENTS.get(str(config_to_input(config).get("environment")))
    refused = lines if environment is None or environment.policy_enforcement == "mandatory" else []
    try:
        plan = build_plan(load_spec(config), pulumi.get_stack())
    except SpecError as exc:
        raise pulumi.RunError(masked("\n".join([*exc.lines, *refused]), hidden)) from None
    if refused:
        raise pulumi.RunError(masked("\n".join(refused), hidden))
    for line in lines:
        pulumi.log.warn(line)
    return plan


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
