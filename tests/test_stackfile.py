"""Stack files as the CLI reads them: repeated keys, the `config:` wrapper, secrets, a user's own stacks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.engine.mockrun import UNKNOWN, run, run_config
from infra.engine.stackfile import ROOT, STACKS_DIR_VARIABLE, read_config, read_stack, stack_names
from infra.errors import SpecError
from infra.spec.base import SECRET

DEV = (ROOT / "stacks" / "Pulumi.aws-dev.yaml").read_text()


@pytest.fixture
def stacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty stacks folder every reader (and every subprocess) uses instead of `stacks/`."""
    monkeypatch.setenv(STACKS_DIR_VARIABLE, str(tmp_path))
    return tmp_path


def _error(stacks: Path, text: str) -> str:
    (stacks / "Pulumi.acme-dev.yaml").write_text(text)
    with pytest.raises(SpecError) as caught:
        read_stack("acme-dev")
    assert len(caught.value.lines) == 1
    return caught.value.lines[0]


def test_a_repeated_key_is_an_error_naming_its_path_and_lines(stacks: Path) -> None:
    text = DEV.replace("          weight: 100\n", "          weight: 100\n          weight: 50\n", 1)
    line = text.splitlines().index("          weight: 50") + 1
    assert _error(stacks, text) == (
        f"ml-serving:endpoints[0].models[0].weight: duplicate key on line {line} of Pulumi.acme-dev.yaml"
        f" (first on line {line - 1}); a key may appear once in a mapping, as the Pulumi CLI requires"
    )


def test_a_repeated_top_level_key_is_an_error(stacks: Path) -> None:
    text = DEV.replace("  ml-serving:region: us-east-1\n", "  ml-serving:region: us-east-1\n  region: us-west-2\n")
    line = text.splitlines().index("  region: us-west-2") + 1
    assert _error(stacks, text).startswith(
        f"ml-serving:region: duplicate key on line {line} of Pulumi.acme-dev.yaml (first on line {line - 1})"
    )


def test_keys_without_their_config_wrapper_are_named(stacks: Path) -> None:
    text = "\n".join(line[2:] for line in DEV.splitlines() if line.startswith("  ml-serving:"))
    assert _error(stacks, text) == (
        "Pulumi.acme-dev.yaml: ml-serving:cloud, ml-serving:environment, ml-serving:region ... sit at the top level;"
        " stack settings go under 'config:' (indent them beneath a 'config:' line)"
    )


def test_secure_values_become_secret_keys_with_a_placeholder(stacks: Path) -> None:
    text = DEV.replace("artifact: llama3-8b/v1/model.tar.gz", "artifact:\n            secure: AAABAGx5c2Vj")
    (stacks / "Pulumi.acme-dev.yaml").write_text(text + "  aws:secretKey:\n    secure: AAABAKey\n")
    config = read_stack("acme-dev")
    assert config.secret_keys == ("ml-serving:endpoints", "aws:secretKey")
    assert config.values["aws:secretKey"] == SECRET
    assert json.loads(config.values["ml-serving:endpoints"])[0]["models"][0]["artifact"] == SECRET


def test_a_stack_with_secrets_previews_with_the_resources_using_them_marked_secret(stacks: Path) -> None:
    # `pulumi config set --path --secret 'tags.owner' ...` and a provider credential.
    text = DEV.replace("  ml-serving:tags:\n", "  ml-serving:tags:\n    owner:\n      secure: AAABAGx5c2Vj\n")
    (stacks / "Pulumi.acme-dev.yaml").write_text(text + "  aws:secretKey:\n    secure: AAABAKey\n")
    result = run("acme-dev")
    assert result["error"] is None
    secret = {r["type"]: r for r in result["resources"] if r["secret"]}
    # Tags reach resources through the provider's default tags: that input is secret, and unknown offline.
    assert list(secret) == ["pulumi:providers:aws"]
    assert secret["pulumi:providers:aws"]["secretPaths"] == ["defaultTags"]
    assert secret["pulumi:providers:aws"]["inputs"]["defaultTags"] == UNKNOWN
    # The same secret key's names and settings (endpoint names, profiles) are not secrets.
    endpoint = next(r for r in result["resources"] if r["type"] == "aws:sagemaker/endpoint:Endpoint")
    assert not endpoint["secret"] and endpoint["secretPaths"] == []


def test_without_secrets_nothing_is_marked_secret() -> None:
    assert not any(r["secret"] for r in run("aws-dev")["resources"])


def test_a_users_own_stack_keeps_the_suite_green(stacks: Path) -> None:
    # The shipped stacks plus a user's, named for neither a cloud nor an environment: both come from its keys.
    for shipped in (ROOT / "stacks").glob("Pulumi.*.yaml"):
        shutil.copy(shipped, stacks)
    (stacks / "Pulumi.acme-staging.yaml").write_text(DEV.replace("environment: dev", "environment: staging"))
    assert "acme-staging" in stack_names()
    # Tests of the shipped stacks' content select them by name; this one checks every file in the folder.
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-rA", "tests/test_spec.py", "tests/test_golden.py"),
            *("-k", "stack_files_are_valid or (test_golden and acme)"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "PASSED tests/test_spec.py::test_stack_files_are_valid[acme-staging]" in proc.stdout
    assert f"{len(stack_names())} passed" in proc.stdout


def test_an_error_never_prints_a_decrypted_secret() -> None:
    # Under `pulumi up` a `secure:` value reaches the program decrypted; a mistake in it (too long: the
    # line shows its start) or beside it is reported without it.
    token = "hf_" + "s" * 1100
    eps = json.loads(read_config("aws-dev")["ml-serving:endpoints"])
    eps[0]["models"][0]["env"] = {"HF_TOKEN": token}
    eps[0]["name"] = "Bad_Name"
    config = read_config("aws-dev") | {"ml-serving:endpoints": json.dumps(eps)}
    result = run_config("aws-dev", config, secret_keys=("ml-serving:endpoints",))
    assert result["resources"] == [] and "ml-serving:endpoints[0].name" in result["error"]
    assert "sssss" not in result["error"]
