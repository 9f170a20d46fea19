"""IAM documents and ARNs the AWS components share.

Identity policies are built from values known at preview (names and patterns, never another
resource's computed ARN), so the policy pack can read every action and resource before
`pulumi up`. The account is the one part of an ARN no preview knows; it is written `*`, which
still names only this account's resources: an identity policy cannot reach into another account
unless that account's resource policy also allows it.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

Statement = dict[str, Any]


def partition(region: str) -> str:
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws"


def arn(region: str, service: str, resource: str, *, regional: bool = True) -> str:
    """`arn:<partition>:<service>:<region>:*:<resource>` (any account; see the module docstring)."""
    return f"arn:{partition(region)}:{service}:{region if regional else ''}:*:{resource}"


def document(statements: list[Statement]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def assume_role(service: str) -> str:
    return document([{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}])


def managed_policy(region: str, name: str) -> str:
    return f"arn:{partition(region)}:iam::aws:policy/{name}"


def key_usage(region: str, key_alias: str, actions: list[str]) -> Statement:
    """Use of the stack's KMS key, named through its alias (the key's ARN is computed at create)."""
    return {
        "Effect": "Allow",
        "Action": actions,
        "Resource": arn(region, "kms", "key/*"),
        "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": key_alias}},
    }


def role(name: str, service: str, opts: pulumi.ResourceOptions) -> aws.iam.Role:
    return aws.iam.Role(name, assume_role_policy=assume_role(service), opts=opts)
