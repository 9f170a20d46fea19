"""Rules for KMS keys."""

from __future__ import annotations

from ml_serving_policy.rules import UNKNOWN, expect, get, resource_rule


@resource_rule(
    "aws-kms-key-rotation",
    "aws:kms/key:Key",
    "Customer-managed keys rotate yearly, so a leaked key version stops protecting new data.",
)
def kms_key_rotation(props):
    yield from expect(props, "enableKeyRotation", equals=True)


@resource_rule(
    "aws-kms-key-deletion-window",
    "aws:kms/key:Key",
    "A scheduled key deletion must leave at least 7 days to notice and cancel it.",
)
def kms_key_deletion_window(props):
    window = get(props, "deletionWindowInDays", default=30)
    if window is UNKNOWN or window < 7:
        yield f"deletionWindowInDays must be a known value of at least 7 (got {window!r})"
