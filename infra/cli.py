"""`python -m infra`: the project's command-line tool (preview, size)."""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console

from infra.errors import SpecError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("preview", help="offline preview of a stack, with policy results")
    p.add_argument("stack", help="stack name, e.g. aws-dev (stacks/Pulumi.<stack>.yaml)")
    p.add_argument("--json", action="store_true", help="one JSON document instead of the tree")
    args = parser.parse_args(argv)
    console = Console()
    try:
        if args.command == "preview":
            return _preview(args, console)
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 2


def _preview(args: argparse.Namespace, console: Console) -> int:
    from infra.engine.preview import exit_status, preview, render

    document = preview(args.stack)
    if args.json:
        print(json.dumps(document, indent=2, default=str))
    elif document["error"]:
        print(document["error"], file=sys.stderr)
    else:
        render(document, console)
    return exit_status(document)
