"""Stack files as the Pulumi CLI reads them: `stacks/Pulumi.<stack>.yaml` -> the config map.

The CLI hands the program every value as a string, structured values JSON-encoded, and
qualifies a bare key with the project's name; this does the same.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from infra.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "ml-serving"


def stack_path(stack: str) -> Path:
    return ROOT / "stacks" / f"Pulumi.{stack}.yaml"


def stack_names() -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))


def read_config(stack: str) -> dict[str, str]:
    path = stack_path(stack)
    if not path.is_file():
        raise SpecError(f"stack {stack!r}: no file {path.relative_to(ROOT)}; stacks: {', '.join(stack_names())}")
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise SpecError(f"{path.name}: not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise SpecError(f"{path.name}: expected a mapping with a 'config:' mapping")
    return {_qualified(key): _encoded(key, value) for key, value in (document.get("config") or {}).items()}


def _qualified(key: str) -> str:
    return key if ":" in key else f"{PROJECT}:{key}"


def _encoded(key: str, value: object) -> str:
    if isinstance(value, dict) and "secure" in value:
        raise SpecError(f"{key}: secure values need the Pulumi CLI to decrypt; the offline preview has no key")
    if isinstance(value, str):
        return value
    return json.dumps(value)
