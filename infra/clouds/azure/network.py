"""A private network: a VNet whose subnets have no default outbound access, private endpoints for
every service the stack stores data in, and the private DNS zones their names resolve in.

Or, when the stack names an existing VNet, its subnets (the first for private endpoints, the
second for cluster nodes) and any existing private DNS zones (a hub's) by resource id.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import pulumi_azure_native as azure
import yaml

from infra.clouds.azure.site import Site
from infra.clouds.options import child

SUBNETS = ("endpoints", "nodes")


@cache
def private_link() -> dict[str, dict[str, Any]]:
    """Per service (vault, registry, blob, workspace): its private-link group id and DNS zones."""
    return yaml.safe_load((Path(__file__).parent / "private_link.yaml").read_text())


@dataclass(frozen=True)
class NetworkArgs:
    """The plan's network (a CIDR to carve, or an existing VNet, its subnets and private DNS zones)
    and the services it gives a private endpoint: service (a row of private_link.yaml) -> target id.

    `cidr` None: use `vnet_id` and `subnet_ids` (endpoints subnet, nodes subnet); otherwise
    `ranges` holds each subnet's block as the plan carved it (`infra/addressing.py`)."""

    site: Site
    cidr: str | None
    ranges: dict[str, str]  # subnet (SUBNETS) -> CIDR
    vnet_id: str | None
    subnet_ids: tuple[str, ...]
    private_dns_zone_ids: tuple[str, ...]  # existing zones (a hub's) by resource id
    private_endpoints: dict[str, pulumi.Input[str]]


class Network(pulumi.ComponentResource):
    """Outputs: `vnet_id`, `endpoint_subnet_id`, `node_subnet_id`, `zone_ids` (zone name -> id)."""

    vnet_id: pulumi.Input[str]
    endpoint_subnet_id: pulumi.Input[str]
    node_subnet_id: pulumi.Input[str]
    zone_ids: dict[str, pulumi.Input[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:azure:Network", name, None, opts)
        site = args.site
        if args.cidr is not None:
            self._create(name, site, args.cidr, args.ranges)
        else:
            assert args.vnet_id is not None  # the plan gives a VNet and two subnets when it creates none
            self.vnet_id = args.vnet_id
            self.endpoint_subnet_id, self.node_subnet_id = args.subnet_ids[0], args.subnet_ids[1]
        existing = {zone_id.rsplit("/", 1)[-1].lower(): zone_id for zone_id in args.private_dns_zone_ids}
        self.zone_ids = {}
        for zone in sorted({z for row in private_link().values() for z in row["zones"]}):
            self.zone_ids[zone] = existing.get(zone) or self._zone(name, site, zone)
        for service, target_id in args.private_endpoints.items():
            self._private_endpoint(name, site, service, target_id)
        self.register_outputs(
            {
                "vnet_id": self.vnet_id,
                "endpoint_subnet_id": self.endpoint_subnet_id,
                "node_subnet_id": self.node_subnet_id,
                "zone_ids": self.zone_ids,
            }
        )

    def _create(self, name: str, site: Site, cidr: str, ranges: dict[str, str]) -> None:
        vnet = azure.network.VirtualNetwork(
            f"{name}-vnet",
            resource_group_name=site.group_name,
            location=site.location,
            address_space={"address_prefixes": [cidr]},
            tags=site.tags,
            opts=child(self),
        )
        self.vnet_id = vnet.id
        ids: list[pulumi.Output[str]] = []
        for subnet_name in SUBNETS:
            nsg = azure.network.NetworkSecurityGroup(
                f"{name}-{subnet_name}-nsg",
                resource_group_name=site.group_name,
                location=site.location,
                security_rules=[
                    {
                        "name": "deny-internet-inbound",
                        "description": "Nothing from the internet reaches this subnet",
                        "priority": 4000,
                        "direction": "Inbound",
                        "access": "Deny",
                        "protocol": "*",
                        "source_address_prefix": "Internet",
                        "source_port_range": "*",
                        "destination_address_prefix": "*",
                        "destination_port_range": "*",
                    }
                ],
                tags=site.tags,
                opts=child(self),
            )
            subnet = azure.network.Subnet(
                f"{name}-{subnet_name}",
                resource_group_name=site.group_name,
                virtual_network_name=vnet.name,
                address_prefix=ranges[subnet_name],  # the plan's block
                # No implicit internet egress: Azure services are reached through private endpoints.
                default_outbound_access=False,
                # NSGs apply to private endpoints only with their network policies on.
                private_endpoint_network_policies="Enabled",
                network_security_group={"id": nsg.id},
                opts=child(self),
            )
            ids.append(subnet.id)
        self.endpoint_subnet_id, self.node_subnet_id = ids

    def _zone(self, name: str, site: Site, zone: str) -> pulumi.Output[str]:
        label = zone.removeprefix("privatelink.").replace(".", "-")
        private_zone = azure.privatedns.PrivateZone(
            f"{name}-{label}",
            resource_group_name=site.group_name,
            private_zone_name=zone,
            location="global",
            tags=site.tags,
            opts=child(self),
        )
        azure.privatedns.VirtualNetworkLink(
            f"{name}-{label}-link",
            resource_group_name=site.group_name,
            private_zone_name=private_zone.name,
            location="global",
            virtual_network={"id": self.vnet_id},
            registration_enabled=False,
            tags=site.tags,
            opts=child(self),
        )
        return private_zone.id

    def _private_endpoint(self, name: str, site: Site, service: str, target_id: pulumi.Input[str]) -> None:
        """A private endpoint to `target_id` in the endpoints subnet, registered in the service's zones."""
        row = private_link()[service]
        endpoint = azure.network.PrivateEndpoint(
            f"{name}-{service}-endpoint",
            resource_group_name=site.group_name,
            location=site.location,
            subnet={"id": self.endpoint_subnet_id},
            private_link_service_connections=[
                {"name": service, "private_link_service_id": target_id, "group_ids": [row["group_id"]]}
            ],
            tags=site.tags,
            opts=child(self),
        )
        azure.network.PrivateDnsZoneGroup(
            f"{name}-{service}-dns",
            resource_group_name=site.group_name,
            private_endpoint_name=endpoint.name,
            private_dns_zone_group_name="default",
            private_dns_zone_configs=[
                {"name": zone.replace(".", "-"), "private_dns_zone_id": self.zone_ids[zone]} for zone in row["zones"]
            ],
            opts=child(self),
        )
