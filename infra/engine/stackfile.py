"""Stack files as the Pulumi CLI reads them: `stacks/Pulumi.<stack>.yaml` -> the config map.

The CLI hands the program every value as a string, structured values JSON-encoded, and
qualifies a bare key with the project's name; this does the same. Like the CLI's reader it
refuses a mapping that repeats a key, and it names a file whose keys lack their `config:`
wrapper. The CLI decrypts `secure:` values; offline there is no key, so each becomes the
`SECRET` placeholder and its config key is reported as secret (the preview shows it unknown).

`ML_SERVING_STACKS_DIR` points every reader at another folder of stack files (tests use it to
preview a user's stack without touching `stacks/`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infra.errors import SpecError
from infra.spec.base import SECRET

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "ml-serving"
STACKS_DIR_VARIABLE = "ML_SERVING_STACKS_DIR"
# Top-level keys of a Pulumi stack settings file besides `config`.
SETTINGS_KEYS = ("secretsprovider", "encryptedkey", "encryptionsalt", "environment")


@dataclass(frozen=True)
class StackConfig:
    """A stack's config as the CLI passes it: `{namespace:key: string}` and the keys that are secret."""

    values: dict[str, str]
    secret_keys: tuple[str, ...] = field(default=())


def stacks_dir() -> Path:
    return Path(os.environ.get(STACKS_DIR_VARIABLE) or ROOT / "stacks")


def stack_path(stack: str) -> Path:
    return stacks_dir() / f"Pulumi.{stack}.yaml"


def stack_names() -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in stacks_dir().glob("Pulumi.*.yaml"))


def read_config(stack: str) -> dict[str, str]:
    """The stack file's config map (`{namespace:key: string}`); raise SpecError on an unreadable file."""
    return read_stack(stack).values


def read_stack(stack: str) -> StackConfig:
    """The stack file's config map and its secret keys; raise SpecError naming the file and key."""
    path = stack_path(stack)
    if not path.is_file():
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        raise SpecError(f"stack {stack!r}: no file {shown}; stacks: {', '.join(stack_names())}")
    try:
        text = path.read_text()
        _refuse_repeated_keys(yaml.compose(text, Loader=yaml.SafeLoader), path.name)
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise SpecError(f"{path.name}: not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(document, dict):
        raise SpecError(f"{path.name}: expected a mapping with a 'config:' mapping")
    misplaced = [k for k in document if isinstance(k, str) and ":" in k]
    if misplaced and "config" not in document:
        raise SpecError(
            f"{path.name}: {', '.join(misplaced[:3])}{' ...' if len(misplaced) > 3 else ''} sit at the top level;"
            " stack settings go under 'config:' (indent them beneath a 'config:' line)"
        )
    unknown = [str(k) for k in document if k != "config" and k not in SETTINGS_KEYS]
    if unknown:
        raise SpecError(
            f"{path.name}: unknown top-level key {unknown[0]!r}; expected config or {', '.join(SETTINGS_KEYS)}"
        )
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise SpecError(f"{path.name}: config: expected a mapping of keys to values, got {type(config).__name__}")
    values: dict[str, str] = {}
    secret: list[str] = []
    for key, value in config.items():
        name = key if ":" in str(key) else f"{PROJECT}:{key}"
        opened, has_secret = _open_secrets(value)
        values[name] = opened if isinstance(opened, str) else json.dumps(opened)
        if has_secret:
            secret.append(name)
    return StackConfig(values, tuple(secret))


def _open_secrets(value: Any) -> tuple[Any, bool]:
    """`value` with each `{secure: ...}` replaced by SECRET, and whether there was one (at any depth)."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        return SECRET, True
    if isinstance(value, dict):
        pairs = {k: _open_secrets(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [_open_secrets(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def _refuse_repeated_keys(node: yaml.Node | None, file: str, prefix: str | None = None) -> None:
    """Raise SpecError at the first mapping that repeats a key (PyYAML would keep the last silently).

    `prefix` is None at the document's top, "" inside `config:`, else the key path so far.
    """
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _refuse_repeated_keys(item, file, f"{(prefix or '').removesuffix('.')}[{index}].")
    if not isinstance(node, yaml.MappingNode):
        return
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        if prefix == "" and ":" not in key:
            key = f"{PROJECT}:{key}"
        line = key_node.start_mark.line + 1
        if key in seen:
            raise SpecError(
                f"{prefix or ''}{key}: duplicate key on line {line} of {file} (first on line {seen[key]});"
                " a key may appear once in a mapping, as the Pulumi CLI requires"
            )
        seen[key] = line
        child = "" if prefix is None and key == "config" else f"{prefix or ''}{key}."
        _refuse_repeated_keys(value_node, file, child)
