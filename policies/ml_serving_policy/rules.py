"""How a rule is written: a function that yields violation messages for one resource type.

At preview many values are unknown. Reading one through the SDK's proxy raises, and the SDK then
reports the rule as advisory, which would silently disarm a mandatory rule. So rules read values
through `get`, which returns `UNKNOWN` instead of raising, and say what an unknown value means.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pulumi_policy import (
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
REGISTRY: list[Policy] = []

Check = Callable[[Mapping[str, Any]], Iterable[str]]
StackCheck = Callable[[list[Any]], Iterable[str]]


def has(props: Mapping[str, Any], key: str) -> bool:
    """Presence without reading the value (`key in props` reads it, and raises if unknown)."""
    return any(k == key for k in props)


def get(props: Any, *path: str | int, default: Any = None) -> Any:
    """The value at `path`, `default` when absent, `UNKNOWN` when not known at preview."""
    value = props
    for part in path:
        try:
            if isinstance(part, int):
                if part >= len(value):
                    return default
            elif not has(value, part):
                return default
            value = value[part]
        except UnknownValueError:
            return UNKNOWN
        if value is None:
            return default
    return value


def of_type(resources: list[Any], resource_type: str) -> list[Any]:
    """The resources of one type, for stack rules."""
    return [r for r in resources if r.resource_type == resource_type]


def expect(props: Any, *path: str | int, equals: Any, default: Any = None) -> Iterable[str]:
    """One violation unless the value at `path` is exactly `equals`; unknown or missing is one too."""
    value = get(props, *path, default=default)
    if value is UNKNOWN or value != equals or type(value) is not type(equals):
        where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[")
        wanted = json.dumps(equals) if isinstance(equals, bool) else equals
        yield f"{where} must be {wanted} (got {value!r})"


def resource_rule(name: str, resource_type: str, description: str) -> Callable[[Check], Check]:
    """Register `check` as the resource policy `name` for `resource_type`."""

    def register(check: Check) -> Check:
        def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
            if args.resource_type == resource_type:
                for message in check(args.props):
                    report(message, None)

        REGISTRY.append(ResourceValidationPolicy(name=name, description=description, validate=validate))
        return check

    return register


def stack_rule(name: str, description: str) -> Callable[[StackCheck], StackCheck]:
    """Register `check` as the stack policy `name`: it sees every resource of the stack."""

    def register(check: StackCheck) -> StackCheck:
        def validate(args: StackValidationArgs, report: ReportViolation) -> None:
            for message in check(list(args.resources)):
                report(message, None)

        REGISTRY.append(StackValidationPolicy(name=name, description=description, validate=validate))
        return check

    return register
