"""Picks the translator for the plan's cloud: the one place that branches on the cloud's name.

Translators are imported lazily so a stack loads only its own provider SDK.
"""

from __future__ import annotations

import importlib
from typing import Any

import pulumi

from infra.plan import Plan

TRANSLATORS = {"aws": "infra.clouds.aws", "azure": "infra.clouds.azure"}


def translate(plan: Plan) -> dict[str, Any]:
    """Build the plan's resources; return the stack outputs."""
    module = TRANSLATORS.get(plan.cloud)
    if module is None:
        raise pulumi.RunError(
            f"ml-serving:cloud: {plan.cloud!r} has no translator yet; supported: {', '.join(TRANSLATORS)}"
        )
    return importlib.import_module(module).translate(plan)
