"""Per-cloud facts the cloud-neutral layers need (`facts.yaml` beside this file).

The lowest layer with `infra.catalog`: spec, sizing and plan all read it, and it imports none
of them, so no layer above the translators branches on a cloud's name.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml


@cache
def cloud_facts() -> dict[str, dict[str, Any]]:
    """`{cloud: {fact: value}}` as written in `facts.yaml` (region pattern, zones, schemes, ...)."""
    return yaml.safe_load((Path(__file__).parent / "facts.yaml").read_text())
