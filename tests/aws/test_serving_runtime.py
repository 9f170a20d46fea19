"""The AWS traps, on what the real program registers: the container is told what sizing decided,
large models get time to load, names fit any stack name, facts are checked, the registry keeps
images in use, and an instance-type change is one `pulumi up`."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from infra.clouds.aws.registry import lifecycle_rules
from infra.clouds.aws.rescale import DIMENSION, NAMESPACE, deregister_changing_variants
from infra.engine.stackfile import read_config
from infra.plan import build_plan
from infra.spec import load_spec
from tests.aws.test_api_model import ADAPTERS, adapt, api_problems, documented_problems
from tests.conftest import endpoints, preview_of, run_program, with_keys
from tests.test_runtime import llm

MODEL = "aws:sagemaker/model:Model"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"


def of_type(document: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [r for r in document["resources"] if r["type"] == resource_type]


def run(tmp_path, *eps: dict[str, Any], stack: str = "aws-variant", **keys: Any) -> dict[str, Any]:
    config = with_keys(read_config("aws-dev"), endpoints=list(eps), **keys)
    return run_program(tmp_path, stack, config)


def environment(document: dict[str, Any]) -> dict[str, str]:
    (model,) = of_type(document, MODEL)
    return model["inputs"]["primaryContainer"]["environment"]


def test_an_8b_model_on_one_gpu_is_told_its_degree_context_and_batch() -> None:
    document = preview_of("aws-dev")
    (model,) = [m for m in of_type(document, MODEL) if "chat" in m["name"]]
    env = model["inputs"]["primaryContainer"]["environment"]
    assert env["SM_VLLM_TENSOR_PARALLEL_SIZE"] == "1"
    assert env["SM_VLLM_MAX_MODEL_LEN"] == "4096"  # the stack's context_tokens
    assert env["SM_VLLM_DTYPE"] == "float16" and env["SM_VLLM_MODEL"] == "/opt/ml/model"
    assert int(env["SM_VLLM_MAX_NUM_SEQS"]) >= 8  # at least the stack's concurrency


def test_a_70b_model_over_several_gpus_is_told_its_degree(tmp_path) -> None:
    ep = llm(70, context_tokens=8192, output_tokens=512, concurrency=4)
    (planned,) = build_plan(load_spec(with_keys(read_config("aws-dev"), endpoints=[ep])), "aws-variant").endpoints
    layout = planned.layout
    assert layout.tensor_parallel > 1  # 130 GiB of fp16 weights fit no single GPU
    document = run(tmp_path, ep)
    (config,) = of_type(document, CONFIG)
    assert config["inputs"]["productionVariants"][0]["instanceType"] == planned.instance_type
    env = environment(document)
    assert env["SM_VLLM_TENSOR_PARALLEL_SIZE"] == str(layout.tensor_parallel)
    # Several copies on one instance run in the one server (vLLM data parallelism); one is the default.
    assert env.get("SM_VLLM_DATA_PARALLEL_SIZE", "1") == str(layout.copies_per_instance)
    assert layout.tensor_parallel * layout.copies_per_instance <= planned.gpus
    assert env["SM_VLLM_MAX_MODEL_LEN"] == "8192"


def test_an_encoder_gets_tei_settings_and_no_llm_ones() -> None:
    document = preview_of("aws-prod")
    for model in [m for m in of_type(document, MODEL) if "intent" in m["name"]]:
        env = model["inputs"]["primaryContainer"]["environment"]
        assert env["HF_MODEL_ID"] == "/opt/ml/model" and env["DTYPE"] == "float16"
        assert int(env["MAX_BATCH_TOKENS"]) == int(env["MAX_CONCURRENT_REQUESTS"]) * 256  # context_tokens 256
        assert not any(k.startswith("SM_VLLM_") for k in env)
        assert "PORT" not in env  # the SageMaker TEI entrypoint runs the router on 8080 itself


def test_a_large_model_gets_time_to_download_and_start_within_the_apis_bounds(tmp_path) -> None:
    large = run(tmp_path, llm(70, context_tokens=8192, output_tokens=512, concurrency=4))
    small = preview_of("aws-dev")
    (config,) = of_type(large, CONFIG)
    (variant,) = config["inputs"]["productionVariants"]
    small_variant = next(c for c in of_type(small, CONFIG) if "chat" in c["name"])["inputs"]["productionVariants"][0]
    # 70B at fp16: 130 GiB to fetch and unpack, then to load onto the GPUs.
    assert 1300 <= variant["modelDataDownloadTimeoutInSeconds"] <= 3600
    assert 560 <= variant["containerStartupHealthCheckTimeoutInSeconds"] <= 3600
    assert small_variant["modelDataDownloadTimeoutInSeconds"] < variant["modelDataDownloadTimeoutInSeconds"]
    requests = [(config["name"], r) for r in adapt(config)]
    assert api_problems(requests) == []  # the botocore model's 60..3600


@pytest.mark.parametrize(
    "stack",
    [
        "aws_bug05",  # `_`: SageMaker and S3 refuse it
        "aws-recommendations-platform-eu-prod",  # a 67-character endpoint name before
        "AWS.Recommendations_Platform.EU-prod-" + "x" * 62,  # upper case, `.` and `_`, 100 characters
    ],
)
def test_every_name_the_program_derives_fits_the_api_for_any_stack_name(tmp_path, stack: str) -> None:
    eps = endpoints(read_config("aws-staging"))
    eps[0]["name"] = "conversational-assistant-large"
    eps[0]["models"][0]["name"] = "llama3-70b-instruct-2024-v1"
    document = run_program(tmp_path, stack, with_keys(read_config("aws-staging"), endpoints=eps))
    assert document["error"] is None
    requests = []
    for resource in document["resources"]:
        if resource["custom"] and resource["type"] in ADAPTERS:
            requests += [(resource["name"], r) for r in adapt(resource)]
    assert len(requests) > 50
    assert api_problems(requests) == []
    assert documented_problems(requests) == []


def test_min_replicas_zero_on_a_managed_endpoint_is_one_line_naming_the_key(tmp_path) -> None:
    document = run(tmp_path, {**llm(8), "autoscaling": {"min_replicas": 0}})
    assert document["resources"] == []
    assert document["error"] == (
        "ml-serving:endpoints[0].autoscaling.min_replicas: 0 is not possible on aws managed endpoints,"
        " which keep at least one instance running; expected 1 or more"
    )


def test_a_graviton_system_pool_boots_the_arm64_ami(tmp_path) -> None:
    document = run(tmp_path, llm(8), cluster={"system_pool": {"instance_type": "t4g.medium"}})
    (group,) = of_type(document, "aws:eks/nodeGroup:NodeGroup")
    assert group["inputs"]["instanceTypes"] == ["t4g.medium"]
    assert group["inputs"]["amiType"] == "AL2023_ARM_64_STANDARD"


def test_keep_images_below_the_images_in_use_registers_nothing(tmp_path) -> None:
    ep = llm(8)
    first = {**ep["models"][0], "weight": 50}
    ep["models"] = [first, {**first, "name": "m2", "image_tag": "v2"}]
    document = run(tmp_path, ep, registry={"keep_images": 1})
    assert document["resources"] == []
    assert document["error"].startswith("ml-serving:registry.keep_images: 1 is below the 2 images this stack serves")


def test_the_lifecycle_never_expires_an_image_the_stack_serves() -> None:
    (policy,) = of_type(preview_of("aws-prod"), "aws:ecr/lifecyclePolicy:LifecyclePolicy")
    rules = sorted(json.loads(policy["inputs"]["policy"])["rules"], key=lambda r: r["rulePriority"])
    served = ["tei-1.5-intent-v3", "tei-1.5-intent-v4", "vllm-0.6.3-llama3-8b", "vllm-0.6.3-llama3-8b-dpo"]
    protecting = rules[: len(served)]
    assert [r["selection"]["tagPatternList"] for r in protecting] == [[tag] for tag in served]
    # An immutable tag matches one image: more than one never happens, so nothing here expires.
    assert all(r["selection"]["countNumber"] == 1 for r in protecting)
    assert rules[-1]["selection"]["tagStatus"] == "any"  # ECR: the `any` rule must come last
    assert [r["rulePriority"] for r in rules] == list(range(1, len(rules) + 1))


def test_one_rule_per_tag_because_patterns_in_one_rule_must_all_match() -> None:
    rules = lifecycle_rules(("a", "b"), 5)
    assert [r["selection"].get("tagPatternList") for r in rules] == [["a"], ["b"], None, None]
    assert rules[-1]["selection"]["countNumber"] == 5


def test_scaling_is_replaced_with_the_instance_type_after_the_endpoint_and_deregistered_before_it() -> None:
    document = preview_of("aws-staging")
    (endpoint,) = [e for e in of_type(document, ENDPOINT) if e["inputs"]["name"] == "aws-staging-chat"]
    (config,) = [c for c in of_type(document, CONFIG) if c["urn"] in endpoint["dependencies"]]
    instance_type = config["inputs"]["productionVariants"][0]["instanceType"]
    assert endpoint["hooks"]["beforeUpdate"] == ["endpoint-chat-deregister-scaling"]
    targets = [t for t in of_type(document, TARGET) if "aws-staging-chat/" in t["inputs"]["resourceId"]]
    policies = [p for p in of_type(document, POLICY) if "aws-staging-chat/" in p["inputs"]["resourceId"]]
    assert len(targets) == len(policies) == 2
    for resource in (*targets, *policies):
        # A new instance type replaces them, the old deleted first: SageMaker has updated the
        # endpoint by then (the targets depend on it), and they register against the new fleet.
        assert resource["replacementTrigger"] == instance_type
        assert resource["deleteBeforeReplace"] is True
    for target in targets:
        assert endpoint["urn"] in target["dependencies"]


def stubbed(service: str) -> tuple[Any, Stubber]:
    client = botocore.session.get_session().create_client(
        service, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    return client, Stubber(client)


def test_the_hook_deregisters_only_the_variants_whose_instance_type_changes() -> None:
    sagemaker, sm = stubbed("sagemaker")
    scaling, aas = stubbed("application-autoscaling")
    sm.add_response(
        "describe_endpoint",
        {
            "EndpointName": "aws-prod-chat",
            "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/aws-prod-chat",
            "EndpointConfigName": "aws-prod-chat-0a1b2c3",
            "EndpointStatus": "InService",
            "CreationTime": "2026-11-30T00:00:00Z",
            "LastModifiedTime": "2026-11-30T00:00:00Z",
        },
        {"EndpointName": "aws-prod-chat"},
    )
    sm.add_response(
        "describe_endpoint_config",
        {
            "EndpointConfigName": "aws-prod-chat-0a1b2c3",
            "EndpointConfigArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/aws-prod-chat-0a1b2c3",
            "ProductionVariants": [
                {"VariantName": "live-1", "ModelName": "m1", "InstanceType": "ml.g6e.xlarge"},
                {"VariantName": "live-2", "ModelName": "m2", "InstanceType": "ml.g6e.12xlarge"},
            ],
            "CreationTime": "2026-11-30T00:00:00Z",
        },
        {"EndpointConfigName": "aws-prod-chat-0a1b2c3"},
    )
    changing = "endpoint/aws-prod-chat/variant/live-1"
    aas.add_response(
        "describe_scalable_targets",
        {
            "ScalableTargets": [
                {
                    "ServiceNamespace": NAMESPACE,
                    "ResourceId": changing,
                    "ScalableDimension": DIMENSION,
                    "MinCapacity": 2,
                    "MaxCapacity": 4,
                    "RoleARN": "arn:aws:iam::123456789012:role/aws-service-role/x",
                    "CreationTime": "2026-11-30T00:00:00Z",
                }
            ]
        },
        {"ServiceNamespace": NAMESPACE, "ResourceIds": [changing]},
    )
    aas.add_response(
        "deregister_scalable_target",
        {},
        {"ServiceNamespace": NAMESPACE, "ResourceId": changing, "ScalableDimension": DIMENSION},
    )
    clients = {"sagemaker": sagemaker, "application-autoscaling": scaling}
    with sm, aas:
        done = deregister_changing_variants(
            "aws-prod-chat", {"live-1": "ml.g6e.12xlarge", "live-2": "ml.g6e.12xlarge"}, clients.__getitem__
        )
    assert done == [changing]
    sm.assert_no_pending_responses()
    aas.assert_no_pending_responses()


def test_the_hook_does_nothing_when_no_type_changes_or_the_endpoint_is_new() -> None:
    sagemaker, sm = stubbed("sagemaker")
    sm.add_client_error("describe_endpoint", "ValidationException", "Could not find endpoint")
    with sm:
        assert deregister_changing_variants("new", {"live-1": "ml.g6e.xlarge"}, lambda _: sagemaker) == []
    sagemaker, sm = stubbed("sagemaker")
    sm.add_response(
        "describe_endpoint",
        {
            "EndpointName": "e",
            "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/e",
            "EndpointConfigName": "c",
            "EndpointStatus": "InService",
            "CreationTime": "2026-11-30T00:00:00Z",
            "LastModifiedTime": "2026-11-30T00:00:00Z",
        },
    )
    sm.add_response(
        "describe_endpoint_config",
        {
            "EndpointConfigName": "c",
            "EndpointConfigArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/c",
            "ProductionVariants": [{"VariantName": "live-1", "ModelName": "m1", "InstanceType": "ml.g6e.xlarge"}],
            "CreationTime": "2026-11-30T00:00:00Z",
        },
    )
    with sm:
        # Only SageMaker is asked: no scaling client is ever made.
        only_sagemaker = {"sagemaker": sagemaker}.__getitem__
        assert deregister_changing_variants("e", {"live-1": "ml.g6e.xlarge"}, only_sagemaker) == []
