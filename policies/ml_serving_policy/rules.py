"""How a rule is written: a function that yields violation messages, registered by a decorator.

At preview many values are unknown. Reading one through the SDK's proxy raises, and the SDK then
reports the rule as advisory, which would silently disarm a mandatory rule. So rules read values
through `get`, which returns `UNKNOWN` instead of raising, and say what an unknown value means.

Every rule registers through `resource_rule` or `stack_rule`, which carry the SDK's metadata
(`severity`, `remediation_steps`) and check the name: `<cloud>-<resource>-<what>`, where `<cloud>`
is the pack's subpackage the rule lives in (`aws`, `gcp`, ...) or `stack` for cloud-neutral rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

__all__ = ["REGISTRY", "UNKNOWN", "Severity", "attached", "expect", "get", "has", "of_type"]


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
REGISTRY: list[Policy] = []
NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+){2,}")
NEUTRAL = "stack"

Check = Callable[[Mapping[str, Any]], Iterable[str]]
# A stack rule sees every resource and the rule's own config (`{}` when it declares no schema).
StackCheck = Callable[[list[Any], Mapping[str, Any]], Iterable[str]]


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


def attached(resource: Any, target: Any, prop: str, name_prop: str | None = None) -> bool:
    """Whether `resource`'s input `prop` refers to `target`: by dependency, or by an equal known name.

    Joins follow property dependencies first (a setting's `bucket` input depends on its bucket),
    since at preview the names that would link them are often not yet known.
    """
    if any(dep.urn == target.urn for dep in resource.property_dependencies.get(prop, [])):
        return True
    name = get(target.props, name_prop) if name_prop else None
    return isinstance(name, str) and get(resource.props, prop) == name


def expect(props: Any, *path: str | int, equals: Any, default: Any = None) -> Iterable[str]:
    """One violation unless the value at `path` is exactly `equals`; unknown or missing is one too."""
    value = get(props, *path, default=default)
    if value is UNKNOWN or value != equals or type(value) is not type(equals):
        where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[")
        wanted = json.dumps(equals) if isinstance(equals, bool) else equals
        yield f"{where} must be {wanted} (got {value!r})"


def _check_name(name: str, module: str) -> None:
    """Refuse a rule whose name does not say its cloud (the subpackage it lives in) or its shape."""
    parts = module.split(".")
    cloud = parts[1] if len(parts) > 2 else NEUTRAL  # ml_serving_policy.<cloud>.<module>
    if NAME.fullmatch(name) is None or not name.startswith(f"{cloud}-"):
        raise ValueError(f"policy {name!r} in {module}: names are {cloud}-<resource>-<what>, lowercase")
    if any(p.name == name for p in REGISTRY):
        raise ValueError(f"policy {name!r} is registered twice")


def resource_rule(
    name: str,
    resource_type: str,
    description: str,
    *,
    severity: Severity,
    remediation_steps: str,
) -> Callable[[Check], Check]:
    """Register `check` as the resource policy `name` for `resource_type`.

    `description` says why the rule exists; `remediation_steps` what to change when it fires.
    Raises ValueError at import when the name breaks the convention or is taken.
    """

    def register(check: Check) -> Check:
        _check_name(name, check.__module__)

        def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
            if args.resource_type == resource_type:
                for message in check(args.props):
                    report(message, None)

        REGISTRY.append(
            ResourceValidationPolicy(
                name=name,
                description=description,
                validate=validate,
                severity=severity,
                remediation_steps=remediation_steps,
            )
        )
        return check

    return register


def stack_rule(
    name: str,
    description: str,
    *,
    severity: Severity,
    remediation_steps: str,
    config_schema: PolicyConfigSchema | None = None,
) -> Callable[[StackCheck], StackCheck]:
    """Register `check` as the stack policy `name`: it sees every resource of the stack and the
    rule's config (properties declared by `config_schema`, set in `--policy-pack-config`)."""

    def register(check: StackCheck) -> StackCheck:
        _check_name(name, check.__module__)

        def validate(args: StackValidationArgs, report: ReportViolation) -> None:
            for message in check(list(args.resources), args.get_config() or {}):
                report(message, None)

        REGISTRY.append(
            StackValidationPolicy(
                name=name,
                description=description,
                validate=validate,
                config_schema=config_schema,
                severity=severity,
                remediation_steps=remediation_steps,
            )
        )
        return check

    return register
