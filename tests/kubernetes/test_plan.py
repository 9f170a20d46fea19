"""The plan's in-cluster serving decisions: canaries from the weights, pods from the layout, disks
from the weights, queue targets from the latency headroom, and the user errors they raise."""

from __future__ import annotations

import math
import re

import pytest

from infra import kubernetes_plan
from infra.catalog import load_catalog
from infra.engine.stackfile import read_config
from infra.errors import SpecError
from infra.facts import cloud_facts
from infra.plan import build_plan
from infra.sizing import formulas
from infra.spec import load_spec
from tests.conftest import endpoints, with_keys

DIGEST = "sha256:" + "0" * 64


def plan_of(config: dict[str, str]):
    return build_plan(load_spec(config), "test")


def kubernetes_endpoint(**changes) -> dict:
    endpoint = {
        "name": "big",
        "serving": "kubernetes",
        "models": [{"name": "m-v1", "image_tag": "vllm-big", "artifact": "big/v1/model.tar.gz"}],
        "sizing": {
            "profile": "auto",
            "requirements": {
                "peak_rps": 1,
                "p95_latency_ms": 60000,
                "params_billion": 405,
                "precision": "int8",
                "context_tokens": 4096,
                "output_tokens": 256,
                "concurrency": 4,
            },
        },
    }
    return endpoint | changes


def test_canaries_are_the_live_models_after_the_first_with_their_weights_and_fixed_pods() -> None:
    (serving,) = plan_of(read_config("aws-prod")).kubernetes
    assert serving.stable.name == "qwen25-7b-v1" and serving.stable.traffic_percent == 90
    assert [(c.name, c.traffic_percent, c.replicas) for c in serving.canaries] == [("qwen25-7b-v2", 10, 1)]
    assert serving.min_pods >= 2  # prod


def test_a_405b_model_gets_a_node_disk_that_holds_its_weights_not_a_fixed_200_gib(dev_config) -> None:
    plan = plan_of(with_keys(dev_config, endpoints=[kubernetes_endpoint()]))
    (serving,) = plan.kubernetes
    weights = 405e9 / 2**30  # int8: one byte per parameter
    assert serving.weights_gib == pytest.approx(weights, abs=0.1) and serving.weights_gib > 370
    assert serving.pod_storage_gib == math.ceil(
        weights * kubernetes_plan.WEIGHTS_PACKAGING + kubernetes_plan.POD_SCRATCH_GIB
    )
    assert serving.node_disk_gib == kubernetes_plan.NODE_RESERVE_GIB + serving.pods_per_node * serving.pod_storage_gib
    assert plan.cluster is not None and plan.cluster.gpu_pools[0].disk_gib == serving.node_disk_gib > 400


def test_a_model_that_cannot_fit_its_node_disk_is_a_plan_error_naming_the_key(dev_config, monkeypatch) -> None:
    # No catalog row has more GPU memory than its cloud's largest disk; a cloud with 300 GiB disks
    # (facts as data) shows the check that guards a future row.
    config = with_keys(dev_config, endpoints=[kubernetes_endpoint()])
    fitting = plan_of(config)
    (fits,) = fitting.kubernetes
    facts = {cloud: dict(values) for cloud, values in cloud_facts().items()}
    facts["aws"]["max_node_disk_gib"] = 300
    monkeypatch.setattr(kubernetes_plan, "cloud_facts", lambda: facts)
    with pytest.raises(SpecError) as error:
        plan_of(config)
    assert error.value.lines == [
        f"ml-serving:endpoints[0].sizing: 377 GiB of weights x {fits.pods_per_node} model copies per"
        f" {fitting.endpoints[0].instance_type} node need a"
        f" {fits.node_disk_gib} GiB node disk; aws node disks stop at 300 GiB (quantize, or use an instance"
        " type with fewer, larger GPUs)"
    ]


def test_without_requirements_the_weights_are_bounded_by_the_gpus_a_copy_runs_on(dev_config) -> None:
    endpoint = kubernetes_endpoint(sizing="small")
    (serving,) = plan_of(with_keys(dev_config, endpoints=[endpoint])).kubernetes
    assert 20 < serving.weights_gib <= 48  # one 24 GB-class GPU


def test_dev_keeps_one_pod_because_nothing_wakes_a_queue_depth_autoscaler_from_zero(dev_config) -> None:
    endpoint = kubernetes_endpoint(sizing="pilot")
    plan = plan_of(with_keys(dev_config, endpoints=[endpoint]))
    (serving,) = plan.kubernetes
    assert plan.endpoints[0].min_replicas == 1 and serving.min_pods == 1
    assert serving.floor_note is not None and "kserve/kserve #3514" in serving.floor_note
    assert plan.endpoints[0].cost.hourly_min > 0  # the kept node is counted
    (prod,) = plan_of(read_config("aws-prod")).kubernetes
    assert prod.floor_note is None


def test_the_queue_target_is_the_latency_headroom_in_waiting_requests(dev_config) -> None:
    tight = kubernetes_endpoint()
    (serving,) = plan_of(with_keys(dev_config, endpoints=[tight])).kubernetes
    layout = plan_of(with_keys(dev_config, endpoints=[tight])).endpoints[0].layout
    headroom = (60000 - layout.latency_ms) / layout.latency_ms
    assert serving.queue_per_pod == max(1, min(layout.max_num_seqs, math.floor(layout.max_num_seqs * headroom)))
    (untargeted,) = plan_of(with_keys(dev_config, endpoints=[kubernetes_endpoint(sizing="pilot")])).kubernetes
    assert untargeted.queue_per_pod == kubernetes_plan.MIN_QUEUE_PER_POD


def test_pods_request_their_share_of_the_node_and_a_tensor_parallel_degree_of_gpus(dev_config) -> None:
    spec = load_spec(with_keys(dev_config, endpoints=[kubernetes_endpoint()]))
    plan = build_plan(spec, "test")
    (serving,) = plan.kubernetes
    endpoint = plan.endpoints[0]
    assert serving.gpus_per_pod == endpoint.layout.tensor_parallel
    assert serving.gpus_per_pod * serving.pods_per_node <= endpoint.gpus
    requirements = spec.endpoints[0].sizing.requirements
    assert requirements is not None
    assert serving.weights_gib == pytest.approx(formulas.weights_gib(requirements), abs=0.1)


def test_a_shadow_on_kubernetes_is_a_spec_error_naming_the_key(dev_config) -> None:
    eps = endpoints(dev_config)
    eps[1] = {**eps[1], "serving": "kubernetes"}
    eps[1]["models"] = [*eps[1]["models"], {**eps[1]["models"][0], "name": "shadowed", "shadow": True, "weight": 20}]
    with pytest.raises(SpecError) as error:
        load_spec(with_keys(dev_config, endpoints=eps))
    assert any(
        line.startswith("ml-serving:endpoints[1].models: a shadow model needs request mirroring")
        for line in error.value.lines
    )


def test_staging_and_prod_kubernetes_models_need_a_digest_and_managed_ones_take_none(dev_config) -> None:
    config = with_keys(dev_config, environment="staging", endpoints=[kubernetes_endpoint(sizing="pilot")])
    with pytest.raises(SpecError) as error:
        load_spec(config)
    assert error.value.lines == [
        "ml-serving:endpoints[0].models[0].digest: staging runs Kubernetes models by digest;"
        " give digest: sha256:<64 hex> of the image"
    ]
    pinned = kubernetes_endpoint(sizing="pilot")
    pinned["models"] = [{**pinned["models"][0], "digest": DIGEST}]
    load_spec(with_keys(config, endpoints=[pinned]))
    managed = endpoints(dev_config)
    managed[0]["models"][0]["digest"] = DIGEST
    with pytest.raises(SpecError) as error:
        load_spec(with_keys(dev_config, endpoints=managed))
    assert error.value.lines[0].startswith(
        "ml-serving:endpoints[0].models[0].digest: pins an image on serving: kubernetes"
    )


def test_the_longest_names_get_kserve_names_that_fit_and_short_ones_read_as_the_spec(dev_config) -> None:
    """KServe's `{inference_service}-{predictor}-predictor` Service fits 63 characters for any spec name."""
    endpoint = kubernetes_endpoint(name="e" * 32, sizing="pilot")
    endpoint["models"] = [{**endpoint["models"][0], "name": "m" * 32}]
    (serving,) = plan_of(with_keys(dev_config, endpoints=[endpoint])).kubernetes
    service = f"{serving.inference_service}-{serving.stable.predictor}-predictor"
    assert len(service) <= 63 and re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", service), service
    assert serving.inference_service.startswith("e" * 10) and serving.stable.predictor.startswith("m" * 10)
    assert len(serving.namespace) <= 63
    (short,) = plan_of(with_keys(dev_config, endpoints=[kubernetes_endpoint(sizing="pilot")])).kubernetes
    assert (short.namespace, short.service_account) == (f"serve-{short.endpoint}", f"{short.endpoint}-server")
    assert (short.inference_service, short.stable.predictor) == (short.endpoint, short.stable.model.name)


def test_an_engine_without_a_queue_gauge_cannot_serve_on_kubernetes(dev_config) -> None:
    endpoint = kubernetes_endpoint(sizing="pilot")
    endpoint["models"] = [{**endpoint["models"][0], "engine": "custom"}]
    with pytest.raises(SpecError) as error:
        plan_of(with_keys(dev_config, endpoints=[endpoint]))
    assert error.value.lines == [
        "ml-serving:endpoints[0].models[0].engine: 'custom' exports no queue gauge for the autoscaler;"
        " on Kubernetes use one of vllm, tgi, tei, triton"
    ]


@pytest.mark.parametrize("stack", ["aws-prod", "gcp-prod", "azure-prod", "aws-staging"])
def test_the_gpu_pool_holds_every_canary_pod_beside_the_stable_maximum(stack: str) -> None:
    # A canary's pods are fixed and KServe sends it traffic only once they are ready: a pool sized
    # for the stable version alone would leave them pending and the canary without traffic.
    plan = plan_of(read_config(stack))
    assert plan.cluster is not None and plan.kubernetes
    pools = {p.endpoint: p for p in plan.cluster.gpu_pools}
    for serving in plan.kubernetes:
        pool = pools[serving.endpoint]
        canary_pods = sum(c.replicas for c in serving.canaries)
        assert pool.max_nodes * serving.pods_per_node >= serving.max_pods + canary_pods, serving.endpoint
        assert pool.min_nodes * serving.pods_per_node >= serving.min_pods + canary_pods, serving.endpoint
        # The endpoint's cost is the pool's nodes at the row's rate, canary nodes included.
        (planned,) = [e for e in plan.endpoints if e.name == serving.endpoint]
        row = load_catalog().find(plan.cloud, planned.instance_type, "kubernetes")
        assert row is not None and (rate := row.price(planned.capacity)) is not None
        assert planned.cost.hourly_max == pytest.approx(rate * pool.max_nodes)
        assert planned.cost.hourly_min == pytest.approx(rate * pool.min_nodes)
    assert any(serving.canaries for serving in plan.kubernetes) or stack == "aws-staging"
