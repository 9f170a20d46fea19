"""Credentials in plain text in a stack file: refused where policies are mandatory (staging, prod) with
one keyed line and the command that fixes it, warned about in dev, never printed; a `secure:` value
stays secret in every resource the program registers, on every cloud and on Kubernetes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.engine.mockrun import UNKNOWN, run
from infra.engine.stackfile import ROOT, STACKS_DIR_VARIABLE, read_config, stack_names
from infra.errors import SpecError
from infra.spec import load_spec
from infra.spec.credentials import plain_credentials
from tests.conftest import endpoints, run_program, with_keys

TOKEN = "hf_" + "abcdefghijklmnopqrstuvwxyzABCDEFGH"  # a Hugging Face token's form (gitleaks rule)
AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"  # AWS's documentation example access key id
SECRET_VALUE = "s3cr3t-value-0123456789"


def with_env(stack: str, env: dict[str, str], model: int = 0) -> dict[str, str]:
    """`stack`'s config with `env` set on its first endpoint's `model`-th version."""
    config = read_config(stack)
    eps = endpoints(config)
    eps[0]["models"][model]["env"] = {**eps[0]["models"][model].get("env", {}), **env}
    return with_keys(config, endpoints=eps)


def found(config: dict[str, str], secret_keys: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return [(c.path, c.why) for c in plain_credentials(config, secret_keys)]


def fix_line(path: str, why: str, stack: str) -> str:
    return (
        f"ml-serving:{path}: {why} in plain text; the stack file, the state and the cloud resource would hold it"
        f" unencrypted; make it a secret: pulumi config set --secret --path '{path}' --stack {stack} (it prompts"
        " for the value)"
    )


@pytest.mark.parametrize(
    "name",
    [
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "OPENAI_API_KEY",
        "WANDB_API_KEY",
        "NGC_APIKEY",
        "AWS_SECRET_ACCESS_KEY",
        "AZURE_CLIENT_SECRET",
        "DB_PASSWORD",
        "SSH_PRIVATE_KEY",
        "AZURE_STORAGE_CONNECTION_STRING",
        "hfToken",
        "vllm_api_key",
    ],
)
def test_a_variable_named_for_a_credential_is_found_by_its_name(name: str) -> None:
    assert found(with_env("aws-dev", {name: SECRET_VALUE})) == [
        (f"endpoints[0].models[0].env.{name}", f"a credential by its name ({name})")
    ]


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (TOKEN, "a Hugging Face access token"),
        (AWS_KEY_ID, "an AWS access key id"),
        ("ghp_" + "a1B2c3D4e5" * 3 + "f6G7h8", "a GitHub token"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA", "a private key"),
        ("https://hub.example.com/m.tar.gz?token=abc123def", "a URL with a token parameter"),
        ("https://user:hunter22@models.example.com/m.tar.gz", "a URL with a password"),
    ],
)
def test_a_credentials_form_is_found_under_any_name(value: str, why: str) -> None:
    assert found(with_env("aws-dev", {"MODEL_SOURCE": value})) == [("endpoints[0].models[0].env.MODEL_SOURCE", why)]


@pytest.mark.parametrize(
    ("artifact", "why"),
    [
        (
            "https://acct.blob.core.windows.net/models/m.tar.gz?sv=2022-11-02&se=2030-01-01&sp=r&sig=AbC%2FdEf%3D",
            "a URL with a sig parameter",
        ),
        (
            "https://b.s3.amazonaws.com/m.tar.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20300101"
            "&X-Amz-Signature=0a1b2c",
            "a URL with a X-Amz-Credential parameter",
        ),
        (
            "https://storage.googleapis.com/b/m.tar.gz?X-Goog-Signature=0a1b2c",
            "a URL with a X-Goog-Signature parameter",
        ),
        ("https://ml:pa55word@files.example.com/m.tar.gz", "a URL with a password"),
    ],
)
def test_a_signed_or_password_url_as_the_artifact_is_found(artifact: str, why: str) -> None:
    config = read_config("aws-dev")
    eps = endpoints(config)
    eps[1]["models"][0]["artifact"] = artifact
    assert found(with_keys(config, endpoints=eps)) == [("endpoints[1].models[0].artifact", why)]


def test_a_tag_named_for_or_holding_a_credential_is_found() -> None:
    tags = {"team": "ml", "api-key": SECRET_VALUE, "owner": AWS_KEY_ID}
    assert found(with_keys(read_config("aws-dev"), tags=tags)) == [
        ('tags["api-key"]', "a credential by its name (api-key)"),
        ("tags.owner", "an AWS access key id"),
    ]


def test_settings_paths_and_switches_are_not_credentials() -> None:
    env = {
        "MAX_TOTAL_TOKENS": "8192",
        "TOKENIZERS_PARALLELISM": "false",
        "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
        "GOOGLE_APPLICATION_CREDENTIALS": "/var/secrets/google/key.json",
        "HF_TOKEN_PATH": "/run/secrets/hf-token",
        "POSTGRES_PASSWORD_FILE": "/run/secrets/pg",
        "SECRET_NAME": "prod/hf-token",
        "MODEL_URL": "https://huggingface.co/org/model/resolve/main/model.safetensors?download=true",
    }
    assert found(with_env("aws-dev", env)) == []
    assert [s for s in stack_names() if found(read_config(s))] == []  # no shipped stack holds one


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("aws:secretKey", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ("azure-native:clientSecret", SECRET_VALUE),
        ("gcp:credentials", '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----"}'),
    ],
)
def test_a_providers_credential_in_plain_text_is_found_and_set_whole(key: str, value: str) -> None:
    config = read_config("aws-prod") | {key: value}
    (credential,) = plain_credentials(config, ())
    name = key.split(":", 1)[1]
    assert credential.line("aws-prod") == (
        f"{key}: a credential by its name ({name}) in plain text; the stack file, the state and the cloud resource"
        f" would hold it unencrypted; make it a secret: pulumi config set --secret {key} --stack aws-prod (it"
        " prompts for the value)"
    )
    assert plain_credentials(config, (key,)) == []
    for setting in ("gcp:project", "azure-native:subscriptionId", "aws:sharedCredentialsFiles", "aws:profile"):
        assert plain_credentials(read_config("aws-prod") | {setting: '["~/.aws/credentials"]'}, ()) == []


def test_a_key_the_cli_marks_secret_is_not_searched() -> None:
    # The engine names secret keys, not parts of them: `endpoints` after `pulumi config set --secret --path`.
    assert found(with_env("aws-prod", {"HF_TOKEN": TOKEN}), ("ml-serving:endpoints",)) == []


@pytest.mark.parametrize("stack", ["aws-prod", "gcp-staging", "azure-prod"])
def test_a_plain_token_is_refused_where_policies_are_mandatory(tmp_path: Path, stack: str) -> None:
    result = run_program(tmp_path, stack, with_env(stack, {"HF_TOKEN": TOKEN}))
    assert result["resources"] == []
    assert result["error"] == fix_line(
        "endpoints[0].models[0].env.HF_TOKEN", "a credential by its name (HF_TOKEN)", stack
    )


def test_a_plain_provider_credential_is_refused_in_prod(tmp_path: Path) -> None:
    config = read_config("aws-prod") | {"aws:secretKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
    result = run_program(tmp_path, "aws-prod", config)
    assert result["resources"] == []
    assert result["error"] == (
        "aws:secretKey: a credential by its name (secretKey) in plain text; the stack file, the state and the cloud"
        " resource would hold it unencrypted; make it a secret: pulumi config set --secret aws:secretKey --stack"
        " aws-prod (it prompts for the value)"
    )


def test_a_plain_token_is_a_warning_in_dev_and_never_printed(tmp_path: Path) -> None:
    result = run_program(tmp_path, "aws-dev", with_env("aws-dev", {"HF_TOKEN": TOKEN}))
    assert result["error"] is None and result["resources"]
    assert result["warnings"] == [
        fix_line("endpoints[0].models[0].env.HF_TOKEN", "a credential by its name (HF_TOKEN)", "aws-dev")
    ]


def test_a_refusal_beside_other_mistakes_is_listed_with_them_and_no_value_is_printed(tmp_path: Path) -> None:
    # A plain token too long for the variable: pydantic's line would show its start.
    long_token = "hf_" + "q" * 1100
    config = with_env("aws-prod", {"HF_TOKEN": long_token, "WANDB_API_KEY": SECRET_VALUE})
    result = run_program(tmp_path, "aws-prod", config)
    lines = result["error"].splitlines()
    assert lines[0] == (
        "ml-serving:endpoints[0].models[0].env.HF_TOKEN: '<credential>' is invalid; expected to have at most 1024"
        " characters"
    )
    assert lines[1:] == [
        fix_line(f"endpoints[0].models[0].env.{n}", f"a credential by its name ({n})", "aws-prod")
        for n in ("HF_TOKEN", "WANDB_API_KEY")
    ]
    assert "qqqqqq" not in result["error"] and SECRET_VALUE not in result["error"]


def holding(value: Any, needle: str, path: str = "") -> list[str]:
    """Property paths in `value` whose string contains `needle`."""
    if isinstance(value, str):
        return [path] if needle in value else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in holding(v, needle, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in holding(v, needle, f"{path}[{i}]")]
    return []


@pytest.mark.parametrize("stack", ["aws-staging", "gcp-prod", "azure-prod"])
def test_a_secret_token_stays_secret_in_every_resource_registered(tmp_path: Path, stack: str) -> None:
    """What the CLI passes after `pulumi config set --secret --path 'endpoints[i].models[0].env.HF_TOKEN'`:
    the decrypted value, and `ml-serving:endpoints` among the secret keys. Every endpoint gets the token,
    so managed endpoints and Kubernetes serving both carry it."""
    config = read_config(stack)
    eps = endpoints(config)
    for ep in eps:
        ep["models"][0]["env"] = {**ep["models"][0].get("env", {}), "HF_TOKEN": TOKEN}
    result = run_program(tmp_path, stack, with_keys(config, endpoints=eps), secret_keys=("ml-serving:endpoints",))
    assert result["error"] is None and result["warnings"] == []
    carriers = [r for r in result["resources"] if holding(r["inputs"], TOKEN)]
    assert len(carriers) >= len(eps)  # every endpoint's model version is told its token
    for resource in carriers:
        for path in holding(resource["inputs"], TOKEN):
            assert any(path == s or path.startswith((s + ".", s + "[")) for s in resource["secretPaths"]), (
                resource["type"],
                path,
                resource["secretPaths"],
            )
    assert holding(result["outputs"], TOKEN) == []
    assert holding([r.get("registeredOutputs", {}) for r in result["resources"]], TOKEN) == []


def test_a_secure_value_in_a_prod_stack_file_previews_as_a_secret(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(STACKS_DIR_VARIABLE, str(tmp_path))
    text = (ROOT / "stacks" / "Pulumi.aws-prod.yaml").read_text()
    marker = "          artifact: llama3-8b/v1/model.tar.gz\n"
    assert marker in text
    secure = "          env:\n            HF_TOKEN:\n              secure: AAABAHpA1xYz\n"
    (tmp_path / "Pulumi.aws-prod.yaml").write_text(text.replace(marker, secure + marker, 1))
    result = run("aws-prod")
    assert result["error"] is None and result["warnings"] == []
    models = [r for r in result["resources"] if "HF_TOKEN" in json.dumps(r["inputs"])]
    assert models and all(r["type"] == "aws:sagemaker/model:Model" for r in models)
    for model in models:
        # The offline preview cannot decrypt it: the value is unknown, and secret.
        assert model["inputs"]["primaryContainer"]["environment"]["HF_TOKEN"] == UNKNOWN
        assert "primaryContainer.environment.HF_TOKEN" in model["secretPaths"]


def test_the_cli_prints_the_dev_warning_and_previews(tmp_path: Path) -> None:
    text = (ROOT / "stacks" / "Pulumi.aws-dev.yaml").read_text()
    marker = "          artifact: llama3-8b/v1/model.tar.gz\n"
    assert marker in text
    (tmp_path / "Pulumi.aws-dev.yaml").write_text(
        text.replace(marker, f"          env:\n            HF_TOKEN: {TOKEN}\n" + marker, 1)
    )
    proc = subprocess.run(
        [sys.executable, "-m", "infra", "preview", "aws-dev"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, STACKS_DIR_VARIABLE: str(tmp_path), "COLUMNS": "400"},
    )
    assert proc.returncode == 0, proc.stderr
    first = " ".join(proc.stdout.split("aws-dev (dev)")[0].split())
    assert first == "warning: " + fix_line(
        "endpoints[0].models[0].env.HF_TOKEN", "a credential by its name (HF_TOKEN)", "aws-dev"
    )
    assert TOKEN not in proc.stdout + proc.stderr


def test_no_error_line_echoes_a_credential_in_any_field() -> None:
    # Fields outside env/artifact/tags too: a password in an image reference, a token too long for a variable.
    config = read_config("aws-dev")
    eps = endpoints(config)
    model = eps[0]["models"][0]
    model.pop("image_tag", None)
    model["image"] = "https://bob:hunter22@registry.example.com/serving:1"
    model["env"] = {"EXTRA": TOKEN + "x" * 1100}
    with pytest.raises(SpecError) as caught:
        load_spec(with_keys(config, endpoints=eps))
    assert caught.value.lines == [
        "ml-serving:endpoints[0].models[0].image: 'https://registry.example.com/serving:1' is invalid; expected to"
        " match pattern '^[a-z0-9.-]+(:\\d+)?/[^\\s]+$'",
        "ml-serving:endpoints[0].models[0].env.EXTRA: '<credential>' is invalid; expected to have at most 1024"
        " characters",
    ]
