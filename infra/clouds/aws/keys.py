"""The stack's customer-managed KMS key: every AWS resource that stores data encrypts with it."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.clouds.options import child, stateful
from infra.plan import Plan


class Keys(pulumi.ComponentResource):
    def __init__(self, name: str, plan: Plan, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:aws:Keys", name, None, opts)
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"ml-serving {plan.stack}: models, images, logs and volumes",
            enable_key_rotation=True,
            # A deleted key makes everything it encrypted unreadable: wait the longest in prod.
            deletion_window_in_days=30 if plan.protect else 7,
            opts=stateful(plan, self),
        )
        self.alias = aws.kms.Alias(
            f"{name}-alias", name=f"alias/ml-serving/{plan.stack}", target_key_id=self.key.key_id, opts=child(self)
        )
        self.register_outputs({"key_arn": self.key.arn})
