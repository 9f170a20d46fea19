"""ml-serving's CrossGuard rules, one module per area; importing a module registers its rules."""

from __future__ import annotations

from pulumi_policy import Policy

from ml_serving_policy import aws_keys, aws_registry, stack  # noqa: F401 (registers the rules)
from ml_serving_policy.rules import REGISTRY


def all_policies() -> list[Policy]:
    return list(REGISTRY)
