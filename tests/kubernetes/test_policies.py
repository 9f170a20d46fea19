"""The in-cluster serving rules through the Analyzer protocol: what the real program registered passes,
and each insecure variant of it fails as a mandatory violation."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.conftest import preview_of
from tests.policy_helpers import DELETE, UNKNOWN, fired, set_path

ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
SCALER = "kubernetes:keda.sh/v1alpha1:ScaledObject"
NAMESPACE = "kubernetes:core/v1:Namespace"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
COMPONENT = "ml-serving:kubernetes:Endpoint"
REPO = "aws:ecr/repository:Repository"
STABLE = "spec.predictor"
CANARY = "spec.canary[0].predictor"
REPO_URL = "111122223333.dkr.ecr.us-east-1.amazonaws.com/ml-serving/aws-prod/serving"
DIGEST = "sha256:" + "ab" * 32


def of_types(stack: str, *types: str) -> list[dict[str, Any]]:
    return copy.deepcopy([r for r in preview_of(stack)["resources"] if r["type"] in types])


def one(stack: str, resource_type: str) -> dict[str, Any]:
    return of_types(stack, resource_type)[0]


def find(resources: list[dict[str, Any]], resource_type: str) -> dict[str, Any]:
    return next(r for r in resources if r["type"] == resource_type)


CASES = [
    ("kubernetes-inferenceservice-resource-limits", f"{STABLE}.containers[0].resources.limits.memory", DELETE),
    (
        "kubernetes-inferenceservice-resource-limits",
        f"{CANARY}.containers[0].resources.limits.ephemeral-storage",
        DELETE,
    ),
    ("kubernetes-inferenceservice-resource-limits", f"{STABLE}.containers", []),
    ("kubernetes-inferenceservice-non-root", f"{STABLE}.securityContext.runAsNonRoot", False),
    ("kubernetes-inferenceservice-non-root", f"{CANARY}.securityContext.seccompProfile", DELETE),
    ("kubernetes-inferenceservice-non-root", f"{CANARY}.containers[0].securityContext.allowPrivilegeEscalation", True),
    ("kubernetes-inferenceservice-non-root", f"{STABLE}.containers[0].securityContext.capabilities.drop", []),
    ("kubernetes-inferenceservice-non-root", f"{STABLE}.containers[0].securityContext.privileged", True),
]


@pytest.mark.parametrize(("rule", "path", "value"), CASES)
def test_resource_rule_passes_the_program_and_fails_the_insecure_variant(pack, rule, path, value) -> None:
    isvc = one("aws-prod", ISVC)
    assert fired(pack, rule, [isvc]) == set()
    assert fired(pack, rule, [set_path(copy.deepcopy(isvc), path, value)]) == {"mandatory"}


def test_gpu_requests_must_equal_limits(pack) -> None:
    isvc = one("aws-prod", ISVC)
    limits = isvc["inputs"]["spec"]["canary"][0]["predictor"]["containers"][0]["resources"]["limits"]
    assert limits["nvidia.com/gpu"] == "1"
    limits["nvidia.com/gpu"] = "2"
    assert fired(pack, "kubernetes-inferenceservice-resource-limits", [isvc]) == {"mandatory"}


REGISTRY_RULE = "kubernetes-inferenceservice-own-registry"


def registry_case(stack: str = "aws-prod") -> list[dict[str, Any]]:
    return of_types(stack, ISVC, COMPONENT, REPO)


def test_images_computed_from_the_stacks_registry_pass(pack) -> None:
    resources = registry_case()
    assert find(resources, ISVC)["inputs"]["spec"]["predictor"]["containers"][0]["image"] == UNKNOWN
    assert fired(pack, REGISTRY_RULE, resources) == set()
    # The same unknown image without the registry it is computed from is not taken on trust.
    assert fired(pack, REGISTRY_RULE, [r for r in resources if r["type"] != REPO]) == {"mandatory"}


@pytest.mark.parametrize(
    ("image", "verdict"),
    [
        (f"{REPO_URL}@{DIGEST}", set()),
        (f"{REPO_URL}:vllm-0.8.5-qwen25-7b@{DIGEST}", set()),
        (f"{REPO_URL}:vllm-0.8.5-qwen25-7b", {"mandatory"}),  # a tag in prod: not what was tested
        (f"docker.io/vllm/vllm-openai@{DIGEST}", {"mandatory"}),  # another registry
        (f"{REPO_URL}-other@{DIGEST}", {"mandatory"}),
    ],
)
def test_a_literal_image_must_be_a_digest_in_the_stacks_registry(pack, image, verdict) -> None:
    resources = registry_case()
    set_path(find(resources, REPO), "repositoryUrl", REPO_URL)
    set_path(find(resources, ISVC), "spec.canary[0].predictor.containers[0].image", image)
    assert fired(pack, REGISTRY_RULE, resources) == verdict


def test_dev_may_run_a_tag_from_the_stacks_registry(pack) -> None:
    resources = registry_case()
    set_path(find(resources, COMPONENT), "environment", "dev")
    set_path(find(resources, REPO), "repositoryUrl", REPO_URL)
    set_path(find(resources, ISVC), "spec.predictor.containers[0].image", f"{REPO_URL}:vllm-0.8.5-qwen25-7b")
    assert fired(pack, REGISTRY_RULE, resources) == set()


# The other clouds' registries: images live below an address their inputs spell (Artifact Registry
# "Repository and image names": LOCATION-docker.pkg.dev/PROJECT/REPOSITORY, the project being the
# provider's; ACR: the registry's name in lower case + .azurecr.io).
GCP_REPO = "gcp:artifactregistry/repository:Repository"
GCP_PROVIDER = "pulumi:providers:gcp"
ACR = "azure-native:containerregistry:Registry"


def cloud_registry_case(stack: str) -> tuple[list[dict[str, Any]], str, str]:
    """The stack's InferenceServices, endpoint components, registry and providers; the address its
    images live below, spelled from the registered registry as the cloud documents it; and another
    registry's address on the same cloud."""
    resources = of_types(stack, ISVC, COMPONENT, GCP_REPO, GCP_PROVIDER, ACR)
    if stack.startswith("gcp-"):
        repo = find(resources, GCP_REPO)["inputs"]
        project = find(resources, GCP_PROVIDER)["inputs"]["project"]
        base = f"{repo['location']}-docker.pkg.dev/{project}"
        return resources, f"{base}/{repo['repositoryId']}", f"{base}/{repo['repositoryId']}-other"
    name = find(resources, ACR)["inputs"]["registryName"]
    return resources, f"{name.lower()}.azurecr.io", f"{name.lower()}x.azurecr.io"


@pytest.mark.parametrize("stack", ["gcp-prod", "azure-prod"])
@pytest.mark.parametrize(
    ("image", "verdict"),
    [
        ("{own}/serving@" + DIGEST, set()),
        ("{own}/serving:vllm-0.8.5-qwen25-7b@" + DIGEST, set()),
        ("{own}/serving:vllm-0.8.5-qwen25-7b", {"mandatory"}),  # a tag in prod
        ("{other}/serving@" + DIGEST, {"mandatory"}),  # another registry of the same cloud
        ("{own}@" + DIGEST, {"mandatory"}),  # no image below the address: not a reference into it
        ("docker.io/vllm/vllm-openai@" + DIGEST, {"mandatory"}),
    ],
)
def test_artifact_registry_and_acr_images_must_be_digests_below_the_stacks_registry(
    pack, stack, image, verdict
) -> None:
    resources, own, other = cloud_registry_case(stack)
    assert fired(pack, REGISTRY_RULE, resources) == set()  # as the program registered them
    canaried = next(r for r in resources if r["type"] == ISVC and "canary" in r["inputs"]["spec"])
    set_path(canaried, "spec.canary[0].predictor.containers[0].image", image.format(own=own, other=other))
    assert fired(pack, REGISTRY_RULE, resources) == verdict


def test_gcp_images_are_checked_against_the_program_s_literal_addresses(pack) -> None:
    resources, own, _ = cloud_registry_case("gcp-prod")
    # GCP images are known at preview (the repository's address is all inputs): checked as literals.
    images = {
        c["image"] for r in resources if r["type"] == ISVC for c in r["inputs"]["spec"]["predictor"]["containers"]
    }
    assert images and all(i.startswith(own + "/") and "@sha256:" in i for i in images)
    # Without the provider the project is unknown, the address unspelled: not taken on trust.
    assert fired(pack, REGISTRY_RULE, [r for r in resources if r["type"] != GCP_PROVIDER]) == {"mandatory"}


def test_acr_images_computed_from_the_stacks_registry_pass(pack) -> None:
    resources, _, _ = cloud_registry_case("azure-prod")
    assert find(resources, ISVC)["inputs"]["spec"]["predictor"]["containers"][0]["image"] == UNKNOWN
    assert fired(pack, REGISTRY_RULE, resources) == set()
    assert fired(pack, REGISTRY_RULE, [r for r in resources if r["type"] != ACR]) == {"mandatory"}


PROD_RULE = "kubernetes-inferenceservice-prod-capacity-and-canary"


@pytest.mark.parametrize(
    ("rtype", "path", "value"),
    [
        (ISVC, "spec.predictor.minReplicas", 1),
        (SCALER, "spec.minReplicaCount", 1),
        (COMPONENT, "rollout", "all-at-once"),
    ],
)
def test_prod_keeps_two_pods_and_rolls_out_through_canaries(pack, rtype, path, value) -> None:
    resources = of_types("aws-prod", ISVC, SCALER, COMPONENT)
    assert fired(pack, PROD_RULE, resources) == set()
    set_path(find(resources, rtype), path, value)
    assert fired(pack, PROD_RULE, resources) == {"mandatory"}


def test_a_prod_model_server_without_autoscaler_fails_and_the_environment_is_never_guessed(pack) -> None:
    resources = of_types("aws-prod", ISVC, SCALER, COMPONENT)
    assert fired(pack, PROD_RULE, [r for r in resources if r["type"] != SCALER]) == {"mandatory"}
    assert fired(pack, PROD_RULE, [r for r in resources if r["type"] != COMPONENT]) == {"mandatory"}
    staging = of_types("aws-staging", ISVC, SCALER, COMPONENT)  # one pod: fine for staging
    assert fired(pack, PROD_RULE, staging) == set()


def test_the_autoscaler_scales_on_the_queue_not_on_utilisation(pack) -> None:
    scaler = one("aws-prod", SCALER)
    assert fired(pack, "kubernetes-scaledobject-queue-depth", [scaler]) == set()
    set_path(scaler, "spec.triggers[0].type", "cpu")
    assert fired(pack, "kubernetes-scaledobject-queue-depth", [scaler]) == {"mandatory"}


DENY_RULE = "kubernetes-namespace-default-deny"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (None, None),  # no default-deny policy at all
        ("spec.podSelector", {"matchLabels": {"app": "x"}}),
        ("spec.policyTypes", ["Ingress"]),
        ("spec.ingress", [{"from": [{"podSelector": {}}]}]),
        ("metadata.namespace", "default"),
    ],
)
def test_every_namespace_has_a_default_deny_policy(pack, path, value) -> None:
    resources = of_types("aws-prod", NAMESPACE, POLICY)
    assert fired(pack, DENY_RULE, resources) == set()
    deny = next(r for r in resources if r["inputs"].get("metadata", {}).get("name") == "default-deny")
    if path is None:
        resources.remove(deny)
    else:
        set_path(deny, path, value)
    assert fired(pack, DENY_RULE, resources) == {"mandatory"}


def test_every_kubernetes_rule_is_exercised_here(pack) -> None:
    names = {p.name for p in pack.info().policies if p.name.startswith("kubernetes-")}
    exercised = {c[0] for c in CASES} | {REGISTRY_RULE, PROD_RULE, DENY_RULE, "kubernetes-scaledobject-queue-depth"}
    assert names == exercised
