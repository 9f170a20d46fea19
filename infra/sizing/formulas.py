"""The sizing formulas: memory one model copy needs, and what a continuously batched server delivers.

Pure arithmetic over the requirements and one catalog row; each constant names its source, and the
efficiency factors are calibrated against published measurements (`bench/sizing_accuracy.py`,
table `bench/measurements.yaml`): one set of factors for every row, no per-row adjustment.

The serving model is that of vLLM / TensorRT-LLM:
- paged KV cache: a sequence holds only the tokens it has; requests are admitted while their KV
  cache fits the budget left after weights, runtime reserve and activation workspace; the rest queue;
- continuous batching with chunked prefill: each request's prompt is processed once, in chunks
  interleaved with the decode steps of the running batch;
- tensor parallelism over `t` GPUs: weights and KV heads are sharded, each layer all-reduces twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from infra.catalog import Accelerator, Interconnect
from infra.spec import Requirements

GIB = 2**30

# Bytes per parameter by format (IEEE 754 / OCP fp8 / the quantization formats' definitions). int4
# AWQ/GPTQ store an fp16 scale and zero per group of 128 weights (+4/128 B); NVFP4 an fp8 scale per
# block of 16 (+1/16 B) (NVIDIA, "Introducing NVFP4", 2025).
BYTES_PER_PARAM = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "fp4": 0.5625, "int4": 0.53125}
KV_BYTES = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0}

# vLLM's default `gpu_memory_utilization` (engine arguments docs): the engine budgets 90% of each GPU.
USABLE_FRACTION = 0.90
# Memory outside the engine's tensors, per GPU: CUDA context and cuBLAS workspaces (~0.5 GiB) and
# CUDA-graph pools (~0.5 GiB) (vLLM logs "non-torch memory" and "graph capturing took" ~0.4-1 GiB).
RESERVE_GIB_PER_GPU = 1.0
# Peak activation workspace per token in the largest forward pass, per GPU: two hidden-size 16-bit
# vectors (the residual stream and its normalised copy are replicated on every tensor-parallel rank).
# Check: vLLM 0.5.3, Llama-3.1-405B-FP8 on 8x H100 (vllm-project/vllm#6746): weights 57.75 GiB per
# GPU, profile pass of 131,072 tokens -> KV for 79,392 tokens; this model gives ~74,000 (-7%).
ACTIVATION_VECTORS = 2
# Tokens per forward pass with chunked prefill: vLLM V1's `max_num_batched_tokens` for the OpenAI
# server is 8,192 on GPUs with >= 70 GiB and 2,048 below (vllm/engine/arg_utils.py defaults).
CHUNK_TOKENS_LARGE_GPU = 8192
CHUNK_TOKENS_SMALL_GPU = 2048
# vLLM's default `max_num_seqs` (engine arguments docs): the largest batch one copy runs.
MAX_BATCH = 256

# Efficiency factors (achieved / datasheet peak), one set for every accelerator and engine, each in
# its published range and the set calibrated on bench/measurements.yaml (61 published throughputs,
# TensorRT-LLM, TensorRT BERT and vLLM: median estimate/measured 0.92, 93% within 0.67x-1.5x;
# `python -m bench.sizing_accuracy`):
# - decode streams the weights at 80% of HBM bandwidth (MLPerf/vLLM decode kernels reach 75-85%;
#   Azure measured 92% of GB200 HBM bandwidth in a STREAM-type test, techcommunity ND GB200 v6 post);
# - paged-attention KV reads, gathered block by block, at 70%;
# - GEMMs and attention reach 50% of the dense tensor peak (FlashAttention-2 reaches 50-73% in
#   prefill, Dao 2023; serving adds quantize/dequantize and sampling);
# - each engine step costs 2 ms of scheduling, sampling and launches besides the GPU work.
# The batch is capped at vLLM's default `max_num_seqs` of 256 sequences per copy.
BANDWIDTH_EFFICIENCY = 0.80
KV_BANDWIDTH_EFFICIENCY = 0.70
KV_EFFICIENCY_RATIO = KV_BANDWIDTH_EFFICIENCY / BANDWIDTH_EFFICIENCY
COMPUTE_EFFICIENCY = 0.50
STEP_OVERHEAD_S = 0.002
# A mixture of experts whose dense share is unknown: attention and embeddings taken as 5% of the
# parameters (Mixtral 8x7B: 1.6 B of 46.7 B are outside the experts).
MOE_DENSE_SHARE = 0.05


def params_billion(req: Requirements) -> float:
    """Total parameters, billions: as given, or the weights' size over bytes per parameter."""
    if req.params_billion is not None:
        return req.params_billion
    assert req.weights_gb is not None  # the spec requires one of the two
    return req.weights_gb / BYTES_PER_PARAM[req.precision]


def active_params_billion(req: Requirements) -> float:
    """Parameters each token runs through, billions: all of them for a dense model; for a mixture of
    experts `active_params_billion`, else dense share + expert share x top-k / experts."""
    total = params_billion(req)
    if req.active_params_billion is not None:
        return req.active_params_billion
    if req.experts and req.experts_per_token:
        return total * (MOE_DENSE_SHARE + (1 - MOE_DENSE_SHARE) * req.experts_per_token / req.experts)
    return total


def shape(req: Requirements) -> tuple[int, int, int, int, int]:
    """(layers, attention heads, KV heads, head dim, hidden size): as given, else estimated.

    The estimate assumes grouped-query attention with 8 KV heads of dimension 128 (Llama 3,
    Mistral, Qwen 2.5), layers fitted to Llama 3 (8B: 32, 70B: 80; layers = 13.3 x P^0.4225),
    hidden = sqrt(P / (12 x layers)) (12 h^2 parameters per layer; 8B -> 4,608 vs 4,096) and query
    heads a multiple of 8 near hidden / head dim (8B -> 32).
    """
    p = params_billion(req) * 1e9
    layers = req.layers or max(8, round(13.29 * (p / 1e9) ** 0.4225))
    head_dim = req.head_dim or 128
    hidden = req.hidden_size or max(head_dim, round(math.sqrt(p / (12 * layers)) / head_dim) * head_dim)
    # Unknown heads: a multiple of 8 near hidden / head dim, as in every current open model family,
    # so an estimate never forbids the usual tensor-parallel degrees (1, 2, 4, 8).
    heads = req.attention_heads or max(8, round(hidden / head_dim / 8) * 8)
    kv_heads = req.kv_heads or min(8, heads)
    return layers, heads, kv_heads, head_dim, hidden


def weights_gib(req: Requirements, precision: str | None = None) -> float:
    """Weights = parameters x bytes per parameter. Quantized formats keep the embeddings and LM head
    in 16 bits (vLLM quantizes linear layers only). Llama-3-8B (8.03 B) at fp16 = 14.96 GiB."""
    precision = precision or req.precision
    if req.weights_gb is not None and precision == req.precision:
        return req.weights_gb * 1e9 / GIB
    total = params_billion(req) * 1e9
    bytes_per = BYTES_PER_PARAM[precision]
    embeddings = 2 * req.vocab_size * shape(req)[4] if req.vocab_size and bytes_per < 2 else 0
    return ((total - embeddings) * bytes_per + embeddings * 2.0) / GIB


def kv_bytes_per_token(req: Requirements, kv_precision: str | None = None) -> float:
    """KV cache per token = 2 (K and V) x layers x KV heads x head dim x bytes per value.

    Source: the transformer KV cache layout (vLLM PagedAttention paper, section 2). Llama-3-8B
    (32 layers, 8 KV heads, head dim 128, fp16) = 131,072 bytes = 128 KiB per token.
    """
    if req.model_type != "llm":
        return 0.0  # encoders run one forward pass and keep no cache
    layers, _, kv_heads, head_dim, _ = shape(req)
    return 2 * layers * kv_heads * head_dim * KV_BYTES[kv_precision or req.kv_precision]


def chunk_tokens(gpu: Accelerator) -> int:
    """Tokens per forward pass with chunked prefill on this accelerator (vLLM V1 defaults)."""
    return CHUNK_TOKENS_LARGE_GPU if gpu.memory_gib >= 70 else CHUNK_TOKENS_SMALL_GPU


def overhead_gib_per_gpu(req: Requirements, batched_tokens: int) -> float:
    """Runtime reserve plus the activation workspace of a forward pass over `batched_tokens`, GiB per GPU."""
    hidden = shape(req)[4]
    return RESERVE_GIB_PER_GPU + ACTIVATION_VECTORS * hidden * 2 * batched_tokens / GIB


def kv_budget_tokens(
    req: Requirements,
    gpu_memory_gib: float,
    gpus: int,
    batched_tokens: int,
    precision: str | None = None,
    kv_precision: str | None = None,
) -> int:
    """Tokens of KV cache one copy on `gpus` accelerators holds: each GPU's usable memory less its
    shard of the weights, the reserve and the activation workspace (negative: the weights do not fit)."""
    per_token = kv_bytes_per_token(req, kv_precision)
    free_gib = gpus * (gpu_memory_gib * USABLE_FRACTION - overhead_gib_per_gpu(req, batched_tokens)) - weights_gib(
        req, precision
    )
    if not per_token:
        return 0 if free_gib >= 0 else -1
    return math.floor(free_gib * GIB / per_token)


def memory_needed_gib(req: Requirements, gpus: int, batched_tokens: int, precision: str | None = None) -> float:
    """GPU memory one copy on `gpus` GPUs needs to hold its weights and one full context:
    (weights + one context's KV + overheads) / usable fraction."""
    kv = kv_bytes_per_token(req) * req.context_tokens / GIB
    return (weights_gib(req, precision) + kv + gpus * overhead_gib_per_gpu(req, batched_tokens)) / USABLE_FRACTION


def valid_tensor_parallel(req: Requirements, degree: int) -> bool:
    """Can an engine shard the model `degree` ways? The degree must divide the attention heads, and
    divide the KV heads or be a multiple of them (then each KV head is replicated: vLLM, TRT-LLM)."""
    _, heads, kv_heads, _, _ = shape(req)
    return heads % degree == 0 and (kv_heads % degree == 0 or degree % kv_heads == 0)


@dataclass(frozen=True)
class Performance:
    """What one model copy delivers at one batch size. Times in ms at the requirements' percentile."""

    batch: int  # sequences decoded together (continuous batch)
    rps: float  # requests per second one copy sustains
    ttft_ms: float | None  # time to first token; None for encoders
    tpot_ms: float | None  # time per output token; None for encoders
    latency_ms: float  # whole request

    def meets(self, req: Requirements) -> bool:
        """Within every SLO the requirements state."""
        return (
            (req.p95_latency_ms is None or self.latency_ms <= req.p95_latency_ms)
            and (req.ttft_ms is None or self.ttft_ms is None or self.ttft_ms <= req.ttft_ms)
            and (req.tpot_ms is None or self.tpot_ms is None or self.tpot_ms <= req.tpot_ms)
        )


@dataclass(frozen=True)
class Engine:
    """One model copy's hardware: `gpus` accelerators joined by `link` (None for one GPU)."""

    gpu: Accelerator
    gpus: int
    link: Interconnect | None
    precision: str
    kv_precision: str

    @property
    def flops(self) -> float:
        """Achieved tensor FLOP/s of the copy in its precision."""
        peak = self.gpu.tflops(self.precision) or self.gpu.fp16_tflops
        return self.gpus * peak * 1e12 * COMPUTE_EFFICIENCY

    @property
    def attention_flops(self) -> float:
        """Achieved FLOP/s of attention, which runs in the KV cache's format (fp8 FMHA or 16-bit)."""
        peak = self.gpu.tflops(self.kv_precision) or self.gpu.fp16_tflops
        return self.gpus * peak * 1e12 * COMPUTE_EFFICIENCY

    @property
    def bandwidth(self) -> float:
        """Achieved memory bandwidth of the copy, bytes/s."""
        return self.gpus * self.gpu.bandwidth_gbps * 1e9 * BANDWIDTH_EFFICIENCY

    def all_reduce_s(self, req: Requirements, tokens: int, dims: tuple[int, int] | None = None) -> float:
        """Tensor-parallel communication of one forward pass over `tokens`: two ring all-reduces per
        layer of tokens x hidden 16-bit values, each moving 2(t-1)/t of the data (Megatron-LM).
        `dims` (layers, hidden) saves re-deriving the model's shape."""
        if self.gpus == 1 or self.link is None:
            return 0.0
        layers, hidden = dims or (shape(req)[0], shape(req)[4])
        data = tokens * hidden * 2 * 2 * (self.gpus - 1) / self.gpus
        return 2 * layers * (self.link.latency_us * 1e-6 + data / (self.link.gbps * 1e9))


@dataclass(frozen=True)
class _Constants:
    """What `performance` needs that does not depend on the batch (computed once per copy)."""

    layers: int
    heads: int
    head_dim: int
    hidden: int
    active: float  # parameters per token
    weights: float  # bytes
    quantile: float
    expert_share: float  # share of the weights in routed experts (0 for a dense model)
    routed: float  # top-k / experts
    kv_token: float  # KV bytes per token
    flops: float
    bandwidth: float
    prefill: float  # seconds for one prompt
    chunks: int  # prefill chunks of one prompt


def _constants(req: Requirements, engine: Engine) -> _Constants:
    layers, heads, _, head_dim, hidden = shape(req)
    total = params_billion(req) * 1e9
    active = active_params_billion(req) * 1e9
    routed = expert_share = 0.0
    if active < total:
        routed = req.experts_per_token / req.experts if req.experts and req.experts_per_token else active / total
        expert_share = (total - active) / (1 - routed) / total if routed < 1 else 0.0
    prompt = req.context_tokens - req.output_tokens if req.model_type == "llm" else req.context_tokens
    attention_flops = 2 * layers * prompt**2 * heads * head_dim  # causal: half of 4 x L x n^2 x d
    prefill = 2 * active * prompt / engine.flops + attention_flops / engine.attention_flops
    return _Constants(
        layers=layers,
        heads=heads,
        head_dim=head_dim,
        hidden=hidden,
        active=active,
        weights=weights_gib(req, engine.precision) * GIB,
        quantile=math.log(1 / (1 - req.percentile / 100)),  # exponential tail: p95 -> 3.0 x the mean wait
        expert_share=expert_share,
        routed=routed,
        kv_token=kv_bytes_per_token(req, engine.kv_precision),
        flops=engine.flops,
        bandwidth=engine.bandwidth,
        prefill=prefill + engine.all_reduce_s(req, prompt, (layers, hidden)),
        chunks=math.ceil(prompt / chunk_tokens(engine.gpu)),
    )


def performance(req: Requirements, engine: Engine, batch: int, constants: _Constants | None = None) -> Performance:
    """Throughput and latency of one copy running `batch` sequences.

    Decode step (one token for each of `batch` sequences): streams the weights (for a mixture of
    experts, the experts the batch's tokens reach) and the batch's KV cache, or is bound by the
    2 x active-parameters FLOPs per token, whichever is slower (roofline), plus all-reduces and the
    engine's step overhead. Prefill of one prompt: 2 x active params x prompt tokens plus causal
    attention 2 x layers x prompt^2 x heads x head dim FLOPs (Kaplan et al. 2020).
    With chunked prefill the copy spends, per `batch` requests, `output_tokens` decode steps and
    `batch` prefills: throughput = batch / (output x step + batch x prefill) (Little's law: batch =
    throughput x time in the system); TPOT is a step stretched by its share of interleaved prefill;
    TTFT is the prompt's own prefill chunks plus, at the percentile, the wait for prefills ahead.
    """
    c = constants or _constants(req, engine)
    dims = (c.layers, c.hidden)
    layers, heads, head_dim, active = c.layers, c.heads, c.head_dim, c.active
    weights, quantile = c.weights, c.quantile
    if req.model_type != "llm":
        tokens = req.context_tokens * batch
        attention = 2 * layers * req.context_tokens**2 * heads * head_dim * batch
        compute = 2 * active * tokens / engine.flops + attention / engine.attention_flops
        step = max(weights / engine.bandwidth, compute) + engine.all_reduce_s(req, tokens, dims)
        step += STEP_OVERHEAD_S
        # A request waits for the batch in flight, then runs in the next: (1 + p) x the batch time.
        latency = step * (1 + req.percentile / 100)
        return Performance(batch, batch / step, None, None, latency * 1000)
    prompt = req.context_tokens - req.output_tokens
    out = req.output_tokens
    # Experts the batch touches: each token picks top-k of E, so a layer reads 1-(1-k/E)^batch of them.
    touched = 1.0 - c.expert_share * (1 - c.routed) ** batch if c.expert_share else 1.0
    resident = batch * (prompt + out / 2) * c.kv_token  # paged: a sequence holds the tokens it has
    memory_s = weights * touched / c.bandwidth + resident / (c.bandwidth * KV_EFFICIENCY_RATIO)
    decode_s = max(memory_s, 2 * active * batch / c.flops)
    step = decode_s + engine.all_reduce_s(req, batch, dims) + STEP_OVERHEAD_S
    prefill = c.prefill
    cycle = out * step + batch * prefill
    rps = batch / cycle
    tpot = cycle / out
    chunks = c.chunks
    utilisation = min(rps * prefill, 0.95)
    wait = utilisation / (1 - utilisation) * prefill / 2 * quantile  # M/D/1 mean wait, exponential tail
    ttft = prefill + chunks * step + wait
    latency = ttft + (out - 1) * tpot
    return Performance(batch, rps, ttft * 1000, tpot * 1000, latency * 1000)


def best_batch(req: Requirements, engine: Engine, kv_tokens: int, slo: bool = True) -> tuple[Performance, Performance]:
    """(the highest-throughput batch within the SLOs, or batch 1 when none is; batch 1).
    With `slo=False` the highest-throughput batch regardless of latency (a benchmark's Offline run).

    Batches tried: powers of two up to the most sequences the KV budget holds at their average
    length (prompt + half the output), `concurrency` and the engine's 256-sequence default.
    """
    limit = min(req.concurrency or MAX_BATCH, MAX_BATCH)
    if req.model_type == "llm":
        per_sequence = req.context_tokens - req.output_tokens / 2
        limit = max(1, min(limit, math.floor(kv_tokens / per_sequence)))
    sizes = sorted({limit} | {2**i for i in range(11) if 2**i < limit})
    constants = _constants(req, engine)
    first = performance(req, engine, 1, constants)
    within = [first] if first.meets(req) or not slo else []
    for b in sizes[1:]:
        perf = performance(req, engine, b, constants)
        if slo and not perf.meets(req):
            break  # latency grows with the batch: a larger one misses the SLOs too
        within.append(perf)
    return (max(within, key=lambda p: p.rps) if within else first), first
