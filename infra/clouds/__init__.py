"""Picks the translator and the verifier for a cloud: the one place that branches on the cloud's name.

Both are imported lazily so a stack loads only its own provider SDK.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import pulumi

from infra.errors import SpecError
from infra.plan import Plan

TRANSLATORS = {"aws": "infra.clouds.aws", "azure": "infra.clouds.azure", "gcp": "infra.clouds.gcp"}
# Each module's `check(outputs, region, client=None) -> [(ok, line)]` reads a deployed stack back.
VERIFIERS = {"aws": "infra.clouds.aws.verify", "azure": "infra.clouds.azure.verify", "gcp": "infra.clouds.gcp.verify"}


def translate(plan: Plan) -> dict[str, Any]:
    """Build the plan's resources; return the stack outputs."""
    module = TRANSLATORS.get(plan.cloud)
    if module is None:
        raise pulumi.RunError(
            f"ml-serving:cloud: {plan.cloud!r} has no translator yet; supported: {', '.join(TRANSLATORS)}"
        )
    return importlib.import_module(module).translate(plan)


def verifier(cloud: str) -> ModuleType:
    """The cloud's verifier module (`python -m infra verify`); SpecError for a cloud without one."""
    module = VERIFIERS.get(cloud)
    if module is None:
        raise SpecError(f"ml-serving:cloud: {cloud!r} has no verifier yet; supported: {', '.join(VERIFIERS)}")
    return importlib.import_module(module)
