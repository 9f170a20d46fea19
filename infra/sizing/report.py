"""`python -m infra size`: one workload's placement as a document and as tables."""

from __future__ import annotations

import argparse
import re
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from infra.errors import SpecError
from infra.sizing import solver
from infra.spec import NAMESPACE, Requirements, error_lines

# Requirement keys by the name a stack file uses (`model_config` is the alias of `model_config_path`).
KEYS = [field.alias or name for name, field in Requirements.model_fields.items()]


_KEY = re.compile(r"\b(" + "|".join(sorted(KEYS, key=len, reverse=True)) + r")\b")


def flags_for_keys(text: str, bare: bool = True) -> str:
    """`text` with each requirement key written as the `size` flag that sets it: `quoted` keys always,
    bare words too when `bare` (error messages name keys bare; descriptions quote them)."""
    text = re.sub(r"\(set requirements\.(\w+): true\)", r"(pass --\1)", text)
    text = re.sub(r"`(\w+)`", lambda m: "--" + m.group(1).replace("_", "-") if m.group(1) in KEYS else m.group(1), text)
    return _KEY.sub(lambda m: "--" + m.group(1).replace("_", "-"), text) if bare else text


def requirements_from(args: argparse.Namespace) -> Requirements:
    """The requirements the flags state; invalid flags are a SpecError naming each flag, never a stack key."""
    given = {key: getattr(args, key, None) for key in KEYS}
    values: dict[str, Any] = {key: v for key, v in given.items() if v is not None and v is not False}
    try:
        return Requirements.model_validate(values)
    except ValidationError as exc:
        # Bare keys here: flags_for_keys writes each as its flag, exactly once.
        lines = error_lines(exc, lambda loc: ".".join(str(p) for p in loc))
        raise SpecError([flags_for_keys(line.removeprefix(f"{NAMESPACE}:")) for line in lines]) from None


def size_report(args: argparse.Namespace) -> dict[str, Any]:
    req = requirements_from(args)
    floor = solver.replica_floor(args.environment, args.cloud, args.serving)
    try:
        placement = solver.auto(args.cloud, args.serving, req, args.capacity, floor)
    except solver.NoPlacementError as exc:
        raise SpecError(f"size: {flags_for_keys(str(exc))}") from None
    chosen = next(c for c in placement.candidates if c.instance_type == placement.row.name)
    return {
        "cloud": args.cloud,
        "serving": args.serving,
        "environment": args.environment,
        "price_region": solver.load_catalog().price_regions[args.cloud],
        "capacity": placement.capacity,
        "instance_type": placement.row.name,
        "gpu": chosen.gpu,
        "gpus_per_replica": placement.row.gpus,
        "tensor_parallel": placement.layout.tensor_parallel,
        "model_copies_per_replica": placement.layout.copies_per_instance,
        "replicas": {"min": placement.min_replicas, "max": placement.max_replicas},
        "rps_per_replica": round(chosen.rps_per_replica, 3),
        "latency_ms": round(chosen.latency_ms, 1),
        "layout": placement.layout.as_dict(),
        "memory_needed_gib": round(placement.memory_needed_gib or 0.0, 2),
        "hourly_usd": round(placement.hourly_usd(placement.max_replicas), 4),
        "monthly_usd": round(placement.hourly_usd(placement.max_replicas) * solver.HOURS_PER_MONTH, 2),
        "hourly_usd_min": round(placement.hourly_usd(placement.min_replicas), 4),
        "monthly_usd_min": round(placement.hourly_usd(placement.min_replicas) * solver.HOURS_PER_MONTH, 2),
        "explanation": placement.explanation,
        "alternatives": list(placement.alternatives),
        # Each row at the replicas it would run here (the environment's floor included), so the table
        # ranks and prices candidates on the basis the choice was made on.
        "candidates": [
            {
                **c.as_dict(),
                "replicas": max(c.replicas_needed, floor) if c.feasible else 0,
                "peak_hourly_usd": round(c.peak_hourly_usd(floor), 4) if c.feasible else 0.0,
            }
            for c in placement.candidates
        ],
    }


def render_report(report: dict[str, Any], console: Console) -> None:
    console.print(
        f"[bold]{report['instance_type']}[/bold] x {report['replicas']['min']}-{report['replicas']['max']} replicas"
        f" ({report['gpus_per_replica']}x {report['gpu']}): ${report['hourly_usd']:,.2f}/h,"
        f" ${report['monthly_usd']:,.2f}/month at peak ({report['price_region']}, {report['capacity']})",
        highlight=False,
    )
    console.print(report["explanation"], highlight=False)
    table = Table(title="Candidates (cheapest feasible first)", title_justify="left")
    for column in ("instance type", "GPUs", "feasible", "replicas", "$/h at peak", "req/s each", "p95 ms", "why not"):
        table.add_column(column)
    ordered = sorted(report["candidates"], key=lambda c: (not c["feasible"], c["peak_hourly_usd"], c["gpus"]))
    for c in ordered:
        table.add_row(
            c["instance_type"],
            f"{c['gpus']}x {c['gpu']}",
            "yes" if c["feasible"] else "no",
            str(c["replicas"] or ""),
            f"{c['peak_hourly_usd']:,.2f}" if c["feasible"] else "",
            f"{c['rps_per_replica']:.2f}" if c["feasible"] else "",
            f"{c['latency_ms']:.0f}" if c["latency_ms"] else "",
            c.get("reason", ""),
        )
    console.print(table)
    alternatives = Table(title="Alternatives", title_justify="left")
    for column in ("option", "instance type", "replicas", "$/month", "saving/month", "note"):
        alternatives.add_column(column)
    for a in report["alternatives"]:
        if a["feasible"]:
            alternatives.add_row(
                a["option"],
                a["instance_type"],
                str(a["replicas_needed"]),
                f"{a['monthly_usd']:,.2f}",
                f"{a['saving_monthly_usd']:,.2f}",
                a.get("note", ""),
            )
        else:
            alternatives.add_row(a["option"], "", "", "", "", a["reason"])
    console.print(alternatives)
