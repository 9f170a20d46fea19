"""The model store: an artifact bucket and, per endpoint, a SageMaker model package group."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.clouds.aws.iam import document, partition
from infra.clouds.options import child, stateful

# Principals carrying this tag (value: the stack's name) may register model versions; the ML
# pipeline's role is tagged so, nothing else writes to a stack's model package groups.
PUBLISHER_TAG = "ml-serving-publisher"
PACKAGE_WRITES = ["sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage", "sagemaker:DeleteModelPackage"]


@dataclass(frozen=True)
class ModelStoreArgs:
    """The bucket's logical name (Pulumi autonames it `<logical>-<7 hex>`; bucket names are global),
    one model package group name per endpoint, the key that encrypts objects, and whether both
    are protected. `stack` is the publisher tag's value."""

    stack: str
    region: str
    protect: bool
    bucket_logical_name: str
    package_groups: dict[str, str]  # endpoint -> model package group name
    key_arn: pulumi.Input[str]


class ModelStore(pulumi.ComponentResource):
    """`ml-serving:aws:ModelStore`: the artifact bucket with its guards, and per endpoint a model
    package group that only the stack's publishers write to.

    Outputs: `bucket_name` and `package_group_names` (endpoint -> group name).
    """

    bucket_name: pulumi.Output[str]
    package_group_names: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: ModelStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:aws:ModelStore", name, None, opts)
        # No fixed name: bucket names are global, the autoname's suffix keeps every clone's apart.
        bucket = aws.s3.Bucket(
            args.bucket_logical_name, force_destroy=not args.protect, opts=stateful(args.protect, self)
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.bucket,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child(self),
        )
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.bucket,
            versioning_configuration={"status": "Enabled"},
            opts=child(self),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.bucket,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": args.key_arn,
                    },
                    # One data key per bucket instead of a KMS call per object.
                    "bucket_key_enabled": True,
                }
            ],
            opts=child(self),
        )
        # The bucket's name is an autoname, known to the engine at preview (and the ARN built
        # from it); the bucket's `arn` output would not be known until the bucket exists.
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=bucket.bucket,
            policy=bucket.bucket.apply(lambda bucket_name: _tls_only(args.region, bucket_name)),
            opts=child(self),
        )
        self.package_group_names = {}
        for endpoint, group_name in args.package_groups.items():
            group = aws.sagemaker.ModelPackageGroup(
                f"{name}-{endpoint}-packages",
                model_package_group_name=group_name,
                model_package_group_description=f"ml-serving {args.stack}: versions of {endpoint}",
                opts=stateful(args.protect, self),
            )
            aws.sagemaker.ModelPackageGroupPolicy(
                f"{name}-{endpoint}-publishers",
                model_package_group_name=group.model_package_group_name,
                resource_policy=group.arn.apply(lambda group_arn: _publishers_only(args.stack, group_arn)),
                opts=child(self),
            )
            self.package_group_names[endpoint] = group.model_package_group_name
        self.bucket_name = bucket.bucket
        self.register_outputs({"bucket_name": self.bucket_name, "package_group_names": self.package_group_names})


def _tls_only(region: str, bucket: str) -> str:
    bucket_arn = f"arn:{partition(region)}:s3:::{bucket}"
    return document(
        [
            {
                "Sid": "DenyPlainHttp",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    )


def _publishers_only(stack: str, group_arn: str) -> str:
    packages = group_arn.replace(":model-package-group/", ":model-package/", 1) + "/*"
    return document(
        [
            {
                "Sid": "OnlyPublishersWriteVersions",
                "Effect": "Deny",
                "Principal": "*",
                "Action": PACKAGE_WRITES,
                "Resource": [group_arn, packages],
                "Condition": {"StringNotEquals": {f"aws:PrincipalTag/{PUBLISHER_TAG}": stack}},
            }
        ]
    )
