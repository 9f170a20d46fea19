"""AKS's part of in-cluster serving: a Kubernetes provider from the cluster's outputs, and workload
identity for each endpoint's service account. Everything else is `infra/kubernetes`."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure
import pulumi_kubernetes as k8s
import yaml

from infra.clouds.azure.site import Site
from infra.kubernetes.access import IdentityBinding, Workload, kubeconfig, provider

cs = azure.containerservice
# kubelogin exchanges the caller's Azure CLI login (in CI: `azure/login` with OIDC) for a token of
# the AKS Entra ID server application, whose id is the same in every tenant (AKS "Use kubelogin").
AKS_SERVER_APP = "6dae42f8-4368-4678-94ff-3960e28e3630"
KUBELOGIN = {"command": "kubelogin", "args": ["get-token", "--login", "azurecli", "--server-id", AKS_SERVER_APP]}
# The workload identity webhook mutates only pods carrying this label (AKS "Use Microsoft Entra
# Workload ID with AKS"); the service account names the identity's client id.
WORKLOAD_IDENTITY_LABEL = {"azure.workload.identity/use": "true"}
TOKEN_AUDIENCE = "api://AzureADTokenExchange"


def _ca(credentials: cs.ListManagedClusterUserCredentialsResult) -> str:
    """The cluster CA (base64) from the user kubeconfig AKS returns; the rest of it is not used."""
    document = yaml.safe_load(base64.b64decode(credentials.kubeconfigs[0].value))
    return document["clusters"][0]["cluster"]["certificate-authority-data"]


@dataclass(frozen=True)
class KubernetesAccessArgs:
    """The cluster as the Kubernetes layer reaches it: its physical name (naming layer), the Cluster
    component's outputs (`cluster_id` makes the credentials call wait for the cluster), and what
    each endpoint's identity is federated with and may read: the OIDC issuer and the models container,
    with each endpoint's federated credential name (naming layer)."""

    site: Site
    cluster_name: str
    cluster_id: pulumi.Input[str]
    resource_group: pulumi.Input[str]
    api_server_fqdn: pulumi.Input[str]
    oidc_issuer_url: pulumi.Input[str]
    container_id: pulumi.Input[str]  # the model store's models container
    credential_names: dict[str, str]  # endpoint -> its federated identity credential's name


class KubernetesAccess(pulumi.ComponentResource):
    """`ml-serving:azure:KubernetesAccess`: the cluster's provider, through kubelogin.

    Outputs: `provider`, the Kubernetes provider for the cluster. `bind_identity` gives an endpoint's
    pods a workload identity (see `infra/kubernetes/access.py`).
    """

    provider: k8s.Provider

    def __init__(self, name: str, args: KubernetesAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:azure:KubernetesAccess", name, None, opts)
        self._args = args
        # AKS returns the CA only with a credentials call; asked once the cluster exists (its id is
        # computed), so a preview of a new cluster never calls Azure.
        ca = pulumi.Output.all(args.cluster_id, args.resource_group).apply(
            lambda values: _ca(
                cs.list_managed_cluster_user_credentials(resource_group_name=values[1], resource_name=args.cluster_name)
            )
        )
        server = pulumi.Output.concat("https://", args.api_server_fqdn, ":443")
        config = kubeconfig(args.cluster_name, server, ca, KUBELOGIN)
        self.provider = provider(f"{name}-provider", config, pulumi.ResourceOptions(parent=self))
        self.register_outputs({"provider": self.provider})

    def bind_identity(self, workload: Workload, parent: pulumi.Resource) -> IdentityBinding:
        """A user-assigned identity federated with the workload's service account, that may read the
        models container's blobs."""
        site = self._args.site
        child = pulumi.ResourceOptions(parent=parent)
        identity = azure.managedidentity.UserAssignedIdentity(
            f"k8s-{workload.endpoint}-identity",
            resource_group_name=site.group_name,
            location=site.location,
            tags=site.tags,
            opts=child,
        )
        federation = azure.managedidentity.FederatedIdentityCredential(
            f"k8s-{workload.endpoint}-federation",
            resource_group_name=site.group_name,
            resource_name_=identity.name,
            federated_identity_credential_resource_name=self._args.credential_names[workload.endpoint],
            issuer=self._args.oidc_issuer_url,
            subject=f"system:serviceaccount:{workload.namespace}:{workload.service_account}",
            audiences=[TOKEN_AUDIENCE],
            opts=child,
        )
        # Blob roles scope no finer than a container without conditions: the models container.
        reader = site.grant(
            f"k8s-{workload.endpoint}-artifacts",
            identity.principal_id,
            "Storage Blob Data Reader",
            self._args.container_id,
            parent,
        )
        return IdentityBinding(
            annotations={"azure.workload.identity/client-id": identity.client_id},
            pod_labels=WORKLOAD_IDENTITY_LABEL,
            resources=[federation, reader],
        )
