"""The cluster add-ons as data (`addons.yaml` beside this file): which cloud installs what, the
Kubernetes minor versions each pinned release supports, and the mirror list of their images with
the chart values that point each chart at the mirror.

No Pulumi import, below the plan: the plan checks the cluster's version against the ranges, the
Kubernetes layer installs the releases; both read this one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from infra.facts import cloud_facts

HERE = Path(__file__).parent
Form = Literal["repository", "registry", "ref"]


@dataclass(frozen=True)
class Image:
    """One image an add-on runs: `source` without tag (`quay.io/jetstack/cert-manager-controller`),
    `tag` (or "chart": the pinned chart's own), and the chart values that take its mirrored form."""

    source: str
    tag: str
    values: dict[str, Form]

    @property
    def path(self) -> str:
        """The repository path without its registry host: the path it keeps in the mirror."""
        return self.source.split("/", 1)[1]

    def mirrored(self, mirror: str, form: Form = "repository") -> str:
        """The image in `mirror` (a registry host and path prefix) in the form a chart value takes."""
        if form == "registry":
            return mirror
        ref = f"{mirror}/{self.path}"
        return ref if form == "repository" else f"{ref}:{self.tag}"


def minor(version: str) -> tuple[int, int]:
    """A Kubernetes minor version ("1.35") as a comparable pair ((1, 35)); ValueError if not "<int>.<int>"."""
    major, minor_ = version.split(".")
    return int(major), int(minor_)


@dataclass(frozen=True)
class KubernetesRange:
    """The Kubernetes minor versions ("1.33" to "1.36", both included) a pinned release supports,
    and where that is stated (the maintainers' compatibility table, or an ESTIMATE and its basis)."""

    min: str
    max: str
    source: str

    def covers(self, version: str) -> bool:
        """Whether the minor `version` ("1.35") lies in the range."""
        return minor(self.min) <= minor(version) <= minor(self.max)

    def __str__(self) -> str:
        return f"{self.min}-{self.max}"


@dataclass(frozen=True)
class AddOn:
    """One Helm release: chart, repository (https or oci), pinned version, namespace, its images
    and the static values ml-serving sets; `source` says why it is there and where the pin is from;
    `kubernetes` the cluster versions the pinned release supports."""

    name: str
    chart: str
    repository: str
    version: str
    namespace: str
    source: str
    kubernetes: KubernetesRange
    images: tuple[Image, ...]
    values: dict[str, Any]
    when: dict[str, str]
    control_plane_ports: tuple[int, ...] = ()  # pod ports the API server calls (webhooks, aggregated APIs)

    def installed_on(self, cloud: str) -> bool:
        """Whether `cloud` needs this add-on (its `when` facts hold), e.g. no device plugin on GKE."""
        facts = cloud_facts()[cloud]
        return all(facts.get(fact) == value for fact, value in self.when.items())

    def image(self, source: str) -> Image:
        return next(i for i in self.images if i.source == source)

    def chart_values(self, mirror: Any) -> dict[str, Any]:
        """The static values with every image value pointed at `mirror` (a string or an Output)."""
        values = _copy(self.values)
        for image in self.images:
            for path, form in image.values.items():
                _set(values, path, _mirrored(image, mirror, form))
        return values


def _mirrored(image: Image, mirror: Any, form: Form) -> Any:
    # `mirror` is an Output where the registry's address is computed (an ECR URL holds the account).
    if isinstance(mirror, str):
        return image.mirrored(mirror, form)
    return mirror.apply(lambda m: image.mirrored(m, form))


@cache
def load_addons() -> tuple[AddOn, ...]:
    """Every add-on of `addons.yaml`, in install order."""
    data = yaml.safe_load((HERE / "addons.yaml").read_text())
    return tuple(
        AddOn(
            name=row["name"],
            chart=row["chart"],
            repository=row["repository"],
            version=str(row["version"]),
            namespace=row["namespace"],
            source=row["source"],
            kubernetes=KubernetesRange(row["kubernetes"]["min"], row["kubernetes"]["max"], row["kubernetes"]["source"]),
            images=tuple(Image(i["source"], str(i["tag"]), dict(i["values"])) for i in row["images"]),
            values=row["values"],
            when=row.get("when", {}),
            control_plane_ports=tuple(row.get("control_plane_ports", ())),
        )
        for row in data["addons"]
    )


def addons_for(cloud: str) -> tuple[AddOn, ...]:
    """The add-ons `cloud` installs, in order."""
    return tuple(a for a in load_addons() if a.installed_on(cloud))


def control_plane_ports(cloud: str) -> tuple[int, ...]:
    """The sorted pod ports (TCP) the API server calls into `cloud`'s add-ons: their admission webhooks
    and aggregated APIs, which a cluster's firewall must admit from the control plane."""
    return tuple(sorted({port for addon in addons_for(cloud) for port in addon.control_plane_ports}))


def mirrored_paths(cloud: str) -> tuple[str, ...]:
    """The path of every image `cloud`'s add-ons run, as it sits below the mirror prefix."""
    return tuple(sorted({image.path for addon in addons_for(cloud) for image in addon.images}))


def mirror_list(cloud: str, mirror: str) -> list[tuple[str, str]]:
    """(source, destination) per image to copy before `pulumi up`; a `chart` tag is written as such."""
    return [(f"{i.source}:{i.tag}", f"{i.mirrored(mirror)}:{i.tag}") for a in addons_for(cloud) for i in a.images]


def _copy(values: dict[str, Any]) -> dict[str, Any]:
    return yaml.safe_load(yaml.safe_dump(values))


def _set(values: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        values = values.setdefault(key, {})
    values[last] = value
