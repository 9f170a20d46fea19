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
from pathlib import Path
from typing import Any

from infra.engine.analyzer import PolicyPackProcess, load_policy_config
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
                "warnings": [],
            }
        return json.loads(out.read_text())


def preview(stack: str) -> dict[str, Any]:
    """Run the program and the policy pack; the whole preview as one JSON-able document.

    The pack boots while the program runs (its process starts on entering the `with`) and is
    stopped on leaving it, whatever the program did.
    """
    try:
        config = read_config(stack)
    except SpecError:
        config = {}  # the program's run reports the same error
    with PolicyPackProcess(stack=stack, config=config) as pack:
        result = run_program(stack)
        environment = None if result["error"] else config_to_input(config)["environment"]
        if environment is None:
            return {**result, "environment": environment, "policies": {}, "violations": []}
        levels = pack.configure(load_policy_config(environment))
        violations = pack.analyze(result["resources"])
    return {**result, "environment": environment, "policies": levels, "violations": [v.__dict__ for v in violations]}


def exit_status(document: dict[str, Any]) -> int:
    if document["error"]:
        return 2
    return 1 if any(v["level"] == "mandatory" for v in document["violations"]) else 0
