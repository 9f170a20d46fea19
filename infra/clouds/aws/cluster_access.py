"""EKS's part of in-cluster serving: a Kubernetes provider from the cluster's outputs, and EKS Pod
Identity for each endpoint's service account. Everything else is `infra/kubernetes`."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.clouds.aws import iam
from infra.clouds.options import renamed
from infra.kubernetes.access import IdentityBinding, Workload, kubeconfig, provider
from infra.naming import Names


@dataclass(frozen=True)
class KubernetesAccessArgs:
    """The cluster as the Kubernetes layer reaches it: its physical name (naming layer, for the
    kubeconfig and `aws eks get-token`), the Cluster component's outputs (`cluster` makes the
    add-ons wait for it), and what pod roles are scoped to: the stack key's alias and the bucket."""

    region: str
    cluster_name: str
    cluster: pulumi.Input[str]
    endpoint: pulumi.Input[str]
    certificate_authority_data: pulumi.Input[str]
    key_alias: str
    bucket_pattern: str  # matches the model store bucket's autoname: `<logical name>-*`
    names: Names  # the names of the autonamed pod roles and their policies


class KubernetesAccess(pulumi.ComponentResource):
    """`ml-serving:aws:KubernetesAccess`: the cluster's provider, and what its bindings need on the
    cluster: the Pod Identity agent add-on, and the VPC CNI enforcing NetworkPolicies (off by default:
    without `enableNetworkPolicy` EKS accepts NetworkPolicies and enforces none).

    Outputs: `provider`, the Kubernetes provider for the cluster (as pulumi-eks exposes its own).
    `bind_identity` gives an endpoint's pods an EKS Pod Identity role (see `infra/kubernetes/access.py`).
    """

    provider: k8s.Provider

    def __init__(self, name: str, args: KubernetesAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:aws:KubernetesAccess", name, None, opts)
        self._args = args
        self._agent = aws.eks.Addon(
            f"{name}-pod-identity-agent",
            cluster_name=args.cluster,
            addon_name="eks-pod-identity-agent",
            opts=pulumi.ResourceOptions(parent=self),
        )
        cni = aws.eks.Addon(
            f"{name}-vpc-cni",
            cluster_name=args.cluster,
            addon_name="vpc-cni",
            configuration_values=json.dumps({"enableNetworkPolicy": "true"}),
            resolve_conflicts_on_update="OVERWRITE",
            opts=pulumi.ResourceOptions(parent=self),
        )
        config = kubeconfig(
            args.cluster_name,
            args.endpoint,
            args.certificate_authority_data,
            {
                "command": "aws",
                "args": ["eks", "get-token", "--cluster-name", args.cluster_name, "--region", args.region],
            },
        )
        self.provider = provider(f"{name}-provider", config, pulumi.ResourceOptions(parent=self, depends_on=[cni]))
        self.register_outputs({"provider": self.provider})

    def bind_identity(self, workload: Workload, parent: pulumi.Resource) -> IdentityBinding:
        """An EKS Pod Identity role for the workload's service account that reads its artifacts."""
        role_name = self._args.names("iam_role", workload.endpoint, "pods")
        role = aws.iam.Role(
            role_name,
            assume_role_policy=iam.document(
                [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "pods.eks.amazonaws.com"},
                        # Pod Identity tags the session with the cluster, namespace and account.
                        "Action": ["sts:AssumeRole", "sts:TagSession"],
                    }
                ]
            ),
            opts=renamed(parent, f"k8s-{workload.endpoint}-pod-role", role_name),
        )
        policy_name = self._args.names("iam_role_policy", workload.endpoint, "pods")
        policy = aws.iam.RolePolicy(
            policy_name,
            role=role.id,
            policy=iam.document(_read_artifacts(self._args, workload)),
            opts=renamed(parent, f"k8s-{workload.endpoint}-pod-policy", policy_name),
        )
        association = aws.eks.PodIdentityAssociation(
            f"k8s-{workload.endpoint}-pod-identity",
            cluster_name=self._args.cluster,
            namespace=workload.namespace,
            service_account=workload.service_account,
            role_arn=role.arn,
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[self._agent, policy]),
        )
        # Pod Identity needs no annotation: EKS matches the namespace and service account.
        return IdentityBinding(resources=[association])


def _read_artifacts(args: KubernetesAccessArgs, workload: Workload) -> list[iam.Statement]:
    """Read the endpoint's own artifacts (KServe's storage initializer lists the prefix, then gets
    each object) and decrypt them with the stack's key; nothing else."""
    part = iam.partition(args.region)
    listing = {
        f"arn:{part}:s3:::{bucket or args.bucket_pattern}": folders for bucket, folders in workload.folders().items()
    }
    objects = sorted(f"{bucket}/{folder}*" for bucket, folders in listing.items() for folder in folders)
    return [
        {"Sid": "ReadOwnArtifacts", "Effect": "Allow", "Action": "s3:GetObject", "Resource": objects},
        *(
            {
                "Sid": f"ListOwnArtifacts{i}",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket,
                "Condition": {"StringLike": {"s3:prefix": [f"{folder}*" for folder in folders]}},
            }
            for i, (bucket, folders) in enumerate(sorted(listing.items()))
        ),
        {"Sid": "UseStackKey", **iam.key_usage(args.region, args.key_alias, ["kms:Decrypt"])},
    ]
