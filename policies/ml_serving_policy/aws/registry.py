"""Rules for ECR repositories."""

from __future__ import annotations

from ml_serving_policy.rules import UNKNOWN, Severity, expect, get, resource_rule

REPOSITORY = "aws:ecr/repository:Repository"


@resource_rule(
    "aws-ecr-immutable-tags",
    REPOSITORY,
    "Immutable tags: a tag an endpoint runs can never be re-pointed at other code.",
    severity=Severity.HIGH,
    remediation_steps='Set image_tag_mutability="IMMUTABLE" on the repository; push a new tag for every build.',
)
def ecr_immutable_tags(props):
    yield from expect(props, "imageTagMutability", equals="IMMUTABLE", default="MUTABLE")


@resource_rule(
    "aws-ecr-scan-on-push",
    REPOSITORY,
    "Every pushed image is scanned for known vulnerabilities before it can be served.",
    severity=Severity.MEDIUM,
    remediation_steps='Set image_scanning_configuration={"scan_on_push": True} on the repository.',
)
def ecr_scan_on_push(props):
    yield from expect(props, "imageScanningConfiguration", "scanOnPush", equals=True)


@resource_rule(
    "aws-ecr-customer-managed-key",
    REPOSITORY,
    "Images are encrypted with the stack's customer-managed KMS key, not an AWS-owned key.",
    severity=Severity.HIGH,
    remediation_steps='Set encryption_configurations=[{"encryption_type": "KMS", "kms_key": <the stack\'s key ARN>}].',
)
def ecr_customer_managed_key(props):
    config = get(props, "encryptionConfigurations", 0, default={})
    if config is UNKNOWN or get(config, "encryptionType") != "KMS":
        yield "encryptionConfigurations[0].encryptionType must be KMS"
    elif get(config, "kmsKey") is None:
        # The key's ARN is unknown at preview; its presence is what this rule needs.
        yield "encryptionConfigurations[0].kmsKey must name a customer-managed key"
