"""Rules for IAM policy documents and roles, and the document reader other AWS rules share.

Identity policies carry no computed ARN (the program names resources by known names and
patterns), so their documents are known at preview and a document that is not is a violation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ml_serving_policy.rules import UNKNOWN, Severity, attached, get, of_type, resource_rule, stack_rule

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
# Types whose `policy` property is an identity policy document.
DOCUMENT_TYPES = (ROLE_POLICY, POLICY, "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy")
# AWS-managed policies that grant every action (or all of IAM) on every resource.
ADMIN_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
# What an EKS node needs to join, run the VPC CNI and pull images. Restated from the program
# (infra/clouds/aws/cluster.py); tests/aws/test_policies.py pins them equal.
NODE_POLICIES = frozenset({"AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly"})


def parse(value: Any) -> Any:
    """A policy document property as a dict; UNKNOWN when unknown, None when absent or not JSON."""
    if value is UNKNOWN or value is None:
        return value
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def statements(document: Any) -> list[dict[str, Any]]:
    return [s for s in as_list(get(document, "Statement")) if isinstance(s, dict)]


def identity_documents(resource_type: str, props: Any) -> Iterator[tuple[str, Any]]:
    """(where, parsed document) for every identity policy a resource carries."""
    if resource_type in DOCUMENT_TYPES:
        yield "policy", parse(get(props, "policy"))
    elif resource_type == ROLE:
        for i, inline in enumerate(as_list(get(props, "inlinePolicies", default=[]))):
            yield f"inlinePolicies[{i}].policy", parse(get(inline, "policy"))


def wildcard_actions(statement: dict[str, Any]) -> list[str]:
    """The actions of an Allow statement that match more than one API call (NotAction matches most)."""
    if statement.get("Effect") != "Allow":
        return []
    if "NotAction" in statement:
        return [f"NotAction {statement['NotAction']}"]
    return [a for a in as_list(statement.get("Action")) if not isinstance(a, str) or "*" in a]


def document_problems(where: str, document: Any) -> Iterator[str]:
    if document is UNKNOWN:
        yield f"{where} must be known at preview (build it from names, not from computed ARNs)"
    elif document is None:
        yield f"{where} is missing or not a JSON policy document"


def documents_in(resources: list[Any]) -> Iterator[tuple[Any, str, Any]]:
    """(resource, where, parsed document) for every identity policy in the stack."""
    for resource in resources:
        for where, document in identity_documents(resource.resource_type, resource.props):
            yield resource, where, document


@stack_rule(
    "aws-iam-no-wildcard-action",
    "Identity policies name every action they allow: a wildcard grants calls nobody reviewed,"
    " including ones AWS adds later (execution and node roles carry no `*` action).",
    severity=Severity.HIGH,
    remediation_steps="List each action the workload calls; build the document from names known at preview, not "
    "computed ARNs.",
)
def no_wildcard_action(resources, config):
    for resource, where, document in documents_in(resources):
        for problem in document_problems(where, document):
            yield f"{resource.name}: {problem}"
        for i, statement in enumerate(statements(document) if isinstance(document, dict) else []):
            for action in wildcard_actions(statement):
                yield f"{resource.name}: {where} Statement[{i}] allows the wildcard action {action!r}; name each action"


@stack_rule(
    "aws-iam-no-wildcard-action-on-wildcard-resource",
    "No identity policy, inline or AWS-managed, allows wildcard actions on every resource: that is"
    " administrator access.",
    severity=Severity.CRITICAL,
    remediation_steps="Scope the statement to named resources and actions; never attach AdministratorAccess, "
    "PowerUserAccess or IAMFullAccess.",
)
def no_wildcard_action_on_wildcard_resource(resources, config):
    for resource, where, document in documents_in(resources):
        for i, statement in enumerate(statements(document) if isinstance(document, dict) else []):
            every = "NotResource" in statement or "*" in as_list(statement.get("Resource"))
            if every and wildcard_actions(statement):
                yield f"{resource.name}: {where} Statement[{i}] allows wildcard actions on every resource"
    for resource in of_type(resources, ATTACHMENT):
        arn = get(resource.props, "policyArn")
        if arn is UNKNOWN or arn is None:
            yield f"{resource.name}: policyArn must be known at preview"
        elif arn.rsplit("/", 1)[-1] in ADMIN_POLICIES and ":iam::aws:policy/" in arn:
            yield f"{resource.name}: attaches {arn}, which allows wildcard actions on every resource"


@resource_rule(
    "aws-iam-role-trusts-a-service",
    ROLE,
    "A workload role is assumable only by the AWS service that runs the workload, never by any principal.",
    severity=Severity.CRITICAL,
    remediation_steps='Trust only the named AWS service that runs the workload: Principal {"Service": '
    '"<service>.amazonaws.com"}.',
)
def role_trusts_a_service(props):
    document = parse(get(props, "assumeRolePolicy"))
    yield from document_problems("assumeRolePolicy", document)
    if not isinstance(document, dict):
        return
    for i, statement in enumerate(statements(document)):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        if not isinstance(principal, dict) or set(principal) != {"Service"}:
            services = []
        else:
            services = as_list(principal["Service"])
        if not services or any("*" in str(s) for s in services):
            yield f"assumeRolePolicy: Statement[{i}] must trust named AWS services only (got {principal!r})"


@stack_rule(
    "aws-iam-eks-node-role-managed-policies",
    "EKS node roles hold only the three AWS-managed worker policies (worker node, CNI, ECR pull) and no"
    " inline policy: every pod on a node can use the node's role.",
    severity=Severity.HIGH,
    remediation_steps="Attach only AmazonEKSWorkerNodePolicy, AmazonEKS_CNI_Policy and "
    "AmazonEC2ContainerRegistryPullOnly to node roles; give pods their own roles (EKS Pod "
    "Identity).",
)
def node_role_policies(resources, config):
    for role in of_type(resources, ROLE):
        if "ec2.amazonaws.com" not in trusted_services(role.props):
            continue
        for attachment in of_type(resources, ATTACHMENT):
            if not attached(attachment, role, "role", "name"):
                continue
            arn = get(attachment.props, "policyArn")
            if not isinstance(arn, str) or arn.rsplit("/", 1)[-1] not in NODE_POLICIES or ":iam::aws:" not in arn:
                yield f"node role {role.name} must not hold {arn!r}"
        for inline in of_type(resources, ROLE_POLICY):
            if attached(inline, role, "role", "name"):
                yield f"node role {role.name} must not carry the inline policy {inline.name}"


def trusted_services(props: Any) -> set[str]:
    """The AWS services a role's trust policy names."""
    document = parse(get(props, "assumeRolePolicy"))
    found: set[str] = set()
    for statement in statements(document) if isinstance(document, dict) else []:
        principal = statement.get("Principal")
        if isinstance(principal, dict):
            found |= {str(s) for s in as_list(principal.get("Service"))}
    return found
