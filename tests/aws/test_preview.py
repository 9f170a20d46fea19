"""The AWS translator through the offline engine: what the real program registers for each shipped
stack, checked against the stack's plan (network, model store, endpoints, cluster, outputs)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from infra.engine.mockrun import UNKNOWN
from infra.engine.stackfile import read_config
from infra.plan import Plan, build_plan
from infra.spec import load_spec
from tests.conftest import preview_of, run_program

AWS_STACKS = ["aws-dev", "aws-staging", "aws-prod"]


@cache
def plan_of(stack: str) -> Plan:
    return build_plan(load_spec(read_config(stack)), stack)


def of_type(stack: str, resource_type: str) -> list[dict[str, Any]]:
    return [r for r in preview_of(stack)["resources"] if r["type"] == resource_type]


def one(stack: str, resource_type: str, name: str) -> dict[str, Any]:
    (found,) = [r for r in of_type(stack, resource_type) if r["name"] == name]
    return found


def managed(stack: str) -> list[Any]:
    return [e for e in plan_of(stack).endpoints if e.serving == "managed"]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_the_stack_previews_with_no_policy_violation_at_all(stack: str) -> None:
    document = preview_of(stack)
    assert document["error"] is None
    assert document["violations"] == []


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_concept_is_one_component_of_its_own_type(stack: str) -> None:
    components = {r["type"] for r in preview_of(stack)["resources"] if not r["custom"]}
    expected = {"Keys", "Registry", "Network", "ModelStore", "ManagedEndpoint"}
    expected |= {"Cluster"} if plan_of(stack).cluster else set()
    assert {f"ml-serving:aws:{c}" for c in expected} <= components
    assert ("ml-serving:aws:Cluster" in components) == (plan_of(stack).cluster is not None)


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_private_network_in_the_plans_zones_with_endpoints_for_every_service(stack: str) -> None:
    plan = plan_of(stack)
    (vpc,) = of_type(stack, "aws:ec2/vpc:Vpc")
    assert vpc["inputs"]["cidrBlock"] == plan.network.cidr
    assert vpc["inputs"]["enableDnsSupport"] is vpc["inputs"]["enableDnsHostnames"] is True
    subnets = of_type(stack, "aws:ec2/subnet:Subnet")
    assert sorted(s["inputs"]["availabilityZone"] for s in subnets) == sorted(plan.network.zones)
    assert len(plan.network.zones) >= 2 and all(s["inputs"]["mapPublicIpOnLaunch"] is False for s in subnets)
    tables = of_type(stack, "aws:ec2/routeTable:RouteTable")
    assert len(tables) == len(subnets) and all("routes" not in t["inputs"] for t in tables)
    assert len(of_type(stack, "aws:ec2/routeTableAssociation:RouteTableAssociation")) == len(subnets)
    assert not of_type(stack, "aws:ec2/internetGateway:InternetGateway")
    assert not of_type(stack, "aws:ec2/natGateway:NatGateway")
    endpoints = {e["inputs"]["serviceName"]: e["inputs"] for e in of_type(stack, "aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert ("ec2" in plan.network.private_endpoints) == (plan.cluster is not None)
    for service in plan.network.private_endpoints:
        interface = endpoints.pop(f"com.amazonaws.{plan.region}.{service}")
        assert interface["vpcEndpointType"] == "Interface" and interface["privateDnsEnabled"] is True
        assert len(interface["subnetIds"]) == len(subnets)
    gateway = endpoints.pop(f"com.amazonaws.{plan.region}.s3")
    assert gateway["vpcEndpointType"] == "Gateway" and len(gateway["routeTableIds"]) == len(tables)
    assert endpoints == {}
    ingress = of_type(stack, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert [(r["inputs"]["fromPort"], r["inputs"]["cidrIpv4"]) for r in ingress] == [(443, plan.network.cidr)]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_model_store_bucket_is_private_versioned_kms_encrypted_and_tls_only(stack: str) -> None:
    (bucket,) = of_type(stack, "aws:s3/bucket:Bucket")
    assert "bucket" not in bucket["inputs"]  # autonamed: bucket names are global
    settings = [
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketPolicy:BucketPolicy",
    ]
    for setting in settings:
        (resource,) = of_type(stack, setting)
        assert resource["propertyDependencies"]["bucket"] == [bucket["urn"]]
    (block,) = of_type(stack, settings[0])
    assert all(
        block["inputs"][k] is True
        for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    (versioning,) = of_type(stack, settings[1])
    assert versioning["inputs"]["versioningConfiguration"] == {"status": "Enabled"}
    (encryption,) = of_type(stack, settings[2])
    rule = encryption["inputs"]["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == UNKNOWN  # the stack key's ARN
    assert rule["bucketKeyEnabled"] is True


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_one_model_package_group_per_endpoint_with_a_publishers_policy(stack: str) -> None:
    plan = plan_of(stack)
    groups = of_type(stack, "aws:sagemaker/modelPackageGroup:ModelPackageGroup")
    assert sorted(g["inputs"]["modelPackageGroupName"] for g in groups) == sorted(
        f"{stack}-{e.name}" for e in plan.endpoints
    )
    policies = of_type(stack, "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy")
    assert sorted(p["inputs"]["modelPackageGroupName"] for p in policies) == sorted(
        g["inputs"]["modelPackageGroupName"] for g in groups
    )


def test_stateful_resources_are_protected_and_retained_in_prod_only() -> None:
    stateful = [
        "aws:kms/key:Key",
        "aws:ecr/repository:Repository",
        "aws:s3/bucket:Bucket",
        "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
    ]
    for resource_type in stateful:
        assert {(r["protect"], r["retainOnDelete"]) for r in of_type("aws-prod", resource_type)} == {(True, True)}
        assert {(r["protect"], r["retainOnDelete"]) for r in of_type("aws-dev", resource_type)} == {(False, False)}
    assert one("aws-prod", "aws:s3/bucket:Bucket", "aws-prod-models")["inputs"]["forceDestroy"] is False


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_models_run_isolated_in_the_private_subnets_under_their_own_role(stack: str) -> None:
    models = of_type(stack, "aws:sagemaker/model:Model")
    assert len(models) == sum(len(e.models) for e in managed(stack))
    subnets = len(of_type(stack, "aws:ec2/subnet:Subnet"))
    for model in models:
        inputs = model["inputs"]
        assert inputs["enableNetworkIsolation"] is True
        assert len(inputs["vpcConfig"]["subnets"]) == subnets and len(inputs["vpcConfig"]["securityGroupIds"]) == 1
        assert inputs["executionRoleArn"] == UNKNOWN and "name" not in inputs
    roles = [
        r for r in of_type(stack, "aws:iam/role:Role") if "sagemaker.amazonaws.com" in r["inputs"]["assumeRolePolicy"]
    ]
    assert len(roles) == len(models)


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_execution_roles_read_their_artifact_and_nothing_with_a_wildcard_action(stack: str) -> None:
    plan = plan_of(stack)
    policies = [
        json.loads(p["inputs"]["policy"])
        for p in of_type(stack, "aws:iam/rolePolicy:RolePolicy")
        if "ml-serving:aws:ManagedEndpoint" in p["parent"]  # the model servers on EKS: tests/kubernetes
    ]
    artifacts = sorted(m.artifact.rsplit("/", 1)[0] for e in managed(stack) for m in e.models)
    read = sorted(
        s["Resource"].split("/", 1)[1].removesuffix("/*")
        for p in policies
        for s in p["Statement"]
        if s["Sid"] == "ReadOwnArtifact"
    )
    assert read == artifacts
    for policy in policies:
        for statement in policy["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not any("*" in a for a in actions), statement
            if statement["Resource"] == "*":
                # The AWS-required exceptions: no resource-level permissions exist for these calls.
                assert statement["Sid"] in ("RegistryToken", "WriteInstanceMetrics", "DescribeNetwork"), statement
        sids = {s["Sid"] for s in policy["Statement"]}
        assert ("WriteOwnCapture" in sids) == plan.data_capture
        assert {"ReadOwnArtifact", "PullImage", "WriteOwnLogs", "UseStackKey"} <= sids


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_endpoint_configuration_splits_traffic_as_planned_and_has_no_fixed_name(stack: str) -> None:
    plan = plan_of(stack)
    for endpoint in managed(stack):
        config_name = plan.names("sagemaker_endpoint_config", endpoint.name)
        config = one(stack, "aws:sagemaker/endpointConfiguration:EndpointConfiguration", config_name)
        inputs = config["inputs"]
        assert "name" not in inputs and "namePrefix" not in inputs  # terraform-provider-aws PR #48993
        assert inputs["kmsKeyArn"] == UNKNOWN
        live = [m for m in endpoint.models if not m.shadow]
        variants = inputs["productionVariants"]
        assert [(v["variantName"], v["initialVariantWeight"]) for v in variants] == [
            (f"live-{i}", m.weight) for i, m in enumerate(live, 1)
        ]
        assert {(v["instanceType"], v["initialInstanceCount"]) for v in variants} == {
            (endpoint.instance_type, endpoint.initial_replicas)
        }
        shadows = [m for m in endpoint.models if m.shadow]
        assert len(inputs.get("shadowProductionVariants", [])) == len(shadows)
        capture = inputs.get("dataCaptureConfig")
        assert (capture is not None) == plan.data_capture
        if capture:
            assert capture["enableCapture"] is True and capture["kmsKeyId"] == UNKNOWN
            assert capture["initialSamplingPercentage"] == plan.data_capture_percent


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_endpoint_rolls_out_blue_green_gated_by_its_own_alarms(stack: str) -> None:
    routing_type = {"canary": "CANARY", "linear": "LINEAR", "all-at-once": "ALL_AT_ONCE"}
    alarms = {a["inputs"]["name"]: a["inputs"] for a in of_type(stack, "aws:cloudwatch/metricAlarm:MetricAlarm")}
    for endpoint in managed(stack):
        resource = one(stack, "aws:sagemaker/endpoint:Endpoint", f"endpoint-{endpoint.name}-endpoint")
        inputs = resource["inputs"]
        assert inputs["name"] == f"{stack}-{endpoint.name}"
        config_name = plan_of(stack).names("sagemaker_endpoint_config", endpoint.name)
        assert resource["propertyDependencies"]["endpointConfigName"][0].endswith(f"::{config_name}")
        policy = inputs["deploymentConfig"]["blueGreenUpdatePolicy"]
        routing = policy["trafficRoutingConfiguration"]
        assert routing["type"] == routing_type[endpoint.rollout.strategy]
        assert routing["waitIntervalInSeconds"] == endpoint.rollout.wait_seconds
        step = {"type": "CAPACITY_PERCENT", "value": endpoint.rollout.step_percent}
        assert routing.get("canarySize") == (step if endpoint.rollout.strategy == "canary" else None)
        assert routing.get("linearStepSize") == (step if endpoint.rollout.strategy == "linear" else None)
        names = [a["alarmName"] for a in inputs["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]]
        assert names == [f"{stack}-{endpoint.name}-5xx-rate", f"{stack}-{endpoint.name}-p95-latency"]
        errors, latency = alarms[names[0]], alarms[names[1]]
        assert errors["threshold"] == endpoint.error_rate_alarm_percent
        assert latency["threshold"] == endpoint.latency_alarm_ms * 1000  # ModelLatency is in microseconds
        metrics = {q["metric"]["metricName"] for q in errors["metricQueries"] if "metric" in q}
        assert metrics == {"Invocation5XXErrors", "Invocations"}
        assert {q["metric"]["stat"] for q in latency["metricQueries"] if "metric" in q} == {"p95"}
        assert set(resource["dependencies"]) >= {
            a["urn"] for a in of_type(stack, "aws:cloudwatch/metricAlarm:MetricAlarm") if a["inputs"]["name"] in names
        }


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_variant_autoscales_on_invocations_per_instance_within_the_plans_bounds(stack: str) -> None:
    targets = {t["inputs"]["resourceId"]: t for t in of_type(stack, "aws:appautoscaling/target:Target")}
    policies = {p["inputs"]["resourceId"]: p["inputs"] for p in of_type(stack, "aws:appautoscaling/policy:Policy")}
    expected = set()
    for endpoint in managed(stack):
        live = [m for m in endpoint.models if not m.shadow]
        shadows = [m for m in endpoint.models if m.shadow]
        variants = [(f"live-{i}", m) for i, m in enumerate(live, 1)] + [
            (f"shadow-{i}", m) for i, m in enumerate(shadows, 1)
        ]
        for variant, model in variants:
            resource_id = f"endpoint/{stack}-{endpoint.name}/variant/{variant}"
            expected.add(resource_id)
            target = targets[resource_id]
            assert target["inputs"]["serviceNamespace"] == "sagemaker"
            assert target["inputs"]["scalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
            assert (target["inputs"]["minCapacity"], target["inputs"]["maxCapacity"]) == (
                endpoint.min_replicas,
                model.max_replicas,
            )
            assert any(d.endswith(f"endpoint-{endpoint.name}-endpoint") for d in target["dependencies"])
            tracking = policies[resource_id]["targetTrackingScalingPolicyConfiguration"]
            assert (
                tracking["predefinedMetricSpecification"]["predefinedMetricType"]
                == "SageMakerVariantInvocationsPerInstance"
            )
            assert tracking["targetValue"] == pytest.approx(endpoint.target_rps_per_replica * 60)
    assert set(targets) == set(policies) == expected


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_endpoint_logs_are_encrypted_and_expire(stack: str) -> None:
    groups = {g["inputs"]["name"]: g["inputs"] for g in of_type(stack, "aws:cloudwatch/logGroup:LogGroup")}
    for endpoint in managed(stack):
        group = groups[f"/aws/sagemaker/Endpoints/{stack}-{endpoint.name}"]
        assert group["kmsKeyId"] == UNKNOWN and group["retentionInDays"] > 0


def test_cluster_is_private_encrypted_logged_and_uses_access_entries() -> None:
    plan = plan_of("aws-staging")
    assert plan.cluster is not None
    (cluster,) = of_type("aws-staging", "aws:eks/cluster:Cluster")
    inputs = cluster["inputs"]
    assert inputs["name"] == "ml-serving-aws-staging" and inputs["version"] == plan.cluster.kubernetes_version
    assert inputs["vpcConfig"]["endpointPublicAccess"] is False and inputs["vpcConfig"]["endpointPrivateAccess"] is True
    assert (
        inputs["encryptionConfig"]["resources"] == ["secrets"]
        and inputs["encryptionConfig"]["provider"]["keyArn"] == UNKNOWN
    )
    assert sorted(inputs["enabledClusterLogTypes"]) == [
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    ]
    assert inputs["accessConfig"]["authenticationMode"] == "API"
    # Never extended support ($0.60/h instead of the estimate's $0.10/h): upgraded at its end instead.
    assert inputs["upgradePolicy"] == {"supportType": "STANDARD"}
    assert one("aws-staging", "aws:cloudwatch/logGroup:LogGroup", "cluster-logs")["urn"] in cluster["dependencies"]
    assert not of_type("aws-dev", "aws:eks/cluster:Cluster")  # no Kubernetes endpoint, no cluster key


def test_gpu_node_groups_follow_the_plans_pools() -> None:
    plan = plan_of("aws-staging")
    assert plan.cluster is not None
    for pool in (plan.cluster.system_pool, *plan.cluster.gpu_pools):
        group = one("aws-staging", "aws:eks/nodeGroup:NodeGroup", plan.names("eks_node_group", pool.name))
        inputs = group["inputs"]
        assert inputs["instanceTypes"] == [pool.instance_type]
        assert inputs["capacityType"] == {"on-demand": "ON_DEMAND", "spot": "SPOT"}[pool.capacity]
        assert (inputs["scalingConfig"]["minSize"], inputs["scalingConfig"]["maxSize"]) == (
            pool.min_nodes,
            pool.max_nodes,
        )
        template = one(
            "aws-staging", "aws:ec2/launchTemplate:LaunchTemplate", plan.names("ec2_launch_template", pool.name)
        )
        assert group["propertyDependencies"]["launchTemplate"] == [template["urn"]]
        assert template["inputs"]["metadataOptions"]["httpTokens"] == "required"
        assert template["inputs"]["metadataOptions"]["httpPutResponseHopLimit"] == 2
        ebs = template["inputs"]["blockDeviceMappings"][0]["ebs"]
        assert ebs["encrypted"] == "true" and ebs["kmsKeyId"] == UNKNOWN
        if pool.accelerator is None:
            assert inputs["amiType"] == "AL2023_x86_64_STANDARD" and "taints" not in inputs
        else:
            assert pool.accelerator == "nvidia"
            assert inputs["amiType"] == "AL2023_x86_64_NVIDIA"
            assert inputs["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
            assert inputs["labels"] == {
                "ml-serving/pool": pool.name,
                "ml-serving/gpu": pool.gpu,
                "ml-serving/accelerator": pool.accelerator,  # the device plugin's node selector
                "ml-serving/endpoint": pool.endpoint,
            }


def test_node_role_holds_only_the_three_worker_policies() -> None:
    attachments = of_type("aws-staging", "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    node = {a["inputs"]["policyArn"].rsplit("/", 1)[1] for a in attachments if a["name"].startswith("cluster-node-")}
    assert node == {"AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly"}
    (node_role,) = [r for r in of_type("aws-staging", "aws:iam/role:Role") if r["name"] == "aws-staging-cluster-nodes"]
    assert not [
        p for p in of_type("aws-staging", "aws:iam/rolePolicy:RolePolicy") if node_role["urn"] in p["dependencies"]
    ]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_outputs_name_endpoints_configs_registry_bucket_groups_and_cluster(stack: str) -> None:
    outputs = preview_of(stack)["outputs"]
    plan = plan_of(stack)
    assert outputs["endpoints"] == {e.name: f"{stack}-{e.name}" for e in managed(stack)}
    assert set(outputs["endpoint_configs"] if outputs["endpoint_configs"] != UNKNOWN else {}) <= set(
        outputs["endpoints"]
    )
    assert outputs["model_package_groups"] == {e.name: f"{stack}-{e.name}" for e in plan.endpoints}
    assert outputs["registry_url"] == UNKNOWN and outputs["bucket"] == UNKNOWN
    assert outputs.get("cluster_name") == (f"ml-serving-{stack}" if plan.cluster else None)


def run_with(tmp_path, endpoints: list[dict[str, Any]]) -> dict[str, Any]:
    """The real program under the mocks with aws-staging's config and these endpoints (no stack file)."""
    return run_program(
        tmp_path, "aws-variant", {**read_config("aws-staging"), "ml-serving:endpoints": json.dumps(endpoints)}
    )


def staging_endpoints() -> list[dict[str, Any]]:
    return json.loads(read_config("aws-staging")["ml-serving:endpoints"])


def test_a_shadow_beside_two_live_models_is_a_user_error_naming_the_key(tmp_path) -> None:
    endpoints = staging_endpoints()
    endpoints[0]["models"].append({**endpoints[0]["models"][0], "name": "shadowed", "weight": 20, "shadow": True})
    error = run_with(tmp_path, endpoints)["error"]
    assert error.startswith("ml-serving:endpoints[0].models: a shadow model on aws needs exactly one live model")


def test_an_image_outside_ecr_is_a_user_error_and_an_ecr_image_is_what_the_role_pulls(tmp_path) -> None:
    endpoints = staging_endpoints()
    del endpoints[0]["models"][1]["image_tag"]
    endpoints[0]["models"][1]["image"] = "ghcr.io/example/vllm:0.6.3"
    error = run_with(tmp_path, endpoints)["error"]
    assert error.startswith(
        "ml-serving:endpoints[0].models[1].image: 'ghcr.io/example/vllm:0.6.3' is not in Amazon ECR"
    )
    image = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.29.0-lmi11.0.0-cu124"
    endpoints[0]["models"][1]["image"] = image
    result = run_with(tmp_path, endpoints)
    (policy,) = [
        r
        for r in result["resources"]
        if r["name"] == "aws-variant-chat-llama3-8b-v2" and r["type"] == "aws:iam/rolePolicy:RolePolicy"
    ]
    (pull,) = [s for s in json.loads(policy["inputs"]["policy"])["Statement"] if s["Sid"] == "PullImage"]
    assert pull["Resource"] == "arn:aws:ecr:us-east-1:763104351884:repository/djl-inference"
    (model,) = [
        r
        for r in result["resources"]
        if r["name"] == "aws-variant-chat-llama3-8b-v2" and r["type"] == "aws:sagemaker/model:Model"
    ]
    assert model["inputs"]["primaryContainer"]["image"] == image


def test_cpu_and_inferentia_pools_get_their_own_ami_and_taint(tmp_path) -> None:
    # A CPU pool must not boot the NVIDIA AMI, and an Inferentia pool needs the Neuron AMI and taint.
    endpoints = staging_endpoints()
    embed = endpoints[1]
    tiny = {**embed["sizing"]["requirements"], "params_billion": 0.02, "peak_rps": 5, "p95_latency_ms": 2000}
    neuron = {**embed["sizing"]["requirements"], "neuron": True, "peak_rps": 5, "p95_latency_ms": 2000}
    endpoints[1:] = [
        {**embed, "name": "tiny", "sizing": {"profile": "auto", "requirements": tiny}},
        {**embed, "name": "inf", "sizing": {"profile": "auto", "requirements": neuron}},
    ]
    result = run_with(tmp_path, endpoints)
    assert result["error"] is None
    groups = {r["name"]: r["inputs"] for r in result["resources"] if r["type"] == "aws:eks/nodeGroup:NodeGroup"}
    assert groups["aws-variant-gpu-tiny"]["amiType"] == "AL2023_x86_64_STANDARD"
    assert (
        "taints" not in groups["aws-variant-gpu-tiny"]
        and "ml-serving/gpu" not in groups["aws-variant-gpu-tiny"]["labels"]
    )
    assert groups["aws-variant-gpu-inf"]["amiType"] == "AL2023_x86_64_NEURON"
    assert groups["aws-variant-gpu-inf"]["taints"] == [
        {"key": "aws.amazon.com/neuron", "value": "true", "effect": "NO_SCHEDULE"}
    ]
    assert groups["aws-variant-gpu-inf"]["labels"]["ml-serving/gpu"] == "inferentia2"
