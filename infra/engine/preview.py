"""`python -m infra preview STACK`: the offline preview of one stack, with policy results.

The program runs in its own process under the mocks while the policy pack starts beside it;
then every captured resource goes through the Analyzer protocol with the environment's config.
Exit status: 0 clean, 1 mandatory violations, 2 invalid config or program error.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from infra.engine.analyzer import PolicyPackProcess, Violation, load_policy_config
from infra.engine.mockrun import UNKNOWN
from infra.engine.stackfile import ROOT, read_config
from infra.errors import SpecError
from infra.spec import config_to_input


def run_program(stack: str) -> dict[str, Any]:
    """The program's preview in a fresh process (the Pulumi runtime is process-global)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "preview.json"
        proc = subprocess.run(
            [sys.executable, "-m", "infra.engine.mockrun", stack, str(out)], cwd=ROOT, capture_output=True, text=True
        )
        if proc.returncode != 0 or not out.exists():
            return {
                "stack": stack,
                "resources": [],
                "outputs": {},
                "error": f"the program failed:\n{proc.stderr.strip()}",
            }
        return json.loads(out.read_text())


def preview(stack: str) -> dict[str, Any]:
    """Run the program and the policy pack; the whole preview as one JSON-able document."""
    try:
        config = read_config(stack)
    except SpecError:
        config = {}  # the program's run reports the same error
    with ThreadPoolExecutor(1) as pool:
        pack_started = pool.submit(PolicyPackProcess(stack=stack, config=config).__enter__)
        result = run_program(stack)
        pack = pack_started.result()
    try:
        environment = None if result["error"] else config_to_input(config)["environment"]
        if environment is None:
            return {**result, "environment": environment, "policies": {}, "violations": []}
        levels = pack.configure(load_policy_config(environment))
        violations = pack.analyze(result["resources"])
    finally:
        pack.__exit__(None, None, None)
    return {**result, "environment": environment, "policies": levels, "violations": [v.__dict__ for v in violations]}


def exit_status(document: dict[str, Any]) -> int:
    if document["error"]:
        return 2
    return 1 if any(v["level"] == "mandatory" for v in document["violations"]) else 0


def render(document: dict[str, Any], console: Console) -> None:
    console.print(_tree(document))
    _print_violations(document, console)
    _print_cost(document, console)
    outputs = {k: ("(known after apply)" if v == UNKNOWN else v) for k, v in document["outputs"].items() if k != "cost"}
    for name, value in outputs.items():
        console.print(f"[bold]output[/bold] {name}: {value}", highlight=False)


def _tree(document: dict[str, Any]) -> Tree:
    tree = Tree(
        f"[bold]{document['stack']}[/bold] ({document['environment']}): "
        f"{sum(r['custom'] for r in document['resources'])} resources"
    )
    children: dict[str, list[dict[str, Any]]] = {}
    for resource in document["resources"]:
        children.setdefault(resource["parent"], []).append(resource)

    def add(node: Tree, parent_urn: str) -> None:
        # Registration order depends on when inputs resolve; sorted, two previews read the same.
        for resource in sorted(children.get(parent_urn, []), key=lambda r: (r["custom"], r["type"], r["name"])):
            label = f"{resource['type']} [cyan]{resource['name']}[/cyan]"
            if resource["protect"]:
                label += " [yellow]protected[/yellow]"
            if resource["retainOnDelete"]:
                label += " [yellow]retained[/yellow]"
            details = _key_properties(resource["inputs"])
            add(node.add(label + (f" [dim]{details}[/dim]" if details else "")), resource["urn"])

    urns = {r["urn"] for r in document["resources"]}
    for root in sorted({r["parent"] for r in document["resources"]} - urns):
        add(tree, root)
    return tree


def _key_properties(inputs: dict[str, Any], limit: int = 4) -> str:
    shown = []
    for key, value in inputs.items():
        if isinstance(value, (str, int, float, bool)) and key not in ("tags", "policy", "description"):
            text = "(unknown)" if value == UNKNOWN else str(value)
            shown.append(f"{key}={text if len(text) <= 40 else text[:37] + '...'}")
    return " ".join(shown[:limit])


def _print_violations(document: dict[str, Any], console: Console) -> None:
    violations = [Violation(**v) for v in document["violations"]]
    console.print(
        f"\n[bold]Policies[/bold]: {len(document['policies'])} rules, "
        f"{sum(v.level == 'mandatory' for v in violations)} mandatory and "
        f"{sum(v.level == 'advisory' for v in violations)} advisory violations"
    )
    for level in ("mandatory", "advisory"):
        for v in (v for v in violations if v.level == level):
            where = v.urn.rsplit("::", 1)[-1] if v.urn else "stack"
            console.print(
                f"  [{'red' if level == 'mandatory' else 'yellow'}]{level}[/] {v.policy} ({where}): {v.message}",
                highlight=False,
            )


def _print_cost(document: dict[str, Any], console: Console) -> None:
    cost = document["outputs"].get("cost")
    if not isinstance(cost, dict) or not cost.get("endpoints"):
        console.print("\n[bold]Cost[/bold]: no estimate (this stack serves no endpoints)")
        return
    table = Table(title="Estimated cost (USD, on-demand list prices)", title_justify="left")
    for column in ("endpoint", "$/h min", "$/h max", "$/month min", "$/month max"):
        table.add_column(column, justify="left" if column == "endpoint" else "right")
    for name, figures in cost["endpoints"].items():
        table.add_row(
            name,
            *(f"{figures[k]:,.2f}" for k in ("hourly_usd_min", "hourly_usd_max", "monthly_usd_min", "monthly_usd_max")),
        )
    table.add_row("[bold]stack[/bold]", "", "", f"{cost['monthlyUsdMin']:,.2f}", f"{cost['monthlyUsdMax']:,.2f}")
    console.print(table)
    if cost.get("budgetMonthlyUsd"):
        console.print(f"budget: ${cost['budgetMonthlyUsd']:,.2f}/month", highlight=False)
