"""Per-cloud facts the cloud-neutral layers need (`facts.yaml` beside this file).

The lowest layer with `infra.catalog`: spec, sizing and plan all read it, and it imports none
of them, so no layer above the translators branches on a cloud's name.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any, Literal

from infra.datafile import Strict, load_sections

Mode = Literal["managed", "kubernetes"]


class Serving(Strict):
    platform: Literal["sagemaker", "vertex", "azureml", "kubernetes"]
    port: int
    model_dir: str | None
    max_request_timeout_s: int | None = None


class AddressRange(Strict):
    prefix_diff: int  # the range is this many bits longer than the network's CIDR
    index: int  # which block of that size
    per_zone: bool = False
    prefix: int | None = None  # a fixed prefix length (a GKE control plane's /28)


class Egress(Strict):
    cidr: str
    port: int


class PrivateEndpoints(Strict):
    always: list[str]
    managed: tuple[str, ...] = ()
    cluster: tuple[str, ...] = ()
    per_zone: bool = False
    in_existing_network: bool = False


class PerEnvironment(Strict):
    dev: str | None
    staging: str | None
    prod: str | None


class CloudFacts(Strict):
    """One cloud's section of facts.yaml; the comments there give each fact's source."""

    region_pattern: str
    region_example: str
    zones: list[str]
    zone_pattern: str
    artifact_schemes: list[str]
    scale_to_zero: dict[Mode, bool]
    serving: dict[Mode, Serving]
    system_pool_instance_type: str
    arm64_instance_pattern: str
    upgrade_channels: PerEnvironment
    node_images: dict[Literal["x86_64", "arm64"], dict[Literal["cpu", "nvidia", "neuron"], str]]
    max_node_disk_gib: int
    gpu_device_plugin: Literal["install", "provided"]
    internal_load_balancer_annotations: dict[str, str]
    identity_agent_egress: list[Egress]
    shadow_needs_one_live_model: bool
    address_ranges: dict[str, AddressRange]
    model_load_timeout_s: dict[Literal["min", "max"], int] | None = None
    managed_image_pattern: str | None = None
    managed_image_registry: str | None = None
    private_image_pattern: str | None = None
    private_endpoints: PrivateEndpoints | None = None
    pod_block_prefix: int | None = None
    secondary_range_names: dict[str, str] | None = None
    max_mirror_percent: int | None = None
    private_dns_zones: list[str] | None = None
    private_dns_zone_id_pattern: str | None = None
    private_dns_zone_id_example: str | None = None


@cache
def cloud_facts() -> dict[str, dict[str, Any]]:
    """`{cloud: {fact: value}}` as written in `facts.yaml` (region pattern, zones, schemes, ...), each
    section validated as `CloudFacts`; raises DataFileError naming the file, cloud and key."""
    return load_sections(Path(__file__).parent / "facts.yaml", CloudFacts)


def architecture(cloud: str, instance_type: str) -> str:
    """`arm64` or `x86_64`: the CPU architecture of `instance_type`, from the cloud's pattern in `facts.yaml`."""
    return "arm64" if re.match(cloud_facts()[cloud]["arm64_instance_pattern"], instance_type) else "x86_64"


def node_image(cloud: str, arch: str, accelerator: str | None) -> str | None:
    """The cloud's Kubernetes node image for a CPU architecture and accelerator (None: CPU only);
    None where the cloud has none."""
    return cloud_facts()[cloud]["node_images"].get(arch, {}).get(accelerator or "cpu")
