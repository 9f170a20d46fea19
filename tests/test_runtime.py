"""The serving runtime contract: the engine table, the runtime the plan derives, and the spec's
checks on `engine` and `env` (plain pytest: no Pulumi)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any, cast

import pytest

from infra.engine.stackfile import ROOT, read_config
from infra.errors import SpecError
from infra.facts import cloud_facts
from infra.plan import EndpointPlan, build_plan
from infra.runtime import (
    ENGINES,
    ENV_NAME_PATTERN,
    PLATFORMS,
    CannotTellError,
    Delivery,
    Engine,
    Routes,
    ServingRuntime,
    _check,
    engine_config,
    engine_routes,
    engine_table,
    owned_env_names,
    platform_table,
)
from infra.spec import load_spec
from tests.conftest import endpoints, with_keys

# Every value sizing may choose (infra/sizing/layout.py): each must be mapped, if only to null.
PRECISIONS = {"fp32", "bf16", "fp16", "fp8", "fp4", "int8", "int4"}
KV_PRECISIONS = {"fp32", "fp16", "bf16", "fp8"}
RUNTIME_FIELDS = {f.name for f in dataclasses.fields(ServingRuntime)} | {"max_batch_tokens"}


def llm(params: float, **requirements: Any) -> dict[str, Any]:
    """A managed chat endpoint sized automatically for a `params`-billion fp16 model; whole requests
    within 30 s, whose timeout (2 x, 60 s) every managed platform allows."""
    return {
        "name": "chat",
        "models": [{"name": "m1", "image_tag": "v1", "artifact": "m1/model.tar.gz"}],
        "sizing": {
            "profile": "auto",
            "requirements": {"peak_rps": 1, "p95_latency_ms": 30000, "params_billion": params, **requirements},
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
    assert set(platform_table()) == set(PLATFORMS)
    assert all(p.source.strip() for p in platform_table().values())
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
        # Every platform says how it tells this engine, with its source.
        assert set(entry.platforms) == set(PLATFORMS), engine
        for platform, delivery in entry.platforms.items():
            assert delivery.source.strip(), f"{engine} on {platform} has no source"
            assert delivery.fixed <= set(entry.settings), f"{engine} on {platform} fixes an unknown setting"
            for name in owned_env_names(engine, platform):
                assert re.match(ENV_NAME_PATTERN, name)


def test_every_cloud_names_the_platform_that_starts_its_containers() -> None:
    for cloud, facts in cloud_facts().items():
        assert set(facts["serving"]) == {"managed", "kubernetes"}
        assert facts["serving"]["kubernetes"]["platform"] == "kubernetes", cloud
        assert facts["serving"]["managed"]["platform"] in PLATFORMS, cloud


@pytest.mark.parametrize(
    ("delivery", "problem"),
    [
        (Delivery("args", "x"), "sends arguments, which sagemaker cannot pass"),
        (Delivery("env", "x"), "model_dir has no variable"),  # vLLM reads no variable itself
        (Delivery("none", "x"), "via none needs `instead`"),
    ],
)
def test_the_table_refuses_a_row_its_platform_cannot_deliver(delivery: Delivery, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        _check("vllm", "sagemaker", delivery, engine_table()["vllm"].settings, engine_table()["vllm"].http)


def test_enumerated_settings_map_every_value_sizing_can_choose() -> None:
    for engine, entry in engine_table().items():
        for name, expected in (("precision", PRECISIONS), ("kv_cache_precision", KV_PRECISIONS)):
            setting = entry.settings.get(name)
            if setting is not None:
                assert setting.values is not None and set(setting.values) == expected, f"{engine}.{name}"


def test_an_8b_model_on_one_gpu_is_told_one_gpu_its_context_and_batch(dev_config) -> None:
    chat = plan_with(dev_config, endpoints(dev_config)[0])["chat"]
    assert chat.instance_type == "ml.g6e.xlarge" and chat.gpus == 1 and chat.platform == "sagemaker"
    runtime = chat.models[0].runtime
    assert runtime.engine == "vllm" and runtime.port == 8080 and runtime.model_dir == "/opt/ml/model"
    told = engine_config(runtime, chat.platform)
    env = told.env
    assert env["SM_VLLM_TENSOR_PARALLEL_SIZE"] == "1"
    assert env["SM_VLLM_MAX_MODEL_LEN"] == "4096"  # requirements.context_tokens
    assert env["SM_VLLM_MAX_NUM_SEQS"] == str(chat.layout.max_num_seqs)
    assert env["SM_VLLM_DTYPE"] == "float16"
    assert env["SM_VLLM_MODEL"] == "/opt/ml/model"
    # Defaults are not sent: an image older than the flag still starts; the entrypoint fixes the port.
    assert "SM_VLLM_DATA_PARALLEL_SIZE" not in env and "SM_VLLM_KV_CACHE_DTYPE" not in env
    assert "SM_VLLM_PORT" not in env and told.args == ()


def test_a_70b_model_over_several_gpus_is_told_its_degree_in_the_form_each_platform_passes(dev_config) -> None:
    chat = plan_with(dev_config, llm(70, context_tokens=8192, output_tokens=512, concurrency=4))["chat"]
    degree = chat.layout.tensor_parallel  # sizing's choice: every valid degree is weighed against the SLOs
    assert degree > 1 and chat.gpus % degree == 0
    runtime = chat.models[0].runtime
    # SageMaker and Azure ML pass variables only: the image's entrypoint turns SM_VLLM_* into flags.
    for platform in ("sagemaker", "azureml"):
        told = engine_config(runtime, platform)
        assert told.args == ()
        assert told.env["SM_VLLM_TENSOR_PARALLEL_SIZE"] == str(degree)
        assert told.env["SM_VLLM_MAX_MODEL_LEN"] == "8192"
    # Vertex AI and Kubernetes pass arguments, which a plain vLLM image reads.
    for platform in ("vertex", "kubernetes"):
        told = engine_config(runtime, platform)
        assert told.env == {}
        pairs = dict(zip(told.args[::2], told.args[1::2], strict=True))
        assert pairs["--tensor-parallel-size"] == str(degree) and pairs["--max-model-len"] == "8192"
        assert pairs["--port"] == "8080"


def test_the_same_70b_under_tgi_gets_shards_and_token_limits_as_the_launchers_variables(dev_config) -> None:
    ep = llm(70, context_tokens=8192, output_tokens=512, concurrency=4)
    ep["models"][0]["engine"] = "tgi"
    chat = plan_with(dev_config, ep)["chat"]
    runtime = chat.models[0].runtime
    assert runtime.max_input_tokens == 8192 - 512
    for platform in PLATFORMS:
        told = engine_config(runtime, platform)
        assert told.args == ()  # the launcher reads its variables whatever the image's entrypoint
        env = told.env
        assert env["NUM_SHARD"] == str(chat.layout.tensor_parallel) != "1"
        assert env["MAX_TOTAL_TOKENS"] == "8192" and env["MAX_INPUT_TOKENS"] == str(runtime.max_input_tokens)
    sagemaker = engine_config(runtime, "sagemaker").env
    # The SageMaker entrypoint requires HF_MODEL_ID and passes --port 8080 itself.
    assert sagemaker["HF_MODEL_ID"] == "/opt/ml/model" and "MODEL_ID" not in sagemaker and "PORT" not in sagemaker
    elsewhere = engine_config(runtime, "kubernetes").env
    assert elsewhere["MODEL_ID"] == "/opt/ml/model" and elsewhere["PORT"] == "8080"


def test_an_encoder_defaults_to_tei_with_its_batch(dev_config) -> None:
    ep = llm(0.335, model_type="encoder", context_tokens=512, concurrency=32)
    runtime = plan_with(dev_config, ep)["chat"].models[0].runtime
    assert runtime.engine == "tei" and runtime.tensor_parallel == 1
    env = engine_config(runtime, "sagemaker").env
    assert env["MAX_BATCH_TOKENS"] == str(runtime.max_num_seqs * 512)
    assert env["MAX_CONCURRENT_REQUESTS"] == str(runtime.max_num_seqs)
    assert env["HF_MODEL_ID"] == "/opt/ml/model" and env["DTYPE"] == "float16" and "PORT" not in env


def test_the_stack_files_own_env_reaches_the_container_beside_the_plans(dev_config) -> None:
    ep = llm(8)
    ep["models"][0]["env"] = {"SM_VLLM_ENFORCE_EAGER": "", "HF_HUB_OFFLINE": "1"}
    env = engine_config(plan_with(dev_config, ep)["chat"].models[0].runtime, "sagemaker").env
    assert env["HF_HUB_OFFLINE"] == "1" and env["SM_VLLM_ENFORCE_EAGER"] == ""
    assert env["SM_VLLM_TENSOR_PARALLEL_SIZE"] == "1"


def test_env_that_sets_what_the_plan_owns_is_one_line_naming_the_key(dev_config) -> None:
    ep = llm(8)
    ep["models"][0]["env"] = {"SM_VLLM_MAX_MODEL_LEN": "32768"}
    (line,) = spec_error(dev_config, ep)
    assert line.startswith(
        "ml-serving:endpoints[0].models[0].env.SM_VLLM_MAX_MODEL_LEN: set by the plan for engine 'vllm' on sagemaker"
    )
    assert "SM_VLLM_MAX_MODEL_LEN" in owned_env_names("vllm", "sagemaker")
    # On Vertex AI vLLM is told by arguments: no variable is the plan's there.
    assert owned_env_names("vllm", "vertex") == frozenset()


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


def test_an_engine_a_platform_cannot_tell_is_one_line_naming_the_key_and_what_to_do() -> None:
    ep = llm(8)
    ep["models"][0]["engine"] = "triton"
    (line,) = spec_error(read_config("azure-dev"), ep)
    assert line.startswith("ml-serving:endpoints[0].models[0].engine: azureml cannot tell 'triton' its port 8080;")
    assert "engine 'custom'" in line and "serving: kubernetes" in line


PLATFORM_COLUMNS = {"sagemaker": "SageMaker", "vertex": "Vertex AI", "azureml": "Azure ML", "kubernetes": "Kubernetes"}


def _form(engine: str, platform: str) -> str:
    """How the README's table says `engine` is told on `platform`, derived from the engine table."""
    entry = engine_table()[engine]
    delivery = entry.platforms[platform]
    if delivery.via == "args":
        return "arguments"
    if delivery.via == "none":
        return "refused"
    if not entry.settings:
        return "your `env` only"
    if delivery.fixed >= set(entry.settings):
        return "fixed by the image"
    if delivery.prefix is not None:
        return f"`{delivery.prefix}*` variables"
    own = "".join(f" (`{name}`)" for name in delivery.env.values())
    return f"its own variables{own}"


def test_the_readme_table_says_what_the_engine_table_does() -> None:
    assert set(PLATFORM_COLUMNS) == set(PLATFORMS)
    readme = (ROOT / "README.md").read_text()
    header = "| engine | " + " | ".join(PLATFORM_COLUMNS.values()) + " |"
    rows = [f"| {e} | " + " | ".join(_form(e, p) for p in PLATFORM_COLUMNS) + " |" for e in ENGINES]
    assert "\n".join([header, "| --- " * (len(PLATFORM_COLUMNS) + 1) + "|", *rows]) in readme


def runtime_of(engine: str, port: int = 8080) -> ServingRuntime:
    """A one-GPU runtime of `engine` whose platform sends requests to `port`."""
    return ServingRuntime(cast(Engine, engine), 1, 1, 4096, 3840, 8, 0.9, "fp16", "fp16", port, None)


def test_every_engine_has_a_health_route_and_a_sourced_http_row() -> None:
    for engine, entry in engine_table().items():
        assert entry.http.health.startswith("/") and entry.http.source.strip(), engine
        assert entry.http.predict is None or entry.http.predict.startswith("/"), engine


def test_the_server_listens_where_it_is_told_else_on_its_own_default() -> None:
    # Told its port (vLLM --port, TGI/TEI PORT, Triton --http-port): the platform's port.
    for engine in ("vllm", "tgi", "tei", "triton"):
        for platform in PLATFORMS:
            assert engine_routes(runtime_of(engine, 9000), platform).port == 9000, (engine, platform)
    # DJL Serving (LMI) takes no port setting: it listens on its own 8080.
    assert engine_routes(runtime_of("lmi", 9000), "vertex") == Routes("/ping", "/invocations", 8080)
    # A custom server listens where the platform sends requests (the README's contract).
    assert engine_routes(runtime_of("custom", 9000), "azureml") == Routes("/health", "/score", 9000)
    assert engine_routes(runtime_of("tgi"), "kubernetes") == Routes("/health", "/generate", 8080)


def test_a_platform_that_must_be_given_a_predict_route_refuses_an_engine_without_one() -> None:
    triton = engine_table()["triton"]
    assert triton.http.predict is None and triton.platforms["azureml"].via == "none"
    with pytest.raises(ValueError, match="triton on azureml: azureml must be given a predict route"):
        _check("triton", "azureml", Delivery("env", "x"), {}, triton.http)
    with pytest.raises(CannotTellError):
        _ = engine_routes(runtime_of("triton"), "azureml").scoring


def test_the_readme_routes_table_says_what_the_engine_table_does() -> None:
    readme = (ROOT / "README.md").read_text()
    for engine, entry in engine_table().items():
        http = entry.http
        predict = f"`{http.predict}`" if http.predict else "per model"
        port = str(http.port) if http.port is not None else "the platform's port"
        (row,) = [line for line in readme.splitlines() if line.startswith(f"| {engine} | `{http.health}` |")]
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[2].startswith(predict) and cells[3].startswith(port), row
