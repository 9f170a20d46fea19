"""The AWS rules through the Analyzer protocol: the resources the real program registered pass, and
each insecure variant of them (its inputs mutated) fails the rule, as a mandatory violation; a value
unknown at preview never turns a mandatory rule advisory; what the pack restates from the program
is pinned equal to it."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from infra.clouds.aws import cluster, endpoint
from infra.clouds.aws.storage import _publishers_only
from infra.engine.analyzer import PolicyPackProcess
from ml_serving_policy.aws import cluster as cluster_rules
from ml_serving_policy.aws import iam as iam_rules
from ml_serving_policy.aws import sagemaker as sagemaker_rules
from tests.conftest import preview_of
from tests.policy_helpers import DELETE, UNKNOWN, fired, set_path

KEY = "aws:kms/key:Key"
REPO = "aws:ecr/repository:Repository"
VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
BUCKET = "aws:s3/bucket:Bucket"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PACKAGE_GROUP = "aws:sagemaker/modelPackageGroup:ModelPackageGroup"
PACKAGE_POLICY = "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"
MODEL = "aws:sagemaker/model:Model"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
TARGET = "aws:appautoscaling/target:Target"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
COMPONENT = "ml-serving:aws:ManagedEndpoint"

OPEN_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}],
    }
)
TLS_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
)
PUBLISHERS = _publishers_only(
    "aws-staging", "arn:aws:sagemaker:us-east-1:111122223333:model-package-group/aws-staging-chat"
)
ANYONE_TRUSTED = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
)


def resource(resource_type: str, name: str | None = None, stack: str = "aws-staging") -> dict[str, Any]:
    """A copy of what the real program registered (the first of the type, or the one named)."""
    found = [r for r in preview_of(stack)["resources"] if r["type"] == resource_type and name in (None, r["name"])]
    return copy.deepcopy(found[0])


def of_types(stack: str, *types: str) -> list[dict[str, Any]]:
    return copy.deepcopy([r for r in preview_of(stack)["resources"] if r["type"] in types])


def policy_doc(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


# (rule, resource type, resource name or None, secure setup, insecure path, insecure value)
CASES: list[tuple[str, str, str | None, dict[str, Any], str, Any]] = [
    ("aws-kms-key-rotation", KEY, None, {}, "enableKeyRotation", False),
    ("aws-kms-key-rotation", KEY, None, {}, "enableKeyRotation", DELETE),
    ("aws-kms-key-deletion-window", KEY, None, {}, "deletionWindowInDays", 3),
    ("aws-ecr-immutable-tags", REPO, None, {}, "imageTagMutability", "MUTABLE"),
    ("aws-ecr-immutable-tags", REPO, None, {}, "imageTagMutability", DELETE),
    ("aws-ecr-scan-on-push", REPO, None, {}, "imageScanningConfiguration.scanOnPush", False),
    ("aws-ecr-customer-managed-key", REPO, None, {}, "encryptionConfigurations[0].encryptionType", "AES256"),
    ("aws-ecr-customer-managed-key", REPO, None, {}, "encryptionConfigurations[0].kmsKey", DELETE),
    ("aws-vpc-dns-enabled", VPC, None, {}, "enableDnsHostnames", False),
    ("aws-vpc-dns-enabled", VPC, None, {}, "enableDnsSupport", DELETE),
    ("aws-subnet-no-public-ip", SUBNET, None, {}, "mapPublicIpOnLaunch", True),
    ("aws-security-group-rule-no-public-ingress", INGRESS, None, {}, "cidrIpv4", "0.0.0.0/0"),
    ("aws-security-group-rule-no-public-ingress", INGRESS, None, {}, "cidrIpv4", UNKNOWN),
    (
        "aws-security-group-no-public-ingress",
        GROUP,
        None,
        {},
        "ingress",
        [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}],
    ),
    ("aws-vpc-endpoint-private-dns", VPC_ENDPOINT, "network-sagemaker-runtime", {}, "privateDnsEnabled", False),
    ("aws-s3-public-access-block-all", PAB, None, {}, "restrictPublicBuckets", False),
    ("aws-s3-public-access-block-all", PAB, None, {}, "ignorePublicAcls", DELETE),
    ("aws-s3-versioning-enabled", VERSIONING, None, {}, "versioningConfiguration.status", "Suspended"),
    ("aws-s3-sse-kms", SSE, None, {}, "rules[0].applyServerSideEncryptionByDefault.sseAlgorithm", "AES256"),
    ("aws-s3-sse-kms", SSE, None, {}, "rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId", DELETE),
    ("aws-s3-sse-kms", SSE, None, {}, "rules[0].bucketKeyEnabled", False),
    (
        "aws-s3-bucket-policy-tls-only",
        BUCKET_POLICY,
        None,
        {"bucket": "b", "policy": TLS_POLICY},
        "policy",
        OPEN_POLICY,
    ),
    ("aws-s3-bucket-policy-tls-only", BUCKET_POLICY, None, {"bucket": "b", "policy": TLS_POLICY}, "policy", UNKNOWN),
    (
        "aws-sagemaker-model-package-group-policy-limits-writers",
        PACKAGE_POLICY,
        None,
        {"resourcePolicy": PUBLISHERS},
        "resourcePolicy",
        OPEN_POLICY,
    ),
    ("aws-sagemaker-model-network-isolation", MODEL, None, {}, "enableNetworkIsolation", False),
    ("aws-sagemaker-model-in-vpc", MODEL, None, {}, "vpcConfig", DELETE),
    ("aws-sagemaker-model-in-vpc", MODEL, None, {}, "vpcConfig.subnets", []),
    ("aws-sagemaker-endpoint-config-kms", CONFIG, None, {}, "kmsKeyArn", DELETE),
    ("aws-sagemaker-endpoint-config-variants", CONFIG, None, {}, "productionVariants[0].variantName", "live_1"),
    (
        "aws-sagemaker-endpoint-config-variants",
        CONFIG,
        None,
        {},
        "shadowProductionVariants",
        [{"variantName": "shadow-1", "modelName": "m"}],
    ),
    ("aws-sagemaker-endpoint-config-capture-encrypted", CONFIG, None, {}, "dataCaptureConfig.kmsKeyId", DELETE),
    ("aws-sagemaker-endpoint-config-unnamed", CONFIG, None, {}, "name", "chat-config"),
    ("aws-sagemaker-endpoint-config-unnamed", CONFIG, None, {}, "namePrefix", "chat-"),
    ("aws-sagemaker-endpoint-rollback", ENDPOINT, None, {}, "deploymentConfig.autoRollbackConfiguration.alarms", []),
    ("aws-sagemaker-endpoint-rollback", ENDPOINT, None, {}, "deploymentConfig.blueGreenUpdatePolicy", DELETE),
    (
        "aws-sagemaker-endpoint-rollback",
        ENDPOINT,
        None,
        {},
        "deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.canarySize.value",
        60,
    ),
    (
        "aws-sagemaker-endpoint-rollback",
        ENDPOINT,
        None,
        {},
        "deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.type",
        "BLUE_GREEN",
    ),
    ("aws-appautoscaling-sagemaker-bounds", TARGET, None, {}, "minCapacity", 0),
    ("aws-appautoscaling-sagemaker-bounds", TARGET, None, {}, "maxCapacity", UNKNOWN),
    ("aws-cloudwatch-log-group-encrypted", LOG_GROUP, None, {}, "kmsKeyId", DELETE),
    ("aws-cloudwatch-log-group-encrypted", LOG_GROUP, None, {}, "retentionInDays", DELETE),
    ("aws-cloudwatch-model-latency-in-microseconds", ALARM, "endpoint-chat-p95-latency", {}, "threshold", 200),
    ("aws-cloudwatch-alarm-named", ALARM, None, {}, "name", DELETE),
    ("aws-eks-private-endpoint", CLUSTER, None, {}, "vpcConfig.endpointPublicAccess", DELETE),
    ("aws-eks-private-endpoint", CLUSTER, None, {}, "vpcConfig.endpointPrivateAccess", False),
    ("aws-eks-secrets-encryption", CLUSTER, None, {}, "encryptionConfig.resources", []),
    ("aws-eks-secrets-encryption", CLUSTER, None, {}, "encryptionConfig.provider.keyArn", DELETE),
    ("aws-eks-control-plane-logs", CLUSTER, None, {}, "enabledClusterLogTypes", ["api", "audit"]),
    ("aws-eks-access-entries", CLUSTER, None, {}, "accessConfig.authenticationMode", "CONFIG_MAP"),
    ("aws-eks-node-group-launch-template", NODE_GROUP, None, {}, "launchTemplate", DELETE),
    ("aws-eks-node-group-launch-template", NODE_GROUP, None, {}, "diskSize", 100),
    ("aws-eks-gpu-node-group-tainted", NODE_GROUP, "aws-staging-gpu-embed", {}, "taints", DELETE),
    (
        "aws-eks-gpu-node-group-tainted",
        NODE_GROUP,
        "aws-staging-gpu-embed",
        {},
        "taints[0].effect",
        "PREFER_NO_SCHEDULE",
    ),
    (
        "aws-eks-gpu-node-group-tainted",
        NODE_GROUP,
        "aws-staging-gpu-embed",
        {
            "amiType": "AL2023_x86_64_NEURON",
            "taints": [{"key": "aws.amazon.com/neuron", "value": "true", "effect": "NO_SCHEDULE"}],
        },
        "taints[0].key",
        "nvidia.com/gpu",
    ),
    ("aws-ec2-launch-template-imdsv2", TEMPLATE, None, {}, "metadataOptions.httpTokens", "optional"),
    ("aws-ec2-launch-template-imdsv2", TEMPLATE, None, {}, "metadataOptions.httpPutResponseHopLimit", 3),
    ("aws-ec2-launch-template-encrypted-volumes", TEMPLATE, None, {}, "blockDeviceMappings[0].ebs.encrypted", "false"),
    ("aws-ec2-launch-template-encrypted-volumes", TEMPLATE, None, {}, "blockDeviceMappings[0].ebs.kmsKeyId", DELETE),
    ("aws-iam-role-trusts-a-service", ROLE, None, {}, "assumeRolePolicy", ANYONE_TRUSTED),
    (
        "aws-iam-no-wildcard-action",
        ROLE_POLICY,
        None,
        {},
        "policy",
        policy_doc([{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}]),
    ),
    ("aws-iam-no-wildcard-action", ROLE_POLICY, None, {}, "policy", UNKNOWN),
    (
        "aws-iam-no-wildcard-action-on-wildcard-resource",
        ROLE_POLICY,
        None,
        {},
        "policy",
        policy_doc([{"Effect": "Allow", "Action": "*", "Resource": "*"}]),
    ),
    (
        "aws-iam-no-wildcard-action-on-wildcard-resource",
        ATTACHMENT,
        None,
        {},
        "policyArn",
        "arn:aws:iam::aws:policy/AdministratorAccess",
    ),
]


@pytest.mark.parametrize(("rule", "rtype", "name", "secure", "path", "value"), CASES)
def test_rule_passes_secure_and_fails_insecure(pack, rule, rtype, name, secure, path, value) -> None:
    registered = resource(rtype, name)
    for key, setting in secure.items():
        set_path(registered, key, setting)
    assert fired(pack, rule, [registered]) == set()
    insecure = set_path(copy.deepcopy(registered), path, value)
    assert fired(pack, rule, [insecure]) == {"mandatory"}


def test_the_endpoint_configs_autoname_passes_and_a_fixed_name_fails(pack) -> None:
    # At a real preview the engine fills in the autoname (logical name + 7 hex); that one is fine.
    rule = "aws-sagemaker-endpoint-config-unnamed"
    config = resource(CONFIG)
    assert fired(pack, rule, [set_path(config, "name", config["name"] + "-0a1b2c3")]) == set()
    assert fired(pack, rule, [set_path(config, "name", UNKNOWN)]) == {"mandatory"}


def test_a_bucket_policy_unknown_only_with_its_buckets_autoname_is_checked_at_up(pack) -> None:
    # The mocks leave the bucket's autoname (and the policy built from it) unknown; the engine does not.
    policy = resource(BUCKET_POLICY)
    assert policy["inputs"]["bucket"] == UNKNOWN and policy["inputs"]["policy"] == UNKNOWN
    assert fired(pack, "aws-s3-bucket-policy-tls-only", [policy]) == set()


STORE = (BUCKET, PAB, VERSIONING, SSE, BUCKET_POLICY)


@pytest.mark.parametrize(
    ("missing_or_broken", "path", "value"),
    [
        (PAB, None, None),
        (VERSIONING, None, None),
        (SSE, None, None),
        (BUCKET_POLICY, None, None),
        (PAB, "blockPublicPolicy", False),
        (VERSIONING, "versioningConfiguration.status", "Suspended"),
        (SSE, "rules[0].applyServerSideEncryptionByDefault.sseAlgorithm", "AES256"),
    ],
)
def test_every_bucket_has_its_baseline(pack, missing_or_broken, path, value) -> None:
    store = of_types("aws-staging", *STORE)
    assert fired(pack, "aws-s3-bucket-baseline", store) == set()
    if path is None:
        store = [r for r in store if r["type"] != missing_or_broken]
    else:
        set_path(next(r for r in store if r["type"] == missing_or_broken), path, value)
    assert fired(pack, "aws-s3-bucket-baseline", store) == {"mandatory"}


def test_rollback_alarms_must_exist_and_watch_the_endpoint(pack) -> None:
    chat = [r for r in of_types("aws-staging", ENDPOINT, ALARM) if "chat" in r["name"]]
    assert fired(pack, "aws-sagemaker-endpoint-alarms-exist", chat) == set()
    without_latency = [r for r in chat if not r["name"].endswith("p95-latency")]
    assert fired(pack, "aws-sagemaker-endpoint-alarms-exist", without_latency) == {"mandatory"}
    elsewhere = copy.deepcopy(chat)
    for alarm in (r for r in elsewhere if r["type"] == ALARM):
        for query in alarm["inputs"]["metricQueries"]:
            if "metric" in query:
                query["metric"]["dimensions"]["EndpointName"] = "another-endpoint"
    assert fired(pack, "aws-sagemaker-endpoint-alarms-exist", elsewhere) == {"mandatory"}


PROD_ENDPOINT = (COMPONENT, ENDPOINT, CONFIG, TARGET)
PROD_RULE = "aws-sagemaker-prod-endpoint-capacity-and-rollout"


@pytest.mark.parametrize(
    ("rtype", "path", "value"),
    [
        (CONFIG, "productionVariants[0].initialInstanceCount", 1),
        (TARGET, "minCapacity", 1),
        (ENDPOINT, "deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.type", "ALL_AT_ONCE"),
    ],
)
def test_prod_endpoints_run_two_instances_and_roll_out_canary_first(pack, rtype, path, value) -> None:
    prod = of_types("aws-prod", *PROD_ENDPOINT)
    assert fired(pack, PROD_RULE, prod) == set()
    set_path(next(r for r in prod if r["type"] == rtype), path, value)
    assert fired(pack, PROD_RULE, prod) == {"mandatory"}


def test_the_prod_rule_reads_the_environment_from_its_config_and_never_guesses() -> None:
    staging = of_types("aws-staging", *PROD_ENDPOINT)  # one instance per variant: fine for staging
    with PolicyPackProcess() as pack:
        pack.configure({"all": "mandatory"})
        assert fired(pack, PROD_RULE, staging) == set()
        without_environment = [r for r in staging if r["type"] != COMPONENT]
        assert fired(pack, PROD_RULE, without_environment) == {"mandatory"}  # cannot tell: not a pass
        pack.configure({"all": "mandatory", PROD_RULE: {"enforcementLevel": "mandatory", "environment": "prod"}})
        assert "mandatory" in fired(pack, PROD_RULE, staging)


def test_every_model_package_group_has_its_policy(pack) -> None:
    groups = of_types("aws-staging", PACKAGE_GROUP, PACKAGE_POLICY)
    assert fired(pack, "aws-sagemaker-model-package-group-has-policy", groups) == set()
    one_missing = [r for r in groups if r["name"] != "model-store-chat-publishers"]
    assert fired(pack, "aws-sagemaker-model-package-group-has-policy", one_missing) == {"mandatory"}


def test_node_groups_launch_from_an_imdsv2_template_of_the_stack(pack) -> None:
    nodes = of_types("aws-staging", NODE_GROUP, TEMPLATE)
    assert fired(pack, "aws-eks-node-group-template-imdsv2", nodes) == set()
    set_path(next(r for r in nodes if r["type"] == TEMPLATE), "metadataOptions.httpTokens", "optional")
    assert fired(pack, "aws-eks-node-group-template-imdsv2", nodes) == {"mandatory"}
    no_templates = [r for r in nodes if r["type"] != TEMPLATE]
    assert fired(pack, "aws-eks-node-group-template-imdsv2", no_templates) == {"mandatory"}


def test_node_role_holds_only_the_worker_policies(pack) -> None:
    roles = [
        r
        for r in of_types("aws-staging", ROLE, ATTACHMENT)
        if r["name"].startswith("cluster-node-") or r["name"] == "aws-staging-cluster-nodes"
    ]
    assert fired(pack, "aws-iam-eks-node-role-managed-policies", roles) == set()
    extra = copy.deepcopy(next(r for r in roles if r["type"] == ATTACHMENT))
    extra["urn"] += "-extra"
    set_path(extra, "policyArn", "arn:aws:iam::aws:policy/AmazonS3FullAccess")
    assert fired(pack, "aws-iam-eks-node-role-managed-policies", [*roles, extra]) == {"mandatory"}


def test_unknown_key_arn_is_present_and_passes(pack) -> None:
    # At preview the key's ARN is unknown: the rule checks presence, so it neither fails nor downgrades.
    repo = resource(REPO, stack="aws-prod")
    assert repo["inputs"]["encryptionConfigurations"][0]["kmsKey"] == UNKNOWN
    assert pack.analyze([repo]) == []


@pytest.mark.parametrize(
    ("rule", "rtype", "path"),
    [
        ("aws-kms-key-rotation", KEY, "enableKeyRotation"),
        ("aws-ecr-immutable-tags", REPO, "imageTagMutability"),
        ("aws-ecr-customer-managed-key", REPO, "encryptionConfigurations[0].encryptionType"),
    ],
)
def test_unknown_value_keeps_a_mandatory_rule_mandatory(pack, rule, rtype, path) -> None:
    unknown = set_path(resource(rtype, stack="aws-prod"), path, UNKNOWN)
    found = [v for v in pack.analyze([unknown]) if v.policy == rule]
    assert [v.level for v in found] == ["mandatory"]
    assert "during preview" not in found[0].message  # not the SDK's downgraded "can't run" note


def test_every_aws_rule_is_exercised_here(pack) -> None:
    names = {p.name for p in pack.info().policies}
    exercised = {c[0] for c in CASES} | {
        "aws-s3-bucket-baseline",
        "aws-sagemaker-endpoint-alarms-exist",
        PROD_RULE,
        "aws-sagemaker-model-package-group-has-policy",
        "aws-eks-node-group-template-imdsv2",
        "aws-iam-eks-node-role-managed-policies",
    }
    assert {n for n in names if n.startswith("aws-")} - exercised == set()


def test_what_the_pack_restates_from_the_program_is_equal_to_it() -> None:
    assert set(cluster.NODE_POLICIES) == iam_rules.NODE_POLICIES
    assert set(cluster.LOG_TYPES) == cluster_rules.LOG_TYPES
    assert sagemaker_rules.ROUTING == endpoint.ROUTING
