"""Rules for IAM policy documents, and the document reader other AWS rules share.

Identity policies carry no computed ARN (the program names resources by known names and
patterns), so their documents are known at preview and a document that is not is a violation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ml_serving_policy.rules import UNKNOWN, get, of_type, resource_rule, stack_rule

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
# Types whose `policy` property is an identity policy document.
DOCUMENT_TYPES = (ROLE_POLICY, POLICY, "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy")
# AWS-managed policies that grant every action (or all of IAM) on every resource.
ADMIN_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")


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
)
def no_wildcard_action(resources):
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
)
def no_wildcard_action_on_wildcard_resource(resources):
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
