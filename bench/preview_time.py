"""Wall time of `python -m infra preview STACK` (the whole offline preview, policy pack included).

Usage: python -m bench.preview_time [STACK ...] [--runs N]. Prints min / median / max seconds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("stacks", nargs="*", default=["aws-dev", "aws-staging", "aws-prod"])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{'stack':<14}{'min s':>8}{'median s':>10}{'max s':>8}  (python -m infra preview STACK, {args.runs} runs)")
    for stack in args.stacks:
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "infra", "preview", stack], cwd=ROOT, capture_output=True)
            times.append(time.perf_counter() - start)
            if proc.returncode not in (0, 1):
                sys.exit(f"{stack}: preview failed:\n{proc.stderr.decode()}")
        print(f"{stack:<14}{min(times):>8.2f}{statistics.median(times):>10.2f}{max(times):>8.2f}")


if __name__ == "__main__":
    main()
