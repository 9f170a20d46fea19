"""A model's own config.json bounds the context: the default is capped at the model's longest sequence,
and a stated `context_tokens` above it is one keyed line naming both numbers, in a stack file and in
`python -m infra size`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from infra.cli import main
from infra.engine.stackfile import read_config
from infra.errors import SpecError
from infra.spec import Requirements, load_spec
from infra.spec.model_config import max_context
from tests.conftest import run_program, with_keys

CONFIGS = Path("tests/data/model_configs")
BERT = str(CONFIGS / "bert-large-uncased.json")
SAGEMAKER_MODEL = "aws:sagemaker/model:Model"


def encoder(**requirements: Any) -> dict[str, Any]:
    """A managed BERT-Large endpoint sized from its config.json."""
    return {
        "name": "embed",
        "models": [{"name": "m1", "image_tag": "v1", "artifact": "m1/model.tar.gz"}],
        "sizing": {
            "profile": "auto",
            "requirements": {
                "peak_rps": 20,
                "p95_latency_ms": 300,
                "model_type": "encoder",
                "model_config": BERT,
                **requirements,
            },
        },
    }


def config_with(tmp_path: Path, base: str, **keys: Any) -> str:
    """A copy of `base` with `keys` set (None removes one), written under tmp_path; its absolute path."""
    raw = json.loads((Path(__file__).resolve().parents[1] / CONFIGS / base).read_text())
    raw.pop("max_position_embeddings")
    raw.update({k: v for k, v in keys.items() if v is not None})
    path = tmp_path / f"{base}.{'-'.join(keys)}.json"
    path.write_text(json.dumps(raw))
    return str(path)


def spec_errors(*eps: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(with_keys(read_config("aws-dev"), endpoints=list(eps)))
    return caught.value.lines


def test_an_encoders_default_context_is_its_models_512_and_the_server_is_told_so(tmp_path: Path) -> None:
    assert Requirements.model_validate(encoder()["sizing"]["requirements"]).context_tokens == 512
    document = run_program(tmp_path, "aws-variant", with_keys(read_config("aws-dev"), endpoints=[encoder()]))
    assert document["error"] is None
    (model,) = [r for r in document["resources"] if r["type"] == SAGEMAKER_MODEL]
    env = model["inputs"]["primaryContainer"]["environment"]
    # TEI's batch holds its concurrent requests at the longest sequence each: 512, not the 4096 default.
    assert int(env["MAX_BATCH_TOKENS"]) == int(env["MAX_CONCURRENT_REQUESTS"]) * 512


def test_a_stated_context_above_the_models_maximum_is_one_keyed_line_naming_both() -> None:
    assert spec_errors(encoder(context_tokens=1024)) == [
        "ml-serving:endpoints[0].sizing.requirements.context_tokens: 1024 tokens is above the model's longest"
        f" sequence, 512 (max_position_embeddings in {BERT}); expected at most 512, or leave it unset"
        " (default: 512)"
    ]


def test_a_context_within_the_maximum_or_a_model_longer_than_the_default_is_kept() -> None:
    assert Requirements.model_validate(encoder(context_tokens=384)["sizing"]["requirements"]).context_tokens == 384
    llama = {"peak_rps": 1, "ttft_ms": 800, "model_config": str(CONFIGS / "llama-3.1-8b-instruct.json")}
    assert Requirements.model_validate(llama).context_tokens == 4096  # 131072 allows the default
    assert Requirements.model_validate({**llama, "context_tokens": 131072}).context_tokens == 131072
    # Above a long model's maximum, the line states the real default (4096), not the maximum.
    with pytest.raises(ValidationError, match=r"expected at most 131072, or leave it unset \(default: 4096\)"):
        Requirements.model_validate({**llama, "context_tokens": 200000})


@pytest.mark.parametrize(
    "key", ["n_positions", "max_seq_len", "seq_length", "model_max_length", "max_sequence_length", "seq_len"]
)
def test_every_length_key_vllm_reads_bounds_the_context(tmp_path: Path, key: str) -> None:
    path = config_with(tmp_path, "llama-3.1-8b-instruct.json", **{key: 2048})
    chat = {"peak_rps": 1, "ttft_ms": 800, "model_config": path}
    assert Requirements.model_validate(chat).context_tokens == 2048
    ep = encoder() | {"name": "chat"}
    ep["sizing"] = {"profile": "auto", "requirements": {**chat, "context_tokens": 4096}}
    (line,) = spec_errors(ep)
    assert line.startswith(
        "ml-serving:endpoints[0].sizing.requirements.context_tokens: 4096 tokens is above the model's longest"
        f" sequence, 2048 ({key} in {path})"
    )


def test_the_smallest_stated_length_holds_and_rope_scaling_stretches_it() -> None:
    # Qwen-7B states both: 32768 positions, trained at 8192 (vLLM takes the smaller).
    assert max_context({"max_position_embeddings": 32768, "seq_length": 8192}) == (8192, "seq_length")
    # Qwen3 with YaRN x4 over its original 32768 (the model card's 131072-token recipe).
    yarn = {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}
    assert max_context({"max_position_embeddings": 40960, "rope_scaling": yarn}) == (
        131072,
        "original_max_position_embeddings x rope_scaling.factor 4",
    )
    linear = {"type": "linear", "factor": 2.0}
    assert max_context({"max_position_embeddings": 4096, "rope_scaling": linear}) == (
        8192,
        "max_position_embeddings x rope_scaling.factor 2",
    )
    # Llama 3.1's 131072 already counts its llama3 scaling (factor 8): not multiplied again.
    llama3 = {"rope_type": "llama3", "factor": 8.0, "original_max_position_embeddings": 8192}
    assert max_context({"max_position_embeddings": 131072, "rope_scaling": llama3}) == (
        131072,
        "max_position_embeddings",
    )
    assert max_context({"hidden_size": 8}) is None


def test_size_caps_the_default_and_names_both_numbers_for_a_flag(capsys: pytest.CaptureFixture[str]) -> None:
    flags = [
        *("size", "--cloud", "aws", "--model-config", BERT, "--model-type", "encoder"),
        *("--peak-rps", "20", "--p95-latency-ms", "300", "--json"),
    ]
    assert main(flags) == 0
    layout = json.loads(capsys.readouterr().out)["layout"]
    assert (layout["max_model_len"], layout["max_input_tokens"]) == (512, 512)
    assert main([*flags, "--context-tokens", "1024"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"--context-tokens: 1024 tokens is above the model's longest sequence, 512 (max_position_embeddings in"
        f" {BERT}); expected at most 512, or leave it unset (default: 512)"
    )
