"""The serving runtime contract: the engine table, the runtime the plan derives, and the spec's
checks on `engine` and `env` (plain pytest: no Pulumi)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from infra.errors import SpecError
from infra.plan import EndpointPlan, build_plan
from infra.runtime import ENGINES, ENV_NAME_PATTERN, ServingRuntime, engine_config, engine_table, owned_env_names
from infra.spec import load_spec
from tests.conftest import endpoints, with_keys

# Every value sizing may choose (infra/sizing/layout.py): each must be mapped, if only to null.
PRECISIONS = {"fp32", "bf16", "fp16", "fp8", "fp4", "int8", "int4"}
KV_PRECISIONS = {"fp32", "fp16", "bf16", "fp8"}
RUNTIME_FIELDS = {f.name for f in dataclasses.fields(ServingRuntime)} | {"max_batch_tokens"}


def llm(params: float, **requirements: Any) -> dict[str, Any]:
    """A managed chat endpoint sized automatically for a `params`-billion fp16 model."""
    return {
        "name": "chat",
        "models": [{"name": "m1", "image_tag": "v1", "artifact": "m1/model.tar.gz"}],
        "sizing": {
            "profile": "auto",
            "requirements": {"peak_rps": 1, "p95_latency_ms": 60000, "params_billion": params, **requirements},
        },
    }


def plan_with(config: dict[str, str], *eps: dict[str, Any]) -> dict[str, EndpointPlan]:
    return {e.name: e for e in build_plan(load_spec(with_keys(config, endpoints=list(eps))), "test").endpoints}


def spec_error(config: dict[str, str], *eps: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecError) as caught:
        plan_with(config, *eps)
    return caught.value.lines


def test_every_engine_of_the_spec_has_a_table_entry_with_sources() -> None:
    assert set(engine_table()) == set(ENGINES)
    for engine, entry in engine_table().items():
        assert entry.description
        for name, setting in entry.settings.items():
            assert name in RUNTIME_FIELDS, f"{engine}.{name} is not a ServingRuntime field"
            assert setting.env or setting.arg, f"{engine}.{name} names neither a variable nor a flag"
            assert setting.source.strip(), f"{engine}.{name} has no source"
            if setting.env:
                assert re.match(ENV_NAME_PATTERN, setting.env)
            if setting.arg:
                assert re.fullmatch(r"--[a-z][a-z0-9-]*", setting.arg)
        for limit in entry.limits:
            assert limit in RUNTIME_FIELDS


def test_enumerated_settings_map_every_value_sizing_can_choose() -> None:
    for engine, entry in engine_table().items():
        for name, expected in (("precision", PRECISIONS), ("kv_cache_precision", KV_PRECISIONS)):
            setting = entry.settings.get(name)
            if setting is not None:
                assert setting.values is not None and set(setting.values) == expected, f"{engine}.{name}"


def test_an_8b_model_on_one_gpu_is_told_one_gpu_its_context_and_batch(dev_config) -> None:
    chat = plan_with(dev_config, endpoints(dev_config)[0])["chat"]
    assert chat.instance_type == "ml.g6e.xlarge" and chat.gpus == 1
    runtime = chat.models[0].runtime
    assert runtime.engine == "vllm" and runtime.port == 8080 and runtime.model_dir == "/opt/ml/model"
    env = engine_config(runtime).env
    assert env["SM_VLLM_TENSOR_PARALLEL_SIZE"] == "1"
    assert env["SM_VLLM_MAX_MODEL_LEN"] == "4096"  # requirements.context_tokens
    assert env["SM_VLLM_MAX_NUM_SEQS"] == str(chat.layout.max_num_seqs)
    assert env["SM_VLLM_DTYPE"] == "float16"
    assert env["SM_VLLM_MODEL"] == "/opt/ml/model"
    # Defaults are not sent: an image older than the flag still starts.
    assert "SM_VLLM_DATA_PARALLEL_SIZE" not in env and "SM_VLLM_KV_CACHE_DTYPE" not in env


def test_a_70b_model_over_four_gpus_is_told_its_degree(dev_config) -> None:
    chat = plan_with(dev_config, llm(70, context_tokens=8192, output_tokens=512, concurrency=4))["chat"]
    degree = chat.layout.tensor_parallel  # sizing's choice: every valid degree is weighed against the SLOs
    assert degree > 1 and chat.gpus % degree == 0
    config = engine_config(chat.models[0].runtime)
    assert config.env["SM_VLLM_TENSOR_PARALLEL_SIZE"] == str(degree)
    assert config.env["SM_VLLM_MAX_MODEL_LEN"] == "8192"
    assert ("--tensor-parallel-size", str(degree)) in zip(config.args, config.args[1:], strict=False)


def test_the_same_70b_under_tgi_gets_shards_and_token_limits(dev_config) -> None:
    ep = llm(70, context_tokens=8192, output_tokens=512, concurrency=4)
    ep["models"][0]["engine"] = "tgi"
    chat = plan_with(dev_config, ep)["chat"]
    runtime = chat.models[0].runtime
    env = engine_config(runtime).env
    assert env["NUM_SHARD"] == str(chat.layout.tensor_parallel) != "1"
    assert env["MAX_TOTAL_TOKENS"] == "8192" and env["MAX_INPUT_TOKENS"] == str(runtime.max_input_tokens)
    assert runtime.max_input_tokens == 8192 - 512
    assert env["HF_MODEL_ID"] == "/opt/ml/model" and env["PORT"] == "8080"


def test_an_encoder_defaults_to_tei_with_its_batch_and_port(dev_config) -> None:
    ep = llm(0.335, model_type="encoder", context_tokens=512, concurrency=32)
    runtime = plan_with(dev_config, ep)["chat"].models[0].runtime
    assert runtime.engine == "tei" and runtime.tensor_parallel == 1
    env = engine_config(runtime).env
    assert env["MAX_BATCH_TOKENS"] == str(runtime.max_num_seqs * 512)
    assert env["MAX_CONCURRENT_REQUESTS"] == str(runtime.max_num_seqs)
    assert env["HF_MODEL_ID"] == "/opt/ml/model" and env["PORT"] == "8080" and env["DTYPE"] == "float16"


def test_the_stack_files_own_env_reaches_the_container_beside_the_plans(dev_config) -> None:
    ep = llm(8)
    ep["models"][0]["env"] = {"SM_VLLM_ENFORCE_EAGER": "", "HF_HUB_OFFLINE": "1"}
    env = engine_config(plan_with(dev_config, ep)["chat"].models[0].runtime).env
    assert env["HF_HUB_OFFLINE"] == "1" and env["SM_VLLM_ENFORCE_EAGER"] == ""
    assert env["SM_VLLM_TENSOR_PARALLEL_SIZE"] == "1"


def test_env_that_sets_what_the_plan_owns_is_one_line_naming_the_key(dev_config) -> None:
    ep = llm(8)
    ep["models"][0]["env"] = {"SM_VLLM_MAX_MODEL_LEN": "32768"}
    (line,) = spec_error(dev_config, ep)
    assert line.startswith("ml-serving:endpoints[0].models[0].env.SM_VLLM_MAX_MODEL_LEN: set by the plan")
    assert "SM_VLLM_MAX_MODEL_LEN" in owned_env_names("vllm")


@pytest.mark.parametrize("name", ["1BAD", "HAS-DASH", "with space", ""])
def test_env_names_must_be_variable_names(dev_config, name: str) -> None:
    ep = llm(8)
    ep["models"][0]["env"] = {name: "x"}
    lines = spec_error(dev_config, ep)
    assert len(lines) == 1 and lines[0].startswith("ml-serving:endpoints[0].models[0].env")


def test_an_engine_that_cannot_shard_is_refused_on_a_sharded_placement(dev_config) -> None:
    ep = llm(70, context_tokens=8192, output_tokens=512, concurrency=4)
    ep["models"][0]["engine"] = "tei"
    (line,) = spec_error(dev_config, ep)
    assert line.startswith("ml-serving:endpoints[0].models[0].engine: 'tei' runs at most 1 tensor parallel")


def test_an_unknown_engine_is_one_line(dev_config) -> None:
    ep = llm(8)
    ep["models"][0]["engine"] = "ollama"
    (line,) = spec_error(dev_config, ep)
    assert line.startswith("ml-serving:endpoints[0].models[0].engine: 'ollama' is invalid")


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_min_replicas_zero_on_a_managed_endpoint_is_refused_in_every_environment(dev_config, environment: str) -> None:
    ep = {**llm(8), "autoscaling": {"min_replicas": 0}}
    config = with_keys(dev_config, environment=environment)
    lines = spec_error(config, ep)
    assert "ml-serving:endpoints[0].autoscaling.min_replicas: 0 is not possible on aws managed endpoints" in lines[0]
