"""`sizing.requirements`: what an endpoint must deliver, from which `auto` sizing derives capacity."""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import Field, model_validator

from infra.catalog import load_catalog
from infra.spec.base import _Strict

Precision = Literal["fp32", "bf16", "fp16", "int8", "int4"]


@cache
def instance_type_names() -> frozenset[str]:
    return frozenset(r.name for r in load_catalog().instances)


class Requirements(_Strict):
    """What the endpoint must deliver; `auto` sizing derives capacity from these."""

    peak_rps: float = Field(gt=0, le=100_000)
    p95_latency_ms: float = Field(gt=0, le=600_000)
    params_billion: float | None = Field(default=None, gt=0, le=2_000)
    weights_gb: float | None = Field(default=None, gt=0, le=4_000)
    precision: Precision = "fp16"
    model_type: Literal["llm", "encoder"] = "llm"
    context_tokens: int = Field(default=4096, ge=1, le=1_048_576)
    output_tokens: int = Field(default=256, ge=1, le=65_536)
    concurrency: int = Field(default=8, ge=1, le=4096)
    layers: int | None = Field(default=None, ge=1, le=1000)
    kv_heads: int | None = Field(default=None, ge=1, le=1024)
    head_dim: int | None = Field(default=None, ge=1, le=1024)
    neuron: bool = Field(default=False, description="the image is compiled for AWS Inferentia (Neuron)")
    measured_rps_per_replica: float | None = Field(default=None, gt=0)
    measured_on: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Requirements:
        if (self.params_billion is None) == (self.weights_gb is None):
            raise ValueError("give exactly one of params_billion or weights_gb")
        kv = (self.layers, self.kv_heads, self.head_dim)
        if any(v is not None for v in kv) and any(v is None for v in kv):
            raise ValueError("layers, kv_heads and head_dim go together: give all three or none")
        if self.output_tokens >= self.context_tokens and self.model_type == "llm":
            raise ValueError(
                f"output_tokens {self.output_tokens} must be less than context_tokens {self.context_tokens}"
            )
        if self.measured_on is not None and self.measured_rps_per_replica is None:
            raise ValueError("measured_on needs measured_rps_per_replica")
        if self.measured_on is not None and self.measured_on not in instance_type_names():
            raise ValueError(f"measured_on {self.measured_on!r} is not an instance type of the sizing catalog")
        return self
