"""Rules for the model store: the artifact bucket and its settings, the model package groups and
their policies; stack rules join each bucket (or group) to the resources that guard it."""

from __future__ import annotations

from ml_serving_policy.aws.iam import as_list, parse, statements
from ml_serving_policy.rules import UNKNOWN, Severity, attached, expect, get, of_type, resource_rule, stack_rule

BUCKET = "aws:s3/bucket:Bucket"
SETTINGS = {
    "public access block": "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "versioning": "aws:s3/bucketVersioning:BucketVersioning",
    "SSE-KMS encryption": "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "TLS-only bucket policy": "aws:s3/bucketPolicy:BucketPolicy",
}
PACKAGE_GROUP = "aws:sagemaker/modelPackageGroup:ModelPackageGroup"
PACKAGE_GROUP_POLICY = "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
PACKAGE_WRITES = {"sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage", "sagemaker:DeleteModelPackage"}


@resource_rule(
    "aws-s3-public-access-block-all",
    SETTINGS["public access block"],
    "Model artifacts are never public: all four public-access switches are on, so neither an ACL nor a"
    " policy can expose the bucket.",
    severity=Severity.CRITICAL,
    remediation_steps="Set block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets "
    "to True on the bucket's BucketPublicAccessBlock.",
)
def public_access_block_all(props):
    for flag in PUBLIC_ACCESS_FLAGS:
        yield from expect(props, flag, equals=True)


@resource_rule(
    "aws-s3-versioning-enabled",
    SETTINGS["versioning"],
    "Versioning keeps every artifact an endpoint ever served, so an overwritten model can be restored.",
    severity=Severity.MEDIUM,
    remediation_steps='Set versioning_configuration={"status": "Enabled"} on the bucket\'s BucketVersioning.',
)
def versioning_enabled(props):
    yield from expect(props, "versioningConfiguration", "status", equals="Enabled")


@resource_rule(
    "aws-s3-sse-kms",
    SETTINGS["SSE-KMS encryption"],
    "Objects are encrypted with the stack's customer-managed key, so reading them needs both S3 and KMS"
    " permission and key deletion can revoke them all.",
    severity=Severity.HIGH,
    remediation_steps='Give the bucket one rule with sse_algorithm="aws:kms", kms_master_key_id=<the stack\'s key> '
    "and bucket_key_enabled=True.",
)
def sse_kms(props):
    rules = get(props, "rules", default=[])
    if rules is UNKNOWN or not rules:
        yield "rules must name SSE-KMS encryption"
        return
    for i, rule in enumerate(rules):
        default = get(rule, "applyServerSideEncryptionByDefault", default={})
        algorithm = get(default, "sseAlgorithm")
        if algorithm not in ("aws:kms", "aws:kms:dsse"):
            yield f"rules[{i}].applyServerSideEncryptionByDefault.sseAlgorithm must be aws:kms (got {algorithm!r})"
        elif get(default, "kmsMasterKeyId") is None:
            # The key's ARN is unknown at preview; its presence is what matters here.
            yield f"rules[{i}] must name the customer-managed key (kmsMasterKeyId)"
        if get(rule, "bucketKeyEnabled") is not True:
            yield f"rules[{i}].bucketKeyEnabled must be true (one data key per bucket, not a KMS call per object)"


@resource_rule(
    "aws-s3-bucket-policy-tls-only",
    SETTINGS["TLS-only bucket policy"],
    "The bucket refuses plain-HTTP requests: artifacts and captured requests never cross a network unencrypted.",
    severity=Severity.HIGH,
    remediation_steps='Add a Deny statement for s3:* to Principal "*" on the bucket and its objects with Condition '
    "Bool aws:SecureTransport = false.",
)
def bucket_policy_tls_only(props):
    document = parse(get(props, "policy"))
    if document is UNKNOWN:
        # The document embeds the bucket's autoname. The engine knows it at preview (the provider's
        # Check assigns it) and at `pulumi up`, where this rule blocks a bad document; only a mock
        # engine without autonaming leaves both unknown. Anything else unknown is a violation.
        if get(props, "bucket") is not UNKNOWN:
            yield "policy must be known at preview"
        return
    if document is None:
        yield "policy is missing or not a JSON policy document"
        return
    for statement in statements(document):
        insecure = get(statement, "Condition", "Bool", "aws:SecureTransport")
        actions = as_list(statement.get("Action"))
        if (
            statement.get("Effect") == "Deny"
            and statement.get("Principal") in ("*", {"AWS": "*"})
            and str(insecure).lower() == "false"
            and any(a in ("s3:*", "*") for a in actions)
        ):
            return
    yield "policy needs a statement denying s3:* to every principal when aws:SecureTransport is false"


@resource_rule(
    "aws-sagemaker-model-package-group-policy-limits-writers",
    PACKAGE_GROUP_POLICY,
    "Only the stack's publishers register model versions: the group's policy denies every write to anyone else.",
    severity=Severity.HIGH,
    remediation_steps="Deny sagemaker:CreateModelPackage, UpdateModelPackage and DeleteModelPackage to every "
    "principal that is not a publisher (a Deny with a principal condition); allow none of them.",
)
def package_group_limits_writers(props):
    document = parse(get(props, "resourcePolicy"))
    if document is UNKNOWN:
        # A resource policy names its own ARN, which carries the account: no preview knows it. The
        # stack rule checks every group has this policy; its content is checked at `pulumi up`.
        return
    if document is None:
        yield "resourcePolicy is missing or not a JSON policy document"
        return
    denied: set[str] = set()
    for statement in statements(document):
        if statement.get("Effect") == "Deny" and statement.get("Principal") in ("*", {"AWS": "*"}):
            if statement.get("Condition"):
                denied |= set(as_list(statement.get("Action")))
        elif statement.get("Effect") == "Allow" and set(as_list(statement.get("Action"))) & PACKAGE_WRITES:
            yield "resourcePolicy must not allow model package writes; it limits them"
    missing = set() if "sagemaker:*" in denied else PACKAGE_WRITES - denied
    if missing:
        yield f"resourcePolicy must deny {', '.join(sorted(missing))} to principals that are not publishers"


@stack_rule(
    "aws-s3-bucket-baseline",
    "Every bucket has its public access block (all four switches on), versioning, SSE-KMS encryption"
    " and a TLS-only policy: a bucket without one of them is a bucket someone forgot.",
    severity=Severity.HIGH,
    remediation_steps="Give the bucket a BucketPublicAccessBlock, BucketVersioning, "
    "BucketServerSideEncryptionConfiguration and BucketPolicy whose `bucket` input is the "
    "bucket's.",
)
def bucket_baseline(resources, config):
    for bucket in of_type(resources, BUCKET):
        for label, setting_type in SETTINGS.items():
            settings = [s for s in of_type(resources, setting_type) if attached(s, bucket, "bucket", "bucket")]
            if not settings:
                yield f"bucket {bucket.name} has no {label}"
            elif label == "public access block" and not any(
                all(get(s.props, flag) is True for flag in PUBLIC_ACCESS_FLAGS) for s in settings
            ):
                yield f"bucket {bucket.name}: its public access block must turn on {', '.join(PUBLIC_ACCESS_FLAGS)}"
            elif label == "versioning" and all(list(versioning_enabled(s.props)) for s in settings):
                yield f"bucket {bucket.name}: versioning must be Enabled"
            elif label == "SSE-KMS encryption" and all(list(sse_kms(s.props)) for s in settings):
                yield f"bucket {bucket.name}: default encryption must be SSE-KMS with the stack's key"


@stack_rule(
    "aws-sagemaker-model-package-group-has-policy",
    "Every model package group carries a resource policy limiting who may register model versions.",
    severity=Severity.HIGH,
    remediation_steps="Give the group a ModelPackageGroupPolicy whose model_package_group_name is the group's.",
)
def package_group_has_policy(resources, config):
    policies = of_type(resources, PACKAGE_GROUP_POLICY)
    for group in of_type(resources, PACKAGE_GROUP):
        if not any(attached(p, group, "modelPackageGroupName", "modelPackageGroupName") for p in policies):
            yield f"model package group {group.name} has no resource policy"
