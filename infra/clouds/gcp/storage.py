"""The model bucket (uniform access, public access prevention, versioning, CMEK) and, where the
environment captures requests, the BigQuery dataset Vertex AI logs requests and responses to."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.clouds.gcp.keys import KeyUse

NONCURRENT_DAYS = 30  # a replaced or deleted artifact stays recoverable this long


@dataclass(frozen=True)
class ModelStoreArgs:
    region: str
    bucket_name: str
    dataset_id: str | None  # request-response logs (None: the environment captures nothing)
    protect: bool
    key: KeyUse
    vertex_agent: pulumi.Input[str]  # the Vertex AI service agent's email


class ModelStore(pulumi.ComponentResource):
    """Registers the bucket's name; `dataset_id` (the request-log dataset, None where the environment
    captures nothing) is for the endpoints and registered nowhere, as a missing output cannot be."""

    bucket_name: pulumi.Output[str]

    def __init__(self, name: str, args: ModelStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:gcp:ModelStore", name, None, opts)
        stateful = pulumi.ResourceOptions(
            parent=self, protect=args.protect, retain_on_delete=args.protect, depends_on=list(args.key.grants)
        )
        bucket = gcp.storage.Bucket(
            f"{name}-bucket",
            name=args.bucket_name,
            location=args.region,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": True},
            encryption={"default_kms_key_name": args.key.key_id},
            lifecycle_rules=[
                {
                    "action": {"type": "Delete"},
                    "condition": {"days_since_noncurrent_time": NONCURRENT_DAYS, "with_state": "ARCHIVED"},
                }
            ],
            force_destroy=not args.protect,
            opts=stateful,
        )
        vertex_agent = pulumi.Output.concat("serviceAccount:", args.vertex_agent)
        # Vertex AI copies a model's artifacts at upload with its service agent.
        gcp.storage.BucketIAMMember(
            f"{name}-vertex-reads",
            bucket=bucket.name,
            role="roles/storage.objectViewer",
            member=vertex_agent,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.bucket_name = bucket.name
        self.dataset_id: pulumi.Output[str] | None = None
        if args.dataset_id is not None:
            dataset = gcp.bigquery.Dataset(
                f"{name}-request-logs",
                dataset_id=args.dataset_id,
                location=args.region,
                description="Vertex AI request-response logs of this stack's endpoints",
                default_encryption_configuration={"kms_key_name": args.key.key_id},
                delete_contents_on_destroy=not args.protect,
                opts=stateful,
            )
            # Vertex AI writes the request-response log table with its service agent.
            gcp.bigquery.DatasetIamMember(
                f"{name}-vertex-writes-logs",
                dataset_id=dataset.dataset_id,
                role="roles/bigquery.dataEditor",
                member=vertex_agent,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.dataset_id = dataset.dataset_id
        self.register_outputs({"bucket_name": self.bucket_name})
