"""Sizing accuracy (`python -m bench.sizing_accuracy`): the sizing model against published measurements.

For every row of `bench/measurements.yaml` (a published figure: model, precision, GPU and count,
engine, input/output tokens or an encoder's sequence length and batch, scenario, the measured output
tokens/s or requests/s, source) it estimates the same
configuration with the sizing formulas and prints estimate/measured, then the median ratio, the
share of rows within 0.67x-1.5x and any configuration the model would refuse although it was
measured running. Exit status 1 when the target (>= 90% within 0.67x-1.5x, none refused) is missed.
"""

from __future__ import annotations

import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.catalog import load_catalog
from infra.sizing import formulas
from infra.spec import Requirements

TABLE = Path(__file__).with_name("measurements.yaml")
LOW, HIGH, TARGET = 0.67, 1.5, 0.90


@dataclass(frozen=True)
class Result:
    row: dict[str, Any]
    estimate: float | None  # output tokens/s (encoders: requests/s); None: the model refuses the configuration
    why: str = ""

    @property
    def measured(self) -> float:
        """Output tokens/s (generative rows) or requests/s (encoder rows)."""
        return float(self.row.get("measured_output_tokens_per_s") or self.row["measured_requests_per_s"])

    @property
    def ratio(self) -> float | None:
        return None if self.estimate is None else self.estimate / self.measured


def estimate(row: dict[str, Any]) -> Result:
    """Output tokens/s the sizing model predicts for the measured configuration."""
    catalog = load_catalog()
    inp, out = int(row["input_tokens"]), int(row.get("output_tokens", 1))
    encoder = "measured_requests_per_s" in row
    req = Requirements.model_validate(
        {
            "model_config": row["model_config"],
            "model_type": "encoder" if encoder else "llm",
            "precision": row["precision"],
            "kv_cache_precision": row.get("kv_cache_precision"),
            "context_tokens": inp if encoder else inp + out,
            "output_tokens": out,
            "concurrency": row.get("batch"),
            "peak_rps": 1,
            "p95_latency_ms": 600_000,
        }
    )
    gpu, gpus = catalog.accelerators[row["gpu"]], int(row["gpus"])
    link = catalog.interconnects[row["interconnect"]] if gpus > 1 else None
    engine = formulas.Engine(gpu, gpus, link, req.precision, req.kv_precision)
    if not formulas.valid_tensor_parallel(req, gpus):
        return Result(row, None, f"TP {gpus} does not divide the attention/KV heads")
    kv = formulas.kv_budget_tokens(
        req, gpu.memory_gib, gpus, formulas.chunk_tokens(gpu), req.precision, req.kv_precision
    )
    if kv < (0 if encoder else req.context_tokens):
        return Result(row, None, f"KV budget {kv} tokens < one {req.context_tokens}-token context")
    best, _ = formulas.best_batch(req, engine, kv, slo=False)
    return Result(row, best.rps * (1 if encoder else out))


def main() -> int:
    rows = yaml.safe_load(TABLE.read_text())["rows"]
    results = [estimate(r) for r in rows]
    print(f"{'model':<16} {'prec':<4} {'gpu':<13} {'n':>2} {'in/out':>11} {'measured':>9} {'estimate':>9} {'ratio':>6}")
    for r in results:
        row = r.row
        shape = f"{row['input_tokens']}/{row.get('output_tokens', 'b' + str(row.get('batch')))}"
        est = f"{r.estimate:9.0f}" if r.estimate is not None else f"{'refused':>9}"
        ratio = f"{r.ratio:6.2f}" if r.ratio is not None else f"  ({r.why})"
        print(
            f"{row['model']:<16} {row['precision']:<4} {row['gpu']:<13} {row['gpus']:>2} {shape:>11}"
            f" {r.measured:>9.0f} {est} {ratio}"
        )
    ratios = [r.ratio for r in results if r.ratio is not None]
    refused = [r for r in results if r.estimate is None]
    within = sum(LOW <= x <= HIGH for x in ratios) / len(results)
    print(
        f"\n{len(results)} rows; median estimate/measured {statistics.median(ratios):.2f};"
        f" within {LOW}x-{HIGH}x: {within:.0%} (target >= {TARGET:.0%}); refused although measured: {len(refused)}"
    )
    print(
        f"factors: bandwidth {formulas.BANDWIDTH_EFFICIENCY}, compute {formulas.COMPUTE_EFFICIENCY},"
        f" step overhead {formulas.STEP_OVERHEAD_S * 1000:g} ms"
    )
    return 0 if within >= TARGET and not refused else 1


if __name__ == "__main__":
    sys.exit(main())
