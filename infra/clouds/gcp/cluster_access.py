"""GKE's part of in-cluster serving: a Kubernetes provider from the cluster's outputs, and Workload
Identity for each endpoint's service account. Everything else is `infra/kubernetes`."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from infra.clouds.gcp.artifacts import OBJECT_VIEWER, read_condition
from infra.clouds.options import child
from infra.kubernetes.access import IdentityBinding, Workload, kubeconfig, provider
from infra.naming import Names

# gke-gcloud-auth-plugin turns the caller's gcloud login (in CI: workload identity federation) into a
# short-lived token; `provideClusterInfo` is how gcloud writes it (GKE "Install kubectl and configure
# cluster access").
AUTH_PLUGIN = {
    "command": "gke-gcloud-auth-plugin",
    "provideClusterInfo": True,
    "installHint": "gcloud components install gke-gcloud-auth-plugin",
}
# The annotation GKE's metadata server reads to hand a pod the Google service account's tokens
# (GKE "Authenticate to Google Cloud APIs from GKE workloads", linking Kubernetes service accounts).
SERVICE_ACCOUNT_ANNOTATION = "iam.gke.io/gcp-service-account"
WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"


@dataclass(frozen=True)
class KubernetesAccessArgs:
    """The cluster as the Kubernetes layer reaches it: its physical name (naming layer, the
    kubeconfig's context), the Cluster component's outputs (`endpoint` resolves once the node pools
    exist, so the add-ons wait for nodes), and what pod identities are scoped to: the Workload
    Identity pool (`<project>.svc.id.goog`) and the model bucket's name."""

    cluster_name: str
    endpoint: pulumi.Input[str]
    ca_certificate: pulumi.Input[str]
    workload_identity_pool: str
    bucket_name: str
    names: Names  # the pod service accounts' ids


class KubernetesAccess(pulumi.ComponentResource):
    """`ml-serving:gcp:KubernetesAccess`: the cluster's provider (gke-gcloud-auth-plugin exec auth, the
    private endpoint over HTTPS, the cluster's CA; never a local kubeconfig).

    Outputs: `provider`. `bind_identity` gives an endpoint's pods a Google service account through
    Workload Identity (see `infra/kubernetes/access.py`).
    """

    provider: k8s.Provider

    def __init__(self, name: str, args: KubernetesAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:gcp:KubernetesAccess", name, None, opts)
        self._args = args
        server = pulumi.Output.concat("https://", args.endpoint)
        config = kubeconfig(args.cluster_name, server, args.ca_certificate, AUTH_PLUGIN)
        self.provider = provider(f"{name}-provider", config, pulumi.ResourceOptions(parent=self))
        self.register_outputs({"provider": self.provider})

    def bind_identity(self, workload: Workload, parent: pulumi.Resource) -> IdentityBinding:
        """A Google service account for the workload that reads its artifacts' folders and nothing
        else, which the workload's Kubernetes service account may act as. Images are pulled by the
        node's account (`roles/artifactregistry.reader` on the stack's repository), as on EKS and AKS,
        so the pods' account holds no registry role."""
        account = gcp.serviceaccount.Account(
            f"k8s-{workload.endpoint}-account",
            account_id=self._args.names("service_account_id", workload.endpoint, "pods"),
            display_name=f"ml-serving {workload.endpoint}: model-server pods",
            description="Workload Identity of the endpoint's pods on GKE; reads only their artifacts.",
            opts=child(parent),
        )
        impersonation = gcp.serviceaccount.IAMMember(
            f"k8s-{workload.endpoint}-workload-identity",
            service_account_id=account.name,
            role=WORKLOAD_IDENTITY_USER,
            member=(
                f"serviceAccount:{self._args.workload_identity_pool}[{workload.namespace}/{workload.service_account}]"
            ),
            opts=child(parent),
        )
        readers = [
            gcp.storage.BucketIAMMember(
                f"k8s-{workload.endpoint}-artifacts" + (f"-{bucket}" if bucket else ""),
                bucket=bucket or self._args.bucket_name,
                role=OBJECT_VIEWER,
                member=account.member,
                condition=read_condition(bucket or self._args.bucket_name, folders),
                opts=child(parent),
            )
            for bucket, folders in sorted(workload.folders().items(), key=lambda item: item[0] or "")
        ]
        return IdentityBinding(
            annotations={SERVICE_ACCOUNT_ANNOTATION: account.email}, resources=[impersonation, *readers]
        )
