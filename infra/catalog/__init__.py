"""Loader for the capacity data beside it: the GPU catalog (`catalog.yaml`) and profiles."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml

HERE = Path(__file__).parent
Target = Literal["managed", "kubernetes"]


@dataclass(frozen=True)
class Accelerator:
    name: str
    vendor: str  # nvidia | aws (Inferentia) | none (CPU)
    memory_gib: float  # usable per accelerator, as the OS reports it
    bandwidth_gbps: float  # memory bandwidth, GB/s
    fp16_tflops: float  # dense
    llm_tokens_per_s: float  # decode throughput of a 7-8B fp16 LLM on one accelerator

    @property
    def runtime(self) -> str:
        """What a serving image must be built for: `nvidia` (CUDA) or `neuron` (AWS Inferentia)."""
        return "neuron" if self.vendor == "aws" else self.vendor


@dataclass(frozen=True)
class InstanceType:
    cloud: str
    name: str
    target: Target
    gpu: Accelerator | None
    gpus: int
    vcpu: int
    ram_gib: float
    hourly_usd: float
    spot_hourly_usd: float | None
    extra: dict[str, str]  # cloud-specific names the translators need (e.g. GKE accelerator)

    def price(self, capacity: str) -> float | None:
        """$/h for one instance at `capacity` (on-demand | spot); None where there is no spot."""
        return self.hourly_usd if capacity == "on-demand" else self.spot_hourly_usd

    @property
    def gpu_memory_gib(self) -> float:
        return self.gpu.memory_gib * self.gpus if self.gpu else 0.0


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    min_gpu_memory_gib: float
    max_gpus: int
    min_replicas: int
    max_replicas: int


@dataclass(frozen=True)
class Catalog:
    accelerators: dict[str, Accelerator]
    instances: tuple[InstanceType, ...]
    price_regions: dict[str, str]

    def rows(self, cloud: str, target: Target) -> list[InstanceType]:
        return [r for r in self.instances if r.cloud == cloud and r.target == target]

    def find(self, cloud: str, name: str, target: Target) -> InstanceType | None:
        return next((r for r in self.rows(cloud, target) if r.name == name), None)


_ROW_KEYS = {"type", "target", "gpu", "gpus", "vcpu", "ram_gib", "hourly_usd", "spot_hourly_usd", "sources"}


@cache
def load_catalog() -> Catalog:
    data = yaml.safe_load((HERE / "catalog.yaml").read_text())
    accelerators = {
        name: Accelerator(
            name=name,
            vendor=row["vendor"],
            memory_gib=float(row["memory_gib"]),
            bandwidth_gbps=float(row["bandwidth_gbps"]),
            fp16_tflops=float(row["fp16_tflops"]),
            llm_tokens_per_s=float(row["llm_tokens_per_s"]),
        )
        for name, row in data["gpus"].items()
    }
    instances = tuple(
        InstanceType(
            cloud=cloud,
            name=row["type"],
            target=row["target"],
            gpu=accelerators.get(row["gpu"]) if row["gpus"] else None,
            gpus=int(row["gpus"]),
            vcpu=int(row["vcpu"]),
            ram_gib=float(row["ram_gib"]),
            hourly_usd=float(row["hourly_usd"]),
            spot_hourly_usd=row.get("spot_hourly_usd"),
            extra={k: str(v) for k, v in row.items() if k not in _ROW_KEYS},
        )
        for cloud, section in data["instances"].items()
        for row in section["rows"]
    )
    regions = {cloud: section["region"] for cloud, section in data["instances"].items()}
    return Catalog(accelerators, instances, regions)


@cache
def load_profiles() -> dict[str, Profile]:
    data = yaml.safe_load((HERE / "profiles.yaml").read_text())
    return {
        name: Profile(
            name=name,
            description=row["description"],
            min_gpu_memory_gib=float(row["min_gpu_memory_gib"]),
            max_gpus=int(row["max_gpus"]),
            min_replicas=int(row["replicas"]["min"]),
            max_replicas=int(row["replicas"]["max"]),
        )
        for name, row in data.items()
    }
