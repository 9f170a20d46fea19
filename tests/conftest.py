"""Shared fixtures: stack configs as the CLI passes them, previews of the shipped stacks, and the
policy pack running with every rule mandatory."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from infra.engine.analyzer import PolicyPackProcess
from infra.engine.preview import preview
from infra.engine.stackfile import ROOT, read_config, stack_names


@cache
def preview_of(stack: str) -> dict[str, Any]:
    """One offline preview per stack and test process (the program runs in a subprocess)."""
    return preview(stack)


@pytest.fixture(scope="module")
def pack():
    """The policy pack, every rule mandatory, shared by one test module."""
    with PolicyPackProcess() as running:
        running.configure({"all": "mandatory"})
        yield running


@pytest.fixture
def dev_config() -> dict[str, str]:
    return read_config("aws-dev")


def with_keys(config: dict[str, str], **changes: Any) -> dict[str, str]:
    """A copy of `config` with `ml-serving:<key>` set (JSON-encoded like the CLI) or removed (None)."""
    updated = dict(config)
    for key, value in changes.items():
        full = f"ml-serving:{key}"
        if value is None:
            updated.pop(full, None)
        else:
            updated[full] = value if isinstance(value, str) else json.dumps(value)
    return updated


def provider_keys(cloud: str) -> dict[str, str]:
    """The provider config keys (`gcp:project`...) of `cloud`'s dev stack file, for a config moved to it."""
    return {k: v for k, v in read_config(f"{cloud}-dev").items() if not k.startswith("ml-serving:")}


def endpoints(config: dict[str, str]) -> list[dict[str, Any]]:
    return json.loads(config["ml-serving:endpoints"])


# The shipped stacks, known by name: tests of their content use these. Every stack file in the
# stacks folder (a user's own among them) is validated and planned by `test_stack_files_are_valid`.
SHIPPED = {"aws-dev": ("aws", "dev"), "aws-staging": ("aws", "staging"), "aws-prod": ("aws", "prod")}
STACKS = stack_names()


def run_program(
    tmp_path: Path, stack: str, config: dict[str, str], secret_keys: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The real program under the mocks for `stack` with `config` (no stack file) and the keys the CLI
    would mark secret, in a process of its own: the Pulumi runtime is global. Returns mockrun's
    document (resources, outputs, error, warnings)."""
    (tmp_path / "config.json").write_text(json.dumps({"config": config, "secret_keys": secret_keys}))
    script = (
        "import json, sys\n"
        "from infra.engine.mockrun import run_config\n"
        "given = json.load(open(sys.argv[2]))\n"
        "print(json.dumps(run_config(sys.argv[1], given['config'], tuple(given['secret_keys'])), default=str))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, stack, str(tmp_path / "config.json")], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])
