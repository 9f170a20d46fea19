"""`python -m infra`: the project's command-line tool (preview, size, verify)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import get_args

from rich.console import Console

from infra.errors import SpecError
from infra.spec.requirements import KvCachePrecision, Precision


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("preview", help="offline preview of a stack, with policy results")
    p.add_argument("stack", help="stack name, e.g. aws-dev (stacks/Pulumi.<stack>.yaml)")
    p.add_argument("--json", action="store_true", help="one JSON document instead of the tree")
    _add_size_parser(commands)
    v = commands.add_parser("verify", help="after `pulumi up`: each endpoint InService on the deployed configuration")
    v.add_argument("stack", help="stack name, e.g. aws-prod")
    v.add_argument("--outputs", type=Path, help="the stack's outputs as JSON (default: `pulumi stack output --json`)")
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
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 2


def _preview(args: argparse.Namespace, console: Console) -> int:
    from infra.engine.preview import exit_status, preview
    from infra.engine.render import render

    document = preview(args.stack)
    if args.json:
        print(json.dumps(document, indent=2, default=str))
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
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--cloud", required=True, choices=["aws", "gcp", "azure"], help="the cloud whose catalog rows to price"
    )
    p.add_argument("--serving", default="managed", choices=["managed", "kubernetes"], help="serving target")
    p.add_argument("--environment", default="prod", choices=["dev", "staging", "prod"], help="sets the replica floor")
    p.add_argument("--capacity", default="on-demand", choices=["on-demand", "spot"], help="instance pricing")
    p.add_argument("--peak-rps", type=float, help="requests per second at the daily peak (required)")
    p.add_argument("--ttft-ms", type=float, help="time to first token at --percentile, ms (generative models)")
    p.add_argument("--tpot-ms", type=float, help="time per output token at --percentile, ms (generative models)")
    p.add_argument(
        "--p95-latency-ms", type=float, help="whole-request latency at --percentile, ms (encoders: required)"
    )
    p.add_argument("--percentile", type=float, help="the percentile the latency SLOs hold at (default 95)")
    p.add_argument("--model-config", help="path to the model's Hugging Face config.json, from the project root")
    p.add_argument("--params-billion", type=float, help="total parameters, billions")
    p.add_argument("--weights-gb", type=float, help="size of the weights as served, GB (instead of --params-billion)")
    p.add_argument(
        "--active-params-billion", type=float, help="parameters used per token (mixture of experts), billions"
    )
    p.add_argument("--experts", type=int, help="routed experts per MoE layer")
    p.add_argument("--experts-per-token", type=int, help="experts each token is routed to (top-k)")
    p.add_argument("--precision", choices=list(get_args(Precision)), help="weights format (default fp16)")
    p.add_argument(
        "--kv-cache-precision", choices=list(get_args(KvCachePrecision)), help="KV cache format (default 16-bit)"
    )
    p.add_argument("--model-type", choices=["llm", "encoder"], help="generative (llm, default) or encoder")
    p.add_argument("--context-tokens", type=int, help="prompt plus output tokens per request (default 4096)")
    p.add_argument("--output-tokens", type=int, help="generated tokens per request (default 256)")
    p.add_argument(
        "--concurrency", type=int, help="most sequences one model copy may batch (default: what meets the SLOs)"
    )
    p.add_argument("--layers", type=int, help="transformer layers")
    p.add_argument("--attention-heads", type=int, help="query heads per layer (limits the tensor-parallel degree)")
    p.add_argument("--kv-heads", type=int, help="key/value heads per layer")
    p.add_argument("--head-dim", type=int, help="dimension of one attention head")
    p.add_argument("--hidden-size", type=int, help="model (residual stream) width")
    p.add_argument("--measured-rps-per-replica", type=float, help="requests/s one replica sustained in a pilot")
    p.add_argument("--measured-on", help="the instance type --measured-rps-per-replica was measured on")
    p.add_argument("--neuron", action="store_true", help="the image is compiled for AWS Inferentia")
    p.add_argument("--rocm", action="store_true", help="the image is built for AMD ROCm (MI300X)")
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
