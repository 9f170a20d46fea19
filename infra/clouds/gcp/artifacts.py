"""Read access to model artifacts in a Cloud Storage bucket, narrowed to the artifacts' own folders by
an IAM condition (a bucket is the finest resource a storage role can be granted on)."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi_gcp as gcp

OBJECT_VIEWER = "roles/storage.objectViewer"
# Cloud Storage checks a list request on the bucket, with the request's `prefix` in this attribute
# (IAM Conditions attribute reference, "API attributes"); reads are checked on each object's name.
LIST_PREFIX = 'api.getAttribute("storage.googleapis.com/objectListPrefix", "")'


def read_condition(bucket: str, prefixes: Sequence[str]) -> gcp.storage.BucketIAMMemberConditionArgsDict:
    """The condition that narrows `OBJECT_VIEWER` on `bucket` to `prefixes` (folders ending in `/`, or
    object keys): get an object whose name starts with one, and list only with a prefix inside one,
    as a downloader does (KServe's storage initializer lists `<key>/`, then reads what it found).
    Nothing else of the bucket is readable, nor its other object names."""
    reads = [f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{p}")' for p in prefixes]
    lists = [f'{LIST_PREFIX}.startsWith("{p}")' for p in prefixes]
    return {"title": "own-artifacts", "expression": " || ".join([*reads, *lists])}
