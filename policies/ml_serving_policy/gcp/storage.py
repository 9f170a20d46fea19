"""Rules for the model bucket and the request-log dataset."""

from __future__ import annotations

from ml_serving_policy.gcp.keys import names_key
from ml_serving_policy.rules import Severity, expect, resource_rule

BUCKET = "gcp:storage/bucket:Bucket"
DATASET = "gcp:bigquery/dataset:Dataset"


@resource_rule(
    "gcp-storage-bucket-uniform-access",
    BUCKET,
    "Access is decided by IAM alone: no object ACL can open one model to someone the bucket's IAM does not.",
    severity=Severity.HIGH,
    remediation_steps="Set uniform_bucket_level_access=True on the bucket.",
)
def bucket_uniform_access(props):
    yield from expect(props, "uniformBucketLevelAccess", equals=True)


@resource_rule(
    "gcp-storage-bucket-public-access-prevention",
    BUCKET,
    "Public access prevention is enforced: no IAM binding can make the models public.",
    severity=Severity.HIGH,
    remediation_steps="Set public_access_prevention='enforced' on the bucket.",
)
def bucket_public_access_prevention(props):
    yield from expect(props, "publicAccessPrevention", equals="enforced")


@resource_rule(
    "gcp-storage-bucket-versioning",
    BUCKET,
    "Versioning keeps an overwritten or deleted model artifact recoverable.",
    severity=Severity.MEDIUM,
    remediation_steps="Set versioning={'enabled': True} on the bucket.",
)
def bucket_versioning(props):
    yield from expect(props, "versioning", "enabled", equals=True)


@resource_rule(
    "gcp-storage-bucket-cmek",
    BUCKET,
    "Model artifacts are encrypted with the stack's customer-managed key by default.",
    severity=Severity.HIGH,
    remediation_steps="Set encryption={'default_kms_key_name': <the stack's crypto key>} on the bucket.",
)
def bucket_cmek(props):
    yield from names_key(props, "encryption", "defaultKmsKeyName")


@resource_rule(
    "gcp-bigquery-dataset-cmek",
    DATASET,
    "Logged requests and responses are encrypted with the stack's customer-managed key.",
    severity=Severity.HIGH,
    remediation_steps="Set default_encryption_configuration={'kms_key_name': <the stack's crypto key>}.",
)
def dataset_cmek(props):
    yield from names_key(props, "defaultEncryptionConfiguration", "kmsKeyName")
