"""Cloud facts the plan checks rather than assumes: node images follow the CPU architecture, the
registry keeps every image in use, and model-load timeouts follow the weights within the API's
bounds (plain pytest on the spec and plan)."""

from __future__ import annotations

from typing import Any

import pytest

from infra import facts
from infra.errors import SpecError
from infra.plan import Plan, build_plan
from infra.spec import load_spec
from tests.aws.test_api_model import model
from tests.conftest import endpoints, with_keys


def plan_of(config: dict[str, str]) -> Plan:
    return build_plan(load_spec(config), "test")


def lines_of(config: dict[str, str]) -> list[str]:
    with pytest.raises(SpecError) as caught:
        plan_of(config)
    return caught.value.lines


@pytest.mark.parametrize(
    ("instance_type", "image"),
    [
        ("t4g.medium", "AL2023_ARM_64_STANDARD"),
        ("m7g.large", "AL2023_ARM_64_STANDARD"),
        ("c7gn.xlarge", "AL2023_ARM_64_STANDARD"),
        ("m7i.large", "AL2023_x86_64_STANDARD"),
        ("c6i.large", "AL2023_x86_64_STANDARD"),
    ],
)
def test_the_system_pool_gets_the_ami_of_its_architecture(dev_config, instance_type: str, image: str) -> None:
    config = with_keys(dev_config, cluster={"system_pool": {"instance_type": instance_type}})
    cluster = plan_of(config).cluster
    assert cluster is not None and cluster.system_pool.node_image == image
    assert cluster.system_pool.architecture == ("arm64" if "ARM" in image else "x86_64")


def test_every_node_image_is_an_ami_type_eks_accepts() -> None:
    ami_types = set(model("eks").shape_for("AMITypes").enum)
    images = facts.cloud_facts()["aws"]["node_images"]
    assert {image for row in images.values() for image in row.values()} <= ami_types


def test_gpu_pools_keep_the_nvidia_ami(dev_config) -> None:
    eps = endpoints(dev_config)
    eps.append({**eps[0], "name": "chat-k8s", "serving": "kubernetes"})
    cluster = plan_of(with_keys(dev_config, endpoints=eps)).cluster
    assert cluster is not None
    (pool,) = cluster.gpu_pools
    assert (pool.architecture, pool.node_image) == ("x86_64", "AL2023_x86_64_NVIDIA")


def test_a_type_with_no_image_for_its_architecture_and_accelerator_is_one_line(monkeypatch, dev_config) -> None:
    # No Arm instance carries Inferentia, so AWS has no Arm Neuron AMI: a pool that needed one
    # (here an Inferentia type the facts call Arm) must be refused, naming the key.
    aws = dict(facts.cloud_facts()["aws"], arm64_instance_pattern=r"^(inf2|m7g)\.")
    monkeypatch.setitem(facts.cloud_facts(), "aws", aws)
    eps = [
        {
            "name": "neuron",
            "serving": "kubernetes",
            "models": [{"name": "m1", "image_tag": "v1", "artifact": "m/model.tar.gz"}],
            "sizing": {
                "profile": "auto",
                "requirements": {
                    "peak_rps": 1,
                    "p95_latency_ms": 60000,
                    "params_billion": 8,
                    "neuron": True,
                    "arm64": True,  # sizing places it; the plan must still find a node image
                },
            },
        }
    ]
    (line,) = lines_of(with_keys(dev_config, endpoints=eps))
    assert line.startswith("ml-serving:endpoints[0].sizing: 'inf2.")
    assert "is arm64 neuron; aws has no Kubernetes node image for that pair" in line


def test_keep_images_below_the_images_in_use_is_one_line_naming_the_key(dev_config) -> None:
    eps = endpoints(dev_config)
    eps[0]["models"].append({**eps[0]["models"][0], "name": "v2", "image_tag": "chat-v2", "weight": 50})
    eps[0]["models"][0]["weight"] = 50
    config = with_keys(dev_config, registry={"keep_images": 2}, endpoints=eps)
    (line,) = lines_of(config)
    assert line == (
        "ml-serving:registry.keep_images: 2 is below the 3 images this stack serves"
        " (chat-v2, tei-1.5-intent-v3, vllm-0.6.3-llama3-8b); the lifecycle would expire images in use;"
        " expected 3 or more"
    )
    assert plan_of(with_keys(config, registry={"keep_images": 3})).served_image_tags == (
        "chat-v2",
        "tei-1.5-intent-v3",
        "vllm-0.6.3-llama3-8b",
    )


def large(params: float, precision: str = "fp16") -> dict[str, Any]:
    """A managed endpoint of `params` billion; whole requests within 30 s, the most SageMaker
    real-time allows (their 60 s timeout)."""
    requirements = {"peak_rps": 1, "p95_latency_ms": 30000, "params_billion": params, "precision": precision}
    return {
        "name": "big",
        "models": [{"name": "m1", "image_tag": "v1", "artifact": "m/model.tar.gz"}],
        "sizing": {"profile": "auto", "requirements": requirements},
    }


def test_load_timeouts_grow_with_the_weights_within_the_apis_bounds(dev_config) -> None:
    bounds = model("sagemaker").shape_for("ProductionVariant").members
    low = bounds["ModelDataDownloadTimeoutInSeconds"].metadata["min"]
    high = bounds["ModelDataDownloadTimeoutInSeconds"].metadata["max"]
    small = plan_of(with_keys(dev_config, endpoints=[large(8)])).endpoints[0]
    big = plan_of(with_keys(dev_config, endpoints=[large(70)])).endpoints[0]
    assert low <= small.download_timeout_s < big.download_timeout_s <= high
    assert low <= small.startup_timeout_s < big.startup_timeout_s <= high
    # 70B at fp16 is 130 GiB: over 20 minutes to fetch and unpack at 100 MiB/s.
    assert big.download_timeout_s >= 130 * 1024 // 100
    huge = plan_of(with_keys(dev_config, endpoints=[large(400, "int8")]))  # 372 GiB: beyond the bound, clamped
    assert huge.endpoints[0].download_timeout_s == high
