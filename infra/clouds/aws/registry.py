"""ECR repository for serving images: immutable tags, scan on push, KMS, a lifecycle policy."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from infra.clouds.options import child, stateful
from infra.plan import Plan


class Registry(pulumi.ComponentResource):
    def __init__(self, name: str, plan: Plan, key: aws.kms.Key, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:aws:Registry", name, None, opts)
        self.repository_name = f"ml-serving/{plan.stack}/{plan.registry_name}"
        self.repository = aws.ecr.Repository(
            f"{name}-repository",
            name=self.repository_name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "KMS", "kms_key": key.arn}],
            force_delete=not plan.protect,
            opts=stateful(plan, self),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=self.repository.name,
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
                            "description": f"keep the newest {plan.keep_images} images",
                            "selection": {
                                "tagStatus": "any",
                                "countType": "imageCountMoreThan",
                                "countNumber": plan.keep_images,
                            },
                            "action": {"type": "expire"},
                        },
                    ]
                }
            ),
            opts=child(self),
        )
        self.url = self.repository.repository_url
        self.register_outputs({"url": self.url})
