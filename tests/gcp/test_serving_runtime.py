"""What a Vertex AI container is told, on what the real program registers: vLLM reads its engine
settings only as arguments, so they reach it as `containerSpec.args` (a plain vLLM image ignores
SageMaker's SM_VLLM_* variables); TEI reads its own variables."""

from __future__ import annotations

from typing import Any

from infra.engine.stackfile import read_config
from infra.plan import build_plan
from infra.spec import load_spec
from tests.conftest import preview_of, run_program, with_keys
from tests.test_runtime import llm

DYNAMIC = "pulumi-python:dynamic:Resource"


def deployed(document: dict[str, Any], endpoint: str) -> list[dict[str, Any]]:
    """The model bodies the endpoint's deploy-and-traffic resource uploads and deploys."""
    (deployment,) = [r for r in document["resources"] if r["name"] == f"endpoint-{endpoint}-deployment"]
    return deployment["inputs"]["models"]


def flags(container: dict[str, Any]) -> dict[str, str]:
    args = container["args"]
    return dict(zip(args[::2], args[1::2], strict=True))


def test_an_8b_model_on_one_gpu_gets_its_degree_context_and_batch_as_arguments() -> None:
    (model,) = deployed(preview_of("gcp-dev"), "chat")
    container = model["model"]["containerSpec"]
    assert model["deployment"]["dedicatedResources"]["machineSpec"]["acceleratorCount"] == 1
    told = flags(container)
    assert told["--tensor-parallel-size"] == "1"
    assert told["--max-model-len"] == "4096"  # the stack's context_tokens
    assert int(told["--max-num-seqs"]) >= 8  # at least the stack's concurrency
    assert told["--dtype"] == "float16" and told["--port"] == "8080"
    assert container["ports"] == [{"containerPort": 8080}]
    assert container["env"] == []  # no variable a plain vLLM image would ignore


def test_a_70b_model_over_several_gpus_gets_its_degree_as_an_argument(tmp_path) -> None:
    ep = llm(70, context_tokens=8192, output_tokens=512, concurrency=4)
    config = with_keys(read_config("gcp-dev"), endpoints=[ep])
    (planned,) = build_plan(load_spec(config), "gcp-variant").endpoints
    degree = planned.layout.tensor_parallel
    assert degree > 1  # 130 GiB of fp16 weights fit no single GPU of the catalog's Vertex rows
    document = run_program(tmp_path, "gcp-variant", config)
    assert document["error"] is None
    (model,) = deployed(document, "chat")
    assert model["deployment"]["dedicatedResources"]["machineSpec"]["acceleratorCount"] == planned.gpus
    container = model["model"]["containerSpec"]
    told = flags(container)
    assert told["--tensor-parallel-size"] == str(degree)
    assert degree * planned.layout.copies_per_instance <= planned.gpus
    assert told.get("--data-parallel-size", "1") == str(planned.layout.copies_per_instance)
    assert told["--max-model-len"] == "8192"
    assert container["env"] == []


def test_an_encoder_gets_tei_variables_and_no_arguments() -> None:
    (model,) = deployed(preview_of("gcp-dev"), "intent")
    container = model["model"]["containerSpec"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert "args" not in container
    assert env["PORT"] == "8080" and env["DTYPE"] == "float16"
    assert int(env["MAX_BATCH_TOKENS"]) >= int(env["MAX_CONCURRENT_REQUESTS"]) > 0
    assert not any(name.startswith("SM_VLLM_") for name in env)


def test_vertex_probes_and_forwards_to_the_engines_own_routes() -> None:
    document = preview_of("gcp-dev")
    (chat,) = deployed(document, "chat")
    container = chat["model"]["containerSpec"]
    assert container["healthRoute"] == "/health" and container["predictRoute"] == "/v1/completions"  # vLLM
    (intent,) = deployed(document, "intent")
    container = intent["model"]["containerSpec"]
    assert container["healthRoute"] == "/health" and container["predictRoute"] == "/embed"  # TEI
    assert container["ports"] == [{"containerPort": 8080}]


def test_triton_which_has_no_single_predict_route_keeps_vertex_ais_own(tmp_path) -> None:
    ep = llm(8)
    ep["models"][0]["engine"] = "triton"
    document = run_program(tmp_path, "gcp-variant", with_keys(read_config("gcp-dev"), endpoints=[ep]))
    assert document["error"] is None
    (model,) = deployed(document, "chat")
    container = model["model"]["containerSpec"]
    # Triton's Vertex AI mode answers AIP_HEALTH_ROUTE and AIP_PREDICT_ROUTE, Vertex AI's defaults.
    assert "healthRoute" not in container and "predictRoute" not in container
    assert flags(container)["--http-port"] == "8080" and container["ports"] == [{"containerPort": 8080}]
