"""The serving layout sizing decided: what the plan passes to the model server.

One `Layout` per placement. The serving-runtime contract (an engine table per engine and setting)
turns these fields into the engine's own flags, e.g. vLLM `--tensor-parallel-size`,
`--max-num-seqs`, `--max-model-len`, `--gpu-memory-utilization`, `--kv-cache-dtype`.
Field names are a stable interface: the plan and every translator read them.
"""

from __future__ import annotations

from dataclasses import dataclass

# vLLM's engine-argument defaults (docs.vllm.ai, "Engine Arguments"): 90% of each GPU's memory for
# weights, activations and KV cache, and up to 256 sequences batched per step.
DEFAULT_GPU_MEMORY_UTILIZATION = 0.90
DEFAULT_MAX_NUM_SEQS = 256
# A named profile without requirements knows no model: serve a 4,096-token context (the spec's
# `context_tokens` default) and let the engine size its KV cache from the memory fraction.
DEFAULT_MAX_MODEL_LEN = 4096


@dataclass(frozen=True)
class Layout:
    """How one replica runs the model.

    tensor_parallel: GPUs one model copy is sharded over (1 on CPU).
    copies_per_instance: model copies (servers) on one instance; tensor_parallel x copies <= GPUs.
    max_num_seqs: sequences one copy runs concurrently (the continuous batch); requests beyond it queue.
    max_model_len: tokens of one sequence, prompt plus output.
    max_input_tokens: prompt tokens of one sequence.
    kv_cache_tokens: tokens of KV cache one copy holds (its paged-cache budget); 0 when sizing had
        no model to size it (a named profile without requirements: the engine sizes the cache).
    gpu_memory_utilization: fraction (0-1] of each GPU's memory the engine may use.
    precision: weights dtype or quantization: fp32 | bf16 | fp16 | fp8 | fp4 | int8 | int4.
    kv_cache_precision: KV cache dtype: fp32 | fp16 | bf16 | fp8.
    ttft_ms: predicted time to first token at the stated percentile, ms; None for encoders and profiles.
    tpot_ms: predicted time per output token at the stated percentile, ms; None for encoders and profiles.
    latency_ms: predicted whole-request latency at the stated percentile, ms (0 when not sized).
    """

    tensor_parallel: int
    copies_per_instance: int
    max_num_seqs: int
    max_model_len: int
    max_input_tokens: int
    kv_cache_tokens: int
    gpu_memory_utilization: float
    precision: str
    kv_cache_precision: str
    ttft_ms: float | None
    tpot_ms: float | None
    latency_ms: float

    def as_dict(self) -> dict[str, object]:
        """The layout as JSON-ready values (ms rounded to 0.1)."""
        return {
            "tensor_parallel": self.tensor_parallel,
            "copies_per_instance": self.copies_per_instance,
            "max_num_seqs": self.max_num_seqs,
            "max_model_len": self.max_model_len,
            "max_input_tokens": self.max_input_tokens,
            "kv_cache_tokens": self.kv_cache_tokens,
            "gpu_memory_utilization": self.gpu_memory_utilization,
            "precision": self.precision,
            "kv_cache_precision": self.kv_cache_precision,
            "ttft_ms": None if self.ttft_ms is None else round(self.ttft_ms, 1),
            "tpot_ms": None if self.tpot_ms is None else round(self.tpot_ms, 1),
            "latency_ms": round(self.latency_ms, 1),
        }


def profile_layout(gpus: int, precision: str = "fp16") -> Layout:
    """The layout of a named profile without requirements: one server sharded over every GPU
    (`gpus`; 1 on CPU), vLLM's defaults for batch and memory, a 4,096-token context, no prediction."""
    return Layout(
        tensor_parallel=max(gpus, 1),
        copies_per_instance=1,
        max_num_seqs=DEFAULT_MAX_NUM_SEQS,
        max_model_len=DEFAULT_MAX_MODEL_LEN,
        max_input_tokens=DEFAULT_MAX_MODEL_LEN,
        kv_cache_tokens=0,
        gpu_memory_utilization=DEFAULT_GPU_MEMORY_UTILIZATION,
        precision=precision,
        kv_cache_precision=precision if precision in ("fp32", "bf16") else "fp16",
        ttft_ms=None,
        tpot_ms=None,
        latency_ms=0.0,
    )
