"""Rules for the model store: the artifact bucket's settings and the model package groups' policies."""

from __future__ import annotations

from ml_serving_policy.aws_iam import as_list, parse, statements
from ml_serving_policy.rules import UNKNOWN, expect, get, resource_rule

PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
PACKAGE_WRITES = {"sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage", "sagemaker:DeleteModelPackage"}


@resource_rule(
    "aws-s3-public-access-block-all",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "Model artifacts are never public: all four public-access switches are on, so neither an ACL nor a"
    " policy can expose the bucket.",
)
def public_access_block_all(props):
    for flag in PUBLIC_ACCESS_FLAGS:
        yield from expect(props, flag, equals=True)


@resource_rule(
    "aws-s3-versioning-enabled",
    "aws:s3/bucketVersioning:BucketVersioning",
    "Versioning keeps every artifact an endpoint ever served, so an overwritten model can be restored.",
)
def versioning_enabled(props):
    yield from expect(props, "versioningConfiguration", "status", equals="Enabled")


@resource_rule(
    "aws-s3-sse-kms",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "Objects are encrypted with the stack's customer-managed key, so reading them needs both S3 and KMS"
    " permission and key deletion can revoke them all.",
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
    "aws:s3/bucketPolicy:BucketPolicy",
    "The bucket refuses plain-HTTP requests: artifacts and captured requests never cross a network unencrypted.",
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
    "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy",
    "Only the stack's publishers register model versions: the group's policy denies every write to anyone else.",
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
