"""What the pack holds each environment to, restated from the program's `infra/environments.py`.

A policy pack is published and run on its own (`pulumi policy publish` ships this directory only),
so it cannot import the program; `tests/test_policies.py` pins every value here to the program's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyConfigSchema

from ml_serving_policy.rules import get

PROD_MIN_REPLICAS = 2  # one instance failing must not take a prod endpoint down
PROD_ROLLOUTS = ("canary", "linear")  # never all at once
ENVIRONMENTS = ("dev", "staging", "prod")
# A stack rule that holds resources to their environment's rules takes the environment as config.
ENVIRONMENT_CONFIG = PolicyConfigSchema(properties={"environment": {"type": "string", "enum": list(ENVIRONMENTS)}})


def environment_of(resource: Any, config: Mapping[str, Any]) -> str | None:
    """The environment the rule's config names, else the one the resource's component was registered
    with (`environment`): the prod policy config says `prod`, so a stack run under it is held to prod's
    rules. None when neither says."""
    configured = config.get("environment")
    if configured:
        return configured
    parent = resource.parent
    value = get(parent.props, "environment") if parent is not None else None
    return value if isinstance(value, str) else None
