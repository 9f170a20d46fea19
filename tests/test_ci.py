"""The pull-request workflow gates: its own offline-preview step fails on a broken stack, each job
holds only the permissions it needs, the policy config comes from the stack's environment key, and
zizmor finds nothing. `make preview` keeps the preview's exit status."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.engine.stackfile import ROOT, STACKS_DIR_VARIABLE

WORKFLOW = ROOT / ".github" / "workflows" / "preview.yml"
SCRIPT = ".github/scripts/offline-previews.sh"
DEV = (ROOT / "stacks" / "Pulumi.aws-dev.yaml").read_text()
BROKEN = "config:\n  ml-serving:cloud: aws\n  ml-serving:environment: qa\n  ml-serving:region: us-east-1\n"
# Valid, but over its budget in staging, where the budget rule is mandatory.
OVER_BUDGET = DEV.replace("environment: dev", "environment: staging").replace(
    "budget_monthly_usd: 8000", "budget_monthly_usd: 1"
)


def _workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def _env(stacks: Path) -> dict[str, str]:
    return {**os.environ, STACKS_DIR_VARIABLE: str(stacks), "PYTHON": sys.executable}


def _stacks(tmp_path: Path, **files: str) -> Path:
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    for name, text in files.items():
        (stacks / f"Pulumi.{name}.yaml").write_text(text)
    return stacks


def _step(job: str, name: str) -> dict[str, Any]:
    return next(s for s in _workflow()["jobs"][job]["steps"] if s.get("name") == name)


def test_the_workflow_runs_its_offline_previews_through_the_script_with_bash() -> None:
    step = _step("offline", "Offline preview of every stack")
    assert step["shell"] == "bash" and step["run"] == f"bash {SCRIPT} previews"
    assert "set -euo pipefail" in (ROOT / SCRIPT).read_text()


def test_the_offline_preview_step_fails_when_any_stack_fails(tmp_path: Path) -> None:
    assert "budget_monthly_usd: 1\n" in OVER_BUDGET
    stacks = _stacks(tmp_path, **{"acme-broken": BROKEN, "acme-over": OVER_BUDGET})
    out = tmp_path / "previews"
    proc = subprocess.run(["bash", SCRIPT, str(out)], cwd=ROOT, env=_env(stacks), capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr
    assert proc.stderr.strip() == "offline preview failed: acme-broken (exit 2) acme-over (exit 1)"
    # Every stack is previewed and kept, the first failure does not stop the others.
    assert "ml-serving:environment: 'qa' is invalid" in (out / "acme-broken.txt").read_text()
    assert "stack-cost-within-budget" in (out / "acme-over.txt").read_text()


def test_the_offline_preview_step_passes_when_every_stack_previews(tmp_path: Path) -> None:
    stacks = _stacks(tmp_path, **{"aws-dev": DEV})
    proc = subprocess.run(
        ["bash", SCRIPT, str(tmp_path / "out")], cwd=ROOT, env=_env(stacks), capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("offline preview passed: 1 stacks")


def test_each_job_holds_only_the_permissions_it_needs() -> None:
    workflow = _workflow()
    assert workflow["permissions"] == {}
    assert workflow["jobs"]["offline"]["permissions"] == {"contents": "read"}
    assert workflow["jobs"]["cloud"]["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "pull-requests": "write",
    }
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_every_action_is_pinned_to_a_commit() -> None:
    for job in _workflow()["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                ref = step["uses"].split("@", 1)[1]
                assert len(ref) == 40 and all(c in "0123456789abcdef" for c in ref), step["uses"]


def test_cloud_previews_take_the_policy_config_from_the_environment_key(tmp_path: Path) -> None:
    preview = next(s for s in _workflow()["jobs"]["cloud"]["steps"] if s.get("with", {}).get("command") == "preview")
    assert preview["with"]["policyPackConfigs"] == "policies/config/${{ matrix.environment }}.json"
    assert preview["if"] == "steps.known.outputs.known == 'true'"  # only stacks the backend knows
    # The matrix comes from the stack files' keys, not their names.
    stacks = _stacks(tmp_path, **{"acme-eu": DEV.replace("environment: dev", "environment: staging")})
    proc = subprocess.run(
        [sys.executable, "-m", "infra", "stacks", "--json"], cwd=ROOT, env=_env(stacks), capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [
        {"stack": "acme-eu", "cloud": "aws", "environment": "staging", "region": "us-east-1"}
    ]


def test_stacks_shows_what_each_files_keys_name_and_names_alone_for_scripts(tmp_path: Path) -> None:
    # The cloud, environment and region come from the keys, whatever the file is called.
    eu = DEV.replace("environment: dev", "environment: staging").replace("region: us-east-1", "region: eu-west-1")
    stacks = _stacks(tmp_path, **{"acme-eu": eu, "acme-qa": BROKEN, "acme-bare": "config: {}\n"})
    proc = subprocess.run(
        [sys.executable, "-m", "infra", "stacks"], cwd=ROOT, env=_env(stacks), capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert [line.split() for line in proc.stdout.splitlines()] == [
        ["stack", "cloud", "environment", "region"],
        ["acme-bare", "-", "-", "-"],
        ["acme-eu", "aws", "staging", "eu-west-1"],
        ["acme-qa", "aws", "qa", "us-east-1"],
    ]
    names = [sys.executable, "-m", "infra", "stacks", "--names"]
    proc = subprocess.run(names, cwd=ROOT, env=_env(stacks), capture_output=True, text=True)
    assert proc.stdout.splitlines() == ["acme-bare", "acme-eu", "acme-qa"]


def test_zizmor_finds_nothing_in_the_workflows() -> None:
    zizmor = shutil.which("zizmor", path=str(Path(sys.executable).parent))
    assert zizmor, "zizmor is pinned in requirements-dev.txt"
    proc = subprocess.run(
        [zizmor, "--offline", "--pedantic", str(WORKFLOW.parent)], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(("stack", "status"), [("aws-dev", 0), ("acme-over", 1), ("acme-broken", 2)])
def test_make_preview_keeps_the_previews_exit_status(tmp_path: Path, stack: str, status: int) -> None:
    stacks = _stacks(tmp_path, **{"aws-dev": DEV, "acme-broken": BROKEN, "acme-over": OVER_BUDGET})
    proc = subprocess.run(
        ["make", "--no-print-directory", "preview", f"STACK={stack}"],
        cwd=ROOT,
        env=_env(stacks),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == status, proc.stderr[-2000:]
