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
from infra.facts import cloud_facts
from infra.sizing import formulas
from infra.sizing.layout import Layout, profile_layout
from infra.spec import Requirements

HOURS_PER_MONTH = 730  # the 8,760 h year / 12, as the clouds' price calculators use
# Autoscalers react in minutes: provision for the peak at 80% utilisation.
PEAK_HEADROOM = 1.25
# One vCPU of a current server (DDR5, AVX-512): ~5 GB/s of memory bandwidth and ~0.1 TFLOPS
# (64 FLOP/cycle fp32 FMA at ~3 GHz / 2 for sustained clocks). CPU rows run small encoders.
CPU_PER_VCPU = Accelerator("cpu", "none", 0.0, 5.0, 0.1, 10.0)
CPU_USABLE_RAM = 0.5  # half the RAM for the model; the rest for the OS, runtime and batching


class NoPlacementError(Exception):
    """Nothing in the catalog meets the requirements; the message names the closest option."""


@dataclass(frozen=True)
class Candidate:
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

    def peak_hourly_usd(self, floor: int) -> float:
        """$/h at the peak when the environment keeps at least `floor` replicas."""
        return max(self.replicas_needed, floor) * self.instance_hourly_usd

    def as_dict(self) -> dict[str, object]:
        return {
            "instance_type": self.instance_type,
            "gpu": self.gpu,
            "gpus": self.gpus,
            "feasible": self.feasible,
            "replicas_needed": self.replicas_needed,
            "hourly_usd": round(self.hourly_usd, 4),
            "rps_per_replica": round(self.rps_per_replica, 3),
            "latency_ms": round(self.latency_ms, 1),
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


def evaluate(row: InstanceType, req: Requirements, capacity: str, precision: str | None = None) -> Candidate:
    """Can one instance of `row` serve the model, and how many does the peak need?"""
    gpu_name = row.gpu.name if row.gpu else "cpu"
    price = row.price(capacity)
    base = Candidate(row.name, gpu_name, row.gpus, False, 0, 0.0)
    if price is None:
        return replace(base, reason="no spot capacity for this type")
    if row.gpu is not None and (row.gpu.runtime == "neuron") != req.neuron:
        reason = (
            "requirements.neuron asks for AWS Inferentia"
            if req.neuron
            else "needs a Neuron-compiled image (set requirements.neuron: true)"
        )
        return replace(base, reason=reason)
    if row.gpu is None:
        accel = replace(
            CPU_PER_VCPU,
            memory_gib=row.ram_gib * CPU_USABLE_RAM,
            bandwidth_gbps=CPU_PER_VCPU.bandwidth_gbps * row.vcpu,
            fp16_tflops=CPU_PER_VCPU.fp16_tflops * row.vcpu,
        )
        degrees, units = [1], 1
    elif row.target == "managed":
        # A managed endpoint runs one model server per instance, sharded over all its GPUs (the
        # SageMaker LMI/TGI, Vertex and Azure ML containers default to every GPU of the instance).
        accel, units = row.gpu, row.gpus
        degrees = [units]
    else:
        # On Kubernetes a node runs as many model pods as fit: the fewest GPUs that hold the model each.
        accel, units = row.gpu, row.gpus
        degrees = [d for d in (1, 2, 4, 8, 16) if d <= units and units % d == 0]
    tp = next((d for d in degrees if formulas.memory_needed_gib(req, d, precision) <= d * accel.memory_gib), None)
    if tp is None:
        need = formulas.memory_needed_gib(req, degrees[-1], precision)
        return replace(base, reason=f"needs {need:.1f} GiB, the instance has {units * accel.memory_gib:.1f} GiB")
    perf = formulas.performance(req, accel, tp, precision)
    copies = units // tp
    base = replace(base, tensor_parallel=tp, copies_per_instance=copies, latency_ms=perf.latency_ms)
    if perf.latency_ms > req.p95_latency_ms:
        return replace(
            base, reason=f"p95 {perf.latency_ms:.0f} ms at batch 1 exceeds the {req.p95_latency_ms:.0f} ms target"
        )
    rps = perf.rps * copies
    if req.measured_rps_per_replica is not None:
        # A pilot's measurement: as measured, or as a calibration of this row's estimate when the
        # measurement names the type it ran on.
        rps = _calibrated(req, rps, precision) if req.measured_on else req.measured_rps_per_replica
    needed = max(1, math.ceil(req.peak_rps * PEAK_HEADROOM / rps))
    return replace(
        base,
        feasible=True,
        replicas_needed=needed,
        hourly_usd=needed * price,
        instance_hourly_usd=price,
        rps_per_replica=rps,
    )


def layout_of(row: InstanceType, req: Requirements, tensor_parallel: int, copies: int) -> Layout:
    """The serving layout of `req` on `row` at the given tensor-parallel degree and copies."""
    accel = row.gpu
    memory = accel.memory_gib if accel else row.ram_gib * CPU_USABLE_RAM
    perf = formulas.performance(req, accel or CPU_PER_VCPU, tensor_parallel) if accel else None
    prompt = req.context_tokens - req.output_tokens if req.model_type == "llm" else req.context_tokens
    return Layout(
        tensor_parallel=tensor_parallel,
        copies_per_instance=copies,
        max_num_seqs=perf.batch if perf else 1,
        max_model_len=req.context_tokens,
        max_input_tokens=prompt,
        kv_cache_tokens=formulas.kv_budget_tokens(req, memory, tensor_parallel),
        gpu_memory_utilization=formulas.USABLE_FRACTION,
        precision=req.precision,
        kv_cache_precision="fp32" if req.precision == "fp32" else "fp16",
        ttft_ms=perf.ttft_ms if perf else None,
        tpot_ms=perf.tpot_ms if perf else None,
        latency_ms=perf.latency_ms if perf else 0.0,
    )


def _calibrated(req: Requirements, rps: float, precision: str | None) -> float:
    """Scale an estimate by measured/estimated on the type the pilot ran on."""
    assert req.measured_rps_per_replica is not None
    ref_row = next(r for r in load_catalog().instances if r.name == req.measured_on)  # the spec checked it
    ref = evaluate(
        ref_row, req.model_copy(update={"measured_on": None, "measured_rps_per_replica": None}), "on-demand", precision
    )
    return (
        rps * req.measured_rps_per_replica / ref.rps_per_replica
        if ref.rps_per_replica
        else req.measured_rps_per_replica
    )


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
        raise NoPlacementError(_closest(cloud, target, req, candidates, precision))

    return min(feasible, key=lambda c: (c.peak_hourly_usd(floor), c.gpus)), candidates


def _closest(cloud: str, target: Target, req: Requirements, candidates: list[Candidate], precision: str | None) -> str:
    what = f"{cloud} {target} instance type"
    sized = [c for c in candidates if c.tensor_parallel]
    if sized:
        best = min(sized, key=lambda c: c.latency_ms)
        return (
            f"no {what} meets p95 {req.p95_latency_ms:.0f} ms; the fastest is {best.instance_type}"
            f" at {best.latency_ms:.0f} ms (raise the target, shorten context_tokens/output_tokens, or quantize)"
        )
    need = formulas.memory_needed_gib(req, 8, precision)
    rows = [r for r in load_catalog().rows(cloud, target) if r.gpu is not None and r.gpu.runtime == "nvidia"]
    largest = max(rows, key=lambda r: r.gpu_memory_gib)
    return (
        f"no {what} holds the {need:.0f} GiB one replica needs; the largest is {largest.name}"
        f" with {largest.gpu_memory_gib:.0f} GiB (try precision int8 or int4, or a shorter context)"
    )


def auto(cloud: str, target: Target, req: Requirements, capacity: str, floor: int) -> Placement:
    best, candidates = solve(cloud, target, req, capacity, floor)
    row = load_catalog().find(cloud, best.instance_type, target)
    assert row is not None
    need = formulas.memory_needed_gib(req, best.tensor_parallel)
    peak = max(best.replicas_needed, floor)
    explanation = (
        f"{req.params_billion or round(formulas.params_billion(req), 1)}B params at {req.precision}: "
        f"{formulas.weights_gib(req):.1f} GiB weights + {formulas.kv_cache_gib(req):.1f} GiB KV cache "
        f"({req.concurrency} x {req.context_tokens} tokens) -> {need:.1f} GiB per replica. "
        f"{best.instance_type} ({row.gpus}x {best.gpu}, TP={best.tensor_parallel}) serves "
        f"{best.rps_per_replica:.2f} req/s per replica at p95 {best.latency_ms:.0f} ms; "
        f"peak {req.peak_rps:g} req/s x {PEAK_HEADROOM} headroom -> {best.replicas_needed} replicas; "
        f"cheapest of {sum(c.feasible for c in candidates)} feasible of {len(candidates)} rows."
    )
    return Placement(
        row,
        capacity,
        floor,
        peak,
        need,
        explanation,
        layout_of(row, req, best.tensor_parallel, best.copies_per_instance),
        tuple(candidates),
        tuple(_alternatives(cloud, target, req, capacity, floor, best)),
    )


def _alternatives(
    cloud: str, target: Target, req: Requirements, capacity: str, floor: int, best: Candidate
) -> list[dict[str, object]]:
    """The same model quantized, and spot against on-demand: what each would cost at the peak."""
    base_monthly = best.peak_hourly_usd(floor) * HOURS_PER_MONTH
    options: list[tuple[str, str, str | None]] = []
    order = list(formulas.BYTES_PER_PARAM)
    for precision in ("int8", "int4"):
        if order.index(precision) > order.index(req.precision):
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
            "accuracy trade-off: quantization can cost quality; validate on your own evaluation set"
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
                "replicas_needed": alt.replicas_needed,
                "monthly_usd": round(monthly, 2),
                "saving_monthly_usd": round(base_monthly - monthly, 2),
                **({"note": note} if note else {}),
            }
        )
    return found


def by_profile(cloud: str, target: Target, name: str, req: Requirements | None, capacity: str, floor: int) -> Placement:
    """The cheapest row of the profile's capacity class; replica bounds from the profile."""
    profile = load_profiles()[name]
    neuron = bool(req and req.neuron)
    rows = [
        r
        for r in load_catalog().rows(cloud, target)
        if r.gpu is not None
        and r.gpus <= profile.max_gpus
        and r.gpu_memory_gib >= profile.min_gpu_memory_gib
        and (r.gpu.runtime == "neuron") == neuron
        and r.price(capacity) is not None
    ]
    if not rows:
        raise NoPlacementError(f"profile {name!r} has no {cloud} {target} instance type with {capacity} capacity")
    row = min(rows, key=lambda r: (r.price(capacity) or 0.0, r.gpus))
    need = formulas.memory_needed_gib(req, row.gpus) if req else None
    layout = profile_layout(row.gpus)
    if req is not None:
        # With requirements given, the profile must hold the model and meet the latency target.
        fit = evaluate(row, req, capacity)
        if not fit.feasible:
            raise NoPlacementError(f"profile {name!r} ({row.name}): {fit.reason}; choose a larger profile or 'auto'")
        layout = layout_of(row, req, fit.tensor_parallel, fit.copies_per_instance)
    low = max(profile.min_replicas, floor)
    explanation = (
        f"profile {name!r} ({profile.description}): cheapest {cloud} {target} row with >= "
        f"{profile.min_gpu_memory_gib:g} GiB on <= {profile.max_gpus} GPUs is {row.name}"
        f" ({row.gpus}x {row.gpu.name if row.gpu else 'cpu'}); replicas {low}-{max(low, profile.max_replicas)}."
    )
    return Placement(row, capacity, low, max(low, profile.max_replicas), need, explanation, layout)
