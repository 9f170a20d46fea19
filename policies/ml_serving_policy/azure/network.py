"""Rules for the VNet's subnets and security groups, and the private endpoints of stateful services."""

from __future__ import annotations

from ml_serving_policy.rules import UNKNOWN, Severity, expect, get, of_type, resource_rule, stack_rule

SUBNET = "azure-native:network:Subnet"
NSG = "azure-native:network:NetworkSecurityGroup"
PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"
# The services that hold data or keys, and so must be reached privately.
PRIVATE_SERVICES = {
    "azure-native:keyvault:Vault": "vault",
    "azure-native:containerregistry:Registry": "registry",
    "azure-native:storage:StorageAccount": "blob",
    "azure-native:machinelearningservices:Workspace": "amlworkspace",
}
OPEN_SOURCES = {"*", "Internet", "0.0.0.0/0", "Any"}


@resource_rule(
    "azure-network-subnet-private",
    SUBNET,
    "Subnets have no implicit internet egress (Azure services are reached through private endpoints)"
    " and a network security group.",
    severity=Severity.HIGH,
    remediation_steps="Set default_outbound_access=False and network_security_group on the subnet.",
)
def subnet_private(props):
    yield from expect(props, "defaultOutboundAccess", equals=False)
    if get(props, "networkSecurityGroup", "id") is None:
        yield "networkSecurityGroup.id must name the subnet's security group"


@resource_rule(
    "azure-network-nsg-no-internet-inbound",
    NSG,
    "No security rule allows inbound traffic from the internet.",
    severity=Severity.CRITICAL,
    remediation_steps="Remove Allow/Inbound rules whose source is '*', 'Internet' or 0.0.0.0/0.",
)
def nsg_no_internet_inbound(props):
    rules = get(props, "securityRules", default=[])
    if rules is UNKNOWN:
        yield "securityRules must be known at preview"
        return
    for i, rule in enumerate(rules):
        sources = {get(rule, "sourceAddressPrefix")} | set(get(rule, "sourceAddressPrefixes", default=[]) or [])
        if get(rule, "direction") == "Inbound" and get(rule, "access") == "Allow" and sources & OPEN_SOURCES:
            yield f"securityRules[{i}] ({get(rule, 'name')!r}) allows inbound traffic from {sorted(sources - {None})}"


@stack_rule(
    "azure-network-private-endpoint-per-service",
    "Every key vault, registry, storage account and ML workspace has a private endpoint in this stack"
    " for its private-link group: with public access off, it is the only way in.",
    severity=Severity.HIGH,
    remediation_steps="Create a PrivateEndpoint whose private_link_service_connections name the resource"
    " and its group id (vault, registry, blob, amlworkspace).",
)
def private_endpoint_per_service(resources, _config):
    endpoints = of_type(resources, PRIVATE_ENDPOINT)
    for resource_type, group in PRIVATE_SERVICES.items():
        for service in of_type(resources, resource_type):
            linked = [
                e
                for e in endpoints
                if any(d.urn == service.urn for d in e.property_dependencies.get("privateLinkServiceConnections", []))
            ]
            groups = {
                g
                for e in linked
                for connection in get(e.props, "privateLinkServiceConnections", default=[]) or []
                for g in get(connection, "groupIds", default=[]) or []
            }
            if group not in groups:
                yield f"{service.name} has no private endpoint for group {group!r}"
