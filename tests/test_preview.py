"""The offline preview of every shipped stack: the real program under the mocks, the policy
pack over the Analyzer protocol, and the command's exit status and output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.engine import preview as preview_module
from infra.engine.analyzer import POLICIES, PolicyPackProcess
from infra.engine.mockrun import UNKNOWN, run_config
from infra.engine.stackfile import ROOT, STACKS_DIR_VARIABLE, read_config
from infra.plan import build_plan
from infra.spec import load_spec
from tests.conftest import SHIPPED, preview_of

RESOURCE_OPTIONS = {
    "protect",
    "retainOnDelete",
    "deleteBeforeReplace",
    "ignoreChanges",
    "replaceOnChanges",
    "replacementTrigger",
    "replaceWith",
    "deletedWith",
    "customTimeouts",
    "aliases",
    "hooks",
    "additionalSecretOutputs",
    "hideDiffs",
    "importId",
}
DYNAMIC = "pulumi-python:dynamic:"


@pytest.mark.parametrize("stack", SHIPPED)
def test_every_shipped_stack_previews_without_error(stack: str) -> None:
    document = preview_of(stack)
    assert document["error"] is None
    assert document["environment"] == SHIPPED[stack][1]
    types = {r["type"] for r in document["resources"]}
    cloud = stack.split("-", 1)[0]
    assert {f"ml-serving:{cloud}:Keys", f"ml-serving:{cloud}:Registry", "ml-serving:index:CostEstimate"} <= types


@pytest.mark.parametrize("stack", [s for s, (_, env) in SHIPPED.items() if env in ("staging", "prod")])
def test_shipped_staging_and_prod_stacks_have_no_mandatory_violation(stack: str) -> None:
    document = preview_of(stack)
    assert set(document["policies"].values()) == {"mandatory"}
    assert [v for v in document["violations"] if v["level"] == "mandatory"] == []


@pytest.mark.parametrize("stack", SHIPPED)
def test_every_cloud_resource_uses_the_stacks_explicit_provider(stack: str) -> None:
    resources = preview_of(stack)["resources"]
    providers = {r["urn"] for r in resources if r["type"].startswith("pulumi:providers:")}
    # Dynamic resources (the Azure traffic step) run in the program's own provider process.
    custom = [r for r in resources if r["custom"] and not r["type"].startswith(("pulumi:providers:", DYNAMIC))]
    assert custom and all(r["provider"].rsplit("::", 1)[0] in providers for r in custom)


@pytest.mark.parametrize("stack", SHIPPED)
def test_components_parent_their_children(stack: str) -> None:
    resources = preview_of(stack)["resources"]
    components = {r["urn"]: r for r in resources if not r["custom"]}
    for resource in resources:
        if resource["custom"] and not resource["type"].startswith("pulumi:providers:"):
            parent = components.get(resource["parent"])
            assert parent is not None and parent["type"].startswith("ml-serving:"), resource["urn"]


def test_prod_protects_and_retains_stateful_resources_dev_does_not() -> None:
    def flags(stack: str, rtype: str) -> set[tuple[bool, bool]]:
        return {(r["protect"], r["retainOnDelete"]) for r in preview_of(stack)["resources"] if r["type"] == rtype}

    for rtype in ("aws:kms/key:Key", "aws:ecr/repository:Repository"):
        assert flags("aws-prod", rtype) == {(True, True)}
        assert flags("aws-dev", rtype) == {(False, False)}


def test_computed_outputs_stay_unknown_as_in_a_real_preview() -> None:
    document = preview_of("aws-dev")
    assert document["outputs"]["registry_url"] == UNKNOWN
    alias = next(r for r in document["resources"] if r["type"] == "aws:kms/alias:Alias")
    assert alias["inputs"]["targetKeyId"] == UNKNOWN


def test_cost_estimate_is_exported_and_registered() -> None:
    document = preview_of("aws-prod")
    cost = document["outputs"]["cost"]
    registered = next(r for r in document["resources"] if r["type"] == "ml-serving:index:CostEstimate")
    assert cost["monthlyUsdMax"] == registered["inputs"]["monthlyUsdMax"] > 0
    assert cost["monthlyUsdMax"] == pytest.approx(sum(i["monthly_usd_max"] for i in cost["lineItems"]), abs=0.01)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "infra", *args], cwd=ROOT, capture_output=True, text=True)


@pytest.fixture
def stacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stacks folder of the test's own (the CLI reads it through the environment)."""
    monkeypatch.setenv(STACKS_DIR_VARIABLE, str(tmp_path))
    return tmp_path


def test_cli_json_preview_is_one_document_with_resources_diagnostics_and_cost() -> None:
    proc = _cli("preview", "aws-prod", "--json")
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert {"resources", "violations", "outputs", "policies"} <= set(document)
    key = next(r for r in document["resources"] if r["type"] == "aws:kms/key:Key")
    assert key["protect"] and key["inputs"]["enableKeyRotation"] is True
    # Unknown values are null, never the engine's sentinel, and each resource names where they are.
    assert UNKNOWN not in json.dumps([r["inputs"] for r in document["resources"]] + [document["outputs"]])
    alias = next(r for r in document["resources"] if r["type"] == "aws:kms/alias:Alias")
    assert alias["inputs"]["targetKeyId"] is None and "targetKeyId" in alias["unknowns"]
    assert key["unknowns"] == []
    assert document["outputs"]["registry_url"] is None and "registry_url" in document["unknownOutputs"]
    assert {line["what"] for line in document["outputs"]["cost"]["lineItems"]} >= {"KMS customer-managed key"}


def test_cli_tree_shows_resources_policies_and_cost() -> None:
    proc = _cli("preview", "aws-prod")
    assert proc.returncode == 0, proc.stderr
    for text in (
        "aws:kms/key:Key",
        "protected",
        "Policies:",
        "0 mandatory",
        "Estimated cost",
        "list prices in us-east-1",
    ):
        assert text in proc.stdout
    # Per model version: instance type x replicas, from the plan; the rollback latency in ms.
    plan = build_plan(load_spec(read_config("aws-prod")), "aws-prod")
    for endpoint in plan.endpoints:
        assert f"rollback at p95 latency > {endpoint.latency_alarm_ms:,.0f} ms" in proc.stdout
        # The tree wraps long lines behind its guides: compare with guides and line breaks removed.
        assert " ".join(endpoint.explanation.split())[:80] in " ".join(re.sub("[│├└─]", " ", proc.stdout).split())
        for model in endpoint.models:
            shown = f"{model.name} ({'shadow' if model.shadow else f'{model.weight}% of traffic'}):"
            # A Kubernetes canary runs fixed pods on the nodes the plan set aside for them.
            fixed = endpoint.canary_nodes.get(model.name)
            low, high = (fixed, fixed) if fixed else (endpoint.min_replicas, model.max_replicas)
            assert f"{shown} {endpoint.instance_type} x {low}-{high}" in proc.stdout


def test_cli_exits_2_with_one_line_for_an_unknown_stack() -> None:
    proc = _cli("preview", "aws-nowhere")
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("stack 'aws-nowhere': no file stacks/Pulumi.aws-nowhere.yaml")
    assert "Traceback" not in proc.stderr


def test_cli_exits_2_for_an_invalid_stack_file(stacks: Path) -> None:
    bad = stacks / "Pulumi.aws-brokentest.yaml"
    bad.write_text("config:\n  ml-serving:cloud: aws\n  ml-serving:environment: qa\n  ml-serving:region: us-east-1\n")
    proc = _cli("preview", "aws-brokentest")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "ml-serving:environment: 'qa' is invalid; expected 'dev', 'staging' or 'prod'"


OPTIONS_PROGRAM = """
import pulumi

hook = pulumi.ResourceHook("notify", lambda args: None)
old = pulumi.CustomResource("test:index:Thing", "old")
pulumi.CustomResource(
    "test:index:Thing",
    "thing",
    {"size": 1},
    opts=pulumi.ResourceOptions(
        protect=True,
        retain_on_delete=True,
        delete_before_replace=True,
        ignore_changes=["tags"],
        replace_on_changes=["size"],
        replacement_trigger="v2",
        replace_with=[old],
        deleted_with=old,
        custom_timeouts=pulumi.CustomTimeouts(create="30m", delete="1h"),
        aliases=[pulumi.Alias(name="thing-before")],
        hooks=pulumi.ResourceHookBinding(before_delete=[hook]),
        additional_secret_outputs=["secret"],
    ),
)
"""


def test_every_resource_option_the_engine_receives_is_recorded(tmp_path) -> None:
    (tmp_path / "__main__.py").write_text(OPTIONS_PROGRAM)
    result = run_config("options", {}, program=tmp_path)
    assert result["error"] is None
    old, thing = result["resources"]
    assert {k: v for k, v in thing.items() if k in RESOURCE_OPTIONS} == {
        "protect": True,
        "retainOnDelete": True,
        "deleteBeforeReplace": True,
        "ignoreChanges": ["tags"],
        "replaceOnChanges": ["size"],
        "replacementTrigger": "v2",
        "replaceWith": [old["urn"]],
        "deletedWith": old["urn"],
        "customTimeouts": {"create": "30m", "delete": "1h"},
        "aliases": [{"name": "thing-before", "parentUrn": ""}],  # as the SDK sends it
        "hooks": {"beforeDelete": ["notify"]},
        "additionalSecretOutputs": ["secret"],
        "hideDiffs": [],
        "importId": None,
    }
    assert {k: old[k] for k in ("protect", "deleteBeforeReplace", "aliases", "customTimeouts")} == {
        "protect": False,
        "deleteBeforeReplace": None,
        "aliases": [],
        "customTimeouts": {},
    }


def test_json_preview_shows_each_resources_options() -> None:
    document = json.loads(_cli("preview", "aws-prod", "--json").stdout)
    key = next(r for r in document["resources"] if r["type"] == "aws:kms/key:Key")
    assert set(key) >= RESOURCE_OPTIONS
    assert key["protect"] is True and key["retainOnDelete"] is True


def _pack_processes() -> list[int]:
    """Live (not zombie) children of this process running the policy pack."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        state, parent = fields[0], int(fields[1])
        if parent == os.getpid() and state != "Z" and str(POLICIES / "__main__.py") in cmdline:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize("failure", ["the program reports an error", "the harness raises"])
def test_no_policy_pack_process_is_left_after_a_program_error(monkeypatch, failure: str) -> None:
    started: list[PolicyPackProcess] = []

    class Recorded(PolicyPackProcess):
        def __enter__(self) -> PolicyPackProcess:
            started.append(super().__enter__())
            assert _pack_processes(), "the pack starts on entering the with block"
            return self

    def crash(stack: str) -> dict[str, Any]:
        raise RuntimeError(f"cannot start the program for {stack}")

    monkeypatch.setattr(preview_module, "PolicyPackProcess", Recorded)
    if failure == "the harness raises":
        monkeypatch.setattr(preview_module, "run_program", crash)
        with pytest.raises(RuntimeError, match="cannot start the program"):
            preview_module.preview("aws-dev")
    else:
        assert preview_module.preview("aws-no-such-stack")["error"]
    assert len(started) == 1
    assert started[0].process is not None and started[0].process.poll() is not None
    assert _pack_processes() == []
