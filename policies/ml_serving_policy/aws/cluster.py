"""Rules for EKS: the cluster, its managed node groups and their launch templates (and the join of a
node group to its template)."""

from __future__ import annotations

from ml_serving_policy.rules import UNKNOWN, Severity, attached, expect, get, of_type, resource_rule, stack_rule

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
# Restated from the program (infra/clouds/aws/cluster.py); tests/aws/test_policies.py pins them equal.
LOG_TYPES = {"api", "audit", "authenticator", "controllerManager", "scheduler"}


@resource_rule(
    "aws-eks-private-endpoint",
    CLUSTER,
    "The Kubernetes API is reachable from the VPC only; the public endpoint (on by default) stays off.",
    severity=Severity.CRITICAL,
    remediation_steps="Set vpc_config endpoint_public_access=False and endpoint_private_access=True on the cluster.",
)
def eks_private_endpoint(props):
    # The public endpoint is on when unset.
    yield from expect(props, "vpcConfig", "endpointPublicAccess", equals=False, default=True)
    yield from expect(props, "vpcConfig", "endpointPrivateAccess", equals=True)


@resource_rule(
    "aws-eks-secrets-encryption",
    CLUSTER,
    "Kubernetes secrets are envelope-encrypted with the stack's key, not only by etcd's disk encryption.",
    severity=Severity.HIGH,
    remediation_steps='Set encryption_config={"provider": {"key_arn": <the stack\'s key>}, "resources": ["secrets"]}.',
)
def eks_secrets_encryption(props):
    resources = get(props, "encryptionConfig", "resources", default=[])
    if resources is UNKNOWN or "secrets" not in resources:
        yield "encryptionConfig.resources must include secrets"
    if get(props, "encryptionConfig", "provider", "keyArn") is None:
        yield "encryptionConfig.provider.keyArn must name the stack's key"


@resource_rule(
    "aws-eks-control-plane-logs",
    CLUSTER,
    "Every control-plane log type is kept: audit and authenticator logs answer who did what.",
    severity=Severity.MEDIUM,
    remediation_steps="Set enabled_cluster_log_types to api, audit, authenticator, controllerManager and scheduler.",
)
def eks_control_plane_logs(props):
    enabled = get(props, "enabledClusterLogTypes", default=[])
    missing = LOG_TYPES if enabled is UNKNOWN else LOG_TYPES - set(enabled)
    if missing:
        yield f"enabledClusterLogTypes is missing {', '.join(sorted(missing))}"


@resource_rule(
    "aws-eks-access-entries",
    CLUSTER,
    "Cluster access is granted through EKS access entries (auditable IAM API), not the aws-auth ConfigMap.",
    severity=Severity.MEDIUM,
    remediation_steps='Set access_config.authentication_mode="API" and grant access with EKS access entries.',
)
def eks_access_entries(props):
    yield from expect(props, "accessConfig", "authenticationMode", equals="API")


@resource_rule(
    "aws-eks-node-group-launch-template",
    NODE_GROUP,
    "Nodes start from the stack's launch template, which requires IMDSv2 and encrypts their volumes.",
    severity=Severity.HIGH,
    remediation_steps="Give the node group launch_template (id or name, and version) and size the root volume "
    "there, not with disk_size.",
)
def node_group_launch_template(props):
    if get(props, "launchTemplate", "id") is None and get(props, "launchTemplate", "name") is None:
        yield "launchTemplate must name the stack's launch template"
    if get(props, "diskSize") is not None:
        yield "diskSize bypasses the launch template's encrypted volume; size the volume there"


@resource_rule(
    "aws-eks-gpu-node-group-tainted",
    NODE_GROUP,
    "Accelerator nodes carry their device's NoSchedule taint (nvidia.com/gpu, aws.amazon.com/neuron), so"
    " only inference servers, which tolerate it, land on them.",
    severity=Severity.MEDIUM,
    remediation_steps="Add the accelerator's taint to the node group: key nvidia.com/gpu (NVIDIA) or "
    'aws.amazon.com/neuron (Neuron), value "true", effect NO_SCHEDULE.',
)
def gpu_node_group_tainted(props):
    ami = get(props, "amiType")
    if ami is UNKNOWN:
        yield "amiType must be known at preview"
        return
    key = accelerator_taint(ami)
    if key is None:
        return
    taints = get(props, "taints", default=[])
    ok = taints is not UNKNOWN and any(
        get(t, "key") == key and get(t, "value") == "true" and get(t, "effect") == "NO_SCHEDULE" for t in taints
    )
    if not ok:
        yield f"a {ami} node group needs the taint {key}=true with effect NO_SCHEDULE"


def accelerator_taint(ami_type: str) -> str | None:
    """The device taint an AMI type's nodes must carry; None for CPU AMIs."""
    if "NVIDIA" in ami_type or ami_type.endswith("_GPU"):
        return "nvidia.com/gpu"
    if "NEURON" in ami_type:
        return "aws.amazon.com/neuron"
    return None


@resource_rule(
    "aws-ec2-launch-template-imdsv2",
    LAUNCH_TEMPLATE,
    "Instance metadata needs a session token (IMDSv2) and at most two hops, so a pod cannot replay the"
    " node role's credentials through a simple request forgery.",
    severity=Severity.HIGH,
    remediation_steps='Set metadata_options http_tokens="required" and http_put_response_hop_limit=2 (or 1).',
)
def launch_template_imdsv2(props):
    if get(props, "metadataOptions", "httpTokens") != "required":
        yield f"metadataOptions.httpTokens must be required (got {get(props, 'metadataOptions', 'httpTokens')!r})"
    hops = get(props, "metadataOptions", "httpPutResponseHopLimit")
    if not isinstance(hops, (int, float)) or not 1 <= hops <= 2:
        yield f"metadataOptions.httpPutResponseHopLimit must be 1 or 2 (got {hops!r})"


@resource_rule(
    "aws-ec2-launch-template-encrypted-volumes",
    LAUNCH_TEMPLATE,
    "Node volumes (images, model weights, logs) are encrypted with the stack's key.",
    severity=Severity.HIGH,
    remediation_steps='Give every block device mapping ebs encrypted="true" and kms_key_id=<the stack\'s key>.',
)
def launch_template_encrypted_volumes(props):
    mappings = get(props, "blockDeviceMappings", default=[])
    if mappings is UNKNOWN or not mappings:
        yield "blockDeviceMappings must define the root volume, encrypted"
        return
    for i, mapping in enumerate(mappings):
        if str(get(mapping, "ebs", "encrypted")).lower() != "true":
            yield f"blockDeviceMappings[{i}].ebs.encrypted must be true"
        if get(mapping, "ebs", "kmsKeyId") is None:
            yield f"blockDeviceMappings[{i}].ebs.kmsKeyId must name the stack's key"


@stack_rule(
    "aws-eks-node-group-template-imdsv2",
    "Every node group launches from a launch template of this stack that requires IMDSv2.",
    severity=Severity.HIGH,
    remediation_steps="Point the node group's launch_template at this stack's template, which sets metadata_options"
    ' http_tokens="required" and a hop limit of 2.',
)
def node_group_template_imdsv2(resources, config):
    templates = of_type(resources, LAUNCH_TEMPLATE)
    for group in of_type(resources, NODE_GROUP):
        used = [t for t in templates if attached(group, t, "launchTemplate")]
        if not used:
            yield f"node group {group.name} does not launch from a launch template of this stack"
        elif any(list(launch_template_imdsv2(t.props)) for t in used):
            yield f"node group {group.name}: its launch template must require IMDSv2 with a hop limit of 2"
