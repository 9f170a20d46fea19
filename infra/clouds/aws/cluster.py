"""An EKS cluster with a private API, a CPU system node group and one GPU node group per pool."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.clouds.aws import iam
from infra.clouds.aws.network import Network
from infra.clouds.options import child
from infra.plan import NodePoolPlan, Plan

LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
LOG_RETENTION_DAYS = 90
# Only what a node needs to join, run the VPC CNI and pull images (AWS-managed, least privilege).
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly")
# Per accelerator runtime (None: CPU nodes): the EKS-optimised AMI with its drivers, and the taint
# that keeps every pod but the inference servers (which tolerate it) off those nodes.
AMI_TYPES = {"nvidia": "AL2023_x86_64_NVIDIA", "neuron": "AL2023_x86_64_NEURON", None: "AL2023_x86_64_STANDARD"}
TAINT_KEYS = {"nvidia": "nvidia.com/gpu", "neuron": "aws.amazon.com/neuron"}
CAPACITY = {"on-demand": "ON_DEMAND", "spot": "SPOT"}


class Cluster(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        plan: Plan,
        network: Network,
        key: aws.kms.Key,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("ml-serving:aws:Cluster", name, None, opts)
        assert plan.cluster is not None
        self.cluster_name = f"ml-serving-{plan.stack}"
        role = iam.role(f"{name}-role", "eks.amazonaws.com", child(self))
        role_policy = aws.iam.RolePolicyAttachment(
            f"{name}-role-policy",
            role=role.name,
            policy_arn=iam.managed_policy(plan.region, "AmazonEKSClusterPolicy"),
            opts=child(self),
        )
        # Created before the cluster so its control-plane logs are encrypted and expire.
        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/eks/{self.cluster_name}/cluster",
            kms_key_id=key.arn,
            retention_in_days=LOG_RETENTION_DAYS,
            opts=child(self),
        )
        self.cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=self.cluster_name,
            version=plan.cluster.kubernetes_version,
            role_arn=role.arn,
            vpc_config={
                "subnet_ids": network.subnet_ids,
                "endpoint_private_access": True,
                "endpoint_public_access": False,
            },
            encryption_config={"provider": {"key_arn": key.arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=LOG_TYPES,
            # Access entries (the EKS API), not the aws-auth ConfigMap; the creator administers.
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": True},
            deletion_protection=plan.protect,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy, logs]),
        )
        node_role = iam.role(f"{name}-node-role", "ec2.amazonaws.com", child(self))
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}",
                role=node_role.name,
                policy_arn=iam.managed_policy(plan.region, policy),
                opts=child(self),
            )
            for policy in NODE_POLICIES
        ]
        for pool in (plan.cluster.system_pool, *plan.cluster.gpu_pools):
            self._node_group(name, plan, pool, network, key, node_role, attachments)
        self.register_outputs({"cluster_name": self.cluster_name})

    def _node_group(
        self,
        name: str,
        plan: Plan,
        pool: NodePoolPlan,
        network: Network,
        key: aws.kms.Key,
        node_role: aws.iam.Role,
        attachments: list[aws.iam.RolePolicyAttachment],
    ) -> None:
        template = aws.ec2.LaunchTemplate(
            f"{name}-{pool.name}",
            description=f"ml-serving {plan.stack} {pool.name} nodes: IMDSv2, encrypted root volume",
            # IMDSv2 only; hop limit 2 so containers on the node reach it, pods in other hops do not.
            metadata_options={"http_endpoint": "enabled", "http_tokens": "required", "http_put_response_hop_limit": 2},
            block_device_mappings=[
                {
                    "device_name": "/dev/xvda",
                    "ebs": {
                        "encrypted": "true",
                        "kms_key_id": key.arn,
                        # Sized by the plan: OS and images, plus the weights of every model copy.
                        "volume_size": pool.disk_gib,
                        "volume_type": "gp3",
                        "delete_on_termination": "true",
                    },
                }
            ],
            opts=child(self),
        )
        labels = {"ml-serving/pool": pool.name}
        if pool.gpu is not None:
            labels["ml-serving/gpu"] = pool.gpu
        if pool.accelerator is not None:
            labels["ml-serving/accelerator"] = pool.accelerator
        if pool.endpoint is not None:
            labels["ml-serving/endpoint"] = pool.endpoint
        aws.eks.NodeGroup(
            f"{name}-{pool.name}",
            cluster_name=self.cluster.name,
            node_role_arn=node_role.arn,
            subnet_ids=network.subnet_ids,
            instance_types=[pool.instance_type],
            ami_type=AMI_TYPES[pool.accelerator],
            capacity_type=CAPACITY[pool.capacity],
            scaling_config={"min_size": pool.min_nodes, "max_size": pool.max_nodes, "desired_size": pool.min_nodes},
            labels=labels,
            taints=[{"key": TAINT_KEYS[pool.accelerator], "value": "true", "effect": "NO_SCHEDULE"}]
            if pool.accelerator
            else None,
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            update_config={"max_unavailable": 1},
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=attachments,
                # The cluster autoscaler owns the current size between the bounds.
                ignore_changes=["scalingConfig.desiredSize"],
            ),
        )
