"""EKS's part of in-cluster serving: a Kubernetes provider from the cluster's outputs, and EKS Pod
Identity for each endpoint's service account. Everything else is `infra/kubernetes`."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from infra.clouds.aws import iam
from infra.clouds.aws.cluster import Cluster
from infra.clouds.aws.storage import bucket_logical_name
from infra.kubernetes.access import ClusterAccess, IdentityBinding, Workload, kubeconfig, provider
from infra.plan import Plan

# The EKS Pod Identity agent every node runs (a DaemonSet on the host network) hands pods their
# role's credentials at this link-local address (EKS User Guide, "EKS Pod Identity agent").
POD_IDENTITY_AGENT = ("169.254.170.23/32", 80)


class KubernetesAccess(pulumi.ComponentResource):
    """`ml-serving:aws:KubernetesAccess`: the cluster's provider, and what its bindings need on the
    cluster: the Pod Identity agent add-on, and the VPC CNI enforcing NetworkPolicies (off by default:
    without `enableNetworkPolicy` EKS accepts NetworkPolicies and enforces none)."""

    access: ClusterAccess

    def __init__(self, name: str, plan: Plan, cluster: Cluster, key_alias: str, opts: pulumi.ResourceOptions) -> None:
        super().__init__("ml-serving:aws:KubernetesAccess", name, None, opts)
        eks = cluster.cluster
        agent = aws.eks.Addon(
            f"{name}-pod-identity-agent",
            cluster_name=eks.name,
            addon_name="eks-pod-identity-agent",
            opts=pulumi.ResourceOptions(parent=self),
        )
        cni = aws.eks.Addon(
            f"{name}-vpc-cni",
            cluster_name=eks.name,
            addon_name="vpc-cni",
            configuration_values=json.dumps({"enableNetworkPolicy": "true"}),
            resolve_conflicts_on_update="OVERWRITE",
            opts=pulumi.ResourceOptions(parent=self),
        )
        config = kubeconfig(
            cluster.cluster_name,
            eks.endpoint,
            eks.certificate_authority.data,
            {
                "command": "aws",
                "args": ["eks", "get-token", "--cluster-name", cluster.cluster_name, "--region", plan.region],
            },
        )
        k8s_provider = provider(f"{name}-provider", config, pulumi.ResourceOptions(parent=self, depends_on=[cni]))

        def bind(workload: Workload, parent: pulumi.Resource) -> IdentityBinding:
            child = pulumi.ResourceOptions(parent=parent)
            role = aws.iam.Role(
                f"k8s-{workload.endpoint}-pod-role",
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
                opts=child,
            )
            policy = aws.iam.RolePolicy(
                f"k8s-{workload.endpoint}-pod-policy",
                role=role.id,
                policy=iam.document(_read_artifacts(plan, workload, key_alias)),
                opts=child,
            )
            association = aws.eks.PodIdentityAssociation(
                f"k8s-{workload.endpoint}-pod-identity",
                cluster_name=eks.name,
                namespace=workload.namespace,
                service_account=workload.service_account,
                role_arn=role.arn,
                opts=pulumi.ResourceOptions(parent=parent, depends_on=[agent, policy]),
            )
            # Pod Identity needs no annotation: EKS matches the namespace and service account.
            return IdentityBinding(egress=[POD_IDENTITY_AGENT], resources=[association])

        self.access = ClusterAccess(k8s_provider, bind)
        self.register_outputs({})


def _read_artifacts(plan: Plan, workload: Workload, key_alias: str) -> list[iam.Statement]:
    """Read the endpoint's own artifacts (KServe's storage initializer lists the prefix, then gets
    each object) and decrypt them with the stack's key; nothing else."""
    part = iam.partition(plan.region)
    objects: list[str] = []
    listing: dict[str, list[str]] = {}
    for artifact in workload.artifacts:
        if "://" in artifact:
            bucket, _, key = artifact.split("://", 1)[1].partition("/")
        else:
            bucket, key = f"{bucket_logical_name(plan)}-*", artifact
        prefix = key.rsplit("/", 1)[0] + "/" if "/" in key else key
        objects.append(f"arn:{part}:s3:::{bucket}/{prefix}*")
        listing.setdefault(f"arn:{part}:s3:::{bucket}", []).append(f"{prefix}*")
    return [
        {"Sid": "ReadOwnArtifacts", "Effect": "Allow", "Action": "s3:GetObject", "Resource": sorted(set(objects))},
        *(
            {
                "Sid": f"ListOwnArtifacts{i}",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket,
                "Condition": {"StringLike": {"s3:prefix": sorted(set(prefixes))}},
            }
            for i, (bucket, prefixes) in enumerate(sorted(listing.items()))
        ),
        {"Sid": "UseStackKey", **iam.key_usage(plan.region, key_alias, ["kms:Decrypt"])},
    ]
