"""The stack's customer-managed KMS key: every AWS resource that stores data encrypts with it."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.clouds.aws.iam import partition
from infra.clouds.options import child, stateful


@dataclass(frozen=True)
class KeysArgs:
    """What the key needs: the stack (for its description), the region (for its policy's service
    principals), whether it is protected, and its alias from the naming layer."""

    stack: str
    region: str
    protect: bool
    alias_name: str  # alias/ml-serving/<stack>


class Keys(pulumi.ComponentResource):
    """`ml-serving:aws:Keys`: the key, its alias and its policy.

    Outputs: `key_arn` (what encrypting resources name) and `alias_name` (what IAM documents name:
    the key's ARN is computed at create, the alias is known at preview).
    """

    key_arn: pulumi.Output[str]
    alias_name: str

    def __init__(self, name: str, args: KeysArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:aws:Keys", name, None, opts)
        key = aws.kms.Key(
            f"{name}-key",
            description=f"ml-serving {args.stack}: models, images, logs and volumes",
            enable_key_rotation=True,
            # A deleted key makes everything it encrypted unreadable: wait the longest in prod.
            deletion_window_in_days=30 if args.protect else 7,
            opts=stateful(args.protect, self),
        )
        aws.kms.Alias(f"{name}-alias", name=args.alias_name, target_key_id=key.key_id, opts=child(self))
        # The default key policy lets IAM grant use of the key, but two AWS services act without an
        # IAM policy of ours: CloudWatch Logs (encrypted log groups) and the EC2 Auto Scaling
        # service-linked role (encrypted node volumes). Without these grants both fail at create.
        aws.kms.KeyPolicy(
            f"{name}-policy",
            key_id=key.key_id,
            policy=key.arn.apply(lambda key_arn: _key_policy(args.region, key_arn.split(":")[4])),
            opts=child(self),
        )
        self.key_arn = key.arn
        self.alias_name = args.alias_name
        self.register_outputs({"key_arn": self.key_arn, "alias_name": self.alias_name})


def _key_policy(region: str, account: str) -> str:
    aws_partition = partition(region)
    data_key_use = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    autoscaling_role = (
        f"arn:{aws_partition}:iam::{account}:role/aws-service-role/autoscaling.amazonaws.com/"
        "AWSServiceRoleForAutoScaling"
    )
    # The service-linked role may not exist yet, and a key policy naming a missing principal is
    # rejected: match it by condition instead.
    as_autoscaling = {
        "StringEquals": {"kms:CallerAccount": account, "kms:ViaService": f"ec2.{region}.amazonaws.com"},
        "ArnLike": {"aws:PrincipalArn": autoscaling_role},
    }
    statements = [
        {
            "Sid": "AccountAdministersThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{aws_partition}:iam::{account}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "CloudWatchLogsEncryptsThisAccountsLogGroups",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{region}.amazonaws.com"},
            "Action": data_key_use,
            "Resource": "*",
            "Condition": {
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": f"arn:{aws_partition}:logs:{region}:{account}:log-group:*"
                }
            },
        },
        {
            "Sid": "AutoScalingEncryptsNodeVolumes",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": as_autoscaling,
        },
        {
            "Sid": "AutoScalingGrantsForAttachedVolumes",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "kms:CreateGrant",
            "Resource": "*",
            "Condition": {**as_autoscaling, "Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})
