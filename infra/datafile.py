"""Reading the project's per-cloud YAML data files strictly: each section through a pydantic model
that forbids unknown keys, every problem one line naming the file, the section and the key.

A misspelt fact (say `arm64_instance_patern`) would otherwise read as absent and silently change a
decision; here it fails the first read of the file, before any resource is registered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError


class DataFileError(ValueError):
    """A data file breaks its schema; each line names the file, the section and the key."""


class Strict(BaseModel):
    """A section or row of a data file: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def load_sections(path: Path, model: type[Strict]) -> dict[str, dict[str, Any]]:
    """`{section: data}` of a file whose top-level keys each hold one `model` (one per cloud), as
    written, once every section has validated; raises DataFileError otherwise, e.g.
    `facts.yaml: aws.arm64_instance_patern: extra inputs are not permitted`."""
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise DataFileError(f"{path.name}: expected a mapping of sections, got {type(data).__name__}")
    lines = []
    for section, body in data.items():
        try:
            model.model_validate(body)
        except ValidationError as exc:
            lines += [
                f"{path.name}: {section}.{'.'.join(str(p) for p in e['loc'])}: {e['msg'].lower()}" for e in exc.errors()
            ]
    if lines:
        raise DataFileError("\n".join(lines))
    return data
