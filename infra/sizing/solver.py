"""Placement: the cheapest catalog row (and replica bounds) that meets an endpoint's needs.

`auto` evaluates every catalog row of the cloud and serving target against the requirements;
a named profile takes the cheapest row of its capacity class. Both return a `Placement` that
explains itself and lists every candidate considered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from infra.catalog import Accelerator, InstanceType, Target, load_catalog, load_profiles
from infra.environments import ENVIRONMENTS
from infra.facts import architecture, cloud_facts
from infra.sizing import formulas
from infra.sizing.layout import Layout, profile_layout
from infra.spec import Requirements

HOURS_PER_MONTH = 730  # the 8,760 h year / 12, as the clouds' price calculators use
# Autoscalers react in minutes: provision for the peak at 80% utilisation.
PEAK_HEADROOM = 1.25
# One vCPU of a current server (DDR5, AVX-512): ~5 GB/s of memory bandwidth and ~0.1 TFLOPS
# (64 FLOP/cycle fp32 FMA at ~3 GHz / 2 for sustained clocks). CPU rows run small encoders.
CPU_PER_VCPU = Accelerator("cpu", "none", 0.0, 5.0, 0.1, formats=("fp32", "bf16", "fp16", "int8", "int4"))
CPU_USABLE_RAM = 0.5  # half the RAM for the model; the rest for the OS, runtime and batching


class NoPlacementError(Exception):
    """Nothing in the catalog meets the requirements; the message names the closest option."""


@dataclass(frozen=True)
class Candidate:
    """One catalog row evaluated against the requirements (replicas and $/h at the peak)."""

    instance_type: str
    gpu: str
    gpus: int
    feasible: bool
    replicas_needed: int
    hourly_usd: float  # all replicas together, at the peak
    reason: str | None = None
    instance_hourly_usd: float = 0.0
    tensor_parallel: int = 0
    copies_per_instance: int = 0
    rps_per_replica: float = 0.0
    latency_ms: float = 0.0
    layout: Layout | None = None  # the layout that won on this row (None: nothing fit)
    short_of_memory: bool = False  # the row runs the image and formats but cannot hold the model

    def peak_hourly_usd(self, floor: int) -> float:
        """$/h at the peak when the environment keeps at least `floor` replicas."""
        return max(self.replicas_needed, floor) * self.instance_hourly_usd

    def as_dict(self) -> dict[str, object]:
        layout = self.layout
        return {
            "instance_type": self.instance_type,
            "gpu": self.gpu,
            "gpus": self.gpus,
            "feasible": self.feasible,
            "replicas_needed": self.replicas_needed,
            "hourly_usd": round(self.hourly_usd, 4),
            "rps_per_replica": round(self.rps_per_replica, 3),
            "latency_ms": round(self.latency_ms, 1),
            "tensor_parallel": self.tensor_parallel,
            "copies_per_instance": self.copies_per_instance,
            **({"batch": layout.max_num_seqs} if layout else {}),
            **({"ttft_ms": round(layout.ttft_ms, 1)} if layout and layout.ttft_ms is not None else {}),
            **({"tpot_ms": round(layout.tpot_ms, 1)} if layout and layout.tpot_ms is not None else {}),
            **({"reason": self.reason} if self.reason else {}),
        }


@dataclass(frozen=True)
class Placement:
    row: InstanceType
    capacity: str  # on-demand | spot
    min_replicas: int
    max_replicas: int
    memory_needed_gib: float | None
    explanation: str
    layout: Layout  # what the serving container is told: parallelism, batch, context, memory, precision
    candidates: tuple[Candidate, ...] = ()
    alternatives: tuple[dict[str, object], ...] = field(default=())

    def hourly_usd(self, replicas: int) -> float:
        price = self.row.price(self.capacity)
        assert price is not None  # the solver places only on rows with this capacity
        return price * replicas


def replica_floor(environment: str, cloud: str, serving: Target) -> int:
    """The environment's minimum replicas; 0 only where the service can scale to zero."""
    floor = ENVIRONMENTS[environment].min_replicas
    return floor if floor > 0 or cloud_facts()[cloud]["scale_to_zero"][serving] else 1


def _accelerator(row: InstanceType) -> Accelerator:
    """The row's accelerator; a CPU row as one accelerator of all its vCPUs and half its RAM."""
    if row.gpu is not None:
        return row.gpu
    return replace(
        CPU_PER_VCPU,
        memory_gib=row.ram_gib * CPU_USABLE_RAM,
        bandwidth_gbps=CPU_PER_VCPU.bandwidth_gbps * row.vcpu,
        fp16_tflops=CPU_PER_VCPU.fp16_tflops * row.vcpu,
    )


def _host_runs(row: InstanceType, arm64: bool) -> bool:
    """Whether the row's host CPU runs the image: an Arm host (facts.yaml pattern) needs a linux/arm64 build."""
    return arm64 or architecture(row.cloud, row.name) != "arm64"


def _unsupported(row: InstanceType, req: Requirements, precision: str) -> str | None:
    """Why the row cannot run this image or these formats at all (None: it can)."""
    runtime = row.gpu.runtime if row.gpu else None
    if runtime is not None and runtime != req.runtime:
        if runtime == "neuron":
            return "needs a Neuron-compiled image (set requirements.neuron: true)"
        if runtime == "amd":
            caveat = row.gpu.engine_caveat if row.gpu else None
            return f"needs a ROCm image (set requirements.rocm: true){'; ' + caveat if caveat else ''}"
        wanted = "neuron asks for AWS Inferentia" if req.neuron else "rocm asks for AMD ROCm"
        return f"requirements.{wanted}"
    if not _host_runs(row, req.arm64):
        return "an Arm (Grace) host: needs an image with a linux/arm64 build (set requirements.arm64: true)"
    accel = _accelerator(row)
    for what, fmt in (("precision", precision), ("kv_cache_precision", req.kv_precision)):
        if fmt not in accel.formats:
            return f"{accel.name} has no {fmt} support ({what}; it runs {', '.join(accel.formats)})"
    return None


def _layout(
    req: Requirements, engine: formulas.Engine, copies: int, kv_tokens: int, perf: formulas.Performance
) -> Layout:
    return Layout(
        tensor_parallel=engine.gpus,
        copies_per_instance=copies,
        max_num_seqs=perf.batch,
        max_model_len=req.context_tokens,
        max_input_tokens=req.context_tokens - req.output_tokens if req.model_type == "llm" else req.context_tokens,
        kv_cache_tokens=max(kv_tokens, 0),
        gpu_memory_utilization=formulas.USABLE_FRACTION,
        precision=engine.precision,
        kv_cache_precision=engine.kv_precision,
        ttft_ms=perf.ttft_ms,
        tpot_ms=perf.tpot_ms,
        latency_ms=perf.latency_ms,
    )


def _slo_text(req: Requirements) -> str:
    p = f"p{req.percentile:g}"
    parts = [f"TTFT {req.ttft_ms:g} ms"] if req.ttft_ms is not None else []
    parts += [f"TPOT {req.tpot_ms:g} ms"] if req.tpot_ms is not None else []
    parts += [f"latency {req.p95_latency_ms:g} ms"] if req.p95_latency_ms is not None else []
    return f"{p} " + ", ".join(parts)


def _perf_text(perf: formulas.Performance | Layout) -> str:
    if perf.ttft_ms is None or perf.tpot_ms is None:
        return f"latency {perf.latency_ms:.0f} ms"
    return f"TTFT {perf.ttft_ms:.0f} ms, TPOT {perf.tpot_ms:.1f} ms, latency {perf.latency_ms:.0f} ms"


@dataclass(frozen=True)
class _Option:
    """One tensor-parallel layout on one instance: the best batch within the SLOs and at batch 1."""

    engine: formulas.Engine
    copies: int
    kv_tokens: int
    best: formulas.Performance
    first: formulas.Performance

    @property
    def rps(self) -> float:
        return self.best.rps * self.copies


def _options(row: InstanceType, req: Requirements, precision: str) -> tuple[list[_Option], str | None]:
    """Every valid layout of the model on one instance of `row` that holds it; else why none does."""
    accel = _accelerator(row)
    units = row.gpus if row.gpu else 1
    valid = [d for d in range(1, units + 1) if units % d == 0 and (d == 1 or formulas.valid_tensor_parallel(req, d))]
    if not valid:
        heads = formulas.shape(req)[1]
        return [], f"no tensor-parallel degree dividing {units} GPUs divides the model's {heads} attention heads"
    chunk = formulas.chunk_tokens(accel)
    options: list[_Option] = []
    for d in valid:
        kv_tokens = formulas.kv_budget_tokens(req, accel.memory_gib, d, chunk, precision, req.kv_precision)
        if kv_tokens < (req.context_tokens if req.model_type == "llm" else 0):
            continue
        link = row.interconnect if d > 1 else None
        engine = formulas.Engine(accel, d, link, precision, req.kv_precision)
        best, first = formulas.best_batch(req, engine, kv_tokens)
        copies = units // d if row.target == "kubernetes" else 1
        options.append(_Option(engine, copies, kv_tokens, best, first))
    if not options:
        d = valid[-1]
        need = formulas.memory_needed_gib(req, d, chunk, precision)
        return [], (
            f"needs {need:.1f} GiB for the weights and one {req.context_tokens}-token context at TP {d},"
            f" the instance has {units * accel.memory_gib:.1f} GiB"
        )
    return options, None


def evaluate(row: InstanceType, req: Requirements, capacity: str, precision: str | None = None) -> Candidate:
    """Can one instance of `row` serve the model, in which layout, and how many does the peak need?

    Every valid tensor-parallel degree is tried; the layout with the most requests/s per instance
    within the SLOs wins (ties: the lower latency).
    """
    precision = precision or req.precision
    gpu_name = row.gpu.name if row.gpu else "cpu"
    price = row.price(capacity)
    base = Candidate(row.name, gpu_name, row.gpus, False, 0, 0.0)
    if price is None:
        return replace(base, reason="no spot capacity for this type")
    reason = _unsupported(row, req, precision)
    if reason:
        return replace(base, reason=reason)
    options, reason = _options(row, req, precision)
    if not options:
        return replace(base, reason=reason, short_of_memory=reason is not None and reason.startswith("needs "))
    within = [o for o in options if o.best.meets(req)]
    if not within:
        fastest = min(options, key=lambda o: o.first.latency_ms)
        return replace(
            base,
            tensor_parallel=fastest.engine.gpus,
            copies_per_instance=fastest.copies,
            latency_ms=fastest.first.latency_ms,
            layout=_layout(req, fastest.engine, fastest.copies, fastest.kv_tokens, fastest.first),
            reason=f"at batch 1 and TP {fastest.engine.gpus}: {_perf_text(fastest.first)}; the SLO is {_slo_text(req)}",
        )
    won = max(within, key=lambda o: (o.rps, -o.best.latency_ms))
    rps = won.rps
    if req.measured_rps_per_replica is not None:
        # A pilot's measurement: as measured, or as a calibration of this row's estimate when the
        # measurement names the type it ran on.
        rps = rps * _calibration(req, precision) if req.measured_on else req.measured_rps_per_replica
    needed = max(1, math.ceil(req.peak_rps * PEAK_HEADROOM / rps))
    return replace(
        base,
        feasible=True,
        replicas_needed=needed,
        hourly_usd=needed * price,
        instance_hourly_usd=price,
        tensor_parallel=won.engine.gpus,
        copies_per_instance=won.copies,
        rps_per_replica=rps,
        latency_ms=won.best.latency_ms,
        layout=_layout(req, won.engine, won.copies, won.kv_tokens, won.best),
    )


def _calibration(req: Requirements, precision: str) -> float:
    """measured / estimated requests/s on the type the pilot ran on, whatever its feasibility for the
    SLOs (its highest-throughput layout); a NoPlacementError when the model cannot run there at all."""
    assert req.measured_rps_per_replica is not None and req.measured_on is not None
    ref = next(r for r in load_catalog().instances if r.name == req.measured_on)  # the spec checked it
    plain = req.model_copy(update={"measured_on": None, "measured_rps_per_replica": None})
    options, reason = _options(ref, plain, precision) if not _unsupported(ref, plain, precision) else ([], None)
    if not options:
        why = reason or _unsupported(ref, plain, precision)
        raise NoPlacementError(f"measured_on {ref.name}: the model cannot run there ({why}), so it calibrates nothing")
    estimate = max(max(o.best.rps, o.first.rps) * o.copies for o in options)
    return req.measured_rps_per_replica / estimate


def solve(
    cloud: str,
    target: Target,
    req: Requirements,
    capacity: str = "on-demand",
    floor: int = 1,
    precision: str | None = None,
) -> tuple[Candidate, list[Candidate]]:
    """Evaluate every row; the cheapest feasible candidate at the peak (ties: fewer GPUs)."""
    candidates = [evaluate(row, req, capacity, precision) for row in load_catalog().rows(cloud, target)]
    feasible = [c for c in candidates if c.feasible]
    if not feasible:
        raise NoPlacementError(_closest(cloud, target, req, candidates))
    return min(feasible, key=lambda c: (c.peak_hourly_usd(floor), c.gpus)), candidates


def _closest(cloud: str, target: Target, req: Requirements, candidates: list[Candidate]) -> str:
    what = f"{cloud} {target} instance type"
    sized = [c for c in candidates if c.layout is not None]
    if sized:
        best = min(sized, key=lambda c: c.latency_ms)
        assert best.layout is not None
        return (
            f"no {what} meets {_slo_text(req)}; the fastest is {best.instance_type} at tensor-parallel"
            f" {best.tensor_parallel}, batch 1: {_perf_text(best.layout)}"
            " (raise the target, shorten context_tokens/output_tokens, or quantize)"
        )
    memory = [c for c in candidates if c.short_of_memory]
    if not memory:
        reasons = sorted({c.reason for c in candidates if c.reason})
        return f"no {what} can serve the model: {'; '.join(reasons)}"
    rows = {r.name: r for r in load_catalog().rows(cloud, target)}
    largest = max((rows[c.instance_type] for c in memory), key=lambda r: r.gpu_memory_gib)
    return (
        f"no {what} holds the model; the largest is {largest.name} with {largest.gpu_memory_gib:.0f} GiB"
        f" (try precision fp8, int8 or int4, or a shorter context)"
    )


def auto(cloud: str, target: Target, req: Requirements, capacity: str, floor: int) -> Placement:
    """The cheapest feasible row at the peak, with its layout, every candidate and the alternatives."""
    best, candidates = solve(cloud, target, req, capacity, floor)
    row = load_catalog().find(cloud, best.instance_type, target)
    assert row is not None and best.layout is not None
    layout = best.layout
    chunk = formulas.chunk_tokens(row.gpu) if row.gpu else formulas.CHUNK_TOKENS_SMALL_GPU
    need = formulas.memory_needed_gib(req, layout.tensor_parallel, chunk)
    peak = max(best.replicas_needed, floor)
    active = formulas.active_params_billion(req)
    total = formulas.params_billion(req)
    moe = f" ({active:.1f}B active)" if active < total else ""
    predicted = _perf_text(layout)
    # An encoder keeps no KV cache: its batch is bounded by compute, not by a token budget.
    generative = req.model_type == "llm"
    kv = f", KV cache {req.kv_precision}" if generative else ""
    budget = f" in a KV budget of {layout.kv_cache_tokens:,} tokens" if generative else ""
    explanation = (
        f"{total:.1f}B params{moe} at {req.precision}{kv}: "
        f"{formulas.weights_gib(req):.1f} GiB weights. {best.instance_type} ({row.gpus}x {best.gpu}) runs "
        f"{layout.copies_per_instance} cop{'y' if layout.copies_per_instance == 1 else 'ies'} at tensor-parallel "
        f"{layout.tensor_parallel}, each batching {layout.max_num_seqs} sequences{budget}; "
        f"predicted p{req.percentile:g} {predicted}; "
        f"{best.rps_per_replica:.2f} req/s per replica; peak {req.peak_rps:g} req/s x {PEAK_HEADROOM} headroom -> "
        f"{best.replicas_needed} replica{'' if best.replicas_needed == 1 else 's'}; "
        f"cheapest of {sum(c.feasible for c in candidates)} feasible of {len(candidates)} rows."
    )
    return Placement(
        row,
        capacity,
        floor,
        peak,
        need,
        explanation,
        layout,
        tuple(candidates),
        tuple(_alternatives(cloud, target, req, capacity, floor, best)),
    )


def _alternatives(
    cloud: str, target: Target, req: Requirements, capacity: str, floor: int, best: Candidate
) -> list[dict[str, object]]:
    """The same model quantized, and spot against on-demand: what each would cost at the peak."""
    base_monthly = best.peak_hourly_usd(floor) * HOURS_PER_MONTH
    options: list[tuple[str, str, str | None]] = []
    size = formulas.BYTES_PER_PARAM
    for precision in ("fp8", "int8", "int4"):
        if size[precision] < size[req.precision]:
            options.append((f"precision {precision}", capacity, precision))
    if target == "kubernetes":
        other = "on-demand" if capacity == "spot" else "spot"
        options.append((f"{other} capacity", other, None))
    found: list[dict[str, object]] = []
    for label, cap, precision in options:
        try:
            alt, _ = solve(cloud, target, req, cap, floor, precision)
        except NoPlacementError as exc:
            found.append({"option": label, "feasible": False, "reason": str(exc)})
            continue
        monthly = alt.peak_hourly_usd(floor) * HOURS_PER_MONTH
        note = (
            # Not an alternative to recommend: say so rather than leave a negative saving unexplained.
            (
                f"no saving: costs ${monthly - base_monthly:,.2f}/month more than the choice"
                if monthly > base_monthly
                else "no saving: the same monthly cost as the choice"
            )
            if monthly >= base_monthly
            else "accuracy trade-off: quantization can cost quality; validate on your own evaluation set"
            if precision
            else "spot capacity can be reclaimed at two minutes' notice"
            if cap == "spot"
            else None
        )
        found.append(
            {
                "option": label,
                "feasible": True,
                "instance_type": alt.instance_type,
                "tensor_parallel": alt.tensor_parallel,
                "replicas_needed": alt.replicas_needed,
                "monthly_usd": round(monthly, 2),
                "saving_monthly_usd": round(base_monthly - monthly, 2),
                **({"note": note} if note else {}),
            }
        )
    return found


def by_profile(cloud: str, target: Target, name: str, req: Requirements | None, capacity: str, floor: int) -> Placement:
    """The cheapest row of the profile's capacity class; replica bounds from the profile.

    Without requirements the layout is one server over every GPU of the row with the engine's
    defaults (`profile_layout`); with requirements the row must hold the model and meet its SLOs,
    and the layout is the one sizing chose on that row.
    """
    profile = load_profiles()[name]
    runtime = req.runtime if req else "nvidia"
    rows = [
        r
        for r in load_catalog().rows(cloud, target)
        if r.gpu is not None
        and r.gpus <= profile.max_gpus
        and r.gpu_memory_gib >= profile.min_gpu_memory_gib
        and r.gpu.runtime == runtime
        and _host_runs(r, req is not None and req.arm64)
        and r.price(capacity) is not None
    ]
    if not rows:
        raise NoPlacementError(f"profile {name!r} has no {cloud} {target} instance type with {capacity} capacity")
    row = min(rows, key=lambda r: (r.price(capacity) or 0.0, r.gpus))
    need = None
    layout = profile_layout(row.gpus)
    if req is not None:
        # With requirements given, the profile must hold the model and meet the SLOs.
        fit = evaluate(row, req, capacity)
        if not fit.feasible or fit.layout is None:
            raise NoPlacementError(f"profile {name!r} ({row.name}): {fit.reason}; choose a larger profile or 'auto'")
        layout = fit.layout
        chunk = formulas.chunk_tokens(row.gpu) if row.gpu else formulas.CHUNK_TOKENS_SMALL_GPU
        need = formulas.memory_needed_gib(req, layout.tensor_parallel, chunk)
    low = max(profile.min_replicas, floor)
    explanation = (
        f"profile {name!r} ({profile.description}): cheapest {cloud} {target} row with >= "
        f"{profile.min_gpu_memory_gib:g} GiB on <= {profile.max_gpus} GPUs is {row.name}"
        f" ({row.gpus}x {row.gpu.name if row.gpu else 'cpu'}, tensor-parallel {layout.tensor_parallel});"
        f" replicas {low}-{max(low, profile.max_replicas)}."
    )
    return Placement(row, capacity, low, max(low, profile.max_replicas), need, explanation, layout)
