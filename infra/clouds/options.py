"""Resource options shared by every translator."""

from __future__ import annotations

import pulumi


def child(parent: pulumi.Resource) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent)


def stateful(protect: bool, parent: pulumi.Resource) -> pulumi.ResourceOptions:
    """Keys, registries, buckets: protected and retained on delete where the environment says so."""
    return pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect)
