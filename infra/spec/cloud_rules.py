"""What each cloud accepts in a stack file (`cloud_rules.yaml` beside this file): regions, network ids, tags,
the provider config keys the program reads and the Kubernetes versions in standard support.

AWS regions come from botocore's bundled endpoint data, read as a data file (no SDK import):
a region is valid for a stack when every service the stack uses has an endpoint there.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Mapping
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from infra.datafile import Strict, load_sections


class Regions(Strict):
    source: str
    names: list[str] | None = None  # the cloud's regions, or where botocore lists each service's
    botocore_services: dict[str, list[str]] | None = None


class IdRule(Strict):
    pattern: str
    example: str
    source: str


class ExistingSubnets(Strict):
    min: int
    max: int
    roles: str
    source: str
    secondary_ranges: bool = False


class TagRule(Strict):
    key_pattern: str
    value_pattern: str
    rule: str
    value_rule: str
    reserved_prefixes: list[str]
    source: str


class ProviderKey(Strict):
    pattern: str
    expected: str
    set: str
    source: str


class KubernetesVersions(Strict):
    read: str  # the date the calendar was read, ISO
    standard_until: dict[str, str]  # minor version -> end of standard support, ISO
    beyond: str
    source: str


class CloudRules(Strict):
    """One cloud's section of cloud_rules.yaml."""

    regions: Regions
    network_ids: dict[str, IdRule]
    existing_subnets: ExistingSubnets
    tags: TagRule
    provider_config: dict[str, ProviderKey]
    kubernetes_versions: KubernetesVersions


@cache
def cloud_rules() -> dict[str, dict[str, Any]]:
    """`{cloud: {regions, network_ids, tags, provider_config, ...}}` as written in `cloud_rules.yaml`,
    each section validated as `CloudRules`; raises DataFileError naming the file, cloud and key."""
    return load_sections(Path(__file__).parent / "cloud_rules.yaml", CloudRules)


def regions(cloud: str, uses: frozenset[str]) -> tuple[frozenset[str], str]:
    """The regions offering every service group in `uses` (always, managed, cluster), and where that is written."""
    rules = cloud_rules()[cloud]["regions"]
    if "names" in rules:
        return frozenset(rules["names"]), "infra/spec/cloud_rules.yaml"
    groups = rules["botocore_services"]
    services = [s for group in ("always", *sorted(uses)) for s in groups.get(group, [])]
    found = _botocore_regions(services[0])
    for service in services[1:]:
        found &= _botocore_regions(service)
    return found, f"botocore's endpoint data for {', '.join(services)}"


def provider_config_problems(cloud: str, config: Mapping[str, str]) -> list[str]:
    """One line per provider config key of `cloud` (e.g. `gcp:project`) that is missing from the stack's
    config or does not match its rule, naming the key, the value, what is expected and how to set it."""
    problems = []
    for key, rule in cloud_rules()[cloud]["provider_config"].items():
        value = config.get(key)
        if value is None or not re.match(rule["pattern"], value):
            found = "missing" if value is None else f"{value!r} is invalid"
            problems.append(f"{key}: {found}; expected {rule['expected']}; set it with `{rule['set']}`")
    return problems


# A new cluster should have a quarter of standard support ahead of it: time to plan the next upgrade
# before the cloud bills extended support or forces one.
SUPPORT_HORIZON = timedelta(days=90)


def kubernetes_versions(cloud: str) -> tuple[tuple[str, ...], str]:
    """The Kubernetes minor versions (e.g. `("1.35", "1.36")`) whose standard support on `cloud` runs at
    least `SUPPORT_HORIZON` past the date the data was read, and what a version past it gets instead."""
    rules = cloud_rules()[cloud]["kubernetes_versions"]
    cutoff = date.fromisoformat(rules["read"]) + SUPPORT_HORIZON
    supported = [v for v, until in rules["standard_until"].items() if date.fromisoformat(until) >= cutoff]
    return tuple(sorted(supported, key=lambda v: tuple(map(int, v.split("."))))), rules["beyond"]


@cache
def _botocore_endpoints() -> dict[str, Any]:
    spec = importlib.util.find_spec("botocore")
    if spec is None or spec.origin is None:
        raise RuntimeError("botocore is not installed (requirements.txt pins it for its endpoint data)")
    return json.loads((Path(spec.origin).parent / "data" / "endpoints.json").read_text())


@cache
def _botocore_regions(service: str) -> frozenset[str]:
    """Region names (in any AWS partition) where `service` has an endpoint."""
    found: set[str] = set()
    for partition in _botocore_endpoints()["partitions"]:
        endpoints = partition["services"].get(service, {}).get("endpoints", {})
        found |= set(endpoints) & set(partition["regions"])
    return frozenset(found)
