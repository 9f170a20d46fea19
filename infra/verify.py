"""`python -m infra verify STACK`: read every endpoint back after `pulumi up`.

Each cloud's verifier (`infra.clouds.verifier`, chosen as translators are) compares what the cloud
serves with the stack's outputs: on AWS each endpoint InService on the deployed configuration, on
Azure each endpoint serving the deployed versions at the stack's split. Exit status: 0 all good,
1 an endpoint differs, 2 a usage error (unknown stack, unreadable outputs, no cloud access).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from infra import clouds
from infra.engine.stackfile import ROOT, read_config
from infra.errors import SpecError
from infra.spec import config_to_input, load_spec


def stack_outputs(stack: str, outputs_file: Path | None) -> dict[str, Any]:
    """The stack's outputs from `--outputs FILE`, else from `pulumi stack output --json`."""
    if outputs_file is not None:
        try:
            text = outputs_file.read_text()
        except OSError as exc:
            raise SpecError(f"--outputs: cannot read {outputs_file}: {exc.strerror}") from None
    else:
        try:
            proc = subprocess.run(
                ["pulumi", "stack", "output", "--json", "-s", stack], cwd=ROOT, capture_output=True, text=True
            )
        except FileNotFoundError:
            raise SpecError("the pulumi CLI is not installed; pass the stack's outputs with --outputs FILE") from None
        if proc.returncode != 0:
            raise SpecError(f"pulumi stack output -s {stack} failed: {' '.join(proc.stderr.split())}")
        text = proc.stdout
    try:
        outputs = json.loads(text)
    except ValueError:
        raise SpecError(f"stack outputs of {stack} are not JSON") from None
    if not isinstance(outputs, dict):
        raise SpecError(f"stack outputs of {stack} must be a JSON object")
    return outputs


def cloud_and_region(stack: str) -> tuple[str, str]:
    config = config_to_input(read_config(stack))
    cloud, region = config.get("cloud"), config.get("region")
    if not isinstance(cloud, str) or not isinstance(region, str):
        raise SpecError(f"stack {stack!r}: ml-serving:cloud and ml-serving:region must be set")
    return cloud, region


def managed_endpoints(stack: str) -> list[str]:
    """The names of the stack file's managed endpoints (the ones a cloud verifier reads back)."""
    return [e.name for e in load_spec(read_config(stack)).endpoints if e.serving == "managed"]


def verify(stack: str, outputs_file: Path | None = None, client: Any = None) -> tuple[int, list[str]]:
    """Exit status and one line per endpoint; SpecError for a usage error. An endpoint of the stack
    file missing from the outputs fails: empty outputs, or another stack's, must not read as all good."""
    cloud, region = cloud_and_region(stack)
    outputs = stack_outputs(stack, outputs_file)
    expected = managed_endpoints(stack)
    given = outputs.get("endpoints")
    missing = [
        (False, f"{name}: in the stack file but not in the stack's outputs (was `pulumi up` run for {stack}?)")
        for name in expected
        if not isinstance(given, dict) or name not in given
    ]
    results = missing + clouds.verifier(cloud).check(outputs, region, client)
    if not results:
        return 0, [f"{stack}: no managed endpoints to verify"]
    return (0 if all(ok for ok, _ in results) else 1), [line for _, line in results]
