"""Helpers to put resources the real program registered through the policy pack, mutated."""

from __future__ import annotations

import copy
from typing import Any

from infra.engine.analyzer import PolicyPackProcess, Violation
from infra.engine.mockrun import UNKNOWN
from tests.conftest import preview_of


def registered(stack: str, resource_type: str) -> dict[str, Any]:
    """The first resource of `resource_type` the real program registered for `stack`."""
    return copy.deepcopy(next(r for r in preview_of(stack)["resources"] if r["type"] == resource_type))


def set_path(resource: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set `inputs.<path>` (dots, [i] for list items); `value=DELETE` removes the key."""
    target: Any = resource["inputs"]
    parts = path.replace("[", ".").replace("]", "").split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last: Any = int(parts[-1]) if parts[-1].isdigit() else parts[-1]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return resource


DELETE = object()
__all__ = ["DELETE", "UNKNOWN", "analyze", "fired", "registered", "set_path"]


def analyze(resources: list[dict[str, Any]], level: str = "mandatory") -> list[Violation]:
    with PolicyPackProcess() as pack:
        pack.configure({"all": level})
        return pack.analyze(resources)


def fired(pack: PolicyPackProcess, rule: str, resources: list[dict[str, Any]]) -> set[str]:
    """The levels at which `rule` reported violations (empty: it passed)."""
    return {v.level for v in pack.analyze(resources) if v.policy == rule}
