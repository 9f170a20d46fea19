"""Sizing benchmark (`python -m bench.sizing`): solve time per endpoint, and the saving of `auto`
over a hand-picked profile.

The hand-picked profile is what a user without the solver would choose: the smallest profile
whose capacity class holds the model, with as many replicas as that type needs to carry the peak
(the same throughput model as `auto`); where it cannot meet the latency target, the next one up.
"""

from __future__ import annotations

import itertools
import math
import statistics
import time

from infra.catalog import load_catalog, load_profiles
from infra.sizing import solver
from infra.spec import Requirements

MODELS = [
    (0.3, "encoder", 512, 1),
    (1.5, "llm", 2048, 128),
    (8.0, "llm", 4096, 256),
    (13.0, "llm", 4096, 256),
    (34.0, "llm", 4096, 256),
    (70.0, "llm", 8192, 256),
]
RPS = [1, 10, 50]
LATENCY_MS = [500, 3000, 15000, 40000]
PRECISIONS = ["fp16", "int8"]
PLACES = [(c, t) for c in ("aws", "gcp", "azure") for t in ("managed", "kubernetes")]


def profile_monthly(cloud: str, target: str, req: Requirements) -> float | None:
    for name in load_profiles():  # ordered smallest to largest
        try:
            placement = solver.by_profile(cloud, target, name, req, "on-demand", 2)
        except solver.NoPlacementError:
            continue
        candidate = solver.evaluate(placement.row, req, "on-demand")
        if candidate.feasible:
            replicas = max(2, math.ceil(req.peak_rps * solver.PEAK_HEADROOM / candidate.rps_per_replica))
            return placement.hourly_usd(replicas) * solver.HOURS_PER_MONTH
    return None


def main() -> None:
    load_catalog()
    times, cpu_times, savings, solved, unsolvable, no_profile = [], [], [], 0, 0, 0
    for (params, kind, context, output), rps, latency, precision, (cloud, target) in itertools.product(
        MODELS, RPS, LATENCY_MS, PRECISIONS, PLACES
    ):
        req = Requirements(
            peak_rps=rps,
            p95_latency_ms=latency,
            params_billion=params,
            model_type=kind,
            context_tokens=context,
            output_tokens=output,
            precision=precision,
        )
        start, cpu = time.perf_counter(), time.process_time()
        try:
            placement = solver.auto(cloud, target, req, "on-demand", 2)
        except solver.NoPlacementError:
            unsolvable += 1
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu)
            continue
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu)
        solved += 1
        auto_monthly = placement.hourly_usd(placement.max_replicas) * solver.HOURS_PER_MONTH
        manual = profile_monthly(cloud, target, req)
        if manual is None:
            no_profile += 1
        else:
            savings.append((manual - auto_monthly, (manual - auto_monthly) / manual))
    print(f"workloads: {len(times)} ({solved} placed, {unsolvable} infeasible on their cloud/target)")
    # CPU time is what the solver costs; wall time also counts other processes on a shared machine.
    for label, samples in (("CPU", cpu_times), ("wall", times)):
        ms = sorted(t * 1000 for t in samples)
        print(
            f"solve time per endpoint (auto, with alternatives), {label}: mean {statistics.mean(ms):.2f} ms,"
            f" median {statistics.median(ms):.2f} ms, p95 {ms[int(0.95 * len(ms)) - 1]:.2f} ms, max {ms[-1]:.2f} ms"
        )
    dollars = [s[0] for s in savings]
    share = [s[1] * 100 for s in savings]
    print(f"auto vs hand-picked profile over {len(savings)} workloads ({no_profile} had no profile that meets them):")
    print(
        f"  cheaper in {sum(d > 0.01 for d in dollars)}, equal in {sum(abs(d) <= 0.01 for d in dollars)},"
        f" costlier in {sum(d < -0.01 for d in dollars)}"
    )
    print(
        f"  saving per endpoint: median {statistics.median(share):.1f}%, mean {statistics.mean(share):.1f}%,"
        f" median ${statistics.median(dollars):,.0f}/month, total ${sum(dollars):,.0f}/month"
    )


if __name__ == "__main__":
    main()
