"""ml-serving's CrossGuard rules: one subpackage per cloud (`aws/`, `gcp/`) and one for
in-cluster serving on any cloud (`kubernetes/`), cloud-neutral rules beside it.

Importing a module registers its rules (see `rules.py`).
"""

from __future__ import annotations

from pulumi_policy import Policy

from ml_serving_policy import aws, azure, budget, gcp, kubernetes  # noqa: F401 (registers the rules)
from ml_serving_policy.rules import REGISTRY


def all_policies() -> list[Policy]:
    return list(REGISTRY)
