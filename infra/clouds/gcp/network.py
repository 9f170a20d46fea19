"""A private VPC: one regional subnet with ranges for GKE pods and services, Private Google Access,
flow logs, and a Cloud Router with NAT only when the plan says nodes pull images from outside Google.

Or, when the stack names an existing network and subnet, their ids (the subnet must carry the
secondary ranges the plan names, `pods` and `services` unless the stack says otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.clouds.options import child

FLOW_LOGS: gcp.compute.SubnetworkLogConfigArgsDict = {
    "aggregation_interval": "INTERVAL_5_SEC",
    "flow_sampling": 0.5,
    "metadata": "INCLUDE_ALL_METADATA",
}


@dataclass(frozen=True)
class NetworkArgs:
    region: str
    ranges: dict[str, str] | None  # the plan's nodes/pods/services ranges; None: use `network_id` and `subnet_id`
    secondary_ranges: dict[str, str]  # {"pods": name, "services": name} of the subnet's secondary ranges
    network_id: str | None
    subnet_id: str | None
    egress_nat: bool  # nodes pull images from registries outside Google
    network_name: str
    subnet_name: str


class Network(pulumi.ComponentResource):
    network_id: pulumi.Output[str]
    subnet_id: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:gcp:Network", name, None, opts)
        if args.ranges is None:
            assert args.network_id is not None and args.subnet_id is not None  # the plan gives both
            self.network_id = pulumi.Output.from_input(args.network_id)
            self.subnet_id = pulumi.Output.from_input(args.subnet_id)
        else:
            self._create(name, args, args.ranges)
        self.register_outputs({"network_id": self.network_id, "subnet_id": self.subnet_id})

    def _create(self, name: str, args: NetworkArgs, ranges: dict[str, str]) -> None:
        network = gcp.compute.Network(
            f"{name}-vpc",
            name=args.network_name,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            opts=child(self),
        )
        subnet = gcp.compute.Subnetwork(
            f"{name}-subnet",
            name=args.subnet_name,
            network=network.id,
            region=args.region,
            ip_cidr_range=ranges["nodes"],
            secondary_ip_ranges=[
                {"range_name": args.secondary_ranges[role], "ip_cidr_range": ranges[role]}
                for role in ("pods", "services")
            ],
            # Nodes and PSC endpoints have no external address: Google APIs (Artifact Registry,
            # Cloud Storage, Vertex AI) are reached through Private Google Access.
            private_ip_google_access=True,
            log_config={
                "aggregation_interval": "INTERVAL_5_SEC",
                "flow_sampling": 0.5,
                "metadata": "INCLUDE_ALL_METADATA",
            },
            opts=child(self),
        )
        self.network_id = network.id
        self.subnet_id = subnet.id
        if args.egress_nat:
            router = gcp.compute.Router(f"{name}-router", network=network.id, region=args.region, opts=child(self))
            gcp.compute.RouterNat(
                f"{name}-nat",
                router=router.name,
                region=args.region,
                nat_ip_allocate_option="AUTO_ONLY",
                source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
                subnetworks=[{"name": subnet.id, "source_ip_ranges_to_nats": ["ALL_IP_RANGES"]}],
                log_config={"enable": True, "filter": "ERRORS_ONLY"},
                opts=child(self),
            )
