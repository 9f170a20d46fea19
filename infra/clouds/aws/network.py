"""A private network: subnets with no route to the internet, reaching AWS through VPC endpoints.

Or, when the stack names an existing VPC, only the security group our workloads run in.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.clouds.options import child, renamed
from infra.plan import NetworkPlan

HTTPS = 443


@dataclass(frozen=True)
class NetworkArgs:
    """The plan's network (create one, or use an existing VPC, with the private endpoints it gets),
    the region its endpoints serve, and the Name tags from the naming layer."""

    stack: str
    region: str
    network: NetworkPlan
    vpc_name: str
    subnet_names: dict[str, str]  # per zone
    route_table_names: dict[str, str]  # per zone
    security_group_names: dict[str, str]  # "endpoints", "workloads" -> logical name (autonamed)


class Network(pulumi.ComponentResource):
    """`ml-serving:aws:Network`: the VPC, private subnets and endpoints, or only the workloads'
    security group in an existing VPC.

    Outputs: `vpc_id`, `subnet_ids` (private, one per zone) and `workload_security_group_id` (the
    group model containers run in).
    """

    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    workload_security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:aws:Network", name, None, opts)
        net = args.network
        if net.create:
            assert net.cidr is not None  # the plan gives a CIDR whenever it creates the network
            self._create(name, args, net.cidr)
        else:
            assert net.vpc_id is not None
            self.vpc_id = net.vpc_id
            self.subnet_ids = list(net.subnet_ids)
            # The existing VPC's routes and endpoints decide where HTTPS goes; its CIDR is not ours to know.
            self.workload_security_group_id = self._workload_group(name, args, ["0.0.0.0/0"], []).id
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "subnet_ids": self.subnet_ids,
                "workload_security_group_id": self.workload_security_group_id,
            }
        )

    def _create(self, name: str, args: NetworkArgs, cidr: str) -> None:
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=cidr,
            # Private DNS names of interface endpoints resolve only with both of these on.
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": args.vpc_name},
            opts=child(self),
        )
        self.vpc_id = vpc.id
        subnets: list[aws.ec2.Subnet] = []
        route_tables: list[aws.ec2.RouteTable] = []
        for zone in args.network.zones:
            subnet = aws.ec2.Subnet(
                f"{name}-private-{zone}",
                vpc_id=vpc.id,
                cidr_block=args.network.ranges[zone],  # the plan's block for this zone
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={"Name": args.subnet_names[zone], "kubernetes.io/role/internal-elb": "1"},
                opts=child(self),
            )
            # No routes beyond the VPC itself: the only way out is a VPC endpoint.
            table = aws.ec2.RouteTable(
                f"{name}-private-{zone}",
                vpc_id=vpc.id,
                tags={"Name": args.route_table_names[zone]},
                opts=child(self),
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone}", subnet_id=subnet.id, route_table_id=table.id, opts=child(self)
            )
            subnets.append(subnet)
            route_tables.append(table)
        self.subnet_ids = [s.id for s in subnets]

        s3 = aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[t.id for t in route_tables],
            opts=child(self),
        )
        endpoints_group_name = args.security_group_names["endpoints"]
        endpoints_group = aws.ec2.SecurityGroup(
            endpoints_group_name,
            vpc_id=vpc.id,
            description="VPC interface endpoints: HTTPS from inside the VPC only",
            opts=renamed(self, f"{name}-endpoints", endpoints_group_name),
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-https",
            security_group_id=endpoints_group.id,
            description="HTTPS from the VPC",
            ip_protocol="tcp",
            from_port=HTTPS,
            to_port=HTTPS,
            cidr_ipv4=cidr,
            opts=child(self),
        )
        # The plan names the services (facts.yaml): the cost estimate counts the same endpoints.
        for service in args.network.private_endpoints:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=vpc.id,
                service_name=f"com.amazonaws.{args.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=self.subnet_ids,
                security_group_ids=[endpoints_group.id],
                opts=child(self),
            )
        self.workload_security_group_id = self._workload_group(name, args, [cidr], [s3.prefix_list_id]).id

    def _workload_group(
        self, name: str, args: NetworkArgs, cidrs: list[str], prefix_lists: list[pulumi.Output[str]]
    ) -> aws.ec2.SecurityGroup:
        """Model containers: no inbound rules, HTTPS out to the VPC endpoints (and S3) only."""
        group_name = args.security_group_names["workloads"]
        group = aws.ec2.SecurityGroup(
            group_name,
            vpc_id=self.vpc_id,
            description=f"ml-serving {args.stack} model containers: HTTPS out to AWS endpoints only",
            opts=renamed(self, f"{name}-workloads", group_name),
        )
        destinations: list[tuple[str, str | None, pulumi.Input[str] | None]] = [
            *(("VPC endpoints", block, None) for block in cidrs),
            *(("S3 through the gateway endpoint", None, prefix_list) for prefix_list in prefix_lists),
        ]
        for i, (description, block, prefix_list) in enumerate(destinations):
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-workloads-https-{i}",
                security_group_id=group.id,
                description=f"HTTPS to {description}",
                ip_protocol="tcp",
                from_port=HTTPS,
                to_port=HTTPS,
                cidr_ipv4=block,
                prefix_list_id=prefix_list,
                opts=child(self),
            )
        return group
