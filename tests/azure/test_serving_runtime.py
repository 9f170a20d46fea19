"""What an Azure ML managed online deployment's container is told, on what the real program registers.
Azure ML passes environment variables only: TGI and TEI read their own; vLLM, which reads only
arguments, gets the SM_VLLM_* variables vLLM's own env-to-args entrypoint turns into flags (the
image requirement in engines.yaml); an engine that cannot be told at all is refused before any resource."""

from __future__ import annotations

from typing import Any

from infra.engine.stackfile import read_config
from infra.plan import build_plan
from infra.spec import load_spec
from tests.conftest import preview_of, run_program, with_keys
from tests.test_runtime import llm

DEPLOYMENT = "azure-native:machinelearningservices:OnlineDeployment"


def properties(document: dict[str, Any], endpoint: str, kind: str) -> list[dict[str, Any]]:
    """The registered `properties` of each `kind` resource of `endpoint`'s component."""
    (component,) = [r for r in document["resources"] if r["name"] == f"endpoint-{endpoint}" and not r["custom"]]
    return [
        r["inputs"]["properties"]
        for r in document["resources"]
        if r["type"] == kind and r["parent"] == component["urn"]
    ]


def environment(document: dict[str, Any], endpoint: str) -> list[dict[str, str]]:
    """The environment variables of each deployment of `endpoint`'s component."""
    return [p["environmentVariables"] for p in properties(document, endpoint, DEPLOYMENT)]


def test_an_8b_model_on_one_gpu_is_told_its_degree_context_and_batch() -> None:
    document = preview_of("azure-dev")
    (env,) = environment(document, "chat")
    assert env["SM_VLLM_TENSOR_PARALLEL_SIZE"] == "1"
    assert env["SM_VLLM_MAX_MODEL_LEN"] == "4096"  # the stack's context_tokens
    assert int(env["SM_VLLM_MAX_NUM_SEQS"]) >= 8 and env["SM_VLLM_DTYPE"] == "float16"
    assert "SM_VLLM_PORT" not in env  # the entrypoint listens on 8080, the port of the deployment's routes


def test_a_70b_model_over_several_gpus_is_told_its_degree_under_vllm_and_tgi(tmp_path) -> None:
    vllm = llm(70, context_tokens=8192, output_tokens=512, concurrency=4)
    tgi = {**llm(70, context_tokens=8192, output_tokens=512, concurrency=4), "name": "chat-tgi"}
    tgi["models"] = [{**tgi["models"][0], "engine": "tgi"}]
    config = with_keys(read_config("azure-dev"), endpoints=[vllm, tgi])
    planned = {e.name: e for e in build_plan(load_spec(config), "azure-variant").endpoints}
    degree = planned["chat"].layout.tensor_parallel
    assert degree > 1 and planned["chat-tgi"].layout.tensor_parallel == degree
    document = run_program(tmp_path, "azure-variant", config)
    assert document["error"] is None
    (env,) = environment(document, "chat")
    assert env["SM_VLLM_TENSOR_PARALLEL_SIZE"] == str(degree) and env["SM_VLLM_MAX_MODEL_LEN"] == "8192"
    (env,) = environment(document, "chat-tgi")
    # TGI's launcher reads NUM_SHARD itself, whatever the image's entrypoint.
    assert env["NUM_SHARD"] == str(degree) and env["MAX_TOTAL_TOKENS"] == "8192" and env["PORT"] == "8080"
    assert not any(name.startswith("SM_") for name in env)


def test_an_encoder_gets_tei_variables() -> None:
    (env,) = environment(preview_of("azure-dev"), "intent")
    assert env["PORT"] == "8080" and env["DTYPE"] == "float16"
    assert int(env["MAX_BATCH_TOKENS"]) >= int(env["MAX_CONCURRENT_REQUESTS"]) > 0
    assert not any(name.startswith("SM_VLLM_") for name in env)


def test_triton_which_azure_ml_cannot_tell_its_port_registers_nothing(tmp_path) -> None:
    ep = llm(8)
    ep["models"][0]["engine"] = "triton"
    document = run_program(tmp_path, "azure-variant", with_keys(read_config("azure-dev"), endpoints=[ep]))
    assert document["resources"] == []
    assert document["error"].startswith(
        "ml-serving:endpoints[0].models[0].engine: azureml cannot tell 'triton' its port 8080; Azure ML passes"
        " no arguments"
    )


ENVIRONMENT = "azure-native:machinelearningservices:EnvironmentVersion"


def routes(document: dict[str, Any], endpoint: str) -> list[dict[str, Any]]:
    """The inference routes of each environment of `endpoint`'s component."""
    return [p["inferenceConfig"] for p in properties(document, endpoint, ENVIRONMENT)]


def test_probes_and_scoring_use_the_engines_own_routes() -> None:
    document = preview_of("azure-dev")
    (chat,) = routes(document, "chat")
    # vLLM's OpenAI server: GET /health, POST /v1/completions, on the port the entrypoint passes.
    assert chat["livenessRoute"] == chat["readinessRoute"] == {"path": "/health", "port": 8080}
    assert chat["scoringRoute"] == {"path": "/v1/completions", "port": 8080}
    (intent,) = routes(document, "intent")
    assert intent["readinessRoute"] == {"path": "/health", "port": 8080}
    assert intent["scoringRoute"] == {"path": "/embed", "port": 8080}  # TEI
