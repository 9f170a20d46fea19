"""How the rules read an InferenceService: its predictors (the stable one and each named canary)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ml_serving_policy.rules import get

INFERENCE_SERVICE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
FIELD = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class RegistryForm:
    """How a registry resource's properties spell the address its images live at.

    addresses: templates over the resource's properties (`{repositoryId}`), a property the resource
    does not set read from its provider's (the Google provider's `project` fills every resource that
    names none); a template with a property unknown at preview or set nowhere gives no address.
    follows: what comes right after the address in an image reference that is in the registry
    (`:` a tag, `@` a digest, `/` a path below it).
    """

    addresses: tuple[str, ...]
    follows: tuple[str, ...]

    def of(self, registry: Any) -> list[str]:
        """The addresses `registry` (a stack policy's resource) spells, in lower case as registry
        hosts and repository paths are."""
        provider = registry.provider.props if registry.provider is not None else {}
        spelled = []
        for template in self.addresses:
            values = {name: get(registry.props, name) or get(provider, name) for name in FIELD.findall(template)}
            if all(isinstance(v, str) and v for v in values.values()):
                spelled.append(template.format_map(values).lower())
        return spelled

    def holds(self, registry: Any, image: str) -> bool:
        """Whether `image` is a reference into `registry`."""
        return any(image.startswith(a + f) for a in self.of(registry) for f in self.follows)


# Where a stack keeps its serving images, per cloud: the registry resource its translator creates,
# and how that resource spells the address an image must start with.
REGISTRIES = {
    # ECR: one repository per image; AWS computes its URL (<account>.dkr.ecr.<region>.amazonaws.com/<name>).
    "aws:ecr/repository:Repository": RegistryForm(("{repositoryUrl}",), (":", "@")),
    # Artifact Registry: images live below LOCATION-docker.pkg.dev/PROJECT/REPOSITORY (Artifact
    # Registry "Repository and image names"), all known from the repository's inputs.
    "gcp:artifactregistry/repository:Repository": RegistryForm(
        ("{location}-docker.pkg.dev/{project}/{repositoryId}",), ("/",)
    ),
    # ACR: images live below the login server, the registry's name in lower case + .azurecr.io.
    "azure-native:containerregistry:Registry": RegistryForm(("{loginServer}", "{registryName}.azurecr.io"), ("/",)),
}


def predictors(props: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(where, predictor) for spec.predictor and each spec.canary[i].predictor."""
    stable = get(props, "spec", "predictor")
    if stable is not None:
        yield "spec.predictor", stable
    for i, canary in enumerate(get(props, "spec", "canary", default=[]) or []):
        yield f"spec.canary[{i}].predictor", get(canary, "predictor")


def containers(props: Mapping[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    """(where, predictor, container) for every container of every predictor."""
    for where, predictor in predictors(props):
        for j, container in enumerate(get(predictor, "containers", default=[]) or []):
            yield f"{where}.containers[{j}]", predictor, container
