"""`sizing.requirements`: what an endpoint must deliver, from which `auto` sizing derives capacity."""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from infra.catalog import load_catalog
from infra.spec.base import _Strict
from infra.spec.model_config import ModelConfigError, read_model_config

# Weights' numeric format: IEEE floats, fp8 (E4M3) and fp4 (NVFP4/MXFP4), or integer quantization
# (int8 W8A8/W8A16, int4 AWQ/GPTQ weight-only).
Precision = Literal["fp32", "bf16", "fp16", "fp8", "fp4", "int8", "int4"]
KvCachePrecision = Literal["fp32", "fp16", "bf16", "fp8"]


@cache
def instance_type_names() -> frozenset[str]:
    return frozenset(r.name for r in load_catalog().instances)


class Requirements(_Strict):
    """What the endpoint must deliver; `auto` sizing derives capacity from these.

    Generative models state their SLOs as serving benchmarks do: `ttft_ms` (time to first token)
    and `tpot_ms` (time per output token) at `percentile`; `p95_latency_ms` bounds a whole request
    (and is the SLO of encoders). Give at least one.
    """

    peak_rps: float = Field(gt=0, le=100_000, description="requests per second at the daily peak (required)")
    p95_latency_ms: float | None = Field(
        default=None, gt=0, le=600_000, description="whole-request latency at `percentile`, ms (encoders: required)"
    )
    ttft_ms: float | None = Field(
        default=None, gt=0, le=600_000, description="time to first token at `percentile`, ms (generative models)"
    )
    tpot_ms: float | None = Field(
        default=None, gt=0, le=60_000, description="time per output token at `percentile`, ms (generative models)"
    )
    percentile: float = Field(default=95, ge=50, le=99.9, description="the percentile the latency SLOs hold at")
    model_config_path: str | None = Field(
        default=None,
        alias="model_config",
        description="path from the project root to the model's Hugging Face config.json; fills the architecture",
    )
    params_billion: float | None = Field(default=None, gt=0, le=10_000, description="total parameters, billions")
    weights_gb: float | None = Field(
        default=None, gt=0, le=20_000, description="size of the weights as served, GB (instead of `params_billion`)"
    )
    active_params_billion: float | None = Field(
        default=None, gt=0, le=10_000, description="parameters used per token (mixture of experts), billions"
    )
    experts: int | None = Field(default=None, ge=2, le=1024, description="routed experts per MoE layer")
    experts_per_token: int | None = Field(
        default=None, ge=1, le=64, description="experts each token is routed to (top-k)"
    )
    precision: Precision = Field(default="fp16", description="weights format")
    kv_cache_precision: KvCachePrecision | None = Field(
        default=None, description="KV cache format (default: 16-bit; fp32 for fp32 models)"
    )
    model_type: Literal["llm", "encoder"] = Field(default="llm", description="generative (llm) or encoder")
    context_tokens: int = Field(
        default=4096,
        ge=1,
        le=1_048_576,
        description="prompt plus output tokens per request; at most the longest sequence `model_config` states (the"
        " default is capped at it)",
    )
    output_tokens: int = Field(default=256, ge=1, le=65_536, description="generated tokens per request")
    concurrency: int | None = Field(
        default=None,
        ge=1,
        le=4096,
        description="most sequences one model copy may batch (default: what meets the SLOs, up to 256)",
    )
    layers: int | None = Field(default=None, ge=1, le=1000, description="transformer layers")
    attention_heads: int | None = Field(
        default=None, ge=1, le=1024, description="query heads per layer (the tensor-parallel degree must divide them)"
    )
    kv_heads: int | None = Field(default=None, ge=1, le=1024, description="key/value heads per layer")
    head_dim: int | None = Field(default=None, ge=1, le=1024, description="dimension of one attention head")
    hidden_size: int | None = Field(default=None, ge=1, le=131_072, description="model (residual stream) width")
    vocab_size: int | None = Field(default=None, ge=1, le=2_000_000, description="vocabulary size, tokens")
    neuron: bool = Field(default=False, description="the image is compiled for AWS Inferentia (Neuron)")
    rocm: bool = Field(default=False, description="the image is built for AMD ROCm (Instinct MI300X)")
    arm64: bool = Field(
        default=False,
        description="the image has a linux/arm64 build, so GPUs on Arm (Grace) hosts can run it (Azure ND GB200 v6)",
    )
    measured_rps_per_replica: float | None = Field(
        default=None, gt=0, description="requests/s one replica sustained in a pilot run"
    )
    measured_on: str | None = Field(
        default=None, description="the instance type `measured_rps_per_replica` was measured on (calibrates the rest)"
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _fill_from_model_config(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not data.get("model_config"):
            return data
        try:
            found = read_model_config(str(data["model_config"]))
        except ModelConfigError as exc:
            raise ValueError(f"model_config {exc}") from None
        limit, key = found.pop("max_context_tokens", None), found.pop("max_context_key", None)
        given = {k: v for k, v in data.items() if v is not None}
        if "weights_gb" in given:
            found.pop("params_billion", None)
        default = cls.model_fields["context_tokens"].default
        if limit is not None and "context_tokens" not in given and limit < default:
            found["context_tokens"] = limit  # the default context, capped at what the model can hold
        context = given.get("context_tokens")
        if limit is not None and isinstance(context, int) and not isinstance(context, bool) and context > limit:
            # Keyed at context_tokens itself (a ValueError here would name the whole requirements).
            message = (
                f"{context} tokens is above the model's longest sequence, {limit} ({key} in"
                f" {data['model_config']}); expected at most {limit}, or leave it unset (default:"
                f" {min(default, limit)})"
            )
            error = InitErrorDetails(
                type=PydanticCustomError("value_error", "{error}", {"error": message}),
                loc=("context_tokens",),
                input=context,
            )
            raise ValidationError.from_exception_data(cls.__name__, [error])
        return {**found, **given}

    @model_validator(mode="after")
    def _consistent(self) -> Requirements:
        if (self.params_billion is None) == (self.weights_gb is None):
            raise ValueError("give exactly one of params_billion or weights_gb (or a model_config)")
        kv = (self.layers, self.kv_heads, self.head_dim)
        if any(v is not None for v in kv) and any(v is None for v in kv):
            raise ValueError("layers, kv_heads and head_dim go together: give all three or none")
        if self.attention_heads is not None and self.kv_heads is not None and self.attention_heads % self.kv_heads:
            raise ValueError(
                f"attention_heads {self.attention_heads} must be a multiple of kv_heads {self.kv_heads}"
                " (grouped-query attention)"
            )
        if (self.experts is None) != (self.experts_per_token is None):
            raise ValueError("experts and experts_per_token go together: give both or neither")
        if self.experts is not None and self.experts_per_token is not None and self.experts_per_token > self.experts:
            raise ValueError(f"experts_per_token {self.experts_per_token} exceeds experts {self.experts}")
        active, total = self.active_params_billion, self.params_billion
        if active is not None and total is not None and active > total:
            raise ValueError(f"active_params_billion {active:g} exceeds params_billion {total:g}")
        if self.model_type == "llm":
            if self.output_tokens >= self.context_tokens:
                raise ValueError(
                    f"output_tokens {self.output_tokens} must be less than context_tokens {self.context_tokens}"
                )
            if self.p95_latency_ms is None and self.ttft_ms is None and self.tpot_ms is None:
                raise ValueError("give a latency SLO: ttft_ms and/or tpot_ms, or p95_latency_ms for whole requests")
        else:
            if self.p95_latency_ms is None:
                raise ValueError("an encoder needs p95_latency_ms (ttft_ms and tpot_ms apply to generative models)")
            if self.ttft_ms is not None or self.tpot_ms is not None:
                raise ValueError("ttft_ms and tpot_ms apply to generative models (model_type llm), not encoders")
        if self.neuron and self.rocm:
            raise ValueError("neuron and rocm exclude each other: an image is built for one accelerator runtime")
        if self.measured_on is not None and self.measured_rps_per_replica is None:
            raise ValueError("measured_on needs measured_rps_per_replica")
        if self.measured_on is not None and self.measured_on not in instance_type_names():
            raise ValueError(f"measured_on {self.measured_on!r} is not an instance type of the sizing catalog")
        return self

    @property
    def runtime(self) -> str:
        """The accelerator runtime the image is built for: nvidia | amd | neuron."""
        return "neuron" if self.neuron else "amd" if self.rocm else "nvidia"

    @property
    def kv_precision(self) -> str:
        """The KV cache's format: as stated, else 16-bit (fp32 for fp32 models), as vLLM's `kv_cache_dtype=auto`."""
        if self.kv_cache_precision is not None:
            return self.kv_cache_precision
        return "fp32" if self.precision == "fp32" else "bf16" if self.precision == "bf16" else "fp16"

    def request_latency_slo_ms(self, predicted_tpot_ms: float | None = None) -> float | None:
        """The whole-request latency the user stated, at `percentile`, ms: `p95_latency_ms`, else
        `ttft_ms + (output_tokens - 1) x tpot_ms` (the predicted TPOT standing in for an unstated one).
        None when neither can be formed. Alarms on whole-request latency use this."""
        if self.p95_latency_ms is not None:
            return self.p95_latency_ms
        tpot = self.tpot_ms if self.tpot_ms is not None else predicted_tpot_ms
        if self.ttft_ms is None or tpot is None:
            return None
        return self.ttft_ms + (self.output_tokens - 1) * tpot
