"""ECR repository for serving images: immutable tags, scan on push, KMS, a lifecycle policy."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.clouds.options import child, stateful


@dataclass(frozen=True)
class RegistryArgs:
    """The repository's name (naming layer), how many images its lifecycle keeps, whether it is
    protected, and the key that encrypts its images."""

    repository_name: str  # ml-serving/<stack>/<registry name>
    keep_images: int
    served_tags: tuple[str, ...]  # tags some model version runs: never expired
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
            policy=json.dumps({"rules": lifecycle_rules(args.served_tags, args.keep_images)}),
            opts=child(self),
        )
        self.repository_url = repository.repository_url
        self.repository_name = args.repository_name
        self.register_outputs({"repository_url": self.repository_url, "repository_name": self.repository_name})


def lifecycle_rules(served: tuple[str, ...], keep: int) -> list[dict[str, Any]]:
    """ECR lifecycle rules: first one rule per tag the stack serves, which never expires its one
    image (a tag is immutable, so it matches one image) and so protects it from every later rule
    ("an image that matches the tagging requirements of a rule cannot be expired by a rule with a
    lower priority", ECR lifecycle policies); several patterns in one rule must all match, hence
    one rule per tag. Then untagged layers after 7 days, then all but the newest `keep` images."""
    protect = [
        {
            "rulePriority": priority,
            "description": f"served by this stack: {tag}",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": [tag],
                "countType": "imageCountMoreThan",
                "countNumber": 1,
            },
            "action": {"type": "expire"},
        }
        for priority, tag in enumerate(served, 1)
    ]
    rest = [
        {
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
            "description": f"keep the newest {keep} images",
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep},
            "action": {"type": "expire"},
        },
    ]
    return protect + [{"rulePriority": len(protect) + i, **rule} for i, rule in enumerate(rest, 1)]
