"""Rules for KMS keys."""

from __future__ import annotations

from ml_serving_policy.rules import UNKNOWN, Severity, expect, get, resource_rule

KEY = "aws:kms/key:Key"


@resource_rule(
    "aws-kms-key-rotation",
    KEY,
    "Customer-managed keys rotate yearly, so a leaked key version stops protecting new data.",
    severity=Severity.MEDIUM,
    remediation_steps="Set enable_key_rotation=True on the key.",
)
def kms_key_rotation(props):
    yield from expect(props, "enableKeyRotation", equals=True)


@resource_rule(
    "aws-kms-key-deletion-window",
    KEY,
    "A scheduled key deletion must leave at least 7 days to notice and cancel it.",
    severity=Severity.HIGH,
    remediation_steps="Set deletion_window_in_days to a literal from 7 to 30 (30 when unsure).",
)
def kms_key_deletion_window(props):
    window = get(props, "deletionWindowInDays", default=30)
    if window is UNKNOWN or window < 7:
        yield f"deletionWindowInDays must be a known value of at least 7 (got {window!r})"
