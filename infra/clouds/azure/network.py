"""A private network: a VNet whose subnets have no default outbound access, private endpoints for
every service the stack stores data in, and the private DNS zones their names resolve in.

Or, when the stack names an existing VNet, its subnets (the first for private endpoints, the
second for cluster nodes) and any existing private DNS zones (a hub's) by resource id.
"""

from __future__ import annotations

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


class Network(pulumi.ComponentResource):
    """Outputs: `vnet_id`, `endpoint_subnet_id`, `node_subnet_id`, `zone_ids` (zone name -> id)."""

    vnet_id: pulumi.Input[str]
    endpoint_subnet_id: pulumi.Input[str]
    node_subnet_id: pulumi.Input[str]
    zone_ids: dict[str, pulumi.Input[str]]

    def __init__(self, name: str, site: Site, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ml-serving:azure:Network", name, None, opts)
        self._site = site
        self._name = name
        net = site.plan.network
        if net.create:
            assert net.cidr is not None  # the plan gives a CIDR whenever it creates the network
            self._create(name, site, net.cidr)
        else:
            assert net.vpc_id is not None
            self.vnet_id = net.vpc_id
            self.endpoint_subnet_id, self.node_subnet_id = net.subnet_ids[0], net.subnet_ids[1]
        existing = {zone_id.rsplit("/", 1)[-1].lower(): zone_id for zone_id in net.private_dns_zone_ids}
        self.zone_ids = {}
        for zone in sorted({z for row in private_link().values() for z in row["zones"]}):
            self.zone_ids[zone] = existing.get(zone) or self._zone(name, site, zone)
        self.register_outputs(
            {
                "vnet_id": self.vnet_id,
                "endpoint_subnet_id": self.endpoint_subnet_id,
                "node_subnet_id": self.node_subnet_id,
                "zone_ids": self.zone_ids,
            }
        )

    def _create(self, name: str, site: Site, cidr: str) -> None:
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
                address_prefix=site.plan.network.ranges[subnet_name],  # the plan's block
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

    def private_endpoint(self, service: str, target_id: pulumi.Input[str]) -> azure.network.PrivateEndpoint:
        """A private endpoint to `target_id` in the endpoints subnet, registered in the service's zones."""
        row = private_link()[service]
        endpoint = azure.network.PrivateEndpoint(
            f"{self._name}-{service}-endpoint",
            resource_group_name=self._site.group_name,
            location=self._site.location,
            subnet={"id": self.endpoint_subnet_id},
            private_link_service_connections=[
                {"name": service, "private_link_service_id": target_id, "group_ids": [row["group_id"]]}
            ],
            tags=self._site.tags,
            opts=child(self),
        )
        azure.network.PrivateDnsZoneGroup(
            f"{self._name}-{service}-dns",
            resource_group_name=self._site.group_name,
            private_endpoint_name=endpoint.name,
            private_dns_zone_group_name="default",
            private_dns_zone_configs=[
                {"name": zone.replace(".", "-"), "private_dns_zone_id": self.zone_ids[zone]} for zone in row["zones"]
            ],
            opts=child(self),
        )
        return endpoint
