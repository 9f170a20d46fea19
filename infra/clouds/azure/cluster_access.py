"""AKS's part of in-cluster serving: a Kubernetes provider from the cluster's outputs, and workload
identity for each endpoint's service account. Everything else is `infra/kubernetes`."""

from __future__ import annotations

import base64

import pulumi
import pulumi_azure_native as azure
import yaml

from infra.clouds.azure.cluster import Cluster
from infra.clouds.azure.site import Site
from infra.clouds.azure.storage import ModelStore
from infra.kubernetes.access import ClusterAccess, IdentityBinding, Workload, kubeconfig, provider

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


class KubernetesAccess(pulumi.ComponentResource):
    """`ml-serving:azure:KubernetesAccess`: the provider, and per endpoint a user-assigned identity
    federated with the endpoint's service account that may read the model container's blobs."""

    access: ClusterAccess

    def __init__(
        self, name: str, site: Site, cluster: Cluster, store: ModelStore, opts: pulumi.ResourceOptions
    ) -> None:
        super().__init__("ml-serving:azure:KubernetesAccess", name, None, opts)
        # AKS returns the CA only with a credentials call; asked once the cluster exists (its id is
        # computed), so a preview of a new cluster never calls Azure.
        ca = pulumi.Output.all(cluster.cluster.id, cluster.resource_group).apply(
            lambda values: _ca(
                cs.list_managed_cluster_user_credentials(
                    resource_group_name=values[1], resource_name=cluster.cluster_name
                )
            )
        )
        server = pulumi.Output.concat("https://", cluster.api_server_fqdn, ":443")
        config = kubeconfig(cluster.cluster_name, server, ca, KUBELOGIN)
        k8s_provider = provider(f"{name}-provider", config, pulumi.ResourceOptions(parent=self))

        def bind(workload: Workload, parent: pulumi.Resource) -> IdentityBinding:
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
                federated_identity_credential_resource_name=f"{workload.namespace}-{workload.service_account}",
                issuer=cluster.oidc_issuer_url,
                subject=f"system:serviceaccount:{workload.namespace}:{workload.service_account}",
                audiences=[TOKEN_AUDIENCE],
                opts=child,
            )
            # Blob roles scope no finer than a container without conditions: the models container.
            reader = site.grant(
                f"k8s-{workload.endpoint}-artifacts",
                identity.principal_id,
                "Storage Blob Data Reader",
                store.container.id,
                parent,
            )
            return IdentityBinding(
                annotations={"azure.workload.identity/client-id": identity.client_id},
                pod_labels=WORKLOAD_IDENTITY_LABEL,
                resources=[federation, reader],
            )

        self.access = ClusterAccess(k8s_provider, bind)
        self.register_outputs({})
