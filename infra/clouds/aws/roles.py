"""Execution roles of a SageMaker endpoint's models: one per model version, reading only its own
artifact, pulling only its image and writing only its endpoint's logs (and capture)."""

from __future__ import annotations

import re

import pulumi
import pulumi_aws as aws

from infra.clouds.aws import iam
from infra.clouds.aws.endpoint_args import CAPTURE_PREFIX, ManagedEndpointArgs
from infra.clouds.options import renamed
from infra.plan import ModelPlan

# Instance metrics SageMaker publishes with the execution role.
INSTANCE_METRICS = "/aws/sagemaker/Endpoints"
ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/(?P<repo>[^:@]+)"
)


def execution_role(
    parent: pulumi.Resource, name: str, args: ManagedEndpointArgs, model: ModelPlan
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """The model's role and its one inline policy, named by the naming layer (autonamed: the
    provider appends its suffix), with aliases to their former names `<name>-<model>-role|access`."""
    role_name = args.names("iam_role", args.endpoint.name, model.name)
    role = iam.role(role_name, "sagemaker.amazonaws.com", renamed(parent, f"{name}-{model.name}-role", role_name))
    access_name = args.names("iam_role_policy", args.endpoint.name, model.name)
    access = aws.iam.RolePolicy(
        access_name,
        role=role.id,
        policy=iam.document(statements(args, model)),
        opts=renamed(parent, f"{name}-{model.name}-access", access_name),
    )
    return role, access


def statements(args: ManagedEndpointArgs, model: ModelPlan) -> list[iam.Statement]:
    """The model's identity policy, built only from values known at preview."""
    region = args.region
    bucket = args.bucket_pattern
    if "://" in model.artifact:
        bucket, _, key = model.artifact.split("://", 1)[1].partition("/")
    else:
        key = model.artifact
    # The directory the artifact sits in (or the object itself when it has none).
    prefix = key.rsplit("/", 1)[0] + "/*" if "/" in key else key
    log_group = iam.arn(region, "logs", f"log-group:{args.log_group_name}")
    key_actions = ["kms:Decrypt"]
    found: list[iam.Statement] = [
        {
            "Sid": "ReadOwnArtifact",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:{iam.partition(region)}:s3:::{bucket}/{prefix}",
        },
        {
            "Sid": "PullImage",
            "Effect": "Allow",
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
            "Resource": repository_arn(args, model),
        },
        {
            # AWS-required exception: GetAuthorizationToken has no resource to scope to; the
            # token alone reads nothing without the repository permission above.
            "Sid": "RegistryToken",
            "Effect": "Allow",
            "Action": "ecr:GetAuthorizationToken",
            "Resource": "*",
        },
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": [log_group, f"{log_group}:log-stream:*"],
        },
        {
            # AWS-required exception: PutMetricData has no resources; the namespace condition scopes it.
            "Sid": "WriteInstanceMetrics",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": INSTANCE_METRICS}},
        },
        {
            # SageMaker attaches the model's network interfaces in our subnets with this role.
            "Sid": "AttachToPrivateSubnets",
            "Effect": "Allow",
            "Action": [
                "ec2:CreateNetworkInterface",
                "ec2:CreateNetworkInterfacePermission",
                "ec2:DeleteNetworkInterface",
                "ec2:DeleteNetworkInterfacePermission",
            ],
            "Resource": [
                iam.arn(region, "ec2", "network-interface/*"),
                iam.arn(region, "ec2", "subnet/*"),
                iam.arn(region, "ec2", "security-group/*"),
            ],
        },
        {
            # AWS-required exception: EC2 Describe calls support no resource-level permissions.
            "Sid": "DescribeNetwork",
            "Effect": "Allow",
            "Action": [
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeVpcs",
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
            ],
            "Resource": "*",
        },
    ]
    if args.data_capture_percent is not None:
        found.append(
            {
                "Sid": "WriteOwnCapture",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": f"arn:{iam.partition(region)}:s3:::{args.bucket_pattern}/"
                f"{CAPTURE_PREFIX}/{args.endpoint.name}/*",
            }
        )
        key_actions += ["kms:GenerateDataKey", "kms:Encrypt"]
    found.append({"Sid": "UseStackKey", **iam.key_usage(region, args.key_alias, key_actions)})
    return found


def repository_arn(args: ManagedEndpointArgs, model: ModelPlan) -> str:
    """The repository the model's image comes from: this stack's, or the ECR image's own."""
    if model.image is None:
        return iam.arn(args.region, "ecr", f"repository/{args.repository_name}")
    found = ECR_IMAGE.match(model.image)
    assert found is not None  # the spec admits only ECR images for managed endpoints
    region = found["region"]
    return f"arn:{iam.partition(region)}:ecr:{region}:{found['account']}:repository/{found['repo']}"
