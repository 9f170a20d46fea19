"""The pack as a whole through the Analyzer protocol: every rule's metadata and name, why rules never
read an unknown value, enforcement per environment, and the cloud-neutral rules (the budget)."""

from __future__ import annotations

import json
import re

import pytest
from pulumi.runtime.proto import analyzer_pb2

from infra.engine.analyzer import PolicyPackProcess, load_policy_config
from infra.environments import ENVIRONMENTS
from ml_serving_policy import environments as pack_environments
from ml_serving_policy.rules import Severity, stack_rule
from tests.conftest import preview_of
from tests.policy_helpers import UNKNOWN, analyze, registered, set_path

REPO = "aws:ecr/repository:Repository"
PROD_RULE = "aws-sagemaker-prod-endpoint-capacity-and-rollout"
RULE_NAME = re.compile(r"(aws|gcp|azure|kubernetes|stack)-[a-z0-9]+(-[a-z0-9]+)+")


def test_every_rule_has_a_conventional_name_a_severity_and_remediation_steps(pack) -> None:
    policies = list(pack.info().policies)
    assert len(policies) == len({p.name for p in policies}) > 40
    for policy in policies:
        assert RULE_NAME.fullmatch(policy.name), policy.name
        assert policy.severity != analyzer_pb2.PolicySeverity.POLICY_SEVERITY_UNSPECIFIED, policy.name
        assert len(policy.remediation_steps) > 20 and len(policy.description) > 20, policy.name


def test_a_rule_named_for_another_cloud_is_refused_when_registered() -> None:
    decorate = stack_rule("gcp-bucket-baseline", "why", severity=Severity.LOW, remediation_steps="how")
    with pytest.raises(ValueError, match="aws-<resource>-<what>"):
        decorate(_aws_check)


def _aws_check(resources, config):
    yield from ()


_aws_check.__module__ = "ml_serving_policy.aws.storage"


def test_what_the_pack_restates_from_the_program_is_equal_to_it() -> None:
    prod = ENVIRONMENTS["prod"]
    assert prod.min_replicas == pack_environments.PROD_MIN_REPLICAS
    assert prod.allowed_rollouts == pack_environments.PROD_ROLLOUTS
    assert set(pack_environments.ENVIRONMENTS) == set(ENVIRONMENTS)


def test_the_sdk_would_downgrade_a_naive_rule(tmp_path) -> None:
    """The hazard the rules avoid: a rule that reads an unknown value directly is reported advisory."""
    pack_dir = tmp_path / "naive"
    pack_dir.mkdir()
    (pack_dir / "__main__.py").write_text(
        "from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy\n"
        "def validate(args, report):\n"
        "    if args.props['imageTagMutability'] != 'IMMUTABLE':\n"
        "        report('mutable')\n"
        "PolicyPack('naive', enforcement_level=EnforcementLevel.MANDATORY,\n"
        "           policies=[ResourceValidationPolicy('naive-immutable', 'naive', validate)])\n"
    )
    resource = set_path(registered("aws-prod", REPO), "imageTagMutability", UNKNOWN)
    with PolicyPackProcess(pack_dir) as naive:
        naive.configure({"all": "mandatory"})
        found = naive.analyze([resource])
    assert [v.level for v in found] == ["advisory"] and "during preview" in found[0].message


@pytest.mark.parametrize(
    ("environment", "level"), [("dev", "advisory"), ("staging", "mandatory"), ("prod", "mandatory")]
)
def test_environment_config_sets_enforcement(environment, level) -> None:
    insecure = set_path(registered("aws-prod", REPO), "imageTagMutability", "MUTABLE")
    with PolicyPackProcess() as pack:
        levels = pack.configure(load_policy_config(environment))
        found = pack.analyze([insecure])
    assert set(levels.values()) == {level}
    assert {v.level for v in found} == {level}


def test_policy_config_files_use_the_cli_format() -> None:
    for environment in ("dev", "staging", "prod"):
        config = load_policy_config(environment)
        for key, value in config.items():
            level = value["enforcementLevel"] if isinstance(value, dict) else value
            assert level in ("advisory", "mandatory", "disabled"), (environment, key)


def test_budget_rule_fails_over_budget_and_passes_within() -> None:
    cost = registered("aws-prod", "ml-serving:index:CostEstimate")
    estimate = cost["inputs"]["monthlyUsdMax"]
    assert estimate > 0
    within = analyze([set_path(json.loads(json.dumps(cost)), "budgetMonthlyUsd", estimate + 1)])
    over = analyze([set_path(cost, "budgetMonthlyUsd", estimate - 1)])
    assert not [v for v in within if v.policy == "stack-cost-within-budget"]
    assert [v.level for v in over if v.policy == "stack-cost-within-budget"] == ["mandatory"]


def test_prod_policy_config_holds_any_stack_to_prod_rules() -> None:
    # aws-dev rolls out all at once on one instance: under prod's policy config that must fail.
    with PolicyPackProcess() as pack:
        pack.configure(load_policy_config("prod"))
        found = pack.analyze(preview_of("aws-dev")["resources"])
    prod_rule = [v for v in found if v.policy == PROD_RULE]
    assert prod_rule and {v.level for v in prod_rule} == {"mandatory"}
    assert any("ALL_AT_ONCE" in v.message for v in prod_rule)
