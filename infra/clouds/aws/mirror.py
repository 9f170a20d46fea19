"""ECR repositories for the cluster add-ons' images: ECR holds one repository per image path, so the
mirror the add-on charts pull from (`infra/addons.yaml`) needs each of them first."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.clouds.options import stateful


@dataclass(frozen=True)
class MirrorArgs:
    """prefix: the repository path the images are copied under (naming layer); paths: each image's
    path below it (`infra.addons.mirrored_paths`); protect: as the stack's registry;
    key_arn: the stack's key."""

    prefix: str
    paths: tuple[str, ...]
    protect: bool
    key_arn: pulumi.Input[str]


class Mirror(pulumi.ComponentResource):
    """`ml-serving:aws:Mirror`: per add-on image, a repository like the stack's own (immutable tags,
    scan on push, the stack's key), protected where the registry is: nodes pull from it whenever the
    cluster scales. Outputs: `repository_names`."""

    repository_names: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: MirrorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:aws:Mirror", name, None, opts)
        self.repository_names = {
            path: aws.ecr.Repository(
                f"{name}-{path.replace('/', '-')}",
                name=f"{args.prefix}/{path}",
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration={"scan_on_push": True},
                encryption_configurations=[{"encryption_type": "KMS", "kms_key": args.key_arn}],
                force_delete=not args.protect,
                opts=stateful(args.protect, self),
            ).name
            for path in args.paths
        }
        self.register_outputs({"repository_names": self.repository_names})
