"""One structural check of a request body against an API's own model, shared by the three clouds.

Each cloud's API-model test reads its provider's model format into `Node`s (botocore shapes in
`tests/aws`, Google discovery documents in `tests/gcp`, the Azure SDK models in
`tests/azure/api_models.py`); `check` walks a body against them: unknown and read-only members,
enums, patterns, lengths, item counts, numeric bounds, scalar types and formats. Values the
preview leaves unknown are skipped, as the provider would send them later.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from infra.engine.mockrun import UNKNOWN

Kind = Literal["object", "list", "map", "string", "integer", "number", "boolean", "any"]


@dataclass(frozen=True)
class Node:
    """One type of an API model. Links to other types are thunks: models are recursive.

    `members(body)` gives an object's type name and members for that body (a discriminated union
    picks its subtype from the body); `extra` types the members a model leaves open
    (`additionalProperties`); `item` is a list's item or a map's value, `key` a map's key.
    """

    kind: Kind
    name: str = ""
    members: Callable[[dict[str, Any]], tuple[str, Mapping[str, Node]]] | None = None
    extra: Callable[[], Node] | None = None
    item: Callable[[], Node] | None = None
    key: Callable[[], Node] | None = None
    read_only: bool = False
    enum: frozenset[str] | None = None
    fold_case: bool = False  # ARM compares enum values case-insensitively
    pattern: str | None = None
    whole: bool = False  # the pattern must match the whole value (botocore), not only its start (msrest)
    min_length: int | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    numeric_string: bool = False  # int64 as a JSON string: a number is accepted too
    form: tuple[str, re.Pattern[str]] | None = None  # (what it is, its syntax): durations


def _bounds(low: float | None, high: float | None, size: float) -> bool:
    return (low is None or size >= low) and (high is None or size <= high)


def check(value: Any, node: Node, where: str) -> list[str]:
    """Problems with `value` as an instance of `node`, each naming its path; unknowns are skipped."""
    if value is None or value == UNKNOWN:
        return []
    if node.kind == "object":
        if not isinstance(value, dict):
            return [f"{where}: expected a {node.name} object, got {value!r}"]
        assert node.members is not None
        name, members = node.members(value)
        problems: list[str] = []
        for key, item in value.items():
            member = members.get(key) or (node.extra() if node.extra else None)
            if member is None:
                problems.append(f"{where}.{key}: {name} has no member {key!r}")
            elif member.read_only:
                problems.append(f"{where}.{key}: {name}.{key} is read-only")
            else:
                problems += check(item, member, f"{where}.{key}")
        return problems
    if node.kind in ("list", "map"):
        expected = list if node.kind == "list" else dict
        if not isinstance(value, expected):
            return [f"{where}: expected a {node.kind}, got {value!r}"]
        problems = []
        if not _bounds(node.min_length, node.max_length, len(value)):
            problems.append(f"{where}: {len(value)} items, {node.name} allows {node.min_length}..{node.max_length}")
        assert node.item is not None
        if isinstance(value, list):
            return problems + [p for i, v in enumerate(value) for p in check(v, node.item(), f"{where}[{i}]")]
        for key, item in value.items():
            problems += check(key, node.key(), f"{where} key") if node.key else []
            problems += check(item, node.item(), f"{where}.{key}")
        return problems
    if node.kind == "string":
        return _string(value, node, where)
    if node.kind in ("integer", "number"):
        integral = node.kind == "integer"
        # The engine's wire format (protobuf Struct) carries every number as a float.
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (integral and value != int(value)):
            return [f"{where}: expected {'an integer' if integral else 'a number'}, got {value!r}"]
        if not _bounds(node.minimum, node.maximum, value):
            return [f"{where}: {value!r} is outside {node.name}'s {node.minimum}..{node.maximum}"]
        return []
    if node.kind == "boolean" and not isinstance(value, bool):
        return [f"{where}: expected a boolean, got {value!r}"]
    return []


def _string(value: Any, node: Node, where: str) -> list[str]:
    if node.numeric_string and isinstance(value, int) and not isinstance(value, bool):
        return []
    if not isinstance(value, str):
        return [f"{where}: expected a string, got {value!r}"]
    problems: list[str] = []
    if node.enum is not None and (value.lower() if node.fold_case else value) not in node.enum:
        problems.append(f"{where}: {value!r} is not one of {node.name}'s values {sorted(node.enum)}")
    if not _bounds(node.min_length, node.max_length, len(value)):
        bounds = f"{node.min_length or 0}..{node.max_length}"
        problems.append(f"{where}: {value!r} has {len(value)} characters, {node.name} allows {bounds}")
    compiled = _compiled(node.pattern) if node.pattern is not None else None
    if compiled is not None and not (compiled.fullmatch(value) if node.whole else compiled.match(value)):
        problems.append(f"{where}: {value!r} does not match {node.name}'s pattern {node.pattern}")
    if node.form is not None and not node.form[1].fullmatch(value):
        problems.append(f"{where}: {value!r} is not {node.form[0]}")
    return problems


_PATTERNS: dict[str, re.Pattern[str] | None] = {}


def _compiled(pattern: str) -> re.Pattern[str] | None:
    """The models' patterns are Java or .NET regexes; the few Python cannot compile are skipped."""
    if pattern not in _PATTERNS:
        try:
            _PATTERNS[pattern] = re.compile(pattern)
        except re.error:
            _PATTERNS[pattern] = None
    return _PATTERNS[pattern]


class Inputs:
    """A resource's inputs, recording which keys an adapter read: every input must reach the API
    (or be named as a path parameter or provider-only setting), so a new one cannot slip past."""

    def __init__(self, resource: dict[str, Any]) -> None:
        self.resource = resource
        self.values: dict[str, Any] = resource["inputs"]
        self.read: set[str] = set()

    def __call__(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return self.values.get(key, default)

    def ignore(self, *keys: str) -> None:
        """Path parameters and provider-only settings: not part of the request body."""
        self.read.update(keys)

    def unmapped(self) -> list[str]:
        return sorted(set(self.values) - self.read)


def set_at(path: Sequence[str | int], value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation of a resource's inputs that sets `value` at `path` (keys and list indexes), for
    the tables of values an API refuses."""

    def mutate(inputs: dict[str, Any]) -> None:
        target: Any = inputs
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return mutate
