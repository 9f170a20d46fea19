"""Rename safety: every shipped stack registers exactly the resources of its golden file
(`tests/golden/<stack>.json`), and no change replaces a protected resource without an alias."""

from __future__ import annotations

import copy

import pytest

from infra.environments import ENVIRONMENTS
from tests.conftest import STACKS, preview_of
from tests.golden import UPDATE, differences, entries_of, protected_replacements, read_golden

# The shipped stacks must have golden files; a user's own stack is held to one once it has it (`make
# golden`), and otherwise leaves the suite green (it is validated and planned by tests/test_spec.py).
SHIPPED = {f"{cloud}-{env}" for cloud in ("aws", "gcp", "azure") for env in ENVIRONMENTS}
GOLDEN_STACKS = [s for s in STACKS if s in SHIPPED or read_golden(s) is not None]


def golden_of(stack: str) -> list[dict]:
    golden = read_golden(stack)
    if golden is None:
        pytest.fail(f"stack {stack} has no golden file: create it with `{UPDATE} {stack}` and commit it")
    return golden


@pytest.mark.parametrize("stack", GOLDEN_STACKS)
def test_no_change_replaces_a_protected_resource(stack: str) -> None:
    golden = golden_of(stack)
    preview = preview_of(stack)
    assert preview["error"] is None
    assert protected_replacements(golden, preview["resources"]) == []


@pytest.mark.parametrize("stack", GOLDEN_STACKS)
def test_the_stack_registers_exactly_its_golden_resources(stack: str) -> None:
    golden = golden_of(stack)
    changes = differences(golden, preview_of(stack)["resources"])
    assert not changes, (
        f"{stack} no longer matches tests/golden/{stack}.json (- golden, + now):\n"
        + "\n".join(changes)
        + f"\nIf the change is intended, run `{UPDATE}` and commit the files."
    )


def test_prod_protects_its_key_registry_and_model_store() -> None:
    protected = {e["type"] for e in golden_of("aws-prod") if e["protect"]}
    assert {"aws:kms/key:Key", "aws:ecr/repository:Repository", "aws:s3/bucket:Bucket"} <= protected


def renamed_key(alias: dict | None) -> list[dict]:
    """aws-prod's resources with the KMS key under a new logical name (and `alias` if given)."""
    resources = copy.deepcopy(preview_of("aws-prod")["resources"])
    key = next(r for r in resources if r["type"] == "aws:kms/key:Key")
    key["name"], key["urn"] = "keys-cmk", key["urn"].replace("::keys-key", "::keys-cmk")
    key["aliases"] = [alias] if alias else []
    return resources


def test_renaming_a_protected_resource_fails_and_asks_for_an_alias() -> None:
    (problem,) = protected_replacements(golden_of("aws-prod"), renamed_key(None))
    assert problem.startswith("ml-serving:aws:Keys$aws:kms/key:Key::keys-key is protected and would be replaced")
    assert "aliases" in problem and UPDATE in problem


@pytest.mark.parametrize(
    "alias",
    [
        {"name": "keys-key", "parentUrn": ""},  # as the SDK sends Alias(name="keys-key")
        {"urn": "urn:pulumi:aws-prod::ml-serving::ml-serving:aws:Keys$aws:kms/key:Key::keys-key"},
    ],
)
def test_an_alias_to_the_old_name_keeps_the_protected_resource(alias: dict) -> None:
    resources = renamed_key(alias)
    assert protected_replacements(golden_of("aws-prod"), resources) == []
    assert differences(golden_of("aws-prod"), resources)  # the golden file still needs updating


def test_prod_records_the_names_its_protected_resources_have_in_their_apis() -> None:
    names = {e["type"]: e["names"] for e in golden_of("azure-prod") if e["protect"]}
    assert names["azure-native:keyvault:Vault"]["vaultName"].startswith("azure-prod-kv-")
    assert names["azure-native:storage:StorageAccount"]["accountName"].startswith("azureprodmodels")
    assert all("names" not in e for e in golden_of("azure-prod") if not e["protect"])


@pytest.mark.parametrize(
    ("stack", "resource_type", "key"),
    [
        ("azure-prod", "azure-native:keyvault:Vault", "vaultName"),
        ("gcp-prod", "gcp:storage/bucket:Bucket", "location"),
        ("aws-prod", "aws:ecr/repository:Repository", "name"),
    ],
)
def test_renaming_a_protected_resource_in_its_api_fails(stack: str, resource_type: str, key: str) -> None:
    """A changed physical name replaces the resource whatever its logical name: no alias helps."""
    resources = copy.deepcopy(preview_of(stack)["resources"])
    resource = min((r for r in resources if r["type"] == resource_type), key=lambda r: r["name"])
    old = resource["inputs"][key]
    resource["inputs"][key] = f"{old}-2"
    (problem,) = protected_replacements(golden_of(stack), resources)
    assert f"its {key} changes from {old!r} to {old + '-2'!r}" in problem
    assert "would be replaced" in problem and UPDATE in problem


def test_a_protected_type_with_no_name_inputs_listed_fails() -> None:
    resources = copy.deepcopy(preview_of("aws-prod")["resources"])
    next(r for r in resources if r["type"] == "aws:kms/alias:Alias")["protect"] = True
    with pytest.raises(KeyError, match="aws:kms/alias:Alias is protected"):
        entries_of(resources)
