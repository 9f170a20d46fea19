"""The GCP rules through the Analyzer protocol: the resources the real program registered pass, and
each insecure variant of them (its inputs mutated) fails the rule as a mandatory violation, under
the prod policy config the CLI would pass for a prod stack."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from infra.engine.analyzer import PolicyPackProcess
from tests.conftest import preview_of
from tests.policy_helpers import DELETE, UNKNOWN, fired, set_path

KEY = "gcp:kms/cryptoKey:CryptoKey"
NETWORK = "gcp:compute/network:Network"
SUBNET = "gcp:compute/subnetwork:Subnetwork"
NAT = "gcp:compute/routerNat:RouterNat"
FIREWALL = "gcp:compute/firewall:Firewall"
REPO = "gcp:artifactregistry/repository:Repository"
BUCKET = "gcp:storage/bucket:Bucket"
DATASET = "gcp:bigquery/dataset:Dataset"
ENDPOINT = "gcp:vertex/aiEndpoint:AiEndpoint"
DYNAMIC = "pulumi-python:dynamic:Resource"
ALERT = "gcp:monitoring/alertPolicy:AlertPolicy"
CLUSTER = "gcp:container/cluster:Cluster"
POOL = "gcp:container/nodePool:NodePool"
COMPONENT = "ml-serving:gcp:ManagedEndpoint"
IAM_TYPES = (
    "gcp:projects/iAMMember:IAMMember",
    "gcp:storage/bucketIAMMember:BucketIAMMember",
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
)
PROD_CONFIG = json.loads((Path(__file__).parents[2] / "policies/config/prod.json").read_text())


def resource(resource_type: str, name: str | None = None, stack: str = "gcp-staging") -> dict[str, Any]:
    """A copy of what the real program registered (the first of the type, or the one named)."""
    found = [r for r in preview_of(stack)["resources"] if r["type"] == resource_type and name in (None, r["name"])]
    return copy.deepcopy(found[0])


def of_types(stack: str, *types: str) -> list[dict[str, Any]]:
    return copy.deepcopy([r for r in preview_of(stack)["resources"] if r["type"] in types])


@pytest.fixture(scope="module")
def pack():
    with PolicyPackProcess() as running:
        running.configure(PROD_CONFIG)
        yield running


CHAT_DEPLOYMENT = "endpoint-chat-deployment"
GPU_POOL = "cluster-gpu-embed"

# (rule, resource type, resource name or None, insecure path, insecure value)
CASES: list[tuple[str, str, str | None, str, Any]] = [
    ("gcp-kms-crypto-key-rotation", KEY, None, "rotationPeriod", "31536000s"),
    ("gcp-kms-crypto-key-rotation", KEY, None, "rotationPeriod", DELETE),
    ("gcp-kms-crypto-key-rotation", KEY, None, "rotationPeriod", UNKNOWN),
    ("gcp-kms-crypto-key-encrypts", KEY, None, "purpose", "ASYMMETRIC_SIGN"),
    ("gcp-compute-network-custom-subnets", NETWORK, None, "autoCreateSubnetworks", True),
    ("gcp-compute-subnetwork-private-google-access", SUBNET, None, "privateIpGoogleAccess", False),
    ("gcp-compute-subnetwork-flow-logs", SUBNET, None, "logConfig", DELETE),
    ("gcp-compute-firewall-private-ingress", FIREWALL, None, "sourceRanges", ["0.0.0.0/0"]),
    ("gcp-compute-firewall-private-ingress", FIREWALL, None, "sourceRanges", DELETE),
    ("gcp-compute-firewall-private-ingress", FIREWALL, None, "targetServiceAccounts", DELETE),
    ("gcp-compute-firewall-private-ingress", FIREWALL, None, "logConfig", DELETE),
    ("gcp-artifactregistry-immutable-tags", REPO, None, "dockerConfig.immutableTags", False),
    ("gcp-artifactregistry-cmek", REPO, None, "kmsKeyName", DELETE),
    ("gcp-artifactregistry-cleanup-untagged-only", REPO, None, "cleanupPolicies[0].condition.tagState", "ANY"),
    ("gcp-storage-bucket-uniform-access", BUCKET, None, "uniformBucketLevelAccess", False),
    ("gcp-storage-bucket-public-access-prevention", BUCKET, None, "publicAccessPrevention", "inherited"),
    ("gcp-storage-bucket-versioning", BUCKET, None, "versioning.enabled", False),
    ("gcp-storage-bucket-cmek", BUCKET, None, "encryption", DELETE),
    ("gcp-bigquery-dataset-cmek", DATASET, None, "defaultEncryptionConfiguration", DELETE),
    ("gcp-vertex-endpoint-private", ENDPOINT, None, "privateServiceConnectConfig.enablePrivateServiceConnect", False),
    ("gcp-vertex-endpoint-cmek", ENDPOINT, None, "encryptionSpec", DELETE),
    ("gcp-vertex-deployment-spec", DYNAMIC, CHAT_DEPLOYMENT, "models[0].model.encryptionSpec.kmsKeyName", DELETE),
    (
        "gcp-vertex-deployment-spec",
        DYNAMIC,
        CHAT_DEPLOYMENT,
        "models[0].deployment.serviceAccount",
        "123-compute@developer.gserviceaccount.com",
    ),
    ("gcp-vertex-deployment-spec", DYNAMIC, CHAT_DEPLOYMENT, "models[1].weight", 40),
    (
        "gcp-vertex-deployment-spec",
        DYNAMIC,
        CHAT_DEPLOYMENT,
        "models[0].deployment.dedicatedResources.minReplicaCount",
        0,
    ),
    (
        "gcp-vertex-deployment-spec",
        DYNAMIC,
        CHAT_DEPLOYMENT,
        "models[0].deployment.dedicatedResources.autoscalingMetricSpecs",
        [],
    ),
    ("gcp-monitoring-alert-policy-enabled", ALERT, None, "enabled", False),
    ("gcp-container-cluster-private", CLUSTER, None, "privateClusterConfig.enablePrivateEndpoint", False),
    ("gcp-container-cluster-private", CLUSTER, None, "privateClusterConfig.enablePrivateNodes", DELETE),
    (
        "gcp-container-cluster-private",
        CLUSTER,
        None,
        "masterAuthorizedNetworksConfig.cidrBlocks",
        [{"cidrBlock": "0.0.0.0/0"}],
    ),
    ("gcp-container-cluster-workload-identity", CLUSTER, None, "workloadIdentityConfig", DELETE),
    ("gcp-container-cluster-hardening", CLUSTER, None, "enableShieldedNodes", False),
    ("gcp-container-cluster-hardening", CLUSTER, None, "releaseChannel.channel", "UNSPECIFIED"),
    ("gcp-container-cluster-hardening", CLUSTER, None, "datapathProvider", "LEGACY_DATAPATH"),
    ("gcp-container-cluster-secrets-cmek", CLUSTER, None, "databaseEncryption.state", "DECRYPTED"),
    ("gcp-container-cluster-control-plane-logs", CLUSTER, None, "loggingConfig.enableComponents", ["WORKLOADS"]),
    ("gcp-container-cluster-node-hardening", CLUSTER, None, "nodeConfig.serviceAccount", DELETE),
    ("gcp-container-node-pool-hardening", POOL, None, "nodeConfig.workloadMetadataConfig.mode", "GCE_METADATA"),
    ("gcp-container-node-pool-hardening", POOL, None, "nodeConfig.shieldedInstanceConfig.enableSecureBoot", False),
    ("gcp-container-node-pool-hardening", POOL, None, "nodeConfig.serviceAccount", "default"),
    ("gcp-container-node-pool-hardening", POOL, None, "nodeConfig.bootDiskKmsKey", DELETE),
    ("gcp-container-node-pool-gpu", POOL, GPU_POOL, "nodeConfig.taints", DELETE),
    (
        "gcp-container-node-pool-gpu",
        POOL,
        GPU_POOL,
        "nodeConfig.guestAccelerators[0].gpuDriverInstallationConfig.gpuDriverVersion",
        "INSTALLATION_DISABLED",
    ),
    ("gcp-container-node-pool-gpu", POOL, GPU_POOL, "autoscaling", DELETE),
]


@pytest.mark.parametrize(("rule", "rtype", "name", "path", "value"), CASES)
def test_rule_passes_secure_and_fails_insecure(pack, rule, rtype, name, path, value) -> None:
    registered = resource(rtype, name)
    assert fired(pack, rule, [registered]) == set()
    insecure = set_path(copy.deepcopy(registered), path, value)
    assert fired(pack, rule, [insecure]) == {"mandatory"}


def test_cloud_nat_logs_its_translations(pack, outside_image) -> None:
    # Only a stack pulling an image from outside Google's registries has a NAT (none shipped does).
    (nat,) = [r for r in outside_image["resources"] if r["type"] == NAT]
    assert fired(pack, "gcp-compute-router-nat-logging", [nat]) == set()
    insecure = set_path(copy.deepcopy(nat), "logConfig.enable", False)
    assert fired(pack, "gcp-compute-router-nat-logging", [insecure]) == {"mandatory"}


@pytest.mark.parametrize(
    ("member_type", "change"),
    [
        ("gcp:projects/iAMMember:IAMMember", {"role": "roles/editor"}),
        ("gcp:projects/iAMMember:IAMMember", {"role": "roles/owner"}),
        ("gcp:storage/bucketIAMMember:BucketIAMMember", {"member": "allUsers"}),
        ("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", {"member": "allAuthenticatedUsers"}),
        ("gcp:storage/bucketIAMMember:BucketIAMMember", {"role": UNKNOWN}),
    ],
)
def test_no_primitive_roles_and_nothing_public(pack, member_type, change) -> None:
    grants = of_types("gcp-staging", *IAM_TYPES)
    assert fired(pack, "gcp-iam-no-primitive-roles", grants) == set()
    target = next(r for r in grants if r["type"] == member_type)
    for path, value in change.items():
        set_path(target, path, value)
    assert fired(pack, "gcp-iam-no-primitive-roles", grants) == {"mandatory"}


def test_an_endpoint_without_its_deployment_serves_nothing(pack) -> None:
    chat = [r for r in of_types("gcp-staging", ENDPOINT, DYNAMIC) if r["name"].startswith("endpoint-chat")]
    assert fired(pack, "gcp-vertex-endpoint-serves", chat) == set()
    alone = [r for r in chat if r["type"] == ENDPOINT]
    assert fired(pack, "gcp-vertex-endpoint-serves", alone) == {"mandatory"}


def test_a_deployment_is_gated_by_alerts_that_watch_its_endpoint(pack) -> None:
    rule = "gcp-vertex-endpoint-alerts-exist"
    chat = [r for r in of_types("gcp-staging", DYNAMIC, ALERT) if r["name"].startswith("endpoint-chat")]
    assert fired(pack, rule, chat) == set()
    without_latency = [r for r in chat if not r["name"].endswith("p95-latency")]
    assert fired(pack, rule, without_latency) == {"mandatory"}
    elsewhere = copy.deepcopy(chat)
    for alert in (r for r in elsewhere if r["type"] == ALERT):
        query = alert["inputs"]["conditions"][0]["conditionPrometheusQueryLanguage"]["query"]
        alert["inputs"]["conditions"][0]["conditionPrometheusQueryLanguage"]["query"] = query.replace(
            "gcp-staging-chat", "another-endpoint"
        )
    assert fired(pack, rule, elsewhere) == {"mandatory"}


PROD_RULE = "gcp-vertex-prod-endpoint-capacity-and-rollout"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("models[0].deployment.dedicatedResources.minReplicaCount", 1),
        ("rollout.strategy", "all-at-once"),
    ],
)
def test_prod_deployments_run_two_replicas_and_roll_out_canary_first(pack, path, value) -> None:
    prod = [r for r in of_types("gcp-prod", COMPONENT, DYNAMIC) if r["name"].startswith("endpoint-chat")]
    assert fired(pack, PROD_RULE, prod) == set()
    set_path(next(r for r in prod if r["type"] == DYNAMIC), path, value)
    assert fired(pack, PROD_RULE, prod) == {"mandatory"}


def test_the_prod_config_holds_a_staging_stack_to_prod_rules(pack) -> None:
    staging = [r for r in of_types("gcp-staging", COMPONENT, DYNAMIC) if r["name"].startswith("endpoint-chat")]
    assert fired(pack, PROD_RULE, staging) == {"mandatory"}  # one replica per version: fine in staging only


def test_staging_and_prod_log_requests_to_bigquery(pack) -> None:
    rule = "gcp-vertex-endpoint-request-logging"
    endpoint = resource(ENDPOINT, stack="gcp-prod")
    assert fired(pack, rule, [endpoint]) == set()
    set_path(endpoint, "predictRequestResponseLoggingConfig", DELETE)
    assert fired(pack, rule, [endpoint]) == {"mandatory"}


def test_every_gcp_rule_is_exercised_here(pack) -> None:
    names = {p.name for p in pack.info().policies if p.name.startswith("gcp-")}
    exercised = {c[0] for c in CASES} | {
        "gcp-iam-no-primitive-roles",
        "gcp-vertex-endpoint-serves",
        "gcp-vertex-endpoint-alerts-exist",
        PROD_RULE,
        "gcp-vertex-endpoint-request-logging",
        "gcp-compute-router-nat-logging",
    }
    assert names == exercised
