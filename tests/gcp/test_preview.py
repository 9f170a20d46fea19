"""The GCP translator through the offline engine: what the real program registers for each shipped
stack, checked against the stack's plan (network, key, registry, bucket, endpoints, cluster, outputs)."""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from functools import cache
from typing import Any

import pytest

from infra.addons import addons_for
from infra.clouds.gcp.machines import vertex_spellings
from infra.engine.mockrun import UNKNOWN
from infra.engine.stackfile import ROOT, read_config
from infra.plan import Plan, build_plan
from infra.runtime import engine_config
from infra.spec import load_spec
from tests.conftest import preview_of

GCP_STACKS = ["gcp-dev", "gcp-staging", "gcp-prod"]
DYNAMIC = "pulumi-python:dynamic:Resource"


@cache
def plan_of(stack: str) -> Plan:
    return build_plan(load_spec(read_config(stack)), stack)


def of_type(stack: str, resource_type: str) -> list[dict[str, Any]]:
    return [r for r in preview_of(stack)["resources"] if r["type"] == resource_type]


def named(stack: str, name: str) -> dict[str, Any]:
    (found,) = [r for r in preview_of(stack)["resources"] if r["name"] == name]
    return found


def managed(stack: str) -> list[Any]:
    return [e for e in plan_of(stack).endpoints if e.serving == "managed"]


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_the_stack_previews_with_no_policy_violation_at_all(stack: str) -> None:
    document = preview_of(stack)
    assert document["error"] is None
    assert document["violations"] == []


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_every_concept_is_one_component_of_its_own_type(stack: str) -> None:
    components = {r["type"] for r in preview_of(stack)["resources"] if not r["custom"]}
    expected = {"Keys", "Registry", "Network", "ModelStore", "ManagedEndpoint"}
    assert {f"ml-serving:gcp:{c}" for c in expected} <= components
    assert ("ml-serving:gcp:Cluster" in components) == (plan_of(stack).cluster is not None)


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_private_subnet_with_pod_and_service_ranges_and_nat_only_for_outside_images(stack: str) -> None:
    plan = plan_of(stack)
    (network,) = of_type(stack, "gcp:compute/network:Network")
    assert network["inputs"]["autoCreateSubnetworks"] is False
    (subnet,) = of_type(stack, "gcp:compute/subnetwork:Subnetwork")
    inputs = subnet["inputs"]
    assert inputs["privateIpGoogleAccess"] is True and inputs["region"] == plan.region
    blocks = [inputs["ipCidrRange"], *(r["ipCidrRange"] for r in inputs["secondaryIpRanges"])]
    nets = [ipaddress.ip_network(b) for b in blocks]
    assert all(n.subnet_of(ipaddress.ip_network(plan.network.cidr)) for n in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
    assert [r["rangeName"] for r in inputs["secondaryIpRanges"]] == ["pods", "services"]
    # Every shipped image lives in the stack's Artifact Registry: no stack needs Cloud NAT.
    assert plan.network.egress is False
    assert of_type(stack, "gcp:compute/routerNat:RouterNat") == of_type(stack, "gcp:compute/router:Router") == []


def test_an_in_cluster_image_from_outside_googles_registries_gets_cloud_nat(outside_image) -> None:
    assert outside_image["error"] is None
    by_type: dict[str, list[dict[str, Any]]] = {}
    for r in outside_image["resources"]:
        by_type.setdefault(r["type"], []).append(r)
    (nat,) = by_type["gcp:compute/routerNat:RouterNat"]
    (router,) = by_type["gcp:compute/router:Router"]
    assert nat["parent"] == router["parent"] and "ml-serving:gcp:Network" in nat["parent"]
    assert nat["inputs"]["logConfig"]["enable"] is True


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_the_key_rotates_and_every_service_agent_that_uses_it_gets_it(stack: str) -> None:
    (ring,) = of_type(stack, "gcp:kms/keyRing:KeyRing")
    (key,) = of_type(stack, "gcp:kms/cryptoKey:CryptoKey")
    assert "name" not in ring["inputs"] and "name" not in key["inputs"]  # KMS never deletes a name
    assert key["inputs"]["rotationPeriod"] == "7776000s"
    agents = {
        r["name"].removeprefix("keys-").removesuffix("-encrypter")
        for r in of_type(stack, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    }
    expected = {"aiplatform", "artifactregistry", "storage"}
    expected |= {"bigquery"} if plan_of(stack).data_capture else set()
    expected |= {"container", "compute"} if plan_of(stack).cluster else set()
    assert agents == expected
    # Storage and BigQuery agents are created by reading them, not assumed to exist.
    lookups = {r["name"] for r in of_type(stack, DYNAMIC) if "url" in r["inputs"]}
    assert lookups == {f"keys-{a}-agent" for a in expected & {"storage", "bigquery"}}


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_registry_keeps_every_served_tag_and_deletes_only_untagged(stack: str) -> None:
    (repo,) = of_type(stack, "gcp:artifactregistry/repository:Repository")
    inputs = repo["inputs"]
    assert inputs["dockerConfig"] == {"immutableTags": True} and inputs["kmsKeyName"] == UNKNOWN
    policies = {p["id"]: p for p in inputs["cleanupPolicies"]}
    served = sorted({m.image_tag for e in plan_of(stack).endpoints for m in e.models if m.image_tag})
    assert policies["keep-served"]["condition"]["tagPrefixes"] == served
    assert [p["condition"]["tagState"] for p in policies.values() if p["action"] == "DELETE"] == ["UNTAGGED"]


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_model_bucket_is_uniform_private_versioned_and_encrypted(stack: str) -> None:
    (bucket,) = of_type(stack, "gcp:storage/bucket:Bucket")
    inputs = bucket["inputs"]
    assert inputs["uniformBucketLevelAccess"] is True and inputs["publicAccessPrevention"] == "enforced"
    assert inputs["versioning"] == {"enabled": True} and inputs["encryption"]["defaultKmsKeyName"] == UNKNOWN
    assert inputs["forceDestroy"] is not plan_of(stack).protect


def test_stateful_resources_are_protected_and_retained_in_prod_only() -> None:
    stateful = [
        "gcp:kms/keyRing:KeyRing",
        "gcp:kms/cryptoKey:CryptoKey",
        "gcp:artifactregistry/repository:Repository",
        "gcp:storage/bucket:Bucket",
        "gcp:bigquery/dataset:Dataset",
    ]
    for resource_type in stateful:
        assert {(r["protect"], r["retainOnDelete"]) for r in of_type("gcp-prod", resource_type)} == {(True, True)}
        assert {(r["protect"], r["retainOnDelete"]) for r in of_type("gcp-staging", resource_type)} == {(False, False)}
    (cluster,) = of_type("gcp-prod", "gcp:container/cluster:Cluster")
    assert cluster["protect"] is True and cluster["inputs"]["deletionProtection"] is True


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_endpoints_are_private_encrypted_and_log_where_the_environment_captures(stack: str) -> None:
    plan = plan_of(stack)
    endpoints = {r["name"]: r["inputs"] for r in of_type(stack, "gcp:vertex/aiEndpoint:AiEndpoint")}
    assert sorted(endpoints) == sorted(f"endpoint-{e.name}-endpoint" for e in managed(stack))
    for inputs in endpoints.values():
        assert inputs["privateServiceConnectConfig"]["enablePrivateServiceConnect"] is True
        assert inputs["privateServiceConnectConfig"]["projectAllowlists"] == [read_config(stack)["gcp:project"]]
        assert "network" not in inputs and inputs["encryptionSpec"]["kmsKeyName"] == UNKNOWN
        logging = inputs.get("predictRequestResponseLoggingConfig")
        if plan.data_capture:
            assert logging["enabled"] is True and logging["samplingRate"] == plan.data_capture_percent / 100
        else:
            assert logging is None
    # Each endpoint is reached through a PSC forwarding rule to what its deployment exposes.
    rules = of_type(stack, "gcp:compute/forwardingRule:ForwardingRule")
    assert len(rules) == len(endpoints)
    for rule in rules:
        deployment = named(stack, rule["name"].removesuffix("-psc") + "-deployment")
        assert rule["propertyDependencies"]["target"] == [deployment["urn"]]
        assert rule["inputs"]["loadBalancingScheme"] == ""


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_the_deployment_resource_serves_every_version_at_the_plans_split_and_sizes(stack: str) -> None:
    for endpoint in managed(stack):
        inputs = named(stack, f"endpoint-{endpoint.name}-deployment")["inputs"]
        assert inputs["endpoint_id"] == named(stack, f"endpoint-{endpoint.name}-endpoint")["inputs"]["name"]
        assert inputs["rollout"] == {
            "strategy": endpoint.rollout.strategy,
            "step_percent": endpoint.rollout.step_percent,
            "wait_seconds": endpoint.rollout.wait_seconds,
        }
        assert [(m["name"], m["weight"], m["shadow"]) for m in inputs["models"]] == [
            (m.name, m.weight, m.shadow) for m in endpoint.models
        ]
        for model, planned in zip(inputs["models"], endpoint.models, strict=True):
            resources = model["deployment"]["dedicatedResources"]
            machine = resources["machineSpec"]
            assert machine["machineType"] == endpoint.instance_extra.get("machine_type", endpoint.instance_type)
            if endpoint.accelerator:
                assert machine["acceleratorType"] == vertex_spellings()[endpoint.instance_extra["accelerator"]]
                assert machine["acceleratorCount"] == endpoint.gpus
            assert (resources["minReplicaCount"], resources["maxReplicaCount"]) == (
                endpoint.min_replicas,
                planned.max_replicas,
            )
            assert model["deployment"]["serviceAccount"] == UNKNOWN  # the endpoint's own account
            container = model["model"]["containerSpec"]
            assert container["imageUri"].endswith(f":{planned.image_tag}")
            # The runtime contract: the engine told what sizing decided, on the port Vertex AI calls.
            told = engine_config(planned.runtime, endpoint.platform)
            assert container["env"] == [{"name": k, "value": v} for k, v in sorted(told.env.items())]
            assert container.get("args", []) == list(told.args)
            assert told.env or told.args
            assert container["ports"] == [{"containerPort": planned.runtime.port}]
            assert model["model"]["artifactUri"].endswith(f"/{planned.artifact}")


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_each_rollout_is_gated_by_its_endpoints_error_rate_and_latency_alerts(stack: str) -> None:
    for endpoint in managed(stack):
        deployment = named(stack, f"endpoint-{endpoint.name}-deployment")
        endpoint_id = deployment["inputs"]["endpoint_id"]
        gates = sorted(deployment["propertyDependencies"]["alert_policies"])
        alerts = {
            r["urn"]: r["inputs"] for r in of_type(stack, "gcp:monitoring/alertPolicy:AlertPolicy") if r["urn"] in gates
        }
        assert len(alerts) == 2
        queries = [a["conditions"][0]["conditionPrometheusQueryLanguage"]["query"] for a in alerts.values()]
        assert all(f'endpoint_id="{endpoint_id}"' in q for q in queries)
        (errors,) = [q for q in queries if "response_code" in q]
        (latency,) = [q for q in queries if "histogram_quantile(0.95" in q]
        assert errors.endswith(f"> {endpoint.error_rate_alarm_percent:g}")
        assert latency.endswith(f"> {endpoint.latency_alarm_ms:g}")


def test_cluster_is_private_with_workload_identity_cmek_secrets_and_dataplane_v2() -> None:
    (cluster,) = of_type("gcp-staging", "gcp:container/cluster:Cluster")
    inputs = cluster["inputs"]
    plan = plan_of("gcp-staging")
    assert inputs["privateClusterConfig"] == {
        "enablePrivateNodes": True,
        "enablePrivateEndpoint": True,
        "masterIpv4CidrBlock": plan.network.ranges["control_plane"],  # the plan's /28, admitted by name
    }
    assert inputs["masterAuthorizedNetworksConfig"]["cidrBlocks"][0]["cidrBlock"] == plan.network.cidr
    assert inputs["workloadIdentityConfig"] == {"workloadPool": "acme-ml-staging.svc.id.goog"}
    assert inputs["databaseEncryption"]["state"] == "ENCRYPTED"
    assert inputs["datapathProvider"] == "ADVANCED_DATAPATH" and inputs["enableShieldedNodes"] is True
    assert inputs["releaseChannel"] == {"channel": "REGULAR"}
    assert inputs["removeDefaultNodePool"] is True
    assert inputs["nodeConfig"]["serviceAccount"] == UNKNOWN  # the dedicated node account, not the default
    (prod,) = of_type("gcp-prod", "gcp:container/cluster:Cluster")
    assert prod["inputs"]["releaseChannel"] == {"channel": "STABLE"}


@pytest.mark.parametrize("stack", ["gcp-staging", "gcp-prod"])
def test_gpu_node_pools_follow_the_plans_pools(stack: str) -> None:
    plan = plan_of(stack)
    assert plan.cluster is not None
    pools = {r["name"]: r["inputs"] for r in of_type(stack, "gcp:container/nodePool:NodePool")}
    assert sorted(pools) == sorted(f"cluster-{p.name}" for p in (plan.cluster.system_pool, *plan.cluster.gpu_pools))
    for pool in plan.cluster.gpu_pools:
        inputs = pools[f"cluster-{pool.name}"]
        config = inputs["nodeConfig"]
        assert (inputs["autoscaling"]["totalMinNodeCount"], inputs["autoscaling"]["totalMaxNodeCount"]) == (
            pool.min_nodes,
            pool.max_nodes,
        )
        (accelerator,) = config["guestAccelerators"]
        assert accelerator["type"] == pool.instance_extra["accelerator"] and accelerator["count"] == pool.gpus
        assert accelerator["gpuDriverInstallationConfig"] == {"gpuDriverVersion": "LATEST"}
        assert config["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]
        assert config["spot"] is (pool.capacity == "spot")
        # The plan's disk: OS and images plus the weights of every copy on the node, not a fixed size.
        serving = next(s for s in plan.kubernetes if s.endpoint == pool.endpoint)
        assert config["diskSizeGb"] == pool.disk_gib == serving.node_disk_gib
        assert config["diskSizeGb"] > serving.pods_per_node * serving.weights_gib
        assert config["labels"]["ml-serving/accelerator"] == pool.accelerator == "nvidia"
        assert config["labels"]["ml-serving/endpoint"] == pool.endpoint
        assert config["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
        assert config["shieldedInstanceConfig"]["enableSecureBoot"] is True
    system = pools["cluster-system"]["nodeConfig"]
    assert "guestAccelerators" not in system and "taints" not in system


@pytest.mark.parametrize("stack", ["gcp-staging", "gcp-prod"])
def test_the_control_plane_reaches_the_add_ons_webhooks_from_its_own_block_only(stack: str) -> None:
    plan = plan_of(stack)
    assert plan.network.cidr is not None
    (cluster,) = of_type(stack, "gcp:container/cluster:Cluster")
    block = ipaddress.ip_network(cluster["inputs"]["privateClusterConfig"]["masterIpv4CidrBlock"])
    # A /28 of the stack's network in none of its subnet's ranges: GKE peers the control plane into it.
    assert block.prefixlen == 28 and block.subnet_of(ipaddress.ip_network(plan.network.cidr))
    (subnet,) = of_type(stack, "gcp:compute/subnetwork:Subnetwork")
    used = [subnet["inputs"]["ipCidrRange"], *(r["ipCidrRange"] for r in subnet["inputs"]["secondaryIpRanges"])]
    assert not any(block.overlaps(ipaddress.ip_network(r)) for r in used)
    (rule,) = of_type(stack, "gcp:compute/firewall:Firewall")
    inputs = rule["inputs"]
    assert inputs["direction"] == "INGRESS" and inputs["sourceRanges"] == [str(block)]
    # Every pod port the API server calls an add-on on (KEDA's metrics API 6443, the webhooks of KServe,
    # KEDA and Envoy Gateway 9443), except those GKE's own rule admits (443 and 10250).
    called = {p for a in addons_for(plan.cloud) for p in a.control_plane_ports}
    assert {6443, 9443} <= called
    assert inputs["allows"] == [{"protocol": "tcp", "ports": [str(p) for p in sorted(called - {443, 10250})]}]
    assert inputs["logConfig"] == {"metadata": "INCLUDE_ALL_METADATA"}
    # To the cluster's nodes only, by the account they run as.
    (nodes,) = [r for r in of_type(stack, "gcp:serviceaccount/account:Account") if r["name"] == "cluster-nodes"]
    assert rule["propertyDependencies"]["targetServiceAccounts"] == [nodes["urn"]]


def test_node_account_holds_only_the_node_role_and_image_pulls() -> None:
    grants = [
        (r["type"], r["inputs"]["role"])
        for r in preview_of("gcp-staging")["resources"]
        if r["name"].startswith("cluster-nodes-")
    ]
    assert sorted(grants) == [
        ("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember", "roles/artifactregistry.reader"),
        ("gcp:projects/iAMMember:IAMMember", "roles/container.defaultNodeServiceAccount"),
    ]


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_outputs_name_endpoints_registry_bucket_and_the_cluster_for_kubernetes(stack: str) -> None:
    outputs = preview_of(stack)["outputs"]
    assert outputs["registry_url"] == f"us-central1-docker.pkg.dev/{read_config(stack)['gcp:project']}/{stack}-serving"
    assert outputs["bucket"].startswith(f"{stack}-models-")
    cluster_keys = {"cluster_name", "cluster_location", "cluster_endpoint", "cluster_ca_certificate"}
    cluster_keys |= {"node_service_account", "workload_identity_pool"}
    assert (cluster_keys <= set(outputs)) == (plan_of(stack).cluster is not None)


def run_with(tmp_path, config: dict[str, str]) -> dict[str, Any]:
    """The real program under the mocks with this config (no stack file)."""
    (tmp_path / "config.json").write_text(json.dumps(config))
    script = (
        "import json, sys\n"
        "from infra.engine.mockrun import run_config\n"
        "print(json.dumps(run_config('gcp-variant', json.load(open(sys.argv[1]))), default=str))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "config.json")], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_missing_project_is_one_line_naming_the_key_before_any_resource(tmp_path) -> None:
    config = {k: v for k, v in read_config("gcp-dev").items() if k != "gcp:project"}
    result = run_with(tmp_path, config)
    assert result["error"].startswith("gcp:project: missing; expected the Google Cloud project id")
    assert result["resources"] == []


def test_an_image_outside_artifact_registry_on_vertex_is_a_user_error(tmp_path) -> None:
    config = read_config("gcp-staging")
    endpoints = json.loads(config["ml-serving:endpoints"])
    del endpoints[0]["models"][1]["image_tag"]
    endpoints[0]["models"][1]["image"] = "ghcr.io/example/vllm:0.6.3"
    result = run_with(tmp_path, {**config, "ml-serving:endpoints": json.dumps(endpoints)})
    assert result["error"].startswith(
        "ml-serving:endpoints[0].models[1].image: 'ghcr.io/example/vllm:0.6.3' is not in Artifact Registry"
    )
