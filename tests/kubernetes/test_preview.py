"""In-cluster serving as the real program registers it (offline preview of the shipped stacks): the
add-ons, the identities, the InferenceService with its named canary, the network policies and the
queue-depth autoscaler, all held to the plan."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

import pytest

from infra.addons import addons_for
from infra.engine.mockrun import UNKNOWN
from infra.engine.stackfile import read_config
from infra.kubernetes_plan import KubernetesServing
from infra.naming import Names
from infra.plan import Plan, build_plan
from infra.spec import load_spec
from tests.conftest import preview_of

ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
SCALER = "kubernetes:keda.sh/v1alpha1:ScaledObject"
RELEASE = "kubernetes:helm.sh/v3:Release"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
ACCOUNT = "kubernetes:core/v1:ServiceAccount"
NAMESPACE = "kubernetes:core/v1:Namespace"
K8S_STACKS = ["aws-staging", "aws-prod"]


def plan_of(stack: str) -> Plan:
    return build_plan(load_spec(read_config(stack)), stack)


def of_type(stack: str, resource_type: str) -> list[dict[str, Any]]:
    return [r for r in preview_of(stack)["resources"] if r["type"] == resource_type]


def serving_of(stack: str) -> list[KubernetesServing]:
    return list(plan_of(stack).kubernetes)


def in_namespace(stack: str, resource_type: str, namespace: str) -> list[dict[str, Any]]:
    return [r for r in of_type(stack, resource_type) if r["inputs"]["metadata"]["namespace"] == namespace]


@pytest.mark.parametrize("stack", K8S_STACKS)
def test_the_platform_installs_each_pinned_add_on_in_order_with_every_image_pointed_at_the_mirror(stack) -> None:
    releases = of_type(stack, RELEASE)
    expected = addons_for("aws")
    assert [r["inputs"]["name"] for r in releases] == [a.name for a in expected]
    assert "nvidia-device-plugin" in [a.name for a in expected]  # the AL2023 NVIDIA AMI lacks it
    urns = {r["inputs"]["name"]: r["urn"] for r in releases}
    for addon, release in zip(expected, releases, strict=True):
        assert release["inputs"]["version"] == addon.version
        assert release["inputs"]["atomic"] is True
        for image in addon.images:
            for path in image.values:
                value: Any = release["inputs"]["values"]
                for key in path.split("."):
                    value = value[key]
                # The mirror is the stack registry's host (an ECR URL, computed): unknown at preview.
                assert value == UNKNOWN, (addon.name, path)
    # Each release waits for the one before it (KServe's webhooks need cert-manager, ...).
    for before, after in pairwise(releases):
        assert before["urn"] in after["dependencies"]
    kserve = next(r for r in releases if r["inputs"]["name"] == "kserve")["inputs"]["values"]["kserve"]["controller"]
    assert kserve["deploymentMode"] == "Standard"
    assert kserve["gateway"]["ingressGateway"]["enableGatewayApi"] is True
    assert urns["kserve-crd"] in next(r for r in releases if r["inputs"]["name"] == "kserve")["dependencies"]


def test_the_gateway_is_envoy_behind_an_internal_load_balancer_with_the_mirrored_proxy_image() -> None:
    proxy = next(r for r in preview_of("aws-prod")["resources"] if r["inputs"].get("kind") == "EnvoyProxy")
    kubernetes = proxy["inputs"]["spec"]["provider"]["kubernetes"]
    assert kubernetes["envoyService"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-internal"] == "true"
    assert kubernetes["envoyDeployment"]["container"]["imageRepository"] == UNKNOWN  # <mirror>/envoyproxy/envoy
    gateway = next(r for r in preview_of("aws-prod")["resources"] if r["inputs"].get("kind") == "Gateway")
    assert gateway["inputs"]["metadata"] == {"name": "kserve-ingress-gateway", "namespace": "kserve"}


def test_the_inference_service_carries_the_plan_stable_and_named_canary() -> None:
    serving = serving_of("aws-prod")[0]
    isvc = in_namespace("aws-prod", ISVC, serving.namespace)[0]["inputs"]
    assert isvc["metadata"]["annotations"] == {
        "serving.kserve.io/deploymentMode": "Standard",
        "serving.kserve.io/autoscalerClass": "external",
    }
    stable, canaries = isvc["spec"]["predictor"], isvc["spec"]["canary"]
    assert (stable["name"], stable["minReplicas"], stable["maxReplicas"]) == (
        "qwen25-7b-v1",
        serving.min_pods,
        serving.max_pods,
    )
    assert stable["minReplicas"] >= 2
    # The stack's 90/10 weights: the canary names its share, the stable predictor keeps the rest.
    assert [(c["predictor"]["name"], c["trafficPercent"], c["predictor"]["minReplicas"]) for c in canaries] == [
        ("qwen25-7b-v2", 10, 1)
    ]
    assert "maxReplicas" not in canaries[0]["predictor"]  # KServe refuses autoscaling on a canary
    for predictor in (stable, canaries[0]["predictor"]):
        container = predictor["containers"][0]
        resources = container["resources"]
        assert resources["requests"]["nvidia.com/gpu"] == resources["limits"]["nvidia.com/gpu"] == "1"
        assert resources["limits"]["ephemeral-storage"] == f"{serving.pod_storage_gib}Gi"
        assert predictor["nodeSelector"] == {"ml-serving/endpoint": "assist"}
        assert predictor["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
        assert predictor["serviceAccountName"] == serving.service_account
        assert predictor["securityContext"]["runAsNonRoot"] is True
        assert predictor["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        env = {e["name"]: e["value"] for e in container["env"]}
        assert env["STORAGE_URI"] == UNKNOWN  # s3://<the stack's bucket>/<artifact key>
        assert container["image"] == UNKNOWN  # <the stack's registry>:<tag>@<digest>


def test_images_and_artifacts_come_from_the_stacks_registry_and_bucket() -> None:
    isvc = in_namespace("aws-prod", ISVC, "serve-assist")[0]
    urns = {r["name"]: r["urn"] for r in preview_of("aws-prod")["resources"]}
    bucket = next(r["urn"] for r in of_type("aws-prod", "aws:s3/bucket:Bucket"))
    assert {urns["registry-repository"], bucket} <= set(isvc["propertyDependencies"]["spec"])


def test_the_autoscaler_scales_the_stable_predictor_on_vllm_queue_depth() -> None:
    serving = serving_of("aws-prod")[0]
    scaler = in_namespace("aws-prod", SCALER, serving.namespace)[0]["inputs"]["spec"]
    assert scaler["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "assist-qwen25-7b-v1-predictor",
    }
    assert (scaler["minReplicaCount"], scaler["maxReplicaCount"]) == (serving.min_pods, serving.max_pods)
    (trigger,) = scaler["triggers"]
    assert trigger["type"] == "prometheus" and trigger["metricType"] == "AverageValue"
    assert trigger["metadata"]["query"] == (
        'sum(vllm:num_requests_waiting{namespace="serve-assist",pod=~"assist-qwen25-7b-v1-predictor-.*"})'
    )
    assert trigger["metadata"]["threshold"] == str(serving.queue_per_pod)


@pytest.mark.parametrize("stack", K8S_STACKS)
def test_each_namespace_denies_by_default_and_admits_the_gateway_prometheus_and_the_identity_agent(stack) -> None:
    for serving in serving_of(stack):
        policies = {
            p["inputs"]["metadata"]["name"]: p["inputs"]["spec"] for p in in_namespace(stack, POLICY, serving.namespace)
        }
        assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        (gateway,) = policies["allow-gateway"]["ingress"]
        assert gateway["from"][0]["namespaceSelector"]["matchLabels"] == {
            "kubernetes.io/metadata.name": "envoy-gateway-system"
        }
        egress = policies["allow-egress"]["egress"]
        assert {
            "to": [{"ipBlock": {"cidr": "169.254.170.23/32"}}],
            "ports": [{"protocol": "TCP", "port": 80}],
        } in egress
        namespace = next(n for n in of_type(stack, NAMESPACE) if n["inputs"]["metadata"]["name"] == serving.namespace)
        assert namespace["inputs"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("stack", K8S_STACKS)
def test_each_endpoint_runs_as_its_own_pod_identity_that_reads_only_its_artifacts(stack) -> None:
    resources = preview_of(stack)["resources"]
    for serving in serving_of(stack):
        association = next(
            r["inputs"]
            for r in resources
            if r["type"] == "aws:eks/podIdentityAssociation:PodIdentityAssociation"
            and r["inputs"]["namespace"] == serving.namespace
        )
        assert association["serviceAccount"] == serving.service_account
        account = in_namespace(stack, ACCOUNT, serving.namespace)[0]["inputs"]
        assert account["metadata"]["name"] == serving.service_account
        names = Names("aws", stack)
        role = next(
            r
            for r in resources
            if r["name"] == names("iam_role", serving.endpoint, "pods") and r["type"] == "aws:iam/role:Role"
        )
        trust = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
        assert trust == [
            {
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ]
        policy = json.loads(
            next(
                r
                for r in resources
                if r["name"] == names("iam_role_policy", serving.endpoint, "pods")
                and r["type"] == "aws:iam/rolePolicy:RolePolicy"
            )["inputs"]["policy"]
        )
        actions = sorted(
            a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        )
        assert actions == ["kms:Decrypt", "s3:GetObject", "s3:ListBucket"]
        read = next(s for s in policy["Statement"] if s["Action"] == "s3:GetObject")
        prefixes = {m.model.artifact.rsplit("/", 1)[0] for m in (serving.stable, *serving.canaries)}
        assert sorted(read["Resource"]) == sorted(f"arn:aws:s3:::{stack}-models-*/{p}/*" for p in prefixes)


@pytest.mark.parametrize("stack", K8S_STACKS)
def test_gpu_node_disks_hold_the_weights_of_every_copy_and_the_pools_carry_the_accelerator_label(stack) -> None:
    plan = plan_of(stack)
    assert plan.cluster is not None
    resources = preview_of(stack)["resources"]
    for pool in plan.cluster.gpu_pools:
        serving = next(s for s in plan.kubernetes if s.endpoint == pool.endpoint)
        assert pool.disk_gib == serving.node_disk_gib > serving.pods_per_node * serving.weights_gib
        template = next(
            r
            for r in resources
            if r["type"] == "aws:ec2/launchTemplate:LaunchTemplate" and r["name"].endswith(pool.name)
        )
        assert template["inputs"]["blockDeviceMappings"][0]["ebs"]["volumeSize"] == pool.disk_gib
        group = next(
            r for r in resources if r["type"] == "aws:eks/nodeGroup:NodeGroup" and r["name"].endswith(pool.name)
        )
        assert group["inputs"]["labels"]["ml-serving/accelerator"] == "nvidia"


def test_the_kubernetes_provider_authenticates_with_aws_eks_get_token_never_a_local_kubeconfig() -> None:
    provider = next(r for r in preview_of("aws-prod")["resources"] if r["type"] == "pulumi:providers:kubernetes")
    # Built from the cluster's endpoint and CA, both computed: unknown at preview, never read from disk.
    assert provider["inputs"]["kubeconfig"] == UNKNOWN
    assert provider["inputs"].get("context") is None
    cluster = next(r for r in preview_of("aws-prod")["resources"] if r["type"] == "aws:eks/cluster:Cluster")
    assert provider["propertyDependencies"]["kubeconfig"] == [cluster["urn"]]
    for resource in preview_of("aws-prod")["resources"]:
        if resource["type"].startswith("kubernetes:"):
            assert resource["provider"].rsplit("::", 1)[0] == provider["urn"]


def test_the_vpc_cni_enforces_network_policies() -> None:
    addon = next(r for r in preview_of("aws-prod")["resources"] if r["inputs"].get("addonName") == "vpc-cni")
    assert json.loads(addon["inputs"]["configurationValues"]) == {"enableNetworkPolicy": "true"}


@pytest.mark.parametrize("stack", K8S_STACKS)
def test_ecr_holds_a_repository_for_every_mirrored_add_on_image(stack) -> None:
    repositories = {
        r["inputs"]["name"]: r
        for r in of_type(stack, "aws:ecr/repository:Repository")
        if "ml-serving:aws:Mirror" in r["parent"]
    }
    paths = {image.path for addon in addons_for("aws") for image in addon.images}
    assert set(repositories) == {f"ml-serving/{stack}/mirror/{path}" for path in paths}
    for repository in repositories.values():
        assert repository["inputs"]["imageTagMutability"] == "IMMUTABLE"
        assert repository["protect"] is (stack == "aws-prod")  # nodes pull from it whenever they scale
