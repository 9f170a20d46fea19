"""The offline preview as a person reads it: the resource tree, policy results and the cost table."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from infra.engine.analyzer import Violation
from infra.engine.mockrun import UNKNOWN


def json_document(document: dict[str, Any]) -> dict[str, Any]:
    """The preview for `--json`: values unknown until apply are null (not the engine's sentinel, which
    `jq` would take for a value); each resource lists their property paths under `unknowns`, and
    `unknownOutputs` names the stack outputs that are."""
    resources = []
    for resource in document["resources"]:
        paths: list[str] = []
        resources.append({**resource, "inputs": _nulled(resource["inputs"], "", paths), "unknowns": paths})
    outputs: list[str] = []
    return {
        **document,
        "resources": resources,
        "outputs": _nulled(document["outputs"], "", outputs),
        "unknownOutputs": outputs,
    }


def _nulled(value: Any, path: str, unknown: list[str]) -> Any:
    if value == UNKNOWN:
        unknown.append(path)
        return None
    if isinstance(value, dict):
        return {k: _nulled(v, f"{path}.{k}" if path else k, unknown) for k, v in value.items()}
    if isinstance(value, list):
        return [_nulled(v, f"{path}[{i}]", unknown) for i, v in enumerate(value)]
    return value


def render(document: dict[str, Any], console: Console) -> None:
    for warning in document.get("warnings", []):
        console.print(f"[yellow]warning[/yellow]: {escape(warning)}", highlight=False)
    console.print(_tree(document))
    _print_sizing(document, console)
    _print_violations(document, console)
    _print_cost(document, console)
    outputs = {
        k: ("(known after apply)" if v == UNKNOWN else v)
        for k, v in document["outputs"].items()
        if k not in ("cost", "sizing")
    }
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


def _print_sizing(document: dict[str, Any], console: Console) -> None:
    """Per model version and node pool: instance type x replicas, capacity, why, rollback thresholds."""
    sizing = document["outputs"].get("sizing")
    if not isinstance(sizing, dict):
        return
    tree = Tree("[bold]Sizing[/bold] (instance type x replicas min-max)")
    for name, e in sizing["endpoints"].items():
        node = tree.add(
            f"endpoint [cyan]{name}[/cyan] ({e['serving']}, {e['capacity']}): rollback at p95 latency >"
            f" {e['p95LatencyAlarmMs']:,.0f} ms or 5xx > {e['errorRateAlarmPercent']:g}% — {e['explanation']}"
        )
        for version, v in e["versions"].items():
            low, high = v["replicas"]
            share = "shadow" if v["shadow"] else f"{v['weight']}% of traffic"
            node.add(f"{version} ({share}): {e['instanceType']} x {low}-{high}")
    for name, pool in sizing["pools"].items():
        low, high = pool["nodes"]
        tree.add(f"node pool [cyan]{name}[/cyan] ({pool['capacity']}): {pool['instanceType']} x {low}-{high}")
    console.print(tree, highlight=False)


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
    if not isinstance(cost, dict) or not cost.get("lineItems"):
        console.print("\n[bold]Cost[/bold]: no estimate")
        return
    table = Table(
        title=f"Estimated cost (USD, list prices in {cost['pricingRegion']}; capacity per line)", title_justify="left"
    )
    for column in ("item", "capacity", "count min", "count max", "unit price", "$/month min", "$/month max"):
        table.add_column(column, justify="left" if column in ("item", "capacity") else "right")
    for item in cost["lineItems"]:
        table.add_row(
            item["what"],
            "[magenta]spot[/magenta]" if item["capacity"] == "spot" else item["capacity"],
            f"{item['quantity_min']:g}",
            f"{item['quantity_max']:g}",
            f"{item['unit_usd']:,.4g}/{item['unit']}",
            f"{item['monthly_usd_min']:,.2f}",
            f"{item['monthly_usd_max']:,.2f}",
        )
    table.add_row(
        "[bold]stack[/bold]", "", "", "", "", f"{cost['monthlyUsdMin']:,.2f}", f"{cost['monthlyUsdMax']:,.2f}"
    )
    console.print(table)
    if cost.get("note"):
        console.print(f"note: {cost['note']}", highlight=False)
    if cost.get("budgetMonthlyUsd"):
        console.print(f"budget: ${cost['budgetMonthlyUsd']:,.2f}/month", highlight=False)
