"""Rules for the private network: VPC, subnets, security groups and VPC endpoints."""

from __future__ import annotations

from ml_serving_policy.rules import UNKNOWN, Severity, expect, get, resource_rule

ANYWHERE = ("0.0.0.0/0", "::/0")


@resource_rule(
    "aws-vpc-dns-enabled",
    "aws:ec2/vpc:Vpc",
    "Interface endpoints' private DNS names resolve only with DNS support and hostnames on; without"
    " them SDKs in the VPC reach for public endpoints that a private network cannot route to.",
    severity=Severity.MEDIUM,
    remediation_steps="Set enable_dns_support=True and enable_dns_hostnames=True on the VPC.",
)
def vpc_dns_enabled(props):
    for key in ("enableDnsSupport", "enableDnsHostnames"):
        yield from expect(props, key, equals=True)


@resource_rule(
    "aws-subnet-no-public-ip",
    "aws:ec2/subnet:Subnet",
    "Serving subnets are private: nothing launched in them gets a public address.",
    severity=Severity.HIGH,
    remediation_steps="Leave map_public_ip_on_launch unset or False; reach the internet, if at all, through VPC "
    "endpoints.",
)
def subnet_no_public_ip(props):
    yield from expect(props, "mapPublicIpOnLaunch", equals=False, default=False)


@resource_rule(
    "aws-security-group-rule-no-public-ingress",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "No security group admits traffic from the whole internet; clients reach endpoints from inside the VPC.",
    severity=Severity.CRITICAL,
    remediation_steps="Set cidr_ipv4/cidr_ipv6 to the VPC's range (or reference a security group) instead of "
    "0.0.0.0/0 or ::/0.",
)
def ingress_rule_not_public(props):
    for key in ("cidrIpv4", "cidrIpv6"):
        value = get(props, key)
        if value is UNKNOWN or value in ANYWHERE:
            yield f"{key} must be a known range narrower than the internet (got {value!r})"


@resource_rule(
    "aws-security-group-no-public-ingress",
    "aws:ec2/securityGroup:SecurityGroup",
    "No security group admits traffic from the whole internet, inline rules included.",
    severity=Severity.CRITICAL,
    remediation_steps="Remove inline ingress from 0.0.0.0/0 or ::/0; admit the VPC's range or a security group "
    "instead.",
)
def group_not_public(props):
    rules = get(props, "ingress", default=[])
    if rules is UNKNOWN:
        yield "ingress must be known at preview"
        return
    for i, rule in enumerate(rules):
        blocks = [*(get(rule, "cidrBlocks", default=[]) or []), *(get(rule, "ipv6CidrBlocks", default=[]) or [])]
        if UNKNOWN in blocks or any(b in ANYWHERE for b in blocks):
            yield f"ingress[{i}] must not admit {', '.join(map(repr, blocks))}"


@resource_rule(
    "aws-vpc-endpoint-private-dns",
    "aws:ec2/vpcEndpoint:VpcEndpoint",
    "Interface endpoints answer the services' own DNS names, so every SDK call in the VPC stays private.",
    severity=Severity.MEDIUM,
    remediation_steps="Set private_dns_enabled=True on every Interface endpoint.",
)
def vpc_endpoint_private_dns(props):
    kind = get(props, "vpcEndpointType", default="Gateway")
    if kind is UNKNOWN:
        yield "vpcEndpointType must be known at preview"
    elif kind == "Interface" and get(props, "privateDnsEnabled") is not True:
        yield "an Interface endpoint needs privateDnsEnabled: true"
