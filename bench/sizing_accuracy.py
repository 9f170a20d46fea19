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

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from infra.catalog import load_catalog
from infra.sizing import formulas
from infra.spec import Requirements
from infra.spec.requirements import KvCachePrecision, Precision

TABLE = Path(__file__).with_name("measurements.yaml")
LOW, HIGH, TARGET = 0.67, 1.5, 0.90


class Measurement(BaseModel):
    """One published measurement; unknown keys are errors (a typo must not drop a figure)."""

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())

    model: str
    model_config_path: str = Field(alias="model_config")  # a Hugging Face config.json, from the project root
    precision: Precision
    kv_cache_precision: KvCachePrecision | None = None
    gpu: str  # an accelerator of infra/catalog/catalog.yaml
    gpus: int = Field(ge=1)  # tensor-parallel degree
    interconnect: str  # an interconnect of the catalog, or "none" on one GPU
    engine: str
    input_tokens: int = Field(ge=1)  # prompt tokens (encoders: sequence length)
    output_tokens: int | None = Field(default=None, ge=1)  # generated tokens (generative rows)
    batch: int | None = Field(default=None, ge=1)  # concurrent requests, when the run fixed them
    scenario: str
    measured_output_tokens_per_s: float | None = Field(default=None, gt=0)
    measured_requests_per_s: float | None = Field(default=None, gt=0)  # encoder rows
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_figure(self) -> Measurement:
        generative = self.measured_output_tokens_per_s is not None
        if generative == (self.measured_requests_per_s is not None):
            raise ValueError("give exactly one of measured_output_tokens_per_s or measured_requests_per_s")
        if generative and self.output_tokens is None:
            raise ValueError("a generative row needs output_tokens")
        return self

    @property
    def encoder(self) -> bool:
        return self.measured_requests_per_s is not None

    @property
    def measured(self) -> float:
        """Output tokens/s (generative rows) or requests/s (encoder rows)."""
        figure = self.measured_requests_per_s if self.encoder else self.measured_output_tokens_per_s
        assert figure is not None  # the validator requires one
        return figure


def load_table(path: Path = TABLE) -> list[Measurement]:
    """The measurement rows; a ValueError naming the file, the row and the key on any schema problem."""
    rows = yaml.safe_load(path.read_text())["rows"]
    parsed: list[Measurement] = []
    for i, row in enumerate(rows):
        try:
            parsed.append(Measurement.model_validate(row))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(row)'}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"{path.name}: rows[{i}] ({row.get('model', '?')}): {problems}") from None
    return parsed


@dataclass(frozen=True)
class Result:
    row: Measurement
    estimate: float | None  # output tokens/s (encoders: requests/s); None: the model refuses the configuration
    why: str = ""

    @property
    def ratio(self) -> float | None:
        return None if self.estimate is None else self.estimate / self.row.measured


def estimate(row: Measurement) -> Result:
    """Output tokens/s (encoders: requests/s) the sizing model predicts for the measured configuration."""
    catalog = load_catalog()
    out = row.output_tokens or 1
    req = Requirements.model_validate(
        {
            "model_config": row.model_config_path,
            "model_type": "encoder" if row.encoder else "llm",
            "precision": row.precision,
            "kv_cache_precision": row.kv_cache_precision,
            "context_tokens": row.input_tokens if row.encoder else row.input_tokens + out,
            "output_tokens": out,
            "concurrency": row.batch,
            "peak_rps": 1,
            "p95_latency_ms": 600_000,
        }
    )
    gpu = catalog.accelerators[row.gpu]
    link = catalog.interconnects[row.interconnect] if row.gpus > 1 else None
    engine = formulas.Engine(gpu, row.gpus, link, req.precision, req.kv_precision)
    if not formulas.valid_tensor_parallel(req, row.gpus):
        return Result(row, None, f"TP {row.gpus} does not divide the attention/KV heads")
    kv = formulas.kv_budget_tokens(
        req, gpu.memory_gib, row.gpus, formulas.chunk_tokens(gpu), req.precision, req.kv_precision
    )
    if kv < (0 if row.encoder else req.context_tokens):
        return Result(row, None, f"KV budget {kv} tokens < one {req.context_tokens}-token context")
    best, _ = formulas.best_batch(req, engine, kv, slo=False)
    return Result(row, best.rps * (1 if row.encoder else out))


def main() -> int:
    results = [estimate(r) for r in load_table()]
    print(f"{'model':<16} {'prec':<4} {'gpu':<13} {'n':>2} {'in/out':>11} {'measured':>9} {'estimate':>9} {'ratio':>6}")
    for r in results:
        row = r.row
        shape = f"{row.input_tokens}/{row.output_tokens or 'b' + str(row.batch)}"
        est = f"{r.estimate:9.0f}" if r.estimate is not None else f"{'refused':>9}"
        ratio = f"{r.ratio:6.2f}" if r.ratio is not None else f"  ({r.why})"
        print(
            f"{row.model:<16} {row.precision:<4} {row.gpu:<13} {row.gpus:>2} {shape:>11}"
            f" {row.measured:>9.0f} {est} {ratio}"
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
