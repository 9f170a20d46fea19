"""Reading a stack's config into a `Spec`, and pydantic errors into one line per problem."""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from infra.errors import SpecError
from infra.spec.base import NAMESPACE, SECRET
from infra.spec.cloud_rules import cloud_rules, provider_config_problems
from infra.spec.credentials import shown
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
    """Validate a whole stack's config; raise SpecError listing every problem at once, the cloud
    provider's config keys the program reads (`gcp:project`...) included.

    Pydantic skips a model's cross-checks while one of its fields is invalid, so a typo would hide
    them: after the first pass the offending keys are removed and the rest validated again, and
    its further problems are added unless they sit on, above or below a removed key (those may be
    consequences of the removal).
    """
    data = config_to_input(config)
    misspelt = _misspelt_namespace(config)
    lines = [f"{key}: unknown namespace {key.split(':')[0]!r}; did you mean '{NAMESPACE}:'?" for key in misspelt]
    cloud = data.get("cloud")
    lines += provider_config_problems(cloud, config) if isinstance(cloud, str) and cloud in cloud_rules() else []
    removed: list[str] = []
    for _ in range(3):
        try:
            spec = Spec.model_validate(data)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            for line, path in zip(error_lines(exc), _error_paths(exc), strict=True):
                if line not in lines and not any(_related(path, r) for r in removed):
                    lines.append(line)
            # A wrong list item goes with its whole list (removing the item would shift every index
            # after it); a wrong spec as a whole leaves nothing to validate again.
            locs = [
                loc[: next((i for i, part in enumerate(loc) if isinstance(part, int)), len(loc))]
                for loc in (err["loc"] for err in errors)
            ]
            if not locs or any(not loc for loc in locs):
                break
            data = copy.deepcopy(data)
            for loc in locs:
                _remove(data, loc)
            removed += [_key_path(loc) for loc in locs]
            continue
        if not lines:
            spec._provider_config.update({key: config[key] for key in cloud_rules()[spec.cloud]["provider_config"]})
            return spec
        break
    missing = {f"{NAMESPACE}:{key.split(':', 1)[1]}: missing; this key is required" for key in misspelt}
    raise SpecError([line for line in lines if line not in missing])


def _misspelt_namespace(config: Mapping[str, str]) -> list[str]:
    """Keys whose namespace is a near miss of ours (`mlserving:cloud`); other namespaces are providers'."""
    return [
        key
        for key in config
        if key.split(":", 1)[0] != NAMESPACE
        and difflib.get_close_matches(key.split(":", 1)[0], [NAMESPACE], cutoff=0.75)
    ]


def _error_paths(exc: ValidationError) -> list[str]:
    """Each error line's key path (one per line, repeated for a multi-line cross-check)."""
    paths: list[str] = []
    for err in exc.errors(include_url=False):
        if err["type"] == "value_error" and not err["loc"]:
            message = str(err["ctx"]["error"]) if "ctx" in err else err["msg"]
            paths += [f"{NAMESPACE}:{part.split(': ', 1)[0]}" for part in message.splitlines()]
        elif err["type"] == "value_error":
            message = str(err["ctx"]["error"]) if "ctx" in err else err["msg"]
            paths += [_key_path(err["loc"])] * len(message.splitlines())
        else:
            paths.append(_key_path(err["loc"]))
    return paths


def _related(path: str, other: str) -> bool:
    """One key path is the other, or lies above or below it."""
    return any(a == b or a.startswith(b + ".") or a.startswith(b + "[") for a, b in ((path, other), (other, path)))


def _remove(data: Any, loc: tuple[int | str, ...]) -> None:
    """Delete the key at `loc` from the nested input, if it is there."""
    try:
        for part in loc[:-1]:
            data = data[part]
    except (KeyError, IndexError, TypeError):
        return
    if isinstance(data, dict):
        data.pop(loc[-1], None)


def error_lines(exc: ValidationError, key_path: Callable[[tuple[int | str, ...]], str] | None = None) -> list[str]:
    """One line per pydantic error: key path (stack-file form unless given), value, expectation."""
    key_path = key_path or _key_path
    lines: list[str] = []
    for err in exc.errors(include_url=False):
        path = key_path(err["loc"])
        if err.get("input") == SECRET:
            lines.append(f"{path}: a secure value; the offline preview cannot check it (the Pulumi CLI decrypts it)")
        elif err["type"] == "value_error":
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
    # A value holding a credential is never echoed (a password in an image URL, a token that is too long).
    text = repr(shown(value) if isinstance(value, str) else value)
    return text if len(text) <= 60 else text[:57] + "..."
