"""How the rules read an InferenceService: its predictors (the stable one and each named canary)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ml_serving_policy.rules import get

INFERENCE_SERVICE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
# Where a stack keeps its serving images, per cloud (the registry resources the translators create).
REGISTRIES = (
    "aws:ecr/repository:Repository",
    "gcp:artifactregistry/repository:Repository",
    "azure-native:containerregistry:Registry",
)


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
