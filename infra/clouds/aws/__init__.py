"""AWS translator: Plan -> AWS resources, all through one explicit provider for the plan's region."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from infra.clouds.aws.keys import Keys
from infra.clouds.aws.registry import Registry
from infra.plan import Plan


def translate(plan: Plan) -> dict[str, Any]:
    provider = aws.Provider("aws", region=plan.region, default_tags={"tags": plan.tags})
    opts = pulumi.ResourceOptions(providers=[provider])
    keys = Keys("keys", plan, opts)
    registry = Registry("registry", plan, keys.key, opts)
    return {"kms_key_arn": keys.key.arn, "registry_url": registry.url}
