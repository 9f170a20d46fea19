"""Loader for the capacity data beside it: the GPU catalog (`catalog.yaml`) and profiles (`profiles.yaml`).

Both files are validated by strict pydantic models, one row at a time: an unknown or misspelt key,
a missing figure or a wrong type is a `CatalogError` naming the file, the row and the key, so a
typo (say `spot_hourly_usdd`) can never silently drop a figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from infra.datafile import Strict

HERE = Path(__file__).parent
Target = Literal["managed", "kubernetes"]
# Numeric formats a model's weights or KV cache can be stored and computed in.
Format = Literal["fp32", "bf16", "fp16", "fp8", "fp4", "int8", "int4"]


class CatalogError(Exception):
    """A data file breaks its schema; the message names the file, the row and the key."""


class _Row(Strict):
    """A row of this file: unknown keys are errors (`infra.datafile.Strict`)."""


class AcceleratorSources(_Row):
    memory: str
    bandwidth: str
    tflops: str
    formats: str | None = None
    caveat: str | None = None


class AcceleratorRow(_Row):
    """One accelerator model. Throughputs are dense (no sparsity) datasheet peaks per accelerator."""

    vendor: Literal["nvidia", "amd", "aws"]
    memory_gib: float = Field(gt=0, description="usable memory per accelerator as CUDA/ROCm/Neuron reports it, GiB")
    bandwidth_gbps: float = Field(gt=0, description="memory bandwidth, GB/s")
    fp16_tflops: float = Field(gt=0, description="dense fp16/bf16 tensor throughput, TFLOPS")
    fp8_tflops: float | None = Field(default=None, gt=0, description="dense fp8 tensor throughput, TFLOPS")
    fp4_tflops: float | None = Field(default=None, gt=0, description="dense fp4 tensor throughput, TFLOPS")
    int8_tops: float | None = Field(default=None, gt=0, description="dense int8 tensor throughput, TOPS")
    formats: tuple[Format, ...] = Field(min_length=1, description="weight and KV formats the serving engines run")
    engine_caveat: str | None = Field(default=None, description="what a serving image must do differently")
    sources: AcceleratorSources

    @model_validator(mode="after")
    def _throughput_for_each_low_precision_format(self) -> AcceleratorRow:
        for fmt, figure in (("fp8", self.fp8_tflops), ("fp4", self.fp4_tflops)):
            if fmt in self.formats and figure is None:
                raise ValueError(f"formats lists {fmt} but {fmt}_tflops is missing")
        return self


class InterconnectRow(_Row):
    """The GPU-to-GPU link tensor parallelism all-reduces over."""

    gbps: float = Field(gt=0, description="achievable bandwidth per GPU, one direction, GB/s")
    latency_us: float = Field(gt=0, description="latency of one small all-reduce, microseconds")
    sources: dict[str, str]


class InstanceSources(_Row):
    specs: str
    price: str
    spot: str | None = None
    interconnect: str | None = None
    api: str | None = None


class InstanceRow(_Row):
    type: str
    target: Target
    gpu: str  # an accelerator name, or "none" for CPU rows
    gpus: int = Field(ge=0)
    vcpu: int = Field(gt=0)
    ram_gib: float = Field(gt=0)
    hourly_usd: float = Field(gt=0)
    spot_hourly_usd: float | None = Field(default=None, gt=0)
    interconnect: str | None = None  # required when gpus > 1
    accelerator: str | None = None  # GCP: the accelerator type name (GKE node pools, Vertex AI)
    machine_type: str | None = None  # GCP: the machine type when `type` names a machine+GPU pair
    sources: InstanceSources


class CloudSection(_Row):
    region: str
    rows: list[dict[str, Any]]  # each validated as an InstanceRow with its position in the message


class CatalogFile(_Row):
    gpus: dict[str, dict[str, Any]]
    interconnects: dict[str, dict[str, Any]]
    instances: dict[str, CloudSection]


class ProfileRow(_Row):
    class Replicas(_Row):
        min: int = Field(ge=0)
        max: int = Field(ge=1)

    description: str
    min_gpu_memory_gib: float = Field(gt=0)
    max_gpus: int = Field(ge=1)
    replicas: Replicas


@dataclass(frozen=True)
class Accelerator:
    name: str
    vendor: str  # nvidia | amd | aws (Inferentia) | none (CPU)
    memory_gib: float  # usable per accelerator, as the runtime reports it
    bandwidth_gbps: float  # memory bandwidth, GB/s
    fp16_tflops: float  # dense
    fp8_tflops: float | None = None
    fp4_tflops: float | None = None
    int8_tops: float | None = None
    formats: tuple[str, ...] = ("fp32", "bf16", "fp16")
    engine_caveat: str | None = None

    @property
    def runtime(self) -> str:
        """What a serving image must be built for: `nvidia` (CUDA), `amd` (ROCm) or `neuron` (AWS Inferentia)."""
        return "neuron" if self.vendor == "aws" else self.vendor

    def tflops(self, precision: str) -> float | None:
        """Dense tensor throughput (TFLOPS or TOPS) for matmuls in `precision`; None without the format.

        Weight-only int4 (AWQ/GPTQ) computes in 16 bits; fp32 models use the 16-bit tensor cores
        (TF32/bf16 autocast) as the engines do.
        """
        if precision not in self.formats:
            return None
        if precision == "fp8":
            return self.fp8_tflops
        if precision == "fp4":
            return self.fp4_tflops
        if precision == "int8":
            return self.int8_tops or self.fp16_tflops  # W8A8 on int8 tensor cores, else W8A16
        return self.fp16_tflops


@dataclass(frozen=True)
class Interconnect:
    name: str
    gbps: float  # per GPU, one direction
    latency_us: float  # one small all-reduce


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
    interconnect: Interconnect | None = field(default=None)

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
    interconnects: dict[str, Interconnect] = field(default_factory=dict)

    def rows(self, cloud: str, target: Target) -> list[InstanceType]:
        return [r for r in self.instances if r.cloud == cloud and r.target == target]

    def find(self, cloud: str, name: str, target: Target) -> InstanceType | None:
        return next((r for r in self.rows(cloud, target) if r.name == name), None)


M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], data: object, where: str) -> M:
    """Validate one row; any problem becomes one CatalogError line per key, prefixed by `where`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{where}: {'.'.join(str(p) for p in e['loc']) or '(row)'}: {e['msg'].lower()}"
            + (f" (got {e['input']!r})" if e["type"] != "missing" and not isinstance(e["input"], dict) else "")
            for e in exc.errors()
        ]
        raise CatalogError("\n".join(lines)) from None


def parse_catalog(data: object, file: str = "infra/catalog/catalog.yaml") -> Catalog:
    """Build the catalog from its parsed YAML; raises CatalogError naming the file, row and key."""
    doc = _parse(CatalogFile, data, file)
    links = {
        name: Interconnect(name, row.gbps, row.latency_us)
        for name, raw in doc.interconnects.items()
        for row in [_parse(InterconnectRow, raw, f"{file}: interconnects.{name}")]
    }
    accelerators: dict[str, Accelerator] = {}
    for name, raw in doc.gpus.items():
        row = _parse(AcceleratorRow, raw, f"{file}: gpus.{name}")
        accelerators[name] = Accelerator(
            name,
            row.vendor,
            row.memory_gib,
            row.bandwidth_gbps,
            row.fp16_tflops,
            row.fp8_tflops,
            row.fp4_tflops,
            row.int8_tops,
            row.formats,
            row.engine_caveat,
        )
    instances: list[InstanceType] = []
    for cloud, section in doc.instances.items():
        for i, raw in enumerate(section.rows):
            where = f"{file}: instances.{cloud}.rows[{i}] ({raw.get('type', '?')})"
            row = _parse(InstanceRow, raw, where)
            gpu = accelerators.get(row.gpu) if row.gpus else None
            if row.gpus and gpu is None:
                raise CatalogError(f"{where}: gpu: {row.gpu!r} is not an accelerator of `gpus:`")
            if row.gpus > 1 and row.interconnect not in links:
                raise CatalogError(f"{where}: interconnect: {row.interconnect!r} must name one of `interconnects:`")
            extra = {k: v for k, v in (("accelerator", row.accelerator), ("machine_type", row.machine_type)) if v}
            link = links[row.interconnect] if row.gpus > 1 and row.interconnect else None
            instances.append(
                InstanceType(
                    cloud,
                    row.type,
                    row.target,
                    gpu,
                    row.gpus,
                    row.vcpu,
                    row.ram_gib,
                    row.hourly_usd,
                    row.spot_hourly_usd,
                    extra,
                    link,
                )
            )
    regions = {cloud: section.region for cloud, section in doc.instances.items()}
    return Catalog(accelerators, tuple(instances), regions, links)


@cache
def load_catalog() -> Catalog:
    """The GPU catalog from `catalog.yaml` (cached)."""
    return parse_catalog(yaml.safe_load((HERE / "catalog.yaml").read_text()))


def parse_profiles(data: object, file: str = "infra/catalog/profiles.yaml") -> dict[str, Profile]:
    """Build the named profiles from their parsed YAML; raises CatalogError naming the file, row and key."""
    if not isinstance(data, dict):
        raise CatalogError(f"{file}: expected a mapping of profile names to profiles")
    profiles: dict[str, Profile] = {}
    for name, raw in data.items():
        row = _parse(ProfileRow, raw, f"{file}: {name}")
        profiles[str(name)] = Profile(
            str(name), row.description, row.min_gpu_memory_gib, row.max_gpus, row.replicas.min, row.replicas.max
        )
    return profiles


@cache
def load_profiles() -> dict[str, Profile]:
    """The named profiles from `profiles.yaml` (cached)."""
    return parse_profiles(yaml.safe_load((HERE / "profiles.yaml").read_text()))
