"""The model store: an artifact bucket and, per endpoint, a SageMaker model package group."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.clouds.aws.iam import document, partition
from infra.clouds.options import child, stateful
from infra.plan import Plan

# Principals carrying this tag (value: the stack's name) may register model versions; the ML
# pipeline's role is tagged so, nothing else writes to a stack's model package groups.
PUBLISHER_TAG = "ml-serving-publisher"
PACKAGE_WRITES = ["sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage", "sagemaker:DeleteModelPackage"]


def bucket_logical_name(plan: Plan) -> str:
    """Pulumi autonames the bucket `<this>-<7 hex>`: identity policies match `<this>-*`."""
    return f"{plan.stack}-models"


class ModelStore(pulumi.ComponentResource):
    def __init__(self, name: str, plan: Plan, key: aws.kms.Key, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:aws:ModelStore", name, None, opts)
        # No fixed name: bucket names are global, the autoname's suffix keeps every clone's apart.
        self.bucket = aws.s3.Bucket(
            bucket_logical_name(plan), force_destroy=not plan.protect, opts=stateful(plan, self)
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.bucket.bucket,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child(self),
        )
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.bucket,
            versioning_configuration={"status": "Enabled"},
            opts=child(self),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.bucket,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": key.arn,
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
            bucket=self.bucket.bucket,
            policy=self.bucket.bucket.apply(lambda bucket: _tls_only(plan.region, bucket)),
            opts=child(self),
        )
        self.package_groups: dict[str, aws.sagemaker.ModelPackageGroup] = {}
        for endpoint in plan.endpoints:
            group = aws.sagemaker.ModelPackageGroup(
                f"{name}-{endpoint.name}-packages",
                model_package_group_name=f"{plan.stack}-{endpoint.name}",
                model_package_group_description=f"ml-serving {plan.stack}: versions of {endpoint.name}",
                opts=stateful(plan, self),
            )
            aws.sagemaker.ModelPackageGroupPolicy(
                f"{name}-{endpoint.name}-publishers",
                model_package_group_name=group.model_package_group_name,
                resource_policy=group.arn.apply(lambda group_arn: _publishers_only(plan.stack, group_arn)),
                opts=child(self),
            )
            self.package_groups[endpoint.name] = group
        self.register_outputs(
            {
                "bucket": self.bucket.bucket,
                "package_groups": {k: g.model_package_group_name for k, g in self.package_groups.items()},
            }
        )


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
