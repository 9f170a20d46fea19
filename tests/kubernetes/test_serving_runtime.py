"""What a model-server pod is told, on what the real program registers: Kubernetes passes container
arguments, so vLLM gets its engine flags as `args`; TEI reads its own variables; the pod asks for the
GPUs its tensor-parallel degree spans."""

from __future__ import annotations

from typing import Any

from infra.engine.stackfile import read_config
from infra.plan import build_plan
from infra.spec import load_spec
from tests.conftest import preview_of, run_program, with_keys
from tests.test_runtime import llm

ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"


def container(document: dict[str, Any], endpoint: str) -> dict[str, Any]:
    """The stable predictor's model-server container of `endpoint`'s InferenceService."""
    (isvc,) = [r for r in document["resources"] if r["type"] == ISVC and r["inputs"]["metadata"]["name"] == endpoint]
    return isvc["inputs"]["spec"]["predictor"]["containers"][0]


def flags(server: dict[str, Any]) -> dict[str, str]:
    args = server["args"]
    return dict(zip(args[::2], args[1::2], strict=True))


def test_an_8b_model_on_one_gpu_gets_its_engine_flags_as_arguments() -> None:
    server = container(preview_of("aws-prod"), "assist")
    told = flags(server)
    assert told["--model"] == "/mnt/models"  # where KServe's storage initializer puts the artifact
    assert told["--tensor-parallel-size"] == "1" and told["--max-model-len"] == "4096" and told["--port"] == "8080"
    assert server["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert not any(e["name"].startswith("SM_VLLM_") for e in server["env"])


def test_a_70b_model_over_several_gpus_gets_its_degree_and_those_gpus(tmp_path) -> None:
    ep = {**llm(70, context_tokens=8192, output_tokens=512, concurrency=4), "serving": "kubernetes"}
    config = with_keys(read_config("aws-dev"), endpoints=[ep])
    (planned,) = build_plan(load_spec(config), "aws-variant").endpoints
    degree = planned.layout.tensor_parallel
    assert degree > 1
    document = run_program(tmp_path, "aws-variant", config)
    assert document["error"] is None
    server = container(document, "chat")
    told = flags(server)
    assert told["--tensor-parallel-size"] == str(degree) and told["--max-model-len"] == "8192"
    assert "--data-parallel-size" not in told  # on Kubernetes each copy is a pod of its own
    assert server["resources"]["limits"]["nvidia.com/gpu"] == str(degree)


def test_an_encoder_gets_tei_variables_and_no_arguments() -> None:
    server = container(preview_of("aws-staging"), "embed")
    env = {e["name"]: e["value"] for e in server["env"]}
    assert server["args"] == []
    assert env["MODEL_ID"] == "/mnt/models" and env["PORT"] == "8080" and env["DTYPE"] == "float16"
    assert int(env["MAX_BATCH_TOKENS"]) >= int(env["MAX_CONCURRENT_REQUESTS"]) > 0


def test_probes_ask_the_engines_health_route_and_allow_the_planned_load_time() -> None:
    document = preview_of("aws-prod")
    server = container(document, "assist")
    (planned,) = [e for e in build_plan(load_spec(read_config("aws-prod")), "aws-prod").endpoints if e.name == "assist"]
    check = {"httpGet": {"path": "/health", "port": 8080}, "periodSeconds": 10}  # vLLM
    assert server["startupProbe"] == {**check, "failureThreshold": -(-planned.startup_timeout_s // 10)}
    assert server["readinessProbe"] == server["livenessProbe"] == {**check, "timeoutSeconds": 5, "failureThreshold": 3}


def test_a_triton_pod_is_probed_on_its_readiness_route(tmp_path) -> None:
    ep = {**llm(8), "serving": "kubernetes"}
    ep["models"][0]["engine"] = "triton"
    document = run_program(tmp_path, "aws-variant", with_keys(read_config("aws-dev"), endpoints=[ep]))
    assert document["error"] is None
    server = container(document, "chat")
    assert server["readinessProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": 8080}
    assert flags(server)["--http-port"] == "8080"
