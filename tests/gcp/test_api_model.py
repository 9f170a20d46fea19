"""Every value the GCP stacks send to a Google API, checked against Google's API discovery documents.

The mocks accept any string; the APIs do not. Each resource the real program registered is turned
into the request body the provider (or our deployment resource) sends, mapping Pulumi's inputs to
the API's fields explicitly, and the body is validated against the discovery document's schema:
unknown fields, enums, types, durations. Every input must be mapped (or named as a path parameter
or a provider-only setting), so a new input cannot slip past unchecked.

The documents ship in google-api-python-client's wheel. Installing it beside pulumi would move
protobuf, so `make test` downloads the pinned wheel (no dependencies) into `.venv/cache` and the
tests read the documents out of the zip as data.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.clouds.gcp.machines import vertex_spellings
from infra.engine.mockrun import UNKNOWN
from infra.engine.stackfile import ROOT
from infra.naming import name_rules, physical_name
from tests.api_check import Inputs, Node, check
from tests.conftest import preview_of

GCP_STACKS = ["gcp-dev", "gcp-staging", "gcp-prod"]
CACHE = ROOT / ".venv" / "cache"
DURATION = ("a duration such as '3.5s'", re.compile(r"-?\d+(\.\d{1,9})?s"))
AUTONAME_SUFFIX = "-0a1b2c3"  # what Pulumi appends to a logical name it names a resource after
# The rules the documents state in a field's description rather than as a `pattern`.
PROSE_PATTERN = re.compile(r"regular\s+expression\s+`([^`]+)`")
PROSE_LENGTH = re.compile(r"(?:must be|is) (\d+)-(\d+) characters")
PROSE_MAXIMUM = re.compile(r"(?:maximum length is|can be up to) ([\d,]+)")


@cache
def document(api: str) -> dict[str, Any]:
    """The discovery document `api` (e.g. `aiplatform.v1`) from the downloaded wheel."""
    wheels = sorted(CACHE.glob("google_api_python_client-*.whl"))
    assert wheels, f"no google-api-python-client wheel in {CACHE}: run `make test` (it downloads the pinned one)"
    with zipfile.ZipFile(wheels[-1]) as wheel:
        return json.loads(wheel.read(f"googleapiclient/discovery_cache/documents/{api}.json"))


@cache
def methods(api: str) -> dict[str, dict[str, Any]]:
    """Every method of `api` by its id (`cloudkms.projects.locations.keyRings.create`)."""
    found: dict[str, dict[str, Any]] = {}
    pending = [document(api)]
    while pending:
        resource = pending.pop()
        found.update({m["id"]: m for m in resource.get("methods", {}).values()})
        pending += resource.get("resources", {}).values()
    return found


def node(schema: dict[str, Any], api: str, name: str = "") -> Node:
    """A discovery schema as the shared checker's `Node`: its enum, `pattern`, format, read-only
    members, and the pattern and length bounds its description states in words."""
    if "$ref" in schema:
        return node(document(api)["schemas"][schema["$ref"]], api, schema["$ref"])
    kind = schema.get("type")
    name = schema.get("id", name)
    if kind == "object":
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        return Node(
            "object",
            name,
            members=lambda _body: (
                name,
                {k: replace(node(v, api, k), read_only=bool(v.get("readOnly"))) for k, v in properties.items()},
            ),
            extra=(lambda: node(extra, api, name)) if extra else None,
        )
    if kind == "array":
        return Node("list", name, item=lambda: node(schema["items"], api, name))
    if kind == "string":
        text = schema.get("description", "")
        pattern = PROSE_PATTERN.search(text)
        length = PROSE_LENGTH.search(text)
        maximum = PROSE_MAXIMUM.search(text)
        return Node(
            "string",
            name,
            enum=frozenset(schema["enum"]) if "enum" in schema else None,
            pattern=schema.get("pattern") or (pattern.group(1) if pattern else None),
            whole=True,
            min_length=int(length.group(1)) if length else None,
            max_length=int(length.group(2)) if length else int(maximum.group(1).replace(",", "")) if maximum else None,
            numeric_string=schema.get("format") in ("int64", "uint64"),
            form=DURATION if schema.get("format") == "google-duration" else None,
        )
    if kind in ("integer", "number", "boolean"):
        return Node(kind, name)
    return Node("any", name)


def validate(value: Any, schema: dict[str, Any], api: str, where: str) -> list[str]:
    """Problems with `value` as an instance of the discovery `schema`; unknown values are skipped."""
    return check(value, node(schema, api), where)


def parameter(api: str, method: str, name: str) -> dict[str, Any]:
    """A method's URL parameter as a string schema (its rules are stated in its description)."""
    return {**methods(api)[method]["parameters"][name], "type": "string", "id": f"{method}.{name}"}


# A request: (API, a schema id or `<method id>#<URL parameter>`, the value sent); or ("naming", a
# naming.yaml kind, a derived name), or ("iam", the API, (role, member)) for one IAM grant.
Request = tuple[str, str, Any]


def body(api: str, schema: str, value: dict[str, Any]) -> Request:
    return api, schema, value


def url(api: str, method: str, name: str, value: Any) -> Request:
    """An id the provider sends in the URL (`keyRingId`), held to the method's parameter."""
    return api, f"{method}#{name}", value


def autoname(i: Inputs) -> str:
    """The `name` input, or the name Pulumi gives the resource when the program gives none."""
    return i("name") or i.resource["name"] + AUTONAME_SUFFIX


def drop_none(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def node_config(config: dict[str, Any]) -> dict[str, Any]:
    """GKE NodeConfig from the provider's node_config (guest accelerators are renamed)."""
    body = dict(config)
    if "guestAccelerators" in body:
        body["accelerators"] = [
            drop_none(
                {
                    "acceleratorType": a["type"],
                    "acceleratorCount": str(a["count"]),
                    "gpuDriverInstallationConfig": a.get("gpuDriverInstallationConfig"),
                }
            )
            for a in body.pop("guestAccelerators")
        ]
    return body


def cluster(i: Inputs) -> list[Request]:
    i.ignore("location", "removeDefaultNodePool", "deletionProtection")
    cluster = drop_none(
        {
            "name": i("name"),
            "locations": i("nodeLocations"),
            "network": i("network"),
            "subnetwork": i("subnetwork"),
            "ipAllocationPolicy": {**i("ipAllocationPolicy"), "useIpAliases": i("networkingMode") == "VPC_NATIVE"},
            "privateClusterConfig": i("privateClusterConfig"),
            "masterAuthorizedNetworksConfig": {**i("masterAuthorizedNetworksConfig"), "enabled": True},
            "masterAuth": i("masterAuth"),
            "workloadIdentityConfig": i("workloadIdentityConfig"),
            "shieldedNodes": {"enabled": i("enableShieldedNodes")},
            "releaseChannel": i("releaseChannel"),
            "initialClusterVersion": i("minMasterVersion"),
            "databaseEncryption": i("databaseEncryption"),
            "networkConfig": {"datapathProvider": i("datapathProvider")},
            "loggingConfig": {"componentConfig": i("loggingConfig")},
            "initialNodeCount": i("initialNodeCount"),
            "nodeConfig": node_config(i("nodeConfig")),
        }
    )
    return [body("container.v1", "Cluster", cluster), named("gke_cluster", i("name"))]


def node_pool(i: Inputs) -> list[Request]:
    i.ignore("cluster", "location")
    pool = {
        "name": i("name"),
        "locations": i("nodeLocations"),
        "autoscaling": {**i("autoscaling"), "enabled": True},
        "management": i("management"),
        "config": node_config(i("nodeConfig")),
    }
    return [body("container.v1", "NodePool", pool), named("gke_node_pool", i("name"))]


def repository(i: Inputs) -> list[Request]:
    i.ignore("location", "cleanupPolicyDryRun")  # the parent; a separate PATCH field
    repository = {
        "format": i("format"),
        "mode": i("mode"),
        "dockerConfig": i("dockerConfig"),
        "kmsKeyName": i("kmsKeyName"),
        "cleanupPolicies": {p["id"]: p for p in i("cleanupPolicies")},
    }
    return [
        body("artifactregistry.v1", "Repository", repository),
        named("artifact_registry_repository", i("repositoryId")),
    ]


def key_ring(i: Inputs) -> list[Request]:
    i.ignore("location")
    return [url("cloudkms.v1", "cloudkms.projects.locations.keyRings.create", "keyRingId", autoname(i))]


def crypto_key(i: Inputs) -> list[Request]:
    i.ignore("keyRing")
    key = {
        "purpose": i("purpose"),
        "rotationPeriod": i("rotationPeriod"),
        "versionTemplate": i("versionTemplate"),
        "destroyScheduledDuration": i("destroyScheduledDuration"),
    }
    name = url("cloudkms.v1", "cloudkms.projects.locations.keyRings.cryptoKeys.create", "cryptoKeyId", autoname(i))
    return [body("cloudkms.v1", "CryptoKey", key), name]


def alert_policy(i: Inputs) -> list[Request]:
    policy = {
        "displayName": i("displayName"),
        "combiner": i("combiner"),
        "severity": i("severity"),
        "conditions": i("conditions"),
        "documentation": i("documentation"),
        "alertStrategy": i("alertStrategy"),
    }
    return [body("monitoring.v3", "AlertPolicy", policy), named("alert_policy_display_name", i("displayName"))]


def bucket(i: Inputs) -> list[Request]:
    i.ignore("forceDestroy")  # the provider empties the bucket before deleting it
    rules = [
        {
            "action": r["action"],
            "condition": {
                "daysSinceNoncurrentTime": r["condition"]["daysSinceNoncurrentTime"],
                "isLive": r["condition"]["withState"] == "LIVE",
            },
        }
        for r in i("lifecycleRules")
    ]
    bucket = {
        "name": i("name"),
        "location": i("location"),
        "iamConfiguration": {
            "uniformBucketLevelAccess": {"enabled": i("uniformBucketLevelAccess")},
            "publicAccessPrevention": i("publicAccessPrevention"),
        },
        "versioning": i("versioning"),
        "encryption": i("encryption"),
        "lifecycle": {"rule": rules},
    }
    return [body("storage.v1", "Bucket", bucket), named("gcs_bucket", i("name"))]


def ai_endpoint(i: Inputs) -> list[Request]:
    i.ignore("location", "region")  # the parent
    psc = i("privateServiceConnectConfig")
    endpoint = drop_none(
        {
            "displayName": i("displayName"),
            "description": i("description"),
            "encryptionSpec": i("encryptionSpec"),
            "privateServiceConnectConfig": {
                "enablePrivateServiceConnect": psc["enablePrivateServiceConnect"],
                "projectAllowlist": psc["projectAllowlists"],
            },
            "predictRequestResponseLoggingConfig": i("predictRequestResponseLoggingConfig"),
        }
    )
    return [
        body("aiplatform.v1", "GoogleCloudAiplatformV1Endpoint", endpoint),
        named("vertex_endpoint_id", i("name")),  # the endpointId query parameter
    ]


def network(i: Inputs) -> list[Request]:
    vpc = {
        "name": autoname(i),
        "autoCreateSubnetworks": i("autoCreateSubnetworks"),
        "routingConfig": {"routingMode": i("routingMode")},
    }
    return [body("compute.v1", "Network", vpc), named("compute_network", i("name"))]


def subnetwork(i: Inputs) -> list[Request]:
    i.ignore("region")
    subnet = {k: i(k) for k in ("name", "network", "ipCidrRange", "secondaryIpRanges", "privateIpGoogleAccess")}
    log = i("logConfig")
    subnet["logConfig"] = {
        "enable": True,
        "aggregationInterval": log["aggregationInterval"],
        "flowSampling": log["flowSampling"],
        "metadata": log["metadata"],
    }
    return [body("compute.v1", "Subnetwork", subnet), named("compute_subnetwork", i("name"))]


def router(i: Inputs) -> list[Request]:
    i.ignore("region")
    return [body("compute.v1", "Router", {"name": autoname(i), "network": i("network")})]


def router_nat(i: Inputs) -> list[Request]:
    i.ignore("router", "region")
    subnets = [{"name": s["name"], "sourceIpRangesToNat": s["sourceIpRangesToNats"]} for s in i("subnetworks")]
    nat = {
        "name": autoname(i),
        "natIpAllocateOption": i("natIpAllocateOption"),
        "sourceSubnetworkIpRangesToNat": i("sourceSubnetworkIpRangesToNat"),
        "subnetworks": subnets,
        "logConfig": i("logConfig"),
    }
    return [body("compute.v1", "RouterNat", nat)]


def address(i: Inputs) -> list[Request]:
    i.ignore("region")
    fields = ("addressType", "subnetwork", "purpose", "address", "network", "description")
    ip = drop_none({"name": autoname(i), **{k: i(k) for k in fields}})
    return [body("compute.v1", "Address", ip)]


def forwarding_rule(i: Inputs) -> list[Request]:
    i.ignore("region")
    rule = drop_none(
        {
            "name": autoname(i),
            "network": i("network"),
            "target": i("target"),
            "IPAddress": i("ipAddress"),
            # The provider sends no scheme for "" (a Private Service Connect consumer endpoint).
            "loadBalancingScheme": i("loadBalancingScheme") or None,
        }
    )
    return [body("compute.v1", "ForwardingRule", rule)]


def service_account(i: Inputs) -> list[Request]:
    request = {
        "accountId": i("accountId"),
        "serviceAccount": {"displayName": i("displayName"), "description": i("description")},
    }
    return [body("iam.v1", "CreateServiceAccountRequest", request), named("service_account_id", i("accountId"))]


def dataset(i: Inputs) -> list[Request]:
    i.ignore("deleteContentsOnDestroy")  # the provider deletes the tables first
    data = {
        "datasetReference": {"datasetId": i("datasetId"), "projectId": i("project")},
        "description": i("description"),
        "location": i("location"),
        "defaultEncryptionConfiguration": i("defaultEncryptionConfiguration"),
    }
    return [body("bigquery.v2", "Dataset", data), named("bigquery_dataset", i("datasetId"))]


def iam_member(api: str, *path: str) -> Callable[[Inputs], list[Request]]:
    """An `*IamMember`: the provider reads the resource's policy, adds one binding and sets it
    (`setIamPolicy`); `path` names the inputs that identify the resource."""

    def adapt(i: Inputs) -> list[Request]:
        i.ignore(*path)
        binding = drop_none({"role": i("role"), "members": [i("member")], "condition": i("condition")})
        return [body(api, "Policy", {"bindings": [binding]}), granted(api, i("role"), i("member"))]

    return adapt


def dataset_iam_member(i: Inputs) -> list[Request]:
    """BigQuery grants on a dataset are its access entries; the provider writes a service
    account's grant as `userByEmail`."""
    i.ignore("datasetId", "project")
    member = i("member")
    email = member.removeprefix("serviceAccount:") if isinstance(member, str) else member
    entry = {"role": i("role"), "userByEmail": email}
    return [body("bigquery.v2", "Dataset", {"access": [entry]}), granted("bigquery.v2", i("role"), member)]


def service_identity(i: Inputs) -> list[Request]:
    """`services.generateServiceIdentity` takes no body: the service is a path parameter."""
    i.ignore("service", "project")
    return []


def firewall(i: Inputs) -> list[Request]:
    fields = ("network", "description", "direction", "sourceRanges", "targetServiceAccounts")
    rule = {"name": autoname(i), **{k: i(k) for k in fields}}
    rule["allowed"] = [drop_none({"IPProtocol": a["protocol"], "ports": a.get("ports")}) for a in i("allows")]
    rule["logConfig"] = {"enable": True, "metadata": i("logConfig")["metadata"]}
    return [body("compute.v1", "Firewall", drop_none(rule))]


# Pulumi type -> the requests its inputs become. Every `gcp:` type a stack registers needs one.
ADAPTERS: dict[str, Callable[[Inputs], list[Request]]] = {
    "gcp:container/cluster:Cluster": cluster,
    "gcp:container/nodePool:NodePool": node_pool,
    "gcp:artifactregistry/repository:Repository": repository,
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": iam_member(
        "artifactregistry.v1", "repository", "location", "project"
    ),
    "gcp:kms/keyRing:KeyRing": key_ring,
    "gcp:kms/cryptoKey:CryptoKey": crypto_key,
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": iam_member("cloudkms.v1", "cryptoKeyId"),
    "gcp:monitoring/alertPolicy:AlertPolicy": alert_policy,
    "gcp:storage/bucket:Bucket": bucket,
    "gcp:storage/bucketIAMMember:BucketIAMMember": iam_member("storage.v1", "bucket"),
    "gcp:vertex/aiEndpoint:AiEndpoint": ai_endpoint,
    "gcp:compute/network:Network": network,
    "gcp:compute/subnetwork:Subnetwork": subnetwork,
    "gcp:compute/router:Router": router,
    "gcp:compute/routerNat:RouterNat": router_nat,
    "gcp:compute/address:Address": address,
    "gcp:compute/forwardingRule:ForwardingRule": forwarding_rule,
    "gcp:serviceaccount/account:Account": service_account,
    "gcp:projects/iAMMember:IAMMember": iam_member("cloudresourcemanager.v1", "project"),
    "gcp:projects/serviceIdentity:ServiceIdentity": service_identity,
    "gcp:bigquery/dataset:Dataset": dataset,
    "gcp:bigquery/datasetIamMember:DatasetIamMember": dataset_iam_member,
    "gcp:compute/firewall:Firewall": firewall,
    "gcp:serviceaccount/iAMMember:IAMMember": iam_member("iam.v1", "serviceAccountId"),
}
# The service whose resources each API's IAM policies guard: a role granted there must be one of
# its roles ("roles/storage.objectViewer" on a bucket). IAM refuses a role that grants nothing on
# the resource ("Role ... is not supported for this resource"); a project takes any service's role.
IAM_SERVICES = {"artifactregistry.v1": "artifactregistry", "cloudkms.v1": "cloudkms", "storage.v1": "storage"}
IAM_SERVICES["bigquery.v2"] = "bigquery"
IAM_SERVICES["iam.v1"] = "iam"  # a service account's policy: who may act as it
ROLE = re.compile(r"roles/([a-z]+)\.[a-zA-Z]+")
# IAM's member identifiers (Binding.members in each document): the kinds a grant may name.
MEMBER = re.compile(r"(user|serviceAccount|group|domain|principal|principalSet):\S+")


def named(kind: str, value: Any) -> Request:
    """A name the program derived, held to the documented rule `naming.yaml` cites for `kind`."""
    return "naming", kind, value


def granted(api: str, role: Any, member: Any) -> Request:
    return "iam", api, (role, member)


def requests_of(resources: list[dict[str, Any]]) -> list[tuple[str, Request]]:
    """(resource name, request) for every `gcp:` resource; fails on an unmapped type or input."""
    found: list[tuple[str, Request]] = []
    for resource in resources:
        if not resource["custom"] or not resource["type"].startswith("gcp:"):
            continue  # components, providers, our dynamic resources (checked below)
        assert resource["type"] in ADAPTERS, f"{resource['type']} has no API mapping in this test"
        inputs = Inputs(resource)
        found += [(resource["name"], r) for r in ADAPTERS[resource["type"]](inputs)]
        assert not inputs.unmapped(), f"{resource['name']}: inputs {inputs.unmapped()} are not mapped to the API"
    return found


def problems_of(requests: list[tuple[str, Request]]) -> list[str]:
    problems: list[str] = []
    for name, (api, ref, value) in requests:
        where = f"{name} {api}:{ref}"
        if api == "naming":
            rule = name_rules()["gcp"][ref]
            spec = Node("string", f"{ref} name", pattern=rule.pattern, min_length=rule.min, max_length=rule.max)
            problems += check(value, spec, where)
        elif api == "iam":
            problems += grant_problems(ref, *value, where=where)
        elif "#" in ref:
            method, param = ref.split("#")
            problems += validate(value, parameter(api, method, param), api, where)
        else:
            problems += validate(value, {"$ref": ref}, api, where)
    return problems


def grant_problems(api: str, role: Any, member: Any, where: str) -> list[str]:
    found = []
    match = ROLE.fullmatch(role) if isinstance(role, str) else None
    if match is None:
        found.append(f"{where}: {role!r} is not a predefined role roles/<service>.<role>")
    elif api in IAM_SERVICES and match.group(1) != IAM_SERVICES[api]:
        found.append(f"{where}: {role} grants nothing on a {IAM_SERVICES[api]} resource")
    if member != UNKNOWN and not (isinstance(member, str) and MEMBER.fullmatch(member)):
        found.append(f"{where}: {member!r} is not an IAM member identifier such as serviceAccount:<email>")
    return found


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_every_provider_request_is_valid_for_its_api(stack: str) -> None:
    requests = requests_of(preview_of(stack)["resources"])
    assert requests
    assert problems_of(requests) == []


def test_outside_image_variant_requests_are_valid_for_their_api(outside_image) -> None:
    # The one stack with a Cloud Router and NAT (no shipped stack pulls an image from outside Google).
    assert problems_of(requests_of(outside_image["resources"])) == []


def test_every_kind_of_request_is_checked(outside_image) -> None:
    """Bodies, URL ids, names and IAM grants all reach the checks (none is silently empty)."""
    resources = [*(r for stack in GCP_STACKS for r in preview_of(stack)["resources"]), *outside_image["resources"]]
    requests = [r for _, r in requests_of(resources)]
    assert {"naming", "iam"} <= {api for api, _, _ in requests}
    assert any("#" in ref for _, ref, _ in requests)
    assert {"Policy", "Dataset", "Network", "Router", "Address", "ForwardingRule", "CreateServiceAccountRequest"} <= {
        ref for _, ref, _ in requests
    }


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_every_model_upload_and_deployment_body_is_valid_for_vertex_ai(stack: str) -> None:
    """The deployment resource sends these bodies verbatim (plus the display name and model)."""
    deployments = [r for r in preview_of(stack)["resources"] if "models" in r["inputs"]]
    assert deployments
    problems: list[str] = []
    for resource in deployments:
        for model in resource["inputs"]["models"]:
            upload = {**model["model"], "displayName": f"{model['name']}-0a1b2c3d"}
            deploy = {**model["deployment"], "model": "projects/p/locations/r/models/1", "displayName": "x"}
            where = f"{resource['name']}.{model['name']}"
            problems += validate(upload, {"$ref": "GoogleCloudAiplatformV1Model"}, "aiplatform.v1", where)
            problems += validate(deploy, {"$ref": "GoogleCloudAiplatformV1DeployedModel"}, "aiplatform.v1", where)
    assert problems == []


def test_gke_and_vertex_spell_every_catalog_gpu_and_vertex_knows_each_spelling() -> None:
    from infra.catalog import load_catalog

    rows = [r for r in load_catalog().instances if r.cloud == "gcp" and r.gpu is not None]
    gke_names = {r.extra["accelerator"] for r in rows}
    assert gke_names <= set(vertex_spellings())  # nvidia-l4 -> NVIDIA_L4, ...
    enum = document("aiplatform.v1")["schemas"]["GoogleCloudAiplatformV1MachineSpec"]["properties"]["acceleratorType"]
    assert set(vertex_spellings().values()) <= set(enum["enum"])
    assert all(re.fullmatch(r"nvidia(-[a-z0-9]+)+", name) for name in gke_names)  # Compute Engine's spelling


def test_the_discovery_validator_catches_what_the_mocks_accept() -> None:
    bad = {"dedicatedResources": {"machineSpec": {"acceleratorType": "nvidia-l4"}}, "serviceAcount": "x"}
    problems = validate(bad, {"$ref": "GoogleCloudAiplatformV1DeployedModel"}, "aiplatform.v1", "m")
    assert any("'nvidia-l4' is not one of" in p for p in problems)
    assert any("has no member 'serviceAcount'" in p for p in problems)


def _resource(stack: str, resource_type: str) -> dict[str, Any]:
    """A copy of a resource of the type (the first by name: registration order varies)."""
    found = sorted((r for r in preview_of(stack)["resources"] if r["type"] == resource_type), key=lambda r: r["name"])
    return json.loads(json.dumps(found[0]))


BROKEN = [
    # (resource type, input, value, what the API would refuse)
    ("gcp:compute/network:Network", "name", "GCP_Prod-vpc", "pattern"),
    ("gcp:compute/network:Network", "routingMode", "regional", "is not one of"),
    ("gcp:compute/forwardingRule:ForwardingRule", "loadBalancingScheme", "PSC", "is not one of"),
    ("gcp:compute/address:Address", "addressType", "PRIVATE", "is not one of"),
    ("gcp:serviceaccount/account:Account", "accountId", "gcp-prod-chat-serving-account-1", "6..30"),
    ("gcp:serviceaccount/account:Account", "displayName", "x" * 101, "0..100"),
    ("gcp:storage/bucketIAMMember:BucketIAMMember", "role", "roles/artifactregistry.reader", "grants nothing"),
    ("gcp:projects/iAMMember:IAMMember", "role", "container.defaultNodeServiceAccount", "predefined role"),
    ("gcp:projects/iAMMember:IAMMember", "member", "svc@acme-ml-prod.iam.gserviceaccount.com", "member identifier"),
    ("gcp:bigquery/dataset:Dataset", "datasetId", "gcp-prod-request-logs", "pattern"),
    ("gcp:kms/keyRing:KeyRing", "name", "keys.ring", "pattern"),
    ("gcp:storage/bucketIAMMember:BucketIAMMember", "condition", {"title": "t", "expresion": "x"}, "no member"),
]


@pytest.mark.parametrize(("resource_type", "key", "value", "expected"), BROKEN)
def test_a_value_the_api_refuses_fails_here(resource_type: str, key: str, value: Any, expected: str) -> None:
    resource = _resource("gcp-prod", resource_type)
    resource["inputs"][key] = value
    problems = problems_of(requests_of([resource]))
    assert any(expected in p for p in problems), problems


def test_an_unmapped_input_fails_the_mapping() -> None:
    resource = _resource("gcp-prod", "gcp:compute/forwardingRule:ForwardingRule")
    resource["inputs"]["allowPscGlobalAccess"] = True
    with pytest.raises(AssertionError, match="allowPscGlobalAccess"):
        requests_of([resource])


# Stack names as `pulumi stack init` takes them, built to break names: long, upper case, dots, digits first.
STACK_NAMES = st.from_regex(r"[A-Za-z0-9_.-]{1,100}", fullmatch=True)
KINDS = sorted(name_rules()["gcp"])


@settings(max_examples=200, deadline=None)
@given(STACK_NAMES, st.sampled_from(["chat", "intent-classifier-v2", "a" * 32, "gpu-embed"]))
def test_every_derived_gcp_name_fits_its_api_for_any_stack_name(stack: str, part: str) -> None:
    for kind in KINDS:
        name = physical_name("gcp", kind, stack, part)
        rule = name_rules()["gcp"][kind]
        assert re.fullmatch(rule.pattern, name), (kind, stack, name)
        assert physical_name("gcp", kind, stack, part) == name  # stable across runs
