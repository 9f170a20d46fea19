"""Per-cloud facts the cloud-neutral layers need (`facts.yaml` beside this file).

The lowest layer with `infra.catalog`: spec, sizing and plan all read it, and it imports none
of them, so no layer above the translators branches on a cloud's name.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml


@cache
def cloud_facts() -> dict[str, dict[str, Any]]:
    """`{cloud: {fact: value}}` as written in `facts.yaml` (region pattern, zones, schemes, ...)."""
    return yaml.safe_load((Path(__file__).parent / "facts.yaml").read_text())


def architecture(cloud: str, instance_type: str) -> str:
    """`arm64` or `x86_64`: the CPU architecture of `instance_type`, from the cloud's pattern in `facts.yaml`."""
    return "arm64" if re.match(cloud_facts()[cloud]["arm64_instance_pattern"], instance_type) else "x86_64"


def node_image(cloud: str, arch: str, accelerator: str | None) -> str | None:
    """The cloud's Kubernetes node image for a CPU architecture and accelerator (None: CPU only);
    None where the cloud has none."""
    return cloud_facts()[cloud]["node_images"].get(arch, {}).get(accelerator or "cpu")
