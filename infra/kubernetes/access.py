"""The two things a cloud hands the Kubernetes layer: a provider for its cluster, and a way to bind
a Kubernetes service account to a least-privilege cloud identity.

Each cloud package has one function that builds a `ClusterAccess` from its cluster's outputs;
everything else in `infra/kubernetes` is the same code for EKS, GKE and AKS.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class Workload:
    """The pods of one endpoint, as a cloud identity sees them.

    namespace/service_account: the Kubernetes identity the pods run as.
    artifacts: artifact URIs or model-store keys the pods read (their weights).
    """

    endpoint: str
    namespace: str
    service_account: str
    artifacts: tuple[str, ...]

    def folders(self) -> dict[str | None, tuple[str, ...]]:
        """Per bucket (None: the stack's model store, for model-store keys) the sorted folders the pods
        read: an artifact's key up to its last `/` (`llama/v1/` for `llama/v1/model.tar.gz` and for
        `llama/v1/`). KServe's storage initializer lists `<key>/` and reads what it finds, so a
        grant on the folder is the least that serves both a single file and a directory."""
        folders: dict[str | None, set[str]] = {}
        for artifact in self.artifacts:
            bucket: str | None = None
            key = artifact
            if "://" in artifact:
                bucket, _, key = artifact.split("://", 1)[1].partition("/")
            folders.setdefault(bucket, set()).add(key.rsplit("/", 1)[0] + "/" if "/" in key else key)
        return {bucket: tuple(sorted(keys)) for bucket, keys in folders.items()}


@dataclass(frozen=True)
class IdentityBinding:
    """What the cloud side of a binding asks of the Kubernetes side.

    annotations: on the ServiceAccount (IRSA role ARN, GKE service account, AKS client id).
    pod_labels: on the model-server pods (AKS workload identity's webhook selects on one).
    resources: the cloud resources of the binding, which the pods must not start before.

    Where the pods fetch credentials on their node (EKS Pod Identity agent, GKE metadata server) is
    a cloud fact (`identity_agent_egress` in `infra/facts.yaml`), not part of a binding.
    """

    annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    resources: Sequence[pulumi.Resource] = ()


class BindIdentity(Protocol):
    def __call__(self, workload: Workload, parent: pulumi.Resource) -> IdentityBinding:
        """Create the cloud identity `workload` runs as (children of `parent`), able to read its
        artifacts and nothing else, and return what its ServiceAccount and pods must carry."""
        ...


@dataclass(frozen=True)
class ClusterAccess:
    """A cloud's contribution to in-cluster serving: exactly a provider and an identity binder."""

    provider: k8s.Provider
    bind_identity: BindIdentity


def kubeconfig(
    cluster: str, server: pulumi.Input[str], ca_data: pulumi.Input[str], exec_: dict[str, Any]
) -> pulumi.Output[str]:
    """A kubeconfig (JSON) for one cluster whose credentials come from `exec_`, a
    client.authentication.k8s.io/v1beta1 exec plugin (`aws eks get-token`, `gke-gcloud-auth-plugin`,
    `kubelogin`): short-lived tokens from the caller's cloud login, never a stored kubeconfig.
    `ca_data` is the cluster's CA certificate, base64-encoded as the clouds return it."""
    return pulumi.Output.all(server, ca_data).apply(
        lambda values: json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": cluster, "cluster": {"server": values[0], "certificate-authority-data": values[1]}}
                ],
                "users": [
                    {"name": cluster, "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", **exec_}}}
                ],
                "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": cluster}}],
                "current-context": cluster,
            }
        )
    )


def provider(name: str, config: pulumi.Input[str], opts: pulumi.ResourceOptions) -> k8s.Provider:
    """A provider bound to one cluster: it never falls back to a local kubeconfig or context."""
    return k8s.Provider(name, kubeconfig=config, enable_server_side_apply=True, opts=opts)
