"""ml-serving's CrossGuard rules, one module per area; importing a module registers its rules."""

from __future__ import annotations

from pulumi_policy import Policy

from ml_serving_policy import (  # noqa: F401 (registers the rules)
    aws_cluster,
    aws_iam,
    aws_keys,
    aws_monitoring,
    aws_network,
    aws_registry,
    aws_sagemaker,
    aws_stack,
    aws_storage,
    stack,
)
from ml_serving_policy.rules import REGISTRY


def all_policies() -> list[Policy]:
    return list(REGISTRY)
