"""`python -m tests.golden [--update] [STACK ...]`: compare (or rewrite) the golden files.

Without `--update`: prints each stack's differences and exits 1 when there are any. With it:
rewrites the files of the given stacks (every shipped stack by default) from the real program.
"""

from __future__ import annotations

import argparse
import sys

from infra.engine.preview import run_program
from infra.engine.stackfile import stack_names
from tests.golden import differences, entries_of, golden_path, read_golden, write_golden


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.golden", description=__doc__)
    parser.add_argument("--update", action="store_true", help="rewrite the golden files from the program")
    parser.add_argument("stacks", nargs="*", help="stacks to compare or update (default: every shipped stack)")
    args = parser.parse_args(argv)
    status = 0
    for stack in args.stacks or stack_names():
        result = run_program(stack)
        if result["error"]:
            print(f"{stack}: the program failed, golden file left as it is\n{result['error']}", file=sys.stderr)
            status = 2
            continue
        golden = read_golden(stack)
        if args.update:
            write_golden(stack, entries_of(result["resources"]))
            print(f"{stack}: wrote {golden_path(stack).relative_to(golden_path(stack).parents[2])}")
            continue
        changes = ["(no golden file)"] if golden is None else differences(golden, result["resources"])
        print(f"{stack}: {'matches its golden file' if not changes else 'differs'}", *changes, sep="\n  ")
        status = max(status, 1 if changes else 0)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
