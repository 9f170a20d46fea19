"""Rules for the VPC, its subnet and Cloud NAT."""

from __future__ import annotations

from ml_serving_policy.rules import Severity, expect, get, resource_rule

NETWORK = "gcp:compute/network:Network"
SUBNET = "gcp:compute/subnetwork:Subnetwork"
NAT = "gcp:compute/routerNat:RouterNat"


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
