"""The sizing formulas: memory one replica needs, and latency and throughput on an accelerator.

Pure arithmetic over the requirements and one catalog row; each formula names its source.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from infra.catalog import Accelerator
from infra.spec import Requirements

GIB = 2**30

# Bytes per parameter by numeric precision (IEEE 754 / the quantization formats' definitions:
# int4 packs two weights per byte; group scales add ~3%, folded into the runtime reserve).
BYTES_PER_PARAM = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "int8": 1.0, "int4": 0.5}

# Weight-only quantization (GPTQ/AWQ, int8 W8A16) keeps the KV cache in 16-bit; only fp32 models
# keep a 32-bit cache (vLLM `kv_cache_dtype=auto` follows the model dtype).
KV_BYTES = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "int8": 2.0, "int4": 2.0}

# vLLM reserves 10% of GPU memory by default (`gpu_memory_utilization=0.9`, vLLM engine args docs);
# CUDA context, activations and allocator fragmentation take about 1 GiB more per GPU.
USABLE_FRACTION = 0.90
RESERVE_GIB_PER_GPU = 1.0

# Achieved fraction of peak. Decode: single-stream Llama-3-8B fp16 on an A10G runs at ~30 tokens/s
# (16 GB streamed per token: ~530 GB/s of the 600 GB/s datasheet figure); vLLM and TensorRT-LLM
# reach 75-85% of HBM bandwidth on A100/H100 (MLPerf Inference v4.0 Llama-2-70B offline results).
# Prefill: ~50% of dense tensor FLOPS (MFU of FlashAttention-2 prefill kernels, Dao 2023).
BANDWIDTH_EFFICIENCY = 0.80
COMPUTE_EFFICIENCY = 0.50
# Tensor parallelism loses ~10% per doubling to all-reduce (Megatron-LM paper, Table 1 scaling).
TP_EFFICIENCY_PER_DOUBLING = 0.90

# A 7-8B model at fp16: the reference size of each accelerator's `llm_tokens_per_s` figure.
REFERENCE_PARAMS_BILLION = 8.0


def params_billion(req: Requirements) -> float:
    if req.params_billion is not None:
        return req.params_billion
    assert req.weights_gb is not None
    return req.weights_gb * 1e9 / BYTES_PER_PARAM[req.precision] / 1e9


def weights_gib(req: Requirements, precision: str | None = None) -> float:
    """Weights = parameters x bytes per parameter. Llama-3-8B (8.03 B) at fp16 = 14.96 GiB."""
    precision = precision or req.precision
    if req.weights_gb is not None and precision == req.precision:
        return req.weights_gb * 1e9 / GIB
    return params_billion(req) * 1e9 * BYTES_PER_PARAM[precision] / GIB


def kv_shape(req: Requirements) -> tuple[int, int, int]:
    """(layers, kv_heads, head_dim): as given, or estimated from the parameter count.

    The estimate assumes grouped-query attention with 8 KV heads of dimension 128 (Llama 3,
    Mistral, Qwen 2.5 72B) and a layer count fitted to Llama 3 (8B: 32 layers, 70B: 80 layers;
    layers = 13.3 x P^0.4225), which over-estimates larger models: a safe error for sizing.
    """
    if req.layers is not None and req.kv_heads is not None and req.head_dim is not None:
        return req.layers, req.kv_heads, req.head_dim
    layers = max(8, round(13.29 * params_billion(req) ** 0.4225))
    return layers, 8, 128


def kv_bytes_per_token(req: Requirements, precision: str | None = None) -> float:
    """KV cache per token = 2 (K and V) x layers x KV heads x head dim x bytes per value.

    Source: the transformer KV cache layout (vLLM PagedAttention paper, section 2). Llama-3-8B
    (32 layers, 8 KV heads, head dim 128, fp16) = 131,072 bytes = 128 KiB per token.
    """
    if req.model_type != "llm":
        return 0.0  # encoders run one forward pass and keep no cache
    layers, heads, dim = kv_shape(req)
    return 2 * layers * heads * dim * KV_BYTES[precision or req.precision]


def kv_cache_gib(req: Requirements, precision: str | None = None) -> float:
    """The cache for `concurrency` sequences of `context_tokens` each, all resident at once."""
    return kv_bytes_per_token(req, precision) * req.context_tokens * req.concurrency / GIB


def kv_budget_tokens(req: Requirements, gpu_memory_gib: float, gpus: int, precision: str | None = None) -> int:
    """Tokens of KV cache one copy on `gpus` accelerators of `gpu_memory_gib` each can hold after
    the weights and the reserve (0 for encoders)."""
    per_token = kv_bytes_per_token(req, precision)
    if not per_token:
        return 0
    free = gpu_memory_gib * gpus * USABLE_FRACTION - weights_gib(req, precision) - RESERVE_GIB_PER_GPU * gpus
    return max(0, int(free * GIB / per_token))


def memory_needed_gib(req: Requirements, gpus: int = 1, precision: str | None = None) -> float:
    """GPU memory one replica needs on `gpus` accelerators: (weights + KV + reserve) / usable fraction."""
    return (weights_gib(req, precision) + kv_cache_gib(req, precision) + RESERVE_GIB_PER_GPU * gpus) / USABLE_FRACTION


@dataclass(frozen=True)
class Performance:
    latency_ms: float  # p95 latency of one request at the chosen batch
    batch: int  # concurrent sequences the replica runs within the latency target
    rps: float  # requests per second one replica sustains
    ttft_ms: float | None = None  # time to first token at the chosen batch (None for encoders)
    tpot_ms: float | None = None  # time per output token at the chosen batch (None for encoders)


def performance(req: Requirements, gpu: Accelerator, gpus: int, precision: str | None = None) -> Performance:
    """Latency and throughput of one replica with tensor parallelism over `gpus` accelerators.

    Prefill is compute-bound: 2 x params x prompt tokens FLOPs (Kaplan et al. 2020, forward pass).
    Decode is memory-bound: every step streams the weights and the active KV cache once, and
    yields one token per running sequence. Aggregate decode is capped by the accelerator's
    measured tokens/s (catalog, MLPerf/vendor), scaled by model size.
    """
    precision = precision or req.precision
    scale = gpus * TP_EFFICIENCY_PER_DOUBLING ** math.log2(gpus) if gpus > 1 else 1.0
    bandwidth = gpu.bandwidth_gbps * 1e9 * BANDWIDTH_EFFICIENCY * scale
    flops = gpu.fp16_tflops * 1e12 * COMPUTE_EFFICIENCY * scale
    params = params_billion(req) * 1e9
    prompt = req.context_tokens - req.output_tokens if req.model_type == "llm" else req.context_tokens
    decode_steps = req.output_tokens if req.model_type == "llm" else 0
    weights = weights_gib(req, precision) * GIB
    kv_seq = kv_bytes_per_token(req, precision) * req.context_tokens
    cap_tokens_s = gpu.llm_tokens_per_s * scale * min(4.0, REFERENCE_PARAMS_BILLION / max(params / 1e9, 0.1))

    def at(batch: int) -> Performance:
        prefill_s = 2 * params * prompt * batch / flops
        if not decode_steps:  # one forward pass also streams the weights once
            latency = prefill_s + weights / bandwidth
            return Performance(latency * 1000, batch, batch / latency)
        step_s = (weights + kv_seq * batch) / bandwidth
        latency = prefill_s + decode_steps * step_s
        tokens_s = min(batch / step_s, cap_tokens_s)
        return Performance(
            latency * 1000,
            batch,
            min(batch / latency, tokens_s / decode_steps),
            (prefill_s + step_s) * 1000,
            step_s * 1000,
        )

    results = [at(batch) for batch in _batches(req.concurrency)]
    within = [p for p in results if p.latency_ms <= req.p95_latency_ms]
    # The best batch within the latency target; batch 1 (too slow) when none is within it.
    return max(within, key=lambda p: p.rps) if within else results[0]


def _batches(concurrency: int) -> list[int]:
    sizes = {1, concurrency}
    b = 2
    while b < concurrency:
        sizes.add(b)
        b *= 2
    return sorted(sizes)
