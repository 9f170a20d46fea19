"""Physical names: every derived name fits its API, for any stack name `pulumi stack init` accepts.

AWS names are validated against botocore's service models and GCP names against Google's discovery
documents where they state a rule (the same validators as the API-model tests), with the
provider's autoname suffix where the provider adds one; every cloud's names are held to the
documented pattern and bounds in `naming.yaml` (Azure's management models state no name rules).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.naming import AUTONAME_SUFFIX_LENGTH, STACK_NAME, name_rules, physical_name
from tests.aws.test_api_model import AUTONAME_SUFFIX, model, validate
from tests.gcp import test_api_model as gcp

# AWS kind -> (service, input shape, member) whose botocore shape constrains the name.
BOTOCORE = {
    "sagemaker_endpoint": ("sagemaker", "CreateEndpointInput", "EndpointName"),
    "sagemaker_endpoint_config": ("sagemaker", "CreateEndpointConfigInput", "EndpointConfigName"),
    "sagemaker_model": ("sagemaker", "CreateModelInput", "ModelName"),
    "sagemaker_model_package_group": ("sagemaker", "CreateModelPackageGroupInput", "ModelPackageGroupName"),
    "iam_role": ("iam", "CreateRoleRequest", "RoleName"),
    "iam_role_policy": ("iam", "PutRolePolicyRequest", "PolicyName"),
    "iam_policy": ("iam", "CreatePolicyRequest", "PolicyName"),
    "ecr_repository": ("ecr", "CreateRepositoryRequest", "repositoryName"),
    "sagemaker_log_group": ("logs", "CreateLogGroupRequest", "logGroupName"),
    "eks_log_group": ("logs", "CreateLogGroupRequest", "logGroupName"),
    "cloudwatch_alarm": ("cloudwatch", "PutMetricAlarmInput", "AlarmName"),
    "eks_cluster": ("eks", "CreateClusterRequest", "name"),
    "appautoscaling_policy": ("application-autoscaling", "PutScalingPolicyRequest", "PolicyName"),
    "kms_alias": ("kms", "CreateAliasRequest", "AliasName"),
}
# GCP kind -> where Google's discovery document states its rule: (API, schema, field) as a `pattern`
# or in the field's description, or (API, method, URL parameter).
DISCOVERY = {
    "compute_network": ("compute.v1", "Network", "name"),
    "compute_subnetwork": ("compute.v1", "Subnetwork", "name"),
    "service_account_id": ("iam.v1", "CreateServiceAccountRequest", "accountId"),
    "gke_cluster": ("container.v1", "Cluster", "name"),
    "bigquery_dataset": ("bigquery.v2", "DatasetReference", "datasetId"),
    "vertex_display_name": ("aiplatform.v1", "GoogleCloudAiplatformV1Endpoint", "displayName"),
    "kms_key_ring": ("cloudkms.v1", "cloudkms.projects.locations.keyRings.create", "keyRingId"),
    "kms_crypto_key": ("cloudkms.v1", "cloudkms.projects.locations.keyRings.cryptoKeys.create", "cryptoKeyId"),
}
KINDS = [(cloud, kind) for cloud, kinds in name_rules().items() for kind in kinds]

stacks = st.one_of(
    st.from_regex(r"[A-Za-z0-9_.-]{1,100}", fullmatch=True),
    # At and around every length bound a rule has, in the characters most likely to need cleaning.
    st.integers(1, 100).flatmap(lambda n: st.text(alphabet="Ab_.-9", min_size=n, max_size=n)),
).filter(STACK_NAME.match)
spec_names = st.from_regex(r"[a-z]([a-z0-9-]{0,30}[a-z0-9])?", fullmatch=True)
qualifiers = st.sampled_from(["role", "access", "5xx-rate", "p95-latency", "live-1", "system", "gpu-chat"])
parts = st.lists(st.one_of(spec_names, qualifiers), min_size=0, max_size=3)


def physical(cloud: str, kind: str, name: str) -> str:
    """The name the API finally sees: ours, plus the provider's suffix for an autonamed kind."""
    return name + AUTONAME_SUFFIX if name_rules()[cloud][kind].autoname else name


def problems(cloud: str, kind: str, name: str) -> list[str]:
    rule = name_rules()[cloud][kind]
    final = physical(cloud, kind, name)
    found = []
    if not rule.min <= len(final) <= rule.max:
        found.append(f"{kind}: {final!r} has {len(final)} characters, {rule.min}..{rule.max} allowed")
    if not re.match(rule.pattern, final):
        found.append(f"{kind}: {final!r} does not match {rule.pattern}")
    if cloud == "aws" and kind in BOTOCORE:
        service, shape, member = BOTOCORE[kind]
        found += validate(final, model(service).shape_for(shape).members[member], kind)
    if cloud == "gcp" and kind in DISCOVERY:
        api, where, member = DISCOVERY[kind]
        schemas = gcp.document(api)["schemas"]
        schema = schemas[where]["properties"][member] if where in schemas else gcp.parameter(api, where, member)
        found += gcp.validate(final, schema, api, kind)
    return found


@pytest.mark.parametrize(("cloud", "kind"), KINDS)
@settings(max_examples=60, deadline=None)
@given(stack=stacks, extra=parts)
def test_every_derived_name_fits_its_api(cloud: str, kind: str, stack: str, extra: list[str]) -> None:
    name = physical_name(cloud, kind, stack, *extra)
    assert problems(cloud, kind, name) == []
    assert physical_name(cloud, kind, stack, *extra) == name  # stable from run to run


@settings(max_examples=200, deadline=None)
@given(stack=stacks, first=st.tuples(spec_names, spec_names), second=st.tuples(spec_names, spec_names))
def test_distinct_parts_in_one_stack_never_share_a_name(
    stack: str, first: tuple[str, str], second: tuple[str, str]
) -> None:
    for cloud, kind in KINDS:
        if first != second and not name_rules()[cloud][kind].inner:
            assert physical_name(cloud, kind, stack, *first) != physical_name(cloud, kind, stack, *second), kind


@pytest.mark.parametrize(
    ("stack", "endpoint"),
    [
        ("aws_bug05", "intent"),  # `_` refused by SageMaker and S3
        ("aws-recommendations-platform-eu-prod", "conversational-assistant-large"),  # 67 characters
        ("AWS.Prod", "chat"),  # upper case and `.`
        ("x" * 100, "e" * 32),  # the longest stack and endpoint names
    ],
)
def test_the_reported_names_now_fit(stack: str, endpoint: str) -> None:
    for kind in ("sagemaker_endpoint", "sagemaker_model_package_group", "sagemaker_log_group", "cloudwatch_alarm"):
        assert problems("aws", kind, physical_name("aws", kind, stack, endpoint)) == []
    for kind in ("iam_role", "sagemaker_model", "s3_bucket"):
        assert problems("aws", kind, physical_name("aws", kind, stack, endpoint, "m" * 32)) == []


def test_a_name_that_fits_is_kept_as_it_reads() -> None:
    """The shipped stacks' names do not change: a live endpoint or repository is never renamed."""
    assert physical_name("aws", "sagemaker_endpoint", "aws-prod", "chat") == "aws-prod-chat"
    assert physical_name("aws", "sagemaker_log_group", "aws-prod", "chat") == "/aws/sagemaker/Endpoints/aws-prod-chat"
    assert physical_name("aws", "ecr_repository", "aws-prod", "serving") == "ml-serving/aws-prod/serving"
    assert physical_name("aws", "eks_cluster", "aws-staging") == "ml-serving-aws-staging"
    assert physical_name("aws", "kms_alias", "aws-dev") == "alias/ml-serving/aws-dev"


def test_a_shortened_name_keeps_every_part_readable_and_a_stable_hash() -> None:
    stack = "aws-recommendations-platform-eu-prod"
    name = physical_name("aws", "sagemaker_endpoint", stack, "conversational-assistant-large")
    assert len(name) == 63 and name.startswith("aws-recommendations") and "-conversational" in name
    assert re.search(r"-[0-9a-f]{6}$", name)
    other = physical_name("aws", "sagemaker_endpoint", stack, "conversational-assistant-larger")
    assert other != name


def test_cleaning_that_merges_two_stack_names_is_told_apart_by_the_hash() -> None:
    assert physical_name("aws", "sagemaker_endpoint", "aws_dev", "chat") != physical_name(
        "aws", "sagemaker_endpoint", "aws-dev", "chat"
    )


def test_an_autonamed_kind_leaves_room_for_the_providers_suffix() -> None:
    name = physical_name("aws", "s3_bucket", "b" * 49, "models")
    assert len(name) == 63 - AUTONAME_SUFFIX_LENGTH


def test_a_name_that_must_start_with_a_letter_does() -> None:
    assert physical_name("gcp", "service_account_id", "1", "x")[0].isalpha()
    assert re.fullmatch(r"[a-z][a-z0-9]{0,11}", physical_name("azure", "aks_agent_pool", "9-prod", "gpu-chat"))


def test_the_documents_state_a_rule_for_every_gcp_kind_mapped_to_them() -> None:
    """A mapping whose field states no rule would check nothing: each states a pattern or a bound."""
    for kind, (api, where, member) in DISCOVERY.items():
        schemas = gcp.document(api)["schemas"]
        schema = schemas[where]["properties"][member] if where in schemas else gcp.parameter(api, where, member)
        node = gcp.node(schema, api)
        assert node.pattern or node.max_length, kind


def test_every_rule_cites_its_source() -> None:
    for cloud, kind in KINDS:
        rule = name_rules()[cloud][kind]
        assert rule.source.strip(), f"{cloud} {kind}"
        assert rule.budget > 0, f"{cloud} {kind}: fixed text leaves no room"


def test_a_stack_name_pulumi_refuses_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a Pulumi stack name"):
        physical_name("aws", "sagemaker_endpoint", "has space", "chat")
