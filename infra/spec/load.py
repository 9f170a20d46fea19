"""Reading a stack's config into a `Spec`, and pydantic errors into one line per problem."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from infra.errors import SpecError
from infra.spec.base import NAMESPACE
from infra.spec.stack import Spec


def config_to_input(config: Mapping[str, str]) -> dict[str, Any]:
    """The `ml-serving:*` keys of a Pulumi config map, decoded as `pulumi.Config.get_object` would."""
    data: dict[str, Any] = {}
    for key, raw in config.items():
        namespace, _, name = key.partition(":")
        if namespace != NAMESPACE:
            continue
        try:
            data[name] = json.loads(raw)
        except (TypeError, ValueError):
            data[name] = raw  # a plain string value
    return data


def load_spec(config: Mapping[str, str]) -> Spec:
    """Validate a whole stack's config; raise SpecError listing every problem."""
    try:
        return Spec.model_validate(config_to_input(config))
    except ValidationError as exc:
        raise SpecError(error_lines(exc)) from None


def error_lines(exc: ValidationError, key_path: Callable[[tuple[int | str, ...]], str] | None = None) -> list[str]:
    """One line per pydantic error: key path (stack-file form unless given), value, expectation."""
    key_path = key_path or _key_path
    lines: list[str] = []
    for err in exc.errors(include_url=False):
        path = key_path(err["loc"])
        if err["type"] == "value_error":
            message = str(err["ctx"]["error"]) if "ctx" in err else err["msg"]
            for part in message.splitlines():
                # Cross-checks on the whole spec carry their own relative key path.
                lines.append(f"{NAMESPACE}:{part}" if not err["loc"] else f"{path}: {part}")
        elif err["type"] == "extra_forbidden":
            lines.append(f"{path}: unknown key{_suggestion(err['loc'])}")
        elif err["type"] == "missing":
            lines.append(f"{path}: missing; this key is required")
        else:
            expected = err["msg"].replace("Input should be", "expected").replace("String should", "expected to")
            lines.append(f"{path}: {_short(err['input'])} is invalid; {expected}")
    return lines


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = NAMESPACE + ":"
    for i, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][\w-]*", part):
            path += ("." if i else "") + part
        else:  # a key no schema has: quoted, so the path stays readable
            path += f"[{part!r}]"
    return path


def _suggestion(loc: tuple[int | str, ...]) -> str:
    """`; did you mean 'models'?` for a misspelt key, from the fields of the model it sits in."""
    model: type[BaseModel] | None = Spec
    for part in loc[:-1]:
        if model is None or isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        model = _model_of(field.annotation) if field else None
    if model is None:
        return ""
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1)
    if close:
        return f" {str(loc[-1])!r}; did you mean {close[0]!r}?"
    return f" {str(loc[-1])!r}; expected one of {', '.join(model.model_fields)}"


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found:
            return found
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
