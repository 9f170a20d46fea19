"""Rules for IAM grants: no primitive roles and nothing for everyone, on any resource of the stack."""

from __future__ import annotations

from ml_serving_policy.rules import UNKNOWN, Severity, get, stack_rule

# Every IAM member resource the program registers (and the project-level one it might).
MEMBER_TYPES = (
    "gcp:projects/iAMMember:IAMMember",
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
    "gcp:storage/bucketIAMMember:BucketIAMMember",
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
    "gcp:bigquery/datasetIamMember:DatasetIamMember",
    "gcp:serviceaccount/iAMMember:IAMMember",
)
PRIMITIVE_ROLES = ("roles/owner", "roles/editor", "roles/viewer")
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")


@stack_rule(
    "gcp-iam-no-primitive-roles",
    "No grant of a primitive role (owner, editor, viewer: thousands of permissions each) and nothing"
    " granted to allUsers or allAuthenticatedUsers. Serving identities get predefined roles scoped"
    " to one resource.",
    severity=Severity.CRITICAL,
    remediation_steps="Grant a predefined role on the one resource the identity needs (e.g."
    " roles/storage.objectViewer on the model bucket) to a named service account.",
)
def no_primitive_roles(resources, _config):
    for resource in resources:
        if resource.resource_type not in MEMBER_TYPES:
            continue
        role = get(resource.props, "role")
        if role is UNKNOWN or role is None:
            yield f"{resource.name}: role must be known at preview"
        elif role in PRIMITIVE_ROLES:
            yield f"{resource.name}: grants the primitive role {role}"
        # Public principals are literals: a member computed from an account (unknown at preview) is not one.
        member = get(resource.props, "member")
        if isinstance(member, str) and member in PUBLIC_MEMBERS:
            yield f"{resource.name}: grants {role} to {member}"
