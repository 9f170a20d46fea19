"""`python -m infra`: the project's command-line tool (preview, size, verify, stacks, schema)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import get_args

from rich.console import Console

from infra.errors import SpecError
from infra.spec.requirements import Requirements


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("preview", help="offline preview of a stack, with policy results")
    p.add_argument("stack", help="stack name, e.g. aws-dev (stacks/Pulumi.<stack>.yaml)")
    p.add_argument(
        "--json",
        action="store_true",
        help="one JSON document instead of the tree; values unknown until apply are null, and each resource"
        " lists their property paths under `unknowns`",
    )
    _add_size_parser(commands)
    v = commands.add_parser("verify", help="after `pulumi up`: each endpoint serves what the stack deployed")
    v.add_argument("stack", help="stack name, e.g. aws-prod")
    v.add_argument("--outputs", type=Path, help="the stack's outputs as JSON (default: `pulumi stack output --json`)")
    st = commands.add_parser("stacks", help="the stack files, with the cloud, environment and region their keys name")
    shown = st.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="a JSON list of {stack, cloud, environment, region}")
    shown.add_argument("--names", action="store_true", help="only the names, one a line, unread (for scripts)")
    sc = commands.add_parser("schema", help="the JSON Schema of a stack file's config, for editors")
    sc.add_argument(
        "--write", action="store_true", help="write schemas/stack-file.json and the README's stack-file reference"
    )
    args = parser.parse_args(argv)
    # Piped output (CI logs, files) gets a wide console rather than rich's 80-column default.
    console = Console() if sys.stdout.isatty() else Console(width=160)
    try:
        if args.command == "preview":
            return _preview(args, console)
        if args.command == "size":
            return _size(args, console)
        if args.command == "verify":
            return _verify(args)
        if args.command == "stacks":
            return _stacks(args, console)
        if args.command == "schema":
            return _schema(args)
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 2


def _preview(args: argparse.Namespace, console: Console) -> int:
    from infra.engine.preview import exit_status, preview
    from infra.engine.render import json_document, render

    document = preview(args.stack)
    if args.json:
        print(json.dumps(json_document(document), indent=2, default=str))
    elif document["error"]:
        print(document["error"], file=sys.stderr)
    else:
        render(document, console)
    return exit_status(document)


def _add_size_parser(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "size",
        help="the cheapest placement for a workload, with every candidate",
        description="Size one endpoint: the cheapest instance type, tensor-parallel layout and replicas that meet "
        "the SLOs at the peak. Each flag is the stack file's `sizing.requirements` key of the same name.",
    )
    p.add_argument(
        "--cloud", required=True, choices=["aws", "gcp", "azure"], help="the cloud whose catalog rows to price"
    )
    p.add_argument(
        "--serving", default="managed", choices=["managed", "kubernetes"], help="serving target (default: managed)"
    )
    p.add_argument(
        "--environment",
        default="prod",
        choices=["dev", "staging", "prod"],
        help="sets the replica floor (default: prod)",
    )
    p.add_argument(
        "--capacity", default="on-demand", choices=["on-demand", "spot"], help="instance pricing (default: on-demand)"
    )
    from infra.sizing.report import flags_for_keys

    # One flag per requirement key, named like it, with its description (units) and its default.
    for name, field in Requirements.model_fields.items():
        key = field.alias or name
        flag = "--" + key.replace("_", "-")
        described = flags_for_keys(field.description or "", bare=False)
        has_default = not field.is_required() and field.default is not None
        shown = f"{described} (default: {field.default})" if has_default else described
        if field.annotation is bool:
            p.add_argument(flag, action="store_true", help=described)
            continue
        choices = [a for arm in get_args(field.annotation) for a in get_args(arm)] or list(get_args(field.annotation))
        kind = next((t for t in (int, float) if t in (field.annotation, *get_args(field.annotation))), str)
        if choices and all(isinstance(c, str) for c in choices):
            p.add_argument(flag, choices=choices, help=shown, dest=key)
        else:
            p.add_argument(flag, type=kind, help=shown, dest=key)
    p.add_argument("--json", action="store_true", help="one JSON document instead of tables")


def _size(args: argparse.Namespace, console: Console) -> int:
    from infra.sizing.report import render_report, size_report

    report = size_report(args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        render_report(report, console)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from infra.verify import verify

    status, lines = verify(args.stack, args.outputs)
    print("\n".join(lines))
    return status


def _stacks(args: argparse.Namespace, console: Console) -> int:
    """Each stack file with the cloud, environment and region its keys name: a table, with --json a
    list of {stack, cloud, environment, region} (null for a key the file lacks), with --names only the
    names (files unread, so a broken one is still listed)."""
    from rich.table import Table

    from infra.engine.stackfile import read_config, stack_names
    from infra.spec import config_to_input

    if args.names:
        print("\n".join(stack_names()))
        return 0
    listed = []
    for name in stack_names():
        keys = config_to_input(read_config(name))
        listed.append({"stack": name, **{k: keys.get(k) for k in ("cloud", "environment", "region")}})
    if args.json:
        print(json.dumps(listed))
        return 0
    table = Table("stack", "cloud", "environment", "region", box=None, header_style="bold")
    for row in listed:
        table.add_row(
            *(str(row[k]) if row[k] is not None else "-" for k in ("stack", "cloud", "environment", "region"))
        )
    console.print(table)
    return 0


def _schema(args: argparse.Namespace) -> int:
    from infra.engine.stackfile import ROOT
    from infra.spec.schema import SCHEMA_PATH, stack_file_schema, write_reference

    text = json.dumps(stack_file_schema(), indent=2) + "\n"
    if not args.write:
        print(text, end="")
        return 0
    (ROOT / SCHEMA_PATH).write_text(text)
    readme = ROOT / "README.md"
    readme.write_text(write_reference(readme.read_text()))
    print(f"wrote {SCHEMA_PATH} and the README's stack-file reference")
    return 0
