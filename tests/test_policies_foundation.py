"""The foundation's rules through the Analyzer protocol: secure forms pass, insecure forms fail,
and a value unknown at preview never turns a mandatory rule advisory."""

from __future__ import annotations

import json

import pytest

from infra.engine.analyzer import PolicyPackProcess, load_policy_config
from tests.policy_helpers import DELETE, UNKNOWN, analyze, registered, set_path

KEY = "aws:kms/key:Key"
REPO = "aws:ecr/repository:Repository"

CASES = [
    # (rule, resource type, path, insecure value)
    ("aws-kms-key-rotation", KEY, "enableKeyRotation", False),
    ("aws-kms-key-rotation", KEY, "enableKeyRotation", DELETE),
    ("aws-kms-key-deletion-window", KEY, "deletionWindowInDays", 3),
    ("aws-ecr-immutable-tags", REPO, "imageTagMutability", "MUTABLE"),
    ("aws-ecr-immutable-tags", REPO, "imageTagMutability", DELETE),
    ("aws-ecr-scan-on-push", REPO, "imageScanningConfiguration.scanOnPush", False),
    ("aws-ecr-customer-managed-key", REPO, "encryptionConfigurations[0].encryptionType", "AES256"),
    ("aws-ecr-customer-managed-key", REPO, "encryptionConfigurations[0].kmsKey", DELETE),
]


@pytest.fixture(scope="module")
def pack():
    with PolicyPackProcess() as running:
        running.configure({"all": "mandatory"})
        yield running


@pytest.mark.parametrize(("rule", "rtype", "path", "value"), CASES)
def test_rule_passes_secure_and_fails_insecure(pack, rule, rtype, path, value) -> None:
    secure = registered("aws-prod", rtype)
    assert not [v for v in pack.analyze([secure]) if v.policy == rule]
    insecure = set_path(registered("aws-prod", rtype), path, value)
    found = [v for v in pack.analyze([insecure]) if v.policy == rule]
    assert [v.level for v in found] == ["mandatory"], found


def test_unknown_key_arn_is_present_and_passes(pack) -> None:
    # At preview the key's ARN is unknown: the rule checks presence, so it neither fails nor downgrades.
    repo = registered("aws-prod", REPO)
    assert repo["inputs"]["encryptionConfigurations"][0]["kmsKey"] == UNKNOWN
    assert pack.analyze([repo]) == []


@pytest.mark.parametrize(
    ("rule", "rtype", "path"),
    [
        ("aws-kms-key-rotation", KEY, "enableKeyRotation"),
        ("aws-ecr-immutable-tags", REPO, "imageTagMutability"),
        ("aws-ecr-customer-managed-key", REPO, "encryptionConfigurations[0].encryptionType"),
    ],
)
def test_unknown_value_keeps_a_mandatory_rule_mandatory(pack, rule, rtype, path) -> None:
    resource = set_path(registered("aws-prod", rtype), path, UNKNOWN)
    found = [v for v in pack.analyze([resource]) if v.policy == rule]
    assert [v.level for v in found] == ["mandatory"]
    assert "during preview" not in found[0].message  # not the SDK's downgraded "can't run" note


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
    from tests.conftest import preview_of

    with PolicyPackProcess() as pack:
        pack.configure(load_policy_config("prod"))
        found = pack.analyze(preview_of("aws-dev")["resources"])
    prod_rule = [v for v in found if v.policy == "aws-sagemaker-prod-endpoint-capacity-and-rollout"]
    assert prod_rule and {v.level for v in prod_rule} == {"mandatory"}
    assert any("ALL_AT_ONCE" in v.message for v in prod_rule)
