"""The stack-file schema: generated from the spec, described field by field, in step with the README,
and strict enough that an editor flags what the program would refuse."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from infra.engine.stackfile import ROOT
from infra.environments import ENVIRONMENTS
from infra.spec.schema import README_END, README_START, SCHEMA_PATH, reference_markdown, stack_file_schema


def _fields(schema: dict[str, Any]):
    for name, model in schema["$defs"].items():
        for field, prop in model.get("properties", {}).items():
            yield f"{name}.{field}", prop
    yield from (("config." + k, v) for k, v in schema["properties"]["config"]["properties"].items())


def test_the_committed_schema_is_the_generated_one() -> None:
    committed = json.loads((ROOT / SCHEMA_PATH).read_text())
    assert committed == stack_file_schema(), "run `make schema` and commit the result"


def test_the_readme_reference_is_the_generated_one() -> None:
    readme = (ROOT / "README.md").read_text()
    between = readme[readme.index(README_START) + len(README_START) : readme.index(README_END)]
    assert between.strip() == reference_markdown(stack_file_schema()), "run `make schema` and commit the result"


def test_every_stack_file_field_outside_requirements_has_a_description() -> None:
    # Requirements' descriptions belong to the sizing work; every other model's fields have theirs.
    missing = [
        f
        for f, prop in _fields(stack_file_schema())
        if not f.startswith("Requirements.") and not prop.get("description")
    ]
    assert missing == []


@pytest.mark.parametrize("stack", [f"{cloud}-{env}" for cloud in ("aws", "gcp", "azure") for env in ENVIRONMENTS])
def test_shipped_stacks_validate_against_the_schema_and_name_it_for_editors(stack: str) -> None:
    import yaml

    text = (ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=../schemas/stack-file.json\n")
    errors = list(Draft202012Validator(stack_file_schema()).iter_errors(yaml.safe_load(text)))
    assert errors == []


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda c: c.update({"ml-serving:environment": "qa"}), "ml-serving:environment"),
        (lambda c: c.update({"ml-serving:budget_monthly": 5}), "config"),
        (lambda c: c["ml-serving:endpoints"][0]["models"][0].update(wieght=1), "models"),
        (lambda c: c["ml-serving:endpoints"][0]["models"][0].update(weight=101), "weight"),
    ],
)
def test_the_schema_flags_what_the_program_refuses(change, where: str) -> None:
    import yaml

    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.aws-dev.yaml").read_text())
    change(document["config"])
    errors = list(Draft202012Validator(stack_file_schema()).iter_errors(document))
    assert errors and any(where in "/".join(map(str, e.absolute_path)) or where == "config" for e in errors), errors


def test_secure_values_are_valid_where_a_field_may_carry_a_secret() -> None:
    import yaml

    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.aws-dev.yaml").read_text())
    document["config"]["ml-serving:tags"]["owner"] = {"secure": "AAABAKey"}
    document["config"]["ml-serving:endpoints"][0]["models"][0]["artifact"] = {"secure": "AAABAKey"}
    assert list(Draft202012Validator(stack_file_schema()).iter_errors(document)) == []
    document["config"]["ml-serving:endpoints"][0]["models"][0]["name"] = {"secure": "AAABAKey"}
    assert list(Draft202012Validator(stack_file_schema()).iter_errors(document))


def test_the_schema_command_prints_the_schema() -> None:
    proc = subprocess.run([sys.executable, "-m", "infra", "schema"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0 and json.loads(proc.stdout) == stack_file_schema()
