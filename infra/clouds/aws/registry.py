"""ECR repository for serving images: immutable tags, scan on push, KMS, a lifecycle policy."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.clouds.options import child, stateful


@dataclass(frozen=True)
class RegistryArgs:
    """The repository's name (naming layer), how many images its lifecycle keeps, whether it is
    protected, and the key that encrypts its images."""

    repository_name: str  # ml-serving/<stack>/<registry name>
    keep_images: int
    protect: bool
    key_arn: pulumi.Input[str]


class Registry(pulumi.ComponentResource):
    """`ml-serving:aws:Registry`: the ECR repository and its lifecycle policy.

    Outputs: `repository_url` (images are `<url>:<tag>`) and `repository_name` (for IAM documents,
    known at preview).
    """

    repository_url: pulumi.Output[str]
    repository_name: str

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:aws:Registry", name, None, opts)
        repository = aws.ecr.Repository(
            f"{name}-repository",
            name=args.repository_name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "KMS", "kms_key": args.key_arn}],
            force_delete=not args.protect,
            opts=stateful(args.protect, self),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=repository.name,
            policy=json.dumps(
                {
                    "rules": [
                        {
                            "rulePriority": 1,
                            "description": "untagged layers left by failed pushes",
                            "selection": {
                                "tagStatus": "untagged",
                                "countType": "sinceImagePushed",
                                "countUnit": "days",
                                "countNumber": 7,
                            },
                            "action": {"type": "expire"},
                        },
                        {
                            "rulePriority": 2,
                            "description": f"keep the newest {args.keep_images} images",
                            "selection": {
                                "tagStatus": "any",
                                "countType": "imageCountMoreThan",
                                "countNumber": args.keep_images,
                            },
                            "action": {"type": "expire"},
                        },
                    ]
                }
            ),
            opts=child(self),
        )
        self.repository_url = repository.repository_url
        self.repository_name = args.repository_name
        self.register_outputs({"repository_url": self.repository_url, "repository_name": self.repository_name})
