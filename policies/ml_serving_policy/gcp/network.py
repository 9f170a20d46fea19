"""Rules for the VPC, its subnet, its firewall rules and Cloud NAT."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from ml_serving_policy.rules import Severity, expect, get, resource_rule

NETWORK = "gcp:compute/network:Network"
SUBNET = "gcp:compute/subnetwork:Subnetwork"
NAT = "gcp:compute/routerNat:RouterNat"
FIREWALL = "gcp:compute/firewall:Firewall"


@resource_rule(
    "gcp-compute-network-custom-subnets",
    NETWORK,
    "The VPC gets only the subnets the stack defines: auto mode creates one in every region, with ranges nobody chose.",
    severity=Severity.MEDIUM,
    remediation_steps="Set auto_create_subnetworks=False on the network.",
)
def network_custom_subnets(props):
    yield from expect(props, "autoCreateSubnetworks", equals=False, default=True)


@resource_rule(
    "gcp-compute-subnetwork-private-google-access",
    SUBNET,
    "Nodes and endpoints without external addresses reach Google APIs (Artifact Registry, Cloud Storage,"
    " Vertex AI) through Private Google Access, not through the internet.",
    severity=Severity.HIGH,
    remediation_steps="Set private_ip_google_access=True on the subnetwork.",
)
def subnet_private_google_access(props):
    yield from expect(props, "privateIpGoogleAccess", equals=True)


@resource_rule(
    "gcp-compute-subnetwork-flow-logs",
    SUBNET,
    "VPC flow logs record who talked to the serving network, for incident response.",
    severity=Severity.LOW,
    remediation_steps="Set log_config (aggregation interval, sampling, metadata) on the subnetwork.",
)
def subnet_flow_logs(props):
    if get(props, "logConfig") is None:
        yield "logConfig must be set (VPC flow logs)"


@resource_rule(
    "gcp-compute-router-nat-logging",
    NAT,
    "Cloud NAT logs its errors, so a node that cannot pull an image says why.",
    severity=Severity.LOW,
    remediation_steps="Set log_config={'enable': True, 'filter': 'ERRORS_ONLY'} (or ALL) on the NAT.",
)
def nat_logging(props):
    yield from expect(props, "logConfig", "enable", equals=True)


@resource_rule(
    "gcp-compute-firewall-private-ingress",
    FIREWALL,
    "An ingress rule admits private sources only, to the VMs of named service accounts, and logs what it"
    " admits: an ingress rule without sources admits 0.0.0.0/0, one without targets opens every VM of the VPC.",
    severity=Severity.HIGH,
    remediation_steps="Set source_ranges to private CIDRs (e.g. the GKE control plane's /28),"
    " target_service_accounts to the accounts of the VMs it serves, and log_config.",
)
def firewall_private_ingress(props):
    if get(props, "direction", default="INGRESS") != "INGRESS":
        return
    sources = get(props, "sourceRanges")
    if not _listed(sources):
        yield "sourceRanges must list the private CIDRs admitted (without them GCP admits 0.0.0.0/0)"
    else:
        for cidr in sources:
            if not _private(cidr):
                yield f"sourceRanges: {cidr!r} is not a private range"
    targets = get(props, "targetServiceAccounts")
    if not _listed(targets):
        yield "targetServiceAccounts must name the accounts of the VMs admitted to (without them: every VM)"
    if get(props, "logConfig") is None:
        yield "logConfig must be set (firewall rule logging)"


def _listed(value: object) -> bool:
    """A non-empty list (the engine hands lists over as sequences), known at preview."""
    return isinstance(value, Sequence) and not isinstance(value, str) and len(value) > 0


def _private(cidr: object) -> bool:
    """A known CIDR inside the private address space (RFC 1918 and the like), not 0.0.0.0/0."""
    if not isinstance(cidr, str):
        return False
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return network.is_private and network.prefixlen > 0
