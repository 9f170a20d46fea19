"""Artifact Registry docker repository for serving images: immutable tags, CMEK, cleanup policies
that never delete an image the stack serves."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.clouds.gcp.keys import KeyUse

UNTAGGED_DAYS = 7  # layers left by failed or superseded pushes


@dataclass(frozen=True)
class RegistryArgs:
    project: str
    region: str
    repository_id: str
    image: str  # the serving images' name in the repository (the spec's registry name)
    keep_images: int  # newest versions kept whatever their tags
    served_tags: tuple[str, ...]  # tags this stack's endpoints run: always kept
    protect: bool
    key: KeyUse


class Registry(pulumi.ComponentResource):
    """Outputs: `url`, the repository (`<region>-docker.pkg.dev/<project>/<repository>`, every image
    lives below it), and `images`, the serving images' name in it (`<url>/<image>`): Artifact
    Registry takes no image at the repository's own path, so `image_tag` models run `<images>:<tag>`."""

    url: str
    images: str

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:gcp:Registry", name, None, opts)
        # Keep policies win over delete policies in Artifact Registry: a served or recent image
        # survives the delete rule whatever its age.
        policies: list[gcp.artifactregistry.RepositoryCleanupPolicyArgsDict] = [
            {
                "id": "delete-untagged",
                "action": "DELETE",
                "condition": {"tag_state": "UNTAGGED", "older_than": f"{UNTAGGED_DAYS * 86400}s"},
            },
            {"id": "keep-recent", "action": "KEEP", "most_recent_versions": {"keep_count": args.keep_images}},
        ]
        if args.served_tags:
            policies.append(
                {
                    "id": "keep-served",
                    "action": "KEEP",
                    "condition": {"tag_state": "TAGGED", "tag_prefixes": list(args.served_tags)},
                }
            )
        gcp.artifactregistry.Repository(
            f"{name}-repository",
            repository_id=args.repository_id,
            location=args.region,
            format="DOCKER",
            mode="STANDARD_REPOSITORY",
            docker_config={"immutable_tags": True},
            kms_key_name=args.key.key_id,
            cleanup_policies=policies,
            cleanup_policy_dry_run=False,
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, retain_on_delete=args.protect, depends_on=list(args.key.grants)
            ),
        )
        self.url = f"{args.region}-docker.pkg.dev/{args.project}/{args.repository_id}"
        self.images = f"{self.url}/{args.image}"
        self.register_outputs({"url": self.url, "images": self.images})
