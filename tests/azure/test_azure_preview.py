"""The Azure translator through the offline engine: what the real program registers for each shipped
stack, checked against the stack's plan (keys, registry, store, workspace, endpoints, traffic, AKS)."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest

from infra.engine.mockrun import UNKNOWN
from infra.engine.stackfile import read_config
from infra.errors import SpecError
from infra.plan import Plan, build_plan
from infra.runtime import engine_config
from infra.spec import load_spec
from infra.spec.cloud_rules import kubernetes_versions
from tests.conftest import endpoints, preview_of, run_program, with_keys
from tests.kubernetes.test_plan import kubernetes_endpoint

AZURE_STACKS = ["azure-dev", "azure-staging", "azure-prod"]
ML = "azure-native:machinelearningservices"
DEPLOYMENT = f"{ML}:OnlineDeployment"
ONLINE_ENDPOINT = f"{ML}:OnlineEndpoint"
TRAFFIC = "pulumi-python:dynamic:Resource"
ALERT = "azure-native:monitor:MetricAlert"
AUTOSCALE = "azure-native:monitor:AutoscaleSetting"
SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")
# Maps whose keys are data (names, variables), not API members.
DATA_MAPS = {"tags", "environmentVariables", "nodeLabels", "config", "split", "mirror", "__provider"}


@cache
def plan_of(stack: str) -> Plan:
    return build_plan(load_spec(read_config(stack)), stack)


def of_type(stack: str, resource_type: str) -> list[dict[str, Any]]:
    return of_type_in(preview_of(stack), resource_type)


def of_type_in(document: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [r for r in document["resources"] if r["type"] == resource_type]


def children(stack: str, parent_name: str, resource_type: str) -> list[dict[str, Any]]:
    (parent,) = [r for r in preview_of(stack)["resources"] if r["name"] == parent_name and not r["custom"]]
    return [r for r in of_type(stack, resource_type) if r["parent"] == parent["urn"]]


@pytest.mark.parametrize("stack", AZURE_STACKS)
def test_the_stack_previews_with_no_policy_violation_at_all(stack: str) -> None:
    document = preview_of(stack)
    assert document["error"] is None
    assert document["violations"] == []


@pytest.mark.parametrize("stack", AZURE_STACKS)
def test_every_concept_is_one_component_of_its_own_type(stack: str) -> None:
    components = {r["type"] for r in preview_of(stack)["resources"] if not r["custom"]}
    expected = {"Keys", "Registry", "Network", "ModelStore", "Observability", "Workspace", "ManagedEndpoint"}
    assert {f"ml-serving:azure:{c}" for c in expected} <= components
    assert ("ml-serving:azure:Cluster" in components) == (plan_of(stack).cluster is not None)


def keys_in(value: Any, path: str = "") -> list[str]:
    """Every mapping key under `value` outside data maps, with its path."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.append(f"{path}.{key}")
            if key not in DATA_MAPS:
                found += keys_in(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += keys_in(item, f"{path}[{i}]")
    return found


@pytest.mark.parametrize("stack", AZURE_STACKS)
def test_every_registered_input_is_camel_case_as_the_api_takes_it(stack: str) -> None:
    """A union-typed body passed as a plain dict would reach the engine in snake_case."""
    snake = [
        f"{r['name']}{path}"
        for r in preview_of(stack)["resources"]
        if r["type"].startswith("azure-native:") or r["type"] == TRAFFIC
        for path in keys_in(r["inputs"])
        if SNAKE.match(path.rsplit(".", 1)[-1])
    ]
    assert snake == []
    deployment = of_type(stack, DEPLOYMENT)[0]["inputs"]["properties"]
    assert {"endpointComputeType", "instanceType", "requestSettings", "livenessProbe", "readinessProbe"} <= set(
        deployment
    )


@pytest.mark.parametrize("stack", AZURE_STACKS)
def test_one_deployment_per_model_version_sized_by_the_plan(stack: str) -> None:
    for endpoint in [e for e in plan_of(stack).endpoints if e.serving == "managed"]:
        component = f"endpoint-{endpoint.name}"
        names = plan_of(stack).names
        deployments = {d["inputs"]["deploymentName"]: d["inputs"] for d in children(stack, component, DEPLOYMENT)}
        assert sorted(deployments) == sorted(names("ml_online_deployment", m.name) for m in endpoint.models)
        for model in endpoint.models:
            inputs = deployments[names("ml_online_deployment", model.name)]
            props = inputs["properties"]
            assert props["instanceType"] == endpoint.instance_type
            assert inputs["sku"]["capacity"] == endpoint.initial_replicas
            assert props["scaleSettings"] == {"scaleType": "Default"}
            assert props["appInsightsEnabled"] is True
            # Azure ML's 5 s default answers long generations with HTTP 408.
            timeout = int(props["requestSettings"]["requestTimeout"][2:-1])
            assert timeout == endpoint.request_timeout_seconds
            assert endpoint.latency_alarm_ms / 1000 < timeout <= 180  # the most Azure ML takes
            assert props["livenessProbe"]["initialDelay"] == f"PT{endpoint.startup_timeout_s}S"
            assert props["environmentVariables"] == engine_config(model.runtime, endpoint.platform).env
            assert ("dataCollector" in props) == plan_of(stack).data_capture
        scaling = {a["name"]: a["inputs"]["profiles"][0]["capacity"] for a in children(stack, component, AUTOSCALE)}
        assert scaling == {
            f"{component}-{m.name}-autoscale": {
                "minimum": str(endpoint.min_replicas),
                "maximum": str(m.max_replicas),
                "default": str(endpoint.initial_replicas),
            }
            for m in endpoint.models
        }


@pytest.mark.parametrize("stack", AZURE_STACKS)
def test_traffic_is_its_own_step_after_every_deployment_and_alert(stack: str) -> None:
    for endpoint in [e for e in plan_of(stack).endpoints if e.serving == "managed"]:
        component = f"endpoint-{endpoint.name}"
        (online,) = children(stack, component, ONLINE_ENDPOINT)
        assert "traffic" not in online["inputs"]["properties"]
        assert "mirrorTraffic" not in online["inputs"]["properties"]
        (traffic,) = children(stack, component, TRAFFIC)
        dependencies = set(traffic["dependencies"])
        for resource_type in (DEPLOYMENT, ALERT):
            expected = {r["urn"] for r in children(stack, component, resource_type)}
            assert expected and expected <= dependencies
        inputs = traffic["inputs"]
        deployment = {m.name: plan_of(stack).names("ml_online_deployment", m.name) for m in endpoint.models}
        assert inputs["split"] == {deployment[m.name]: m.weight for m in endpoint.models if not m.shadow}
        assert inputs["mirror"] == {deployment[m.name]: m.weight for m in endpoint.models if m.shadow}
        assert inputs["strategy"] == endpoint.rollout.strategy
        assert inputs["waitSeconds"] == endpoint.rollout.wait_seconds
        assert len(inputs["alertIds"]) == 2


@pytest.mark.parametrize("stack", AZURE_STACKS)
def test_stateful_resources_are_protected_in_prod_only(stack: str) -> None:
    protect = plan_of(stack).protect
    for resource_type in (
        "azure-native:keyvault:Vault",
        "azure-native:keyvault:Key",
        "azure-native:containerregistry:Registry",
        "azure-native:storage:StorageAccount",
        f"{ML}:Workspace",
        "azure-native:resources:ResourceGroup",
    ):
        (resource,) = of_type(stack, resource_type)
        assert resource["protect"] is resource["retainOnDelete"] is protect, resource_type


def test_aks_is_private_entra_only_with_kms_and_gpu_pools_from_sizing() -> None:
    stack = "azure-staging"
    (cluster,) = of_type(stack, "azure-native:containerservice:ManagedCluster")
    inputs = cluster["inputs"]
    assert inputs["apiServerAccessProfile"]["enablePrivateCluster"] is True
    assert inputs["disableLocalAccounts"] is True and inputs["aadProfile"]["enableAzureRBAC"] is True
    assert inputs["securityProfile"]["workloadIdentity"] == {"enabled": True}
    assert inputs["oidcIssuerProfile"] == {"enabled": True}
    assert inputs["securityProfile"]["azureKeyVaultKms"]["keyVaultNetworkAccess"] == "Private"
    assert inputs["networkProfile"]["networkPolicy"] == "cilium"
    # The environment's channel from facts.yaml, through the plan: patch releases of the stated minor only.
    assert inputs["autoUpgradeProfile"]["upgradeChannel"] == plan_of(stack).cluster.upgrade_channel == "patch"
    pools = of_type(stack, "azure-native:containerservice:AgentPool")
    plan = plan_of(stack)
    assert plan.cluster is not None
    assert len(pools) == len(plan.cluster.gpu_pools)
    for pool, sized in zip(pools, plan.cluster.gpu_pools, strict=True):
        assert pool["inputs"]["vmSize"] == sized.instance_type
        assert pool["inputs"]["nodeTaints"] == ["nvidia.com/gpu=true:NoSchedule"]
        assert pool["inputs"]["osDiskSizeGB"] == sized.disk_gib
        assert pool["inputs"]["nodeLabels"]["ml-serving/accelerator"] == "nvidia"
        assert (pool["inputs"]["minCount"], pool["inputs"]["maxCount"]) == (sized.min_nodes, sized.max_nodes)
        assert pool["inputs"]["scaleSetPriority"] == ("Spot" if sized.capacity == "spot" else "Regular")
        assert ("scaleSetEvictionPolicy" in pool["inputs"]) == (sized.capacity == "spot")
    outputs = preview_of(stack)["outputs"]
    assert outputs["cluster_name"] == plan.names("aks_cluster", "aks")
    assert outputs["cluster"] == UNKNOWN or set(outputs["cluster"]) >= {"oidc_issuer_url", "api_server_fqdn"}


def test_a_mirror_above_azures_cap_is_a_spec_error() -> None:
    config = read_config("azure-prod")
    eps = endpoints(config)
    eps[1]["models"][1]["weight"] = 60
    with pytest.raises(SpecError) as caught:
        load_spec(with_keys(config, endpoints=eps))
    assert (
        "ml-serving:endpoints[1].models[1].weight: a shadow copy of 60% of requests is above azure's mirror cap of 50%"
        in str(caught.value)
    )


def test_a_stack_without_its_subscription_fails_with_one_line() -> None:
    from infra.engine.mockrun import run_config

    config = with_keys(read_config("azure-dev"))
    config.pop("azure-native:subscriptionId")
    result = run_config("azure-dev", config)
    assert result["error"] == (
        "azure-native:subscriptionId: missing; expected the subscription id, a GUID;"
        " set it with `pulumi config set azure-native:subscriptionId <guid>`"
    )
    assert result["resources"] == []


def test_outputs_name_endpoints_and_their_split() -> None:
    outputs = preview_of("azure-prod")["outputs"]
    assert set(outputs["endpoints"]) == {"chat", "intent"}
    assert outputs["traffic"]["intent"] == {
        "split": {"azure-prod-deberta-intent-v3": 100},
        "mirror": {"azure-prod-deberta-intent-v4": 20},
    }
    assert json.dumps(outputs["traffic"])


def test_an_arm64_fp4_model_runs_on_a_gb200_pool_booting_the_ubuntu_gpu_image(tmp_path) -> None:
    # Azure's only fp4 row is ND GB200 v6 on Grace (Arm): its pool boots AKS's Ubuntu GPU image
    # (24.04 from Kubernetes 1.35, the GB200 image), the x86 pools Azure Linux.
    endpoint = kubernetes_endpoint()
    endpoint["sizing"]["requirements"].update(params_billion=70, precision="fp4", arm64=True)
    config = with_keys(read_config("azure-dev"), endpoints=[endpoint])
    document = run_program(tmp_path, "azure-variant", config)
    assert document["error"] is None
    pools = {
        p["inputs"]["vmSize"]: p["inputs"] for p in of_type_in(document, "azure-native:containerservice:AgentPool")
    }
    assert pools["Standard_ND128isr_NDR_GB200_v6"]["osSKU"] == "Ubuntu"
    (cluster,) = of_type_in(document, "azure-native:containerservice:ManagedCluster")
    assert cluster["inputs"]["kubernetesVersion"] in kubernetes_versions("azure")[0]
    # OS SKU Ubuntu is 24.04 from 1.35 on: every version the spec accepts must be that recent.
    assert all(tuple(map(int, v.split("."))) >= (1, 35) for v in kubernetes_versions("azure")[0])
    system = cluster["inputs"]["agentPoolProfiles"][0]
    assert system["osSKU"] == "AzureLinux"


def test_a_public_image_on_an_azure_ml_deployment_is_a_user_error(tmp_path) -> None:
    # The workspace allows only approved outbound traffic: a docker.io image would fail at deploy.
    config = read_config("azure-prod")
    eps = endpoints(config)
    managed = next(i for i, e in enumerate(eps) if e.get("serving", "managed") == "managed")
    model = eps[managed]["models"][0]
    model.pop("image_tag", None)
    model["image"] = "docker.io/vllm/vllm-openai:v0.8.5"
    document = run_program(tmp_path, "azure-variant", with_keys(config, endpoints=eps))
    assert document["resources"] == []
    assert document["error"].startswith(
        f"ml-serving:endpoints[{managed}].models[0].image: 'docker.io/vllm/vllm-openai:v0.8.5' is not in"
        " Azure Container Registry (or mcr.microsoft.com), the only registry azure managed endpoints pull from"
    )
    # Microsoft Container Registry is one of the managed network's required outbound rules: accepted.
    model["image"] = "mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference:latest"
    assert load_spec(with_keys(config, endpoints=eps)).endpoints[managed].models[0].image == model["image"]
