"""Resource options shared by every translator."""

from __future__ import annotations

from typing import Any

import pulumi


def child(parent: pulumi.Resource) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent)


def stateful(protect: bool, parent: pulumi.Resource) -> pulumi.ResourceOptions:
    """Keys, registries, buckets: protected and retained on delete where the environment says so."""
    return pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect)


def renamed(parent: pulumi.Resource, old: str, new: str, **options: Any) -> pulumi.ResourceOptions:
    """Options for a child whose logical name moved from `old` to `new` (the naming layer's name):
    the alias keeps the resource in state, so nothing is replaced and an autonamed resource keeps
    the physical name it was created with."""
    aliases = [pulumi.Alias(name=old)] if old != new else None
    return pulumi.ResourceOptions(parent=parent, aliases=aliases, **options)
