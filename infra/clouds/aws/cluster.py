"""An EKS cluster with a private API, a CPU system node group and one GPU node group per pool."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.clouds.aws import iam
from infra.clouds.options import child, renamed
from infra.naming import Names
from infra.plan import ClusterPlan, NodePoolPlan

LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
LOG_RETENTION_DAYS = 90
# Only what a node needs to join, run the VPC CNI and pull images (AWS-managed, least privilege).
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly")
# Per accelerator runtime (None: CPU nodes): the EKS-optimised AMI with its drivers, and the taint
# that keeps every pod but the inference servers (which tolerate it) off those nodes.
TAINT_KEYS = {"nvidia": "nvidia.com/gpu", "neuron": "aws.amazon.com/neuron"}
CAPACITY = {"on-demand": "ON_DEMAND", "spot": "SPOT"}


@dataclass(frozen=True)
class ClusterArgs:
    """The plan's cluster (version, system and GPU pools), its names (naming layer), the private
    subnets it runs in and the key that encrypts its secrets, logs and node volumes."""

    stack: str
    region: str
    protect: bool
    cluster: ClusterPlan
    cluster_name: str
    log_group_name: str  # /aws/eks/<cluster>/cluster, where EKS writes control-plane logs
    subnet_ids: list[pulumi.Input[str]]
    key_arn: pulumi.Input[str]
    names: Names  # the names of the autonamed parts (roles, launch templates, node groups)


class Cluster(pulumi.ComponentResource):
    """`ml-serving:aws:Cluster`: the EKS cluster, its role and logs, and one managed node group per
    pool, each from an IMDSv2-only launch template with an encrypted root volume.

    Outputs: `cluster_name`, and the API server's `endpoint` and `certificate_authority_data`
    (base64) that a Kubernetes provider connects with.
    """

    cluster_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    certificate_authority_data: pulumi.Output[str]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:aws:Cluster", name, None, opts)
        role_name = args.names("iam_role", "cluster")
        role = iam.role(role_name, "eks.amazonaws.com", renamed(self, f"{name}-role", role_name))
        role_policy = aws.iam.RolePolicyAttachment(
            f"{name}-role-policy",
            role=role.name,
            policy_arn=iam.managed_policy(args.region, "AmazonEKSClusterPolicy"),
            opts=child(self),
        )
        # Created before the cluster so its control-plane logs are encrypted and expire.
        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=args.log_group_name,
            kms_key_id=args.key_arn,
            retention_in_days=LOG_RETENTION_DAYS,
            opts=child(self),
        )
        cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=args.cluster_name,
            version=args.cluster.kubernetes_version,
            role_arn=role.arn,
            vpc_config={
                "subnet_ids": args.subnet_ids,
                "endpoint_private_access": True,
                "endpoint_public_access": False,
            },
            encryption_config={"provider": {"key_arn": args.key_arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=LOG_TYPES,
            # Access entries (the EKS API), not the aws-auth ConfigMap; the creator administers.
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": True},
            deletion_protection=args.protect,
            # At the end of standard support EKS upgrades the control plane instead of moving it to
            # extended support, which it would bill at $0.60 per hour instead of $0.10 (the default,
            # EXTENDED, silently multiplies the estimate's control-plane line by six).
            upgrade_policy={"support_type": "STANDARD"},
            # Protected in state too (as GKE is): a prod cluster runs the serving fleet.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[role_policy, logs]),
        )
        node_role_name = args.names("iam_role", "cluster", "nodes")
        node_role = iam.role(node_role_name, "ec2.amazonaws.com", renamed(self, f"{name}-node-role", node_role_name))
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}",
                role=node_role.name,
                policy_arn=iam.managed_policy(args.region, policy),
                opts=child(self),
            )
            for policy in NODE_POLICIES
        ]
        for pool in (args.cluster.system_pool, *args.cluster.gpu_pools):
            self._node_group(name, args, pool, cluster, node_role, attachments)
        self.cluster_name = cluster.name
        self.endpoint = cluster.endpoint
        self.certificate_authority_data = cluster.certificate_authority.data
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "endpoint": self.endpoint,
                "certificate_authority_data": self.certificate_authority_data,
            }
        )

    def _node_group(
        self,
        name: str,
        args: ClusterArgs,
        pool: NodePoolPlan,
        cluster: aws.eks.Cluster,
        node_role: aws.iam.Role,
        attachments: list[aws.iam.RolePolicyAttachment],
    ) -> None:
        template_name = args.names("ec2_launch_template", pool.name)
        template = aws.ec2.LaunchTemplate(
            template_name,
            description=f"ml-serving {args.stack} {pool.name} nodes: IMDSv2, encrypted root volume",
            # IMDSv2 only; hop limit 2 so containers on the node reach it, pods in other hops do not.
            metadata_options={"http_endpoint": "enabled", "http_tokens": "required", "http_put_response_hop_limit": 2},
            block_device_mappings=[
                {
                    "device_name": "/dev/xvda",
                    "ebs": {
                        "encrypted": "true",
                        "kms_key_id": args.key_arn,
                        # Sized by the plan: OS and images, plus the weights of every model copy.
                        "volume_size": pool.disk_gib,
                        "volume_type": "gp3",
                        "delete_on_termination": "true",
                    },
                }
            ],
            opts=renamed(self, f"{name}-{pool.name}", template_name),
        )
        labels = {"ml-serving/pool": pool.name}
        if pool.gpu is not None:
            labels["ml-serving/gpu"] = pool.gpu
        if pool.accelerator is not None:
            labels["ml-serving/accelerator"] = pool.accelerator
        if pool.endpoint is not None:
            labels["ml-serving/endpoint"] = pool.endpoint
        group_name = args.names("eks_node_group", pool.name)
        aws.eks.NodeGroup(
            group_name,
            cluster_name=cluster.name,
            node_role_arn=node_role.arn,
            subnet_ids=args.subnet_ids,
            instance_types=[pool.instance_type],
            # The plan's: the EKS AMI for the type's CPU architecture and accelerator (Graviton: ARM_64).
            ami_type=pool.node_image,
            capacity_type=CAPACITY[pool.capacity],
            scaling_config={"min_size": pool.min_nodes, "max_size": pool.max_nodes, "desired_size": pool.min_nodes},
            labels=labels,
            taints=[{"key": TAINT_KEYS[pool.accelerator], "value": "true", "effect": "NO_SCHEDULE"}]
            if pool.accelerator
            else None,
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            update_config={"max_unavailable": 1},
            opts=renamed(
                self,
                f"{name}-{pool.name}",
                group_name,
                depends_on=attachments,
                # The cluster autoscaler owns the current size between the bounds.
                ignore_changes=["scalingConfig.desiredSize"],
            ),
        )
