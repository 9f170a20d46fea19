"""The offline preview of every shipped stack: the real program under the mocks, the policy
pack over the Analyzer protocol, and the command's exit status and output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from infra.engine.mockrun import UNKNOWN
from infra.engine.stackfile import ROOT
from tests.conftest import STACKS, preview_of


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_previews_without_error(stack: str) -> None:
    document = preview_of(stack)
    assert document["error"] is None
    assert document["environment"] == stack.split("-", 1)[1]
    types = {r["type"] for r in document["resources"]}
    assert {"aws:kms/key:Key", "aws:ecr/repository:Repository", "ml-serving:index:CostEstimate"} <= types


@pytest.mark.parametrize("stack", [s for s in STACKS if s.endswith("-prod") or s.endswith("-staging")])
def test_shipped_staging_and_prod_stacks_have_no_mandatory_violation(stack: str) -> None:
    document = preview_of(stack)
    assert set(document["policies"].values()) == {"mandatory"}
    assert [v for v in document["violations"] if v["level"] == "mandatory"] == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_cloud_resource_uses_the_stacks_explicit_provider(stack: str) -> None:
    resources = preview_of(stack)["resources"]
    providers = {r["urn"] for r in resources if r["type"].startswith("pulumi:providers:")}
    custom = [r for r in resources if r["custom"] and not r["type"].startswith("pulumi:providers:")]
    assert custom and all(r["provider"].rsplit("::", 1)[0] in providers for r in custom)


@pytest.mark.parametrize("stack", STACKS)
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
    assert cost["monthlyUsdMax"] == pytest.approx(sum(e["monthly_usd_max"] for e in cost["endpoints"].values()))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "infra", *args], cwd=ROOT, capture_output=True, text=True)


def test_cli_json_preview_is_one_document_with_resources_diagnostics_and_cost() -> None:
    proc = _cli("preview", "aws-prod", "--json")
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert {"resources", "violations", "outputs", "policies"} <= set(document)
    key = next(r for r in document["resources"] if r["type"] == "aws:kms/key:Key")
    assert key["protect"] and key["inputs"]["enableKeyRotation"] is True


def test_cli_tree_shows_resources_policies_and_cost() -> None:
    proc = _cli("preview", "aws-prod")
    assert proc.returncode == 0, proc.stderr
    for text in ("aws:kms/key:Key", "protected", "Policies:", "0 mandatory", "Estimated cost"):
        assert text in proc.stdout


def test_cli_exits_2_with_one_line_for_an_unknown_stack() -> None:
    proc = _cli("preview", "aws-nowhere")
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("stack 'aws-nowhere': no file stacks/Pulumi.aws-nowhere.yaml")
    assert "Traceback" not in proc.stderr


def test_cli_exits_2_for_an_invalid_stack_file() -> None:
    bad = ROOT / "stacks" / "Pulumi.aws-brokentest.yaml"
    bad.write_text("config:\n  ml-serving:cloud: aws\n  ml-serving:environment: qa\n  ml-serving:region: us-east-1\n")
    try:
        proc = _cli("preview", "aws-brokentest")
    finally:
        bad.unlink()
    assert proc.returncode == 2
    assert proc.stderr.strip() == "ml-serving:environment: 'qa' is invalid; expected 'dev', 'staging' or 'prod'"
