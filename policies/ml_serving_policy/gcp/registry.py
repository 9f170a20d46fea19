"""Rules for the Artifact Registry repository of serving images."""

from __future__ import annotations

from ml_serving_policy.gcp.keys import names_key
from ml_serving_policy.rules import UNKNOWN, Severity, expect, get, resource_rule

REPOSITORY = "gcp:artifactregistry/repository:Repository"


@resource_rule(
    "gcp-artifactregistry-immutable-tags",
    REPOSITORY,
    "An image tag always names the same image: an endpoint deployed from a tag cannot be changed under it.",
    severity=Severity.HIGH,
    remediation_steps="Set docker_config={'immutable_tags': True} on the repository.",
)
def immutable_tags(props):
    yield from expect(props, "dockerConfig", "immutableTags", equals=True)


@resource_rule(
    "gcp-artifactregistry-cmek",
    REPOSITORY,
    "Images are encrypted with the stack's customer-managed key.",
    severity=Severity.HIGH,
    remediation_steps="Set kms_key_name to the stack's crypto key on the repository.",
)
def repository_cmek(props):
    yield from names_key(props, "kmsKeyName")


@resource_rule(
    "gcp-artifactregistry-cleanup-untagged-only",
    REPOSITORY,
    "Cleanup deletes only untagged versions: every image the stack serves is tagged, so no cleanup"
    " policy can delete one (keep policies win over delete policies).",
    severity=Severity.HIGH,
    remediation_steps="Give every DELETE cleanup policy condition.tag_state='UNTAGGED'; keep tagged"
    " images with KEEP policies (most_recent_versions, tag_prefixes).",
)
def cleanup_untagged_only(props):
    policies = get(props, "cleanupPolicies", default=[])
    if policies is UNKNOWN:
        yield "cleanupPolicies must be known at preview"
        return
    for i, policy in enumerate(policies):
        if get(policy, "action") == "DELETE" and get(policy, "condition", "tagState") != "UNTAGGED":
            yield f"cleanupPolicies[{i}] ({get(policy, 'id')!r}) deletes tagged versions, maybe a served image"
