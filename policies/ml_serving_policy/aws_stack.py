"""Stack-level rules for AWS that join resources: a bucket and its settings, an endpoint and its
alarms, configuration and autoscaling, a node group and its launch template, a role and its policies.

Joins follow property dependencies (a setting resource's `bucket` input depends on its bucket),
since at preview the names that would link them are often not yet known.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import PolicyConfigSchema, ReportViolation, StackValidationArgs, StackValidationPolicy

from ml_serving_policy.aws_cluster import LAUNCH_TEMPLATE, NODE_GROUP, launch_template_imdsv2
from ml_serving_policy.aws_iam import ATTACHMENT, ROLE, ROLE_POLICY, as_list, parse, statements
from ml_serving_policy.aws_sagemaker import CONFIG, ENDPOINT, TARGET
from ml_serving_policy.aws_storage import PUBLIC_ACCESS_FLAGS, sse_kms, versioning_enabled
from ml_serving_policy.rules import REGISTRY, UNKNOWN, get, of_type, stack_rule

BUCKET = "aws:s3/bucket:Bucket"
SETTINGS = {
    "public access block": "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "versioning": "aws:s3/bucketVersioning:BucketVersioning",
    "SSE-KMS encryption": "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "TLS-only bucket policy": "aws:s3/bucketPolicy:BucketPolicy",
}
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
PACKAGE_GROUP = "aws:sagemaker/modelPackageGroup:ModelPackageGroup"
PACKAGE_GROUP_POLICY = "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"
NODE_POLICIES = {"AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly"}
PROD_ROLLOUTS = ("CANARY", "LINEAR")
PROD_MIN_INSTANCES = 2


def attached(resource: Any, target: Any, prop: str, name_prop: str | None = None) -> bool:
    """Whether `resource`'s input `prop` refers to `target`: by dependency, or by an equal known name."""
    if any(dep.urn == target.urn for dep in resource.property_dependencies.get(prop, [])):
        return True
    name = get(target.props, name_prop) if name_prop else None
    return isinstance(name, str) and get(resource.props, prop) == name


@stack_rule(
    "aws-s3-bucket-baseline",
    "Every bucket has its public access block (all four switches on), versioning, SSE-KMS encryption"
    " and a TLS-only policy: a bucket without one of them is a bucket someone forgot.",
)
def bucket_baseline(resources):
    for bucket in of_type(resources, BUCKET):
        for label, setting_type in SETTINGS.items():
            settings = [s for s in of_type(resources, setting_type) if attached(s, bucket, "bucket", "bucket")]
            if not settings:
                yield f"bucket {bucket.name} has no {label}"
            elif label == "public access block" and not any(
                all(get(s.props, flag) is True for flag in PUBLIC_ACCESS_FLAGS) for s in settings
            ):
                yield f"bucket {bucket.name}: its public access block must turn on {', '.join(PUBLIC_ACCESS_FLAGS)}"
            elif label == "versioning" and all(list(versioning_enabled(s.props)) for s in settings):
                yield f"bucket {bucket.name}: versioning must be Enabled"
            elif label == "SSE-KMS encryption" and all(list(sse_kms(s.props)) for s in settings):
                yield f"bucket {bucket.name}: default encryption must be SSE-KMS with the stack's key"


@stack_rule(
    "aws-sagemaker-endpoint-alarms-exist",
    "An endpoint's rollback alarms exist in this stack and watch this endpoint; a rollback that names a"
    " missing or unrelated alarm never fires.",
)
def endpoint_alarms_exist(resources):
    alarms = {get(a.props, "name"): a for a in of_type(resources, ALARM)}
    for endpoint in of_type(resources, ENDPOINT):
        endpoint_name = get(endpoint.props, "name")
        names = get(endpoint.props, "deploymentConfig", "autoRollbackConfiguration", "alarms", default=[])
        if names is UNKNOWN or not names:
            yield f"endpoint {endpoint.name} names no rollback alarms"
            continue
        for entry in names:
            alarm_name = get(entry, "alarmName")
            alarm = alarms.get(alarm_name) if isinstance(alarm_name, str) else None
            if alarm is None:
                yield f"endpoint {endpoint.name}: rollback alarm {alarm_name!r} is not an alarm of this stack"
            elif endpoint_name not in watched_endpoints(alarm.props):
                yield f"endpoint {endpoint.name}: alarm {alarm_name!r} does not watch endpoint {endpoint_name!r}"


def watched_endpoints(props: Any) -> set[Any]:
    """The EndpointName dimensions an alarm's metrics carry."""
    found = {get(props, "dimensions", "EndpointName")}
    queries = get(props, "metricQueries", default=[])
    if queries is not UNKNOWN:
        found |= {get(q, "metric", "dimensions", "EndpointName") for q in queries}
    return found - {None}


def _environment(args: StackValidationArgs) -> str | None:
    """The environment this rule's config names: the prod policy config says `prod`, so a stack run
    under it is held to prod's rules whatever its own config claims."""
    return args.get_config().get("environment") or None


def _endpoint_environment(endpoint: Any, stack_environment: str | None) -> str | None:
    """The stack's environment, else the one the endpoint's component was registered with."""
    if stack_environment is not None:
        return stack_environment
    parent = endpoint.parent
    value = get(parent.props, "environment") if parent is not None else None
    return value if isinstance(value, str) else None


def prod_endpoint_problems(resources: list[Any], environment: str | None) -> Iterator[str]:
    targets = [t for t in of_type(resources, TARGET) if get(t.props, "serviceNamespace") == "sagemaker"]
    for endpoint in of_type(resources, ENDPOINT):
        env = _endpoint_environment(endpoint, environment)
        if env is None:
            yield f"endpoint {endpoint.name}: cannot tell the environment (set this rule's `environment`)"
            continue
        if env != "prod":
            continue
        kind = get(endpoint.props, "deploymentConfig", "blueGreenUpdatePolicy", "trafficRoutingConfiguration", "type")
        if kind not in PROD_ROLLOUTS:
            yield f"endpoint {endpoint.name}: prod rolls out {' or '.join(PROD_ROLLOUTS)}, not {kind!r}"
        configs = [c for c in of_type(resources, CONFIG) if attached(endpoint, c, "endpointConfigName", "name")]
        if not configs:
            yield f"endpoint {endpoint.name}: its endpoint configuration is not in this stack"
        for config in configs:
            for i, variant in enumerate(get(config.props, "productionVariants", default=[]) or []):
                count = get(variant, "initialInstanceCount")
                if not isinstance(count, (int, float)) or count < PROD_MIN_INSTANCES:
                    yield f"endpoint {endpoint.name}: productionVariants[{i}] starts {count!r} instances, prod needs 2"
        name = get(endpoint.props, "name")
        prefix = f"endpoint/{name}/variant/" if isinstance(name, str) else None
        for target in targets:
            resource_id = get(target.props, "resourceId")
            if prefix is None or resource_id is UNKNOWN or not str(resource_id).startswith(prefix):
                continue
            low = get(target.props, "minCapacity")
            if not isinstance(low, (int, float)) or low < PROD_MIN_INSTANCES:
                yield f"endpoint {endpoint.name}: {resource_id} scales down to {low!r} instances, prod needs 2"


def _validate_prod_endpoints(args: StackValidationArgs, report: ReportViolation) -> None:
    for message in prod_endpoint_problems(list(args.resources), _environment(args)):
        report(message, None)


REGISTRY.append(
    StackValidationPolicy(
        name="aws-sagemaker-prod-endpoint-capacity-and-rollout",
        description="Prod endpoints run at least two instances per variant (and never scale below two), so one"
        " instance failing does not take the endpoint down, and roll out canary or linear, never all at once."
        " The environment comes from this rule's `environment` config, else the endpoint's component.",
        validate=_validate_prod_endpoints,
        config_schema=PolicyConfigSchema(
            properties={"environment": {"type": "string", "enum": ["dev", "staging", "prod"]}}
        ),
    )
)


@stack_rule(
    "aws-sagemaker-model-package-group-has-policy",
    "Every model package group carries a resource policy limiting who may register model versions.",
)
def package_group_has_policy(resources):
    policies = of_type(resources, PACKAGE_GROUP_POLICY)
    for group in of_type(resources, PACKAGE_GROUP):
        if not any(attached(p, group, "modelPackageGroupName", "modelPackageGroupName") for p in policies):
            yield f"model package group {group.name} has no resource policy"


@stack_rule(
    "aws-eks-node-group-template-imdsv2",
    "Every node group launches from a launch template of this stack that requires IMDSv2.",
)
def node_group_template_imdsv2(resources):
    templates = of_type(resources, LAUNCH_TEMPLATE)
    for group in of_type(resources, NODE_GROUP):
        used = [t for t in templates if attached(group, t, "launchTemplate")]
        if not used:
            yield f"node group {group.name} does not launch from a launch template of this stack"
        elif any(list(launch_template_imdsv2(t.props)) for t in used):
            yield f"node group {group.name}: its launch template must require IMDSv2 with a hop limit of 2"


@stack_rule(
    "aws-iam-eks-node-role-managed-policies",
    "EKS node roles hold only the three AWS-managed worker policies (worker node, CNI, ECR pull) and no"
    " inline policy: every pod on a node can use the node's role.",
)
def node_role_policies(resources):
    for role in of_type(resources, ROLE):
        if "ec2.amazonaws.com" not in trusted_services(role.props):
            continue
        for attachment in of_type(resources, ATTACHMENT):
            if not attached(attachment, role, "role", "name"):
                continue
            arn = get(attachment.props, "policyArn")
            if not isinstance(arn, str) or arn.rsplit("/", 1)[-1] not in NODE_POLICIES or ":iam::aws:" not in arn:
                yield f"node role {role.name} must not hold {arn!r}"
        for inline in of_type(resources, ROLE_POLICY):
            if attached(inline, role, "role", "name"):
                yield f"node role {role.name} must not carry the inline policy {inline.name}"


def trusted_services(props: Any) -> set[str]:
    document = parse(get(props, "assumeRolePolicy"))
    found: set[str] = set()
    for statement in statements(document) if isinstance(document, dict) else []:
        principal = statement.get("Principal")
        if isinstance(principal, dict):
            found |= {str(s) for s in as_list(principal.get("Service"))}
    return found
