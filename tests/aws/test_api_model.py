"""Every value the AWS stacks pass to the AWS API, checked against botocore's service models.

The mocks accept any string; the API does not. Each resource the real program registered is
turned into the API request(s) the provider sends, mapping Pulumi's camelCase inputs to the API's
members explicitly, and the request is validated against the service model's shapes: enums,
patterns, lengths, numeric bounds, and unknown members. Constraints the models only document in
prose (shadow variants, canary sizes, log retention values, statistics) are checked beside them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from typing import Any

import botocore.session
import pytest
from botocore.model import Shape

from infra.engine.mockrun import UNKNOWN
from tests import api_check
from tests.api_check import Kind, Node, check, set_at
from tests.conftest import preview_of

AWS_STACKS = ["aws-dev", "aws-staging", "aws-prod"]
AUTONAME_SUFFIX = "-0a1b2c3"  # what Pulumi appends to a logical name: a dash and seven hex digits
Request = tuple[str, str, dict[str, Any]]  # (service, input shape, request)


@cache
def model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


KINDS: dict[str, Kind] = {
    "structure": "object",
    "list": "list",
    "map": "map",
    "string": "string",
    "integer": "integer",
    "long": "integer",
    "double": "number",
    "float": "number",
    "boolean": "boolean",
}


def node(shape: Shape) -> Node:
    """A botocore shape as the shared checker's `Node` (its enum, pattern and bounds included)."""
    meta = shape.metadata
    kind = KINDS.get(shape.type_name, "any")
    members = getattr(shape, "members", {})
    string = kind == "string"
    return Node(
        kind,
        shape.name,
        members=(lambda _body: (shape.name, {k: node(m) for k, m in members.items()})) if kind == "object" else None,
        item=(lambda: node(shape.member if kind == "list" else shape.value)) if kind in ("list", "map") else None,
        key=(lambda: node(shape.key)) if kind == "map" else None,
        enum=frozenset(shape.enum) if string and shape.enum else None,
        pattern=meta.get("pattern") if string else None,
        whole=True,
        min_length=meta.get("min") if kind in ("string", "list", "map") else None,
        max_length=meta.get("max") if kind in ("string", "list", "map") else None,
        minimum=meta.get("min") if kind in ("integer", "number") else None,
        maximum=meta.get("max") if kind in ("integer", "number") else None,
    )


def validate(value: Any, shape: Shape, where: str) -> list[str]:
    """Problems with `value` as an instance of `shape`; unknown (preview) values are skipped."""
    return check(value, node(shape), where)


class Inputs(api_check.Inputs):
    def autoname(self) -> str:
        """The name Pulumi generates for this resource when the program gives none."""
        return self.resource["name"] + AUTONAME_SUFFIX


def pascal(value: Any) -> Any:
    """Pulumi's camelCase keys as an API's PascalCase members (structures only, never maps)."""
    if isinstance(value, dict):
        return {k[:1].upper() + k[1:]: pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [pascal(v) for v in value]
    return value


def flag(value: Any) -> Any:
    """The EC2 provider takes some booleans as the strings "true"/"false"; the API takes booleans."""
    return {"true": True, "false": False}.get(value, value) if isinstance(value, str) else value


def _kms_key(i: Inputs) -> list[Request]:
    requests: list[Request] = [
        ("kms", "CreateKeyRequest", {"Description": i("description")}),
        ("kms", "ScheduleKeyDeletionRequest", {"KeyId": "k", "PendingWindowInDays": i("deletionWindowInDays")}),
    ]
    if i("enableKeyRotation") is True:
        requests.append(("kms", "EnableKeyRotationRequest", {"KeyId": "k"}))
    return requests


def _security_group_rule(direction: str) -> Callable[[Inputs], list[Request]]:
    def adapt(i: Inputs) -> list[Request]:
        permission: dict[str, Any] = {"IpProtocol": i("ipProtocol"), "FromPort": i("fromPort"), "ToPort": i("toPort")}
        if i("cidrIpv4") is not None:
            permission["IpRanges"] = [{"CidrIp": i("cidrIpv4"), "Description": i("description")}]
        if i("prefixListId") is not None:
            permission["PrefixListIds"] = [{"PrefixListId": i("prefixListId"), "Description": i("description")}]
        request = {"GroupId": i("securityGroupId"), "IpPermissions": [permission]}
        return [("ec2", f"AuthorizeSecurityGroup{direction}Request", request)]

    return adapt


def _metric_query(query: dict[str, Any]) -> dict[str, Any]:
    api = {k: v for k, v in {"Id": query.get("id"), "Expression": query.get("expression")}.items() if v is not None}
    api["ReturnData"] = query.get("returnData")
    if "metric" in query:
        metric = query["metric"]
        api["MetricStat"] = {
            "Metric": {
                "Namespace": metric["namespace"],
                "MetricName": metric["metricName"],
                "Dimensions": [{"Name": k, "Value": v} for k, v in metric.get("dimensions", {}).items()],
            },
            "Period": metric["period"],
            "Stat": metric["stat"],
        }
    return api


def _launch_template(i: Inputs) -> list[Request]:
    mappings = [
        {**pascal(m), "Ebs": {k: flag(v) for k, v in pascal(m["ebs"]).items()}} for m in i("blockDeviceMappings", [])
    ]
    data = {"MetadataOptions": pascal(i("metadataOptions")), "BlockDeviceMappings": mappings}
    request = {"LaunchTemplateName": i.autoname(), "VersionDescription": i("description"), "LaunchTemplateData": data}
    return [("ec2", "CreateLaunchTemplateRequest", request)]


def _node_group(i: Inputs) -> list[Request]:
    request = {
        "clusterName": i("clusterName"),
        "nodegroupName": i.autoname(),
        "nodeRole": i("nodeRoleArn"),
        "subnets": i("subnetIds"),
        "instanceTypes": i("instanceTypes"),
        "amiType": i("amiType"),
        "capacityType": i("capacityType"),
        "scalingConfig": i("scalingConfig"),
        "labels": i("labels"),
        "taints": i("taints"),
        "launchTemplate": i("launchTemplate"),
        "updateConfig": i("updateConfig"),
    }
    instance_types = [("ec2", "RequestLaunchTemplateData", {"InstanceType": t}) for t in request["instanceTypes"]]
    return [("eks", "CreateNodegroupRequest", request), *instance_types]


# Pulumi type -> the API request(s) its inputs become. Keys a type does not send are listed in PROVIDER_ONLY.
ADAPTERS: dict[str, Callable[[Inputs], list[Request]]] = {
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": lambda i: [
        ("kms", "CreateAliasRequest", {"AliasName": i("name"), "TargetKeyId": i("targetKeyId")})
    ],
    "aws:kms/keyPolicy:KeyPolicy": lambda i: [
        ("kms", "PutKeyPolicyRequest", {"KeyId": i("keyId"), "Policy": i("policy")})
    ],
    "aws:ecr/repository:Repository": lambda i: [
        (
            "ecr",
            "CreateRepositoryRequest",
            {
                "repositoryName": i("name"),
                "imageTagMutability": i("imageTagMutability"),
                "imageScanningConfiguration": i("imageScanningConfiguration"),
                "encryptionConfiguration": (i("encryptionConfigurations") or [None])[0],
            },
        )
    ],
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": lambda i: [
        ("ecr", "PutLifecyclePolicyRequest", {"repositoryName": i("repository"), "lifecyclePolicyText": i("policy")})
    ],
    "aws:ec2/vpc:Vpc": lambda i: [
        ("ec2", "CreateVpcRequest", {"CidrBlock": i("cidrBlock")}),
        ("ec2", "ModifyVpcAttributeRequest", {"VpcId": "v", "EnableDnsSupport": {"Value": i("enableDnsSupport")}}),
        ("ec2", "ModifyVpcAttributeRequest", {"VpcId": "v", "EnableDnsHostnames": {"Value": i("enableDnsHostnames")}}),
    ],
    "aws:ec2/subnet:Subnet": lambda i: [
        (
            "ec2",
            "CreateSubnetRequest",
            {"VpcId": i("vpcId"), "CidrBlock": i("cidrBlock"), "AvailabilityZone": i("availabilityZone")},
        ),
        (
            "ec2",
            "ModifySubnetAttributeRequest",
            {"SubnetId": "s", "MapPublicIpOnLaunch": {"Value": i("mapPublicIpOnLaunch")}},
        ),
    ],
    "aws:ec2/routeTable:RouteTable": lambda i: [("ec2", "CreateRouteTableRequest", {"VpcId": i("vpcId")})],
    "aws:ec2/routeTableAssociation:RouteTableAssociation": lambda i: [
        ("ec2", "AssociateRouteTableRequest", {"SubnetId": i("subnetId"), "RouteTableId": i("routeTableId")})
    ],
    "aws:ec2/vpcEndpoint:VpcEndpoint": lambda i: [
        (
            "ec2",
            "CreateVpcEndpointRequest",
            pascal(
                {
                    k: i(k)
                    for k in (
                        "vpcId",
                        "serviceName",
                        "vpcEndpointType",
                        "routeTableIds",
                        "subnetIds",
                        "securityGroupIds",
                        "privateDnsEnabled",
                    )
                    if i(k) is not None
                }
            ),
        )
    ],
    "aws:ec2/securityGroup:SecurityGroup": lambda i: [
        (
            "ec2",
            "CreateSecurityGroupRequest",
            {"GroupName": i.autoname(), "Description": i("description"), "VpcId": i("vpcId")},
        )
    ],
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _security_group_rule("Ingress"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _security_group_rule("Egress"),
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template,
    "aws:s3/bucket:Bucket": lambda i: [("s3", "CreateBucketRequest", {"Bucket": i.autoname()})],
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": lambda i: [
        (
            "s3",
            "PutPublicAccessBlockRequest",
            {
                "Bucket": i("bucket"),
                "PublicAccessBlockConfiguration": pascal(
                    {
                        k: i(k)
                        for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
                    }
                ),
            },
        )
    ],
    "aws:s3/bucketVersioning:BucketVersioning": lambda i: [
        (
            "s3",
            "PutBucketVersioningRequest",
            {"Bucket": i("bucket"), "VersioningConfiguration": pascal(i("versioningConfiguration"))},
        )
    ],
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": lambda i: [
        (
            "s3",
            "PutBucketEncryptionRequest",
            {
                "Bucket": i("bucket"),
                "ServerSideEncryptionConfiguration": {
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": {
                                "SSEAlgorithm": r["applyServerSideEncryptionByDefault"]["sseAlgorithm"],
                                "KMSMasterKeyID": r["applyServerSideEncryptionByDefault"].get("kmsMasterKeyId"),
                            },
                            "BucketKeyEnabled": r.get("bucketKeyEnabled"),
                        }
                        for r in i("rules")
                    ]
                },
            },
        )
    ],
    "aws:s3/bucketPolicy:BucketPolicy": lambda i: [
        ("s3", "PutBucketPolicyRequest", {"Bucket": i("bucket"), "Policy": i("policy")})
    ],
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": lambda i: [
        (
            "sagemaker",
            "CreateModelPackageGroupInput",
            pascal({k: i(k) for k in ("modelPackageGroupName", "modelPackageGroupDescription")}),
        )
    ],
    "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy": lambda i: [
        (
            "sagemaker",
            "PutModelPackageGroupPolicyInput",
            pascal({k: i(k) for k in ("modelPackageGroupName", "resourcePolicy")}),
        )
    ],
    "aws:sagemaker/model:Model": lambda i: [
        (
            "sagemaker",
            "CreateModelInput",
            {
                "ModelName": i.autoname(),
                **pascal(
                    {k: i(k) for k in ("executionRoleArn", "primaryContainer", "vpcConfig", "enableNetworkIsolation")}
                ),
            },
        )
    ],
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": lambda i: [
        (
            "sagemaker",
            "CreateEndpointConfigInput",
            {
                "EndpointConfigName": i.autoname(),
                "KmsKeyId": i("kmsKeyArn"),
                **pascal({k: i(k) for k in ("productionVariants", "shadowProductionVariants", "dataCaptureConfig")}),
            },
        )
    ],
    "aws:sagemaker/endpoint:Endpoint": lambda i: [
        (
            "sagemaker",
            "CreateEndpointInput",
            {
                "EndpointName": i("name"),
                "EndpointConfigName": i("endpointConfigName"),
                "DeploymentConfig": pascal(i("deploymentConfig")),
            },
        )
    ],
    "aws:iam/role:Role": lambda i: [
        ("iam", "CreateRoleRequest", {"RoleName": i.autoname(), "AssumeRolePolicyDocument": i("assumeRolePolicy")})
    ],
    "aws:iam/rolePolicy:RolePolicy": lambda i: [
        (
            "iam",
            "PutRolePolicyRequest",
            {
                "RoleName": "r" if i("role") == UNKNOWN else i("role"),
                "PolicyName": i.autoname(),
                "PolicyDocument": i("policy"),
            },
        )
    ],
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": lambda i: [
        (
            "iam",
            "AttachRolePolicyRequest",
            {"RoleName": "r" if i("role") == UNKNOWN else i("role"), "PolicyArn": i("policyArn")},
        )
    ],
    "aws:cloudwatch/logGroup:LogGroup": lambda i: [
        ("logs", "CreateLogGroupRequest", {"logGroupName": i("name"), "kmsKeyId": i("kmsKeyId")}),
        ("logs", "PutRetentionPolicyRequest", {"logGroupName": i("name"), "retentionInDays": i("retentionInDays")}),
    ],
    "aws:cloudwatch/metricAlarm:MetricAlarm": lambda i: [
        (
            "cloudwatch",
            "PutMetricAlarmInput",
            {
                "AlarmName": i("name"),
                "Metrics": [_metric_query(q) for q in i("metricQueries", [])],
                **pascal(
                    {
                        k: i(k)
                        for k in (
                            "alarmDescription",
                            "comparisonOperator",
                            "threshold",
                            "evaluationPeriods",
                            "datapointsToAlarm",
                            "treatMissingData",
                        )
                    }
                ),
            },
        )
    ],
    "aws:appautoscaling/target:Target": lambda i: [
        (
            "application-autoscaling",
            "RegisterScalableTargetRequest",
            pascal(
                {k: i(k) for k in ("serviceNamespace", "resourceId", "scalableDimension", "minCapacity", "maxCapacity")}
            ),
        )
    ],
    "aws:appautoscaling/policy:Policy": lambda i: [
        (
            "application-autoscaling",
            "PutScalingPolicyRequest",
            {
                "PolicyName": i.autoname(),
                **pascal(
                    {
                        k: i(k)
                        for k in (
                            "policyType",
                            "serviceNamespace",
                            "resourceId",
                            "scalableDimension",
                            "targetTrackingScalingPolicyConfiguration",
                        )
                    }
                ),
            },
        )
    ],
    "aws:eks/cluster:Cluster": lambda i: [
        (
            "eks",
            "CreateClusterRequest",
            {
                "name": i("name"),
                "version": i("version"),
                "roleArn": i("roleArn"),
                "resourcesVpcConfig": i("vpcConfig"),
                "encryptionConfig": [i("encryptionConfig")],
                "logging": {"clusterLogging": [{"types": i("enabledClusterLogTypes"), "enabled": True}]},
                "accessConfig": i("accessConfig"),
                "deletionProtection": i("deletionProtection"),
                "upgradePolicy": i("upgradePolicy"),
            },
        )
    ],
    "aws:eks/nodeGroup:NodeGroup": _node_group,
    "aws:eks/addon:Addon": lambda i: [
        (
            "eks",
            "CreateAddonRequest",
            {
                "clusterName": i("clusterName"),
                "addonName": i("addonName"),
                "configurationValues": i("configurationValues"),
                # The provider sends it on UpdateAddon; the enum is the same.
                "resolveConflicts": i("resolveConflictsOnUpdate"),
            },
        )
    ],
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": lambda i: [
        (
            "eks",
            "CreatePodIdentityAssociationRequest",
            {
                "clusterName": i("clusterName"),
                "namespace": i("namespace"),
                "serviceAccount": i("serviceAccount"),
                "roleArn": i("roleArn"),
            },
        )
    ],
}
# Inputs the provider keeps to itself (or sends as tags): they reach no API field to validate.
PROVIDER_ONLY = {"tags", "forceDelete", "forceDestroy"}


def requests_of(resources: list[dict[str, Any]]) -> list[tuple[str, Request]]:
    """(resource name, request) for every `aws:` resource; fails on an unmapped type or input."""
    found: list[tuple[str, Request]] = []
    for resource in resources:
        if not resource["custom"] or not resource["type"].startswith("aws:"):
            continue  # components, providers and the Kubernetes objects (tests/kubernetes)
        assert resource["type"] in ADAPTERS, f"{resource['type']} has no API mapping in this test"
        found += [(resource["name"], r) for r in adapt(resource)]
    return found


def adapt(resource: dict[str, Any]) -> list[Request]:
    inputs = Inputs(resource)
    requests = ADAPTERS[resource["type"]](inputs)
    unmapped = set(resource["inputs"]) - inputs.read - PROVIDER_ONLY
    assert not unmapped, f"{resource['type']} {resource['name']}: inputs {sorted(unmapped)} are not mapped to the API"
    return requests


def api_problems(requests: list[tuple[str, Request]]) -> list[str]:
    problems: list[str] = []
    for name, (service, shape, request) in requests:
        problems += validate(request, model(service).shape_for(shape), f"{name} {service}:{shape}")
    return problems


# Constraints the service models state only in prose (each cites where).
LOG_RETENTION_DAYS = {
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
}
TREAT_MISSING = {"breaching", "notBreaching", "ignore", "missing"}
EXTENDED_STATISTIC = re.compile(r"p(\d{1,2}(\.\d{0,2})?|100)")
METRIC_QUERY_ID = re.compile(r"[a-z][a-zA-Z0-9_]*")
LABEL_PART = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
INLINE_POLICY_CHARS = 10_240  # IAM quota: all inline policies of a role together, whitespace excluded


def documented_problems(requests: list[tuple[str, Request]]) -> list[str]:
    problems: list[str] = []
    for name, (service, shape, request) in requests:
        at = f"{name} {service}:{shape}"
        if shape == "CreateEndpointConfigInput":
            # CreateEndpointConfig: "If you use [ShadowProductionVariants], you can only specify one
            # variant for ProductionVariants and one variant for ShadowProductionVariants."
            shadows = request.get("ShadowProductionVariants") or []
            if shadows and (len(shadows) != 1 or len(request["ProductionVariants"]) != 1):
                problems.append(f"{at}: shadow variants need exactly one production and one shadow variant")
        if shape == "CreateEndpointInput":
            # TrafficRoutingConfig: canary "less than or equal to 50%", linear "10-50%" of the variant.
            routing = request["DeploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
            for size, low in (("CanarySize", 1), ("LinearStepSize", 10)):
                step = routing.get(size)
                if step and step["Type"] == "CAPACITY_PERCENT" and not low <= step["Value"] <= 50:
                    problems.append(f"{at}: {size} {step['Value']}% must be {low}..50% of the variant")
        if shape == "PutRetentionPolicyRequest" and request["retentionInDays"] not in LOG_RETENTION_DAYS:
            problems.append(
                f"{at}: retentionInDays {request['retentionInDays']} is not a value CloudWatch Logs accepts"
            )
        if shape == "PutMetricAlarmInput":
            if request.get("TreatMissingData") not in TREAT_MISSING:
                problems.append(
                    f"{at}: TreatMissingData {request.get('TreatMissingData')!r} is not one of {TREAT_MISSING}"
                )
            metrics = request.get("Metrics") or []
            if metrics and sum(bool(m.get("ReturnData")) for m in metrics) != 1:
                problems.append(f"{at}: exactly one metric query must return data")
            for m in metrics:
                if not METRIC_QUERY_ID.fullmatch(m["Id"]):
                    problems.append(f"{at}: metric query id {m['Id']!r} must start with a lowercase letter")
                stat = m.get("MetricStat", {}).get("Stat")
                statistics = model("cloudwatch").shape_for("Statistic").enum
                if stat is not None and stat not in statistics and not EXTENDED_STATISTIC.fullmatch(stat):
                    problems.append(f"{at}: statistic {stat!r} is neither a statistic nor a percentile")
        if shape == "ScheduleKeyDeletionRequest" and not 7 <= request["PendingWindowInDays"] <= 30:
            problems.append(f"{at}: PendingWindowInDays must be 7..30")
        if shape == "CreateAliasRequest" and (
            not request["AliasName"].startswith("alias/") or request["AliasName"].startswith("alias/aws/")
        ):
            problems.append(f"{at}: alias names start with alias/ and never alias/aws/")
        if shape == "CreateBucketRequest" and not BUCKET_NAME.fullmatch(request["Bucket"]):
            problems.append(f"{at}: {request['Bucket']!r} is not a valid bucket name")
        if shape == "PutRolePolicyRequest" and len(re.sub(r"\s", "", request["PolicyDocument"])) > INLINE_POLICY_CHARS:
            problems.append(f"{at}: the inline policy exceeds IAM's {INLINE_POLICY_CHARS} characters per role")
        if shape == "CreateNodegroupRequest":
            for key, value in (request.get("labels") or {}).items():
                prefix, _, label = key.rpartition("/")
                if not LABEL_PART.fullmatch(label) or not LABEL_PART.fullmatch(value) or (prefix and len(prefix) > 253):
                    problems.append(f"{at}: {key}={value} is not a valid Kubernetes label")
        if shape == "CreateLaunchTemplateRequest":
            hops = request["LaunchTemplateData"]["MetadataOptions"]["HttpPutResponseHopLimit"]
            if not 1 <= hops <= 64:
                problems.append(f"{at}: HttpPutResponseHopLimit must be 1..64")
        if shape == "CreateVpcEndpointRequest" and not re.fullmatch(
            r"com\.amazonaws\.[a-z0-9-]+\.[a-z0-9.-]+", request["ServiceName"]
        ):
            problems.append(f"{at}: {request['ServiceName']!r} is not an AWS service endpoint name")
    return problems


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_value_the_stack_sends_is_valid_for_the_aws_api(stack: str) -> None:
    requests = requests_of(preview_of(stack)["resources"])
    assert requests
    assert api_problems(requests) == []
    assert documented_problems(requests) == []


def test_instance_types_are_checked_against_each_api() -> None:
    shapes = {
        shape
        for _, (_, shape, request) in requests_of(preview_of("aws-staging")["resources"])
        if "InstanceType" in json.dumps(request)
    }
    assert {"CreateEndpointConfigInput", "RequestLaunchTemplateData"} <= shapes


def _resource(stack: str, resource_type: str) -> dict[str, Any]:
    """A copy of the resource of the type with the most inputs (for node groups, a GPU pool's, which
    alone carries taints); registration order varies from run to run, so it is not a choice."""
    candidates = [r for r in preview_of(stack)["resources"] if r["type"] == resource_type]
    return json.loads(json.dumps(max(candidates, key=lambda r: (len(r["inputs"]), r["name"]))))


CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
POLICY = "aws:appautoscaling/policy:Policy"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"


BROKEN = [
    # (resource type, mutation, what the API would reject)
    (CONFIG, set_at(["productionVariants", 0, "variantName"], "live_1"), "pattern"),
    (CONFIG, set_at(["productionVariants", 0, "instanceType"], "ml.g6e.xlarge-typo"), "values"),
    (CONFIG, set_at(["productionVariants", 0, "initialVariantWeight"], -1), "outside"),
    (CONFIG, set_at(["dataCaptureConfig", "initialSamplingPercentage"], 101), "outside"),
    (CONFIG, set_at(["dataCaptureConfig", "captureOptions", 0, "captureMode"], "Request"), "values"),
    (
        POLICY,
        set_at(
            ["targetTrackingScalingPolicyConfiguration", "predefinedMetricSpecification", "predefinedMetricType"],
            "SageMakerVariantInvocationPerInstance",
        ),
        "values",
    ),
    (POLICY, set_at(["scalableDimension"], "sagemaker:variant:InstanceCount"), "values"),
    (NODE_GROUP, set_at(["amiType"], "AL2023_x86_64_GPU"), "values"),
    (NODE_GROUP, set_at(["capacityType"], "on-demand"), "values"),
    (NODE_GROUP, set_at(["taints", 0, "effect"], "NoSchedule"), "values"),
    (NODE_GROUP, set_at(["instanceTypes", 0], "g4dn.xlarg"), "values"),
    (ALARM, set_at(["comparisonOperator"], "GreaterThan"), "values"),
    (ALARM, set_at(["metricQueries", 1, "metric", "stat"], "P95"), "percentile"),
    (ALARM, set_at(["treatMissingData"], "not-breaching"), "TreatMissingData"),
    (
        ENDPOINT,
        set_at(["deploymentConfig", "blueGreenUpdatePolicy", "trafficRoutingConfiguration", "type"], "BLUE_GREEN"),
        "values",
    ),
    (
        ENDPOINT,
        set_at(
            ["deploymentConfig", "blueGreenUpdatePolicy", "trafficRoutingConfiguration", "waitIntervalInSeconds"], 7200
        ),
        "outside",
    ),
    (ENDPOINT, set_at(["name"], "aws-staging_chat"), "pattern"),
    ("aws:ecr/repository:Repository", set_at(["imageTagMutability"], "immutable"), "values"),
    ("aws:ecr/repository:Repository", set_at(["encryptionConfigurations", 0, "encryptionType"], "SSE-KMS"), "values"),
    ("aws:ec2/launchTemplate:LaunchTemplate", set_at(["metadataOptions", "httpTokens"], "require"), "values"),
    ("aws:kms/key:Key", set_at(["deletionWindowInDays"], 3), "7..30"),
    ("aws:cloudwatch/logGroup:LogGroup", set_at(["retentionInDays"], 100), "retentionInDays"),
]


@pytest.mark.parametrize(("resource_type", "mutate", "expected"), BROKEN)
def test_a_value_the_api_rejects_fails_here(resource_type: str, mutate: Callable, expected: str) -> None:
    resource = _resource("aws-staging", resource_type)
    mutate(resource["inputs"])
    requests = [(resource["name"], r) for r in adapt(resource)]
    problems = api_problems(requests) + documented_problems(requests)
    assert any(expected in p for p in problems), problems


def test_an_unmapped_input_fails_the_mapping() -> None:
    resource = _resource("aws-staging", CONFIG)
    resource["inputs"]["asyncInferenceConfig"] = {"outputConfig": {}}
    with pytest.raises(AssertionError, match="asyncInferenceConfig"):
        adapt(resource)


def test_a_shadow_beside_two_live_variants_fails_here() -> None:
    resource = _resource("aws-staging", CONFIG)
    resource["inputs"]["shadowProductionVariants"] = [
        {**resource["inputs"]["productionVariants"][0], "variantName": "shadow-1"}
    ]
    requests = [(resource["name"], r) for r in adapt(resource)]
    assert any("shadow variants need exactly one" in p for p in documented_problems(requests))
