"""Rules for Cloud KMS keys."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ml_serving_policy.rules import UNKNOWN, Severity, get, resource_rule

CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
MAX_ROTATION_SECONDS = 90 * 24 * 3600
DURATION = re.compile(r"^(\d+)(\.\d+)?s$")


def names_key(props: object, *path: str) -> Iterator[str]:
    """One violation unless the value at `path` names a key (presence: it is unknown at preview)."""
    if get(props, *path) is None:
        yield f"{'.'.join(path)} must name the stack's crypto key"


def seconds(value: object) -> float | None:
    """A protobuf Duration string (`7776000s`) in seconds; None when it is not one."""
    found = DURATION.match(value) if isinstance(value, str) else None
    return float(found[1]) if found else None


@resource_rule(
    "gcp-kms-crypto-key-rotation",
    CRYPTO_KEY,
    "The stack's key rotates at least every 90 days, so a leaked key version stops protecting new data.",
    severity=Severity.MEDIUM,
    remediation_steps="Set rotation_period to at most '7776000s' (90 days) on the crypto key.",
)
def crypto_key_rotation(props):
    period = get(props, "rotationPeriod")
    found = seconds(period)
    if period is UNKNOWN or found is None or found > MAX_ROTATION_SECONDS:
        yield f"rotationPeriod must be a known duration of at most {MAX_ROTATION_SECONDS}s (got {period!r})"


@resource_rule(
    "gcp-kms-crypto-key-encrypts",
    CRYPTO_KEY,
    "The stack's key is a symmetric ENCRYPT_DECRYPT key: the only purpose CMEK integrations accept.",
    severity=Severity.MEDIUM,
    remediation_steps="Set purpose='ENCRYPT_DECRYPT' on the crypto key.",
)
def crypto_key_purpose(props):
    purpose = get(props, "purpose", default="ENCRYPT_DECRYPT")
    if purpose != "ENCRYPT_DECRYPT":
        yield f"purpose must be ENCRYPT_DECRYPT (got {purpose!r})"
