"""Machine and accelerator names for one catalog row, as GKE and as Vertex AI spell them.

A catalog row names its Compute Engine machine (`machine_type`, else the row's type) and its GPU
as GKE spells it (`accelerator`); Vertex AI spells the same GPU as an enum (`accelerators.yaml`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml


@cache
def vertex_spellings() -> dict[str, str]:
    """`{GKE accelerator type: Vertex AI AcceleratorType}` from `accelerators.yaml`."""
    rows = yaml.safe_load((Path(__file__).parent / "accelerators.yaml").read_text())
    return {name: row["vertex"] for name, row in rows.items()}


def machine_type(instance_type: str, extra: dict[str, str]) -> str:
    """The Compute Engine machine type (`n1-standard-4` for the row `n1-standard-4+nvidia-tesla-t4`)."""
    return extra.get("machine_type", instance_type)


def gke_accelerator(extra: dict[str, str]) -> str | None:
    """The GKE guest accelerator type, None on a CPU row."""
    return extra.get("accelerator")


def vertex_accelerator(extra: dict[str, str]) -> str | None:
    """The Vertex AI AcceleratorType, None on a CPU row; KeyError names a GPU missing from the table."""
    gke = gke_accelerator(extra)
    return None if gke is None else vertex_spellings()[gke]
