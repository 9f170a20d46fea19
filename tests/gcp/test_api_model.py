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
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.clouds.gcp.machines import vertex_spellings
from infra.engine.mockrun import UNKNOWN
from infra.engine.stackfile import ROOT
from infra.naming import name_rules, physical_name
from tests.conftest import preview_of

GCP_STACKS = ["gcp-dev", "gcp-staging", "gcp-prod"]
CACHE = ROOT / ".venv" / "cache"
DURATION = re.compile(r"^-?\d+(\.\d{1,9})?s$")


@cache
def document(api: str) -> dict[str, Any]:
    """The discovery document `api` (e.g. `aiplatform.v1`) from the downloaded wheel."""
    wheels = sorted(CACHE.glob("google_api_python_client-*.whl"))
    assert wheels, f"no google-api-python-client wheel in {CACHE}: run `make test` (it downloads the pinned one)"
    with zipfile.ZipFile(wheels[-1]) as wheel:
        return json.loads(wheel.read(f"googleapiclient/discovery_cache/documents/{api}.json"))


def validate(value: Any, schema: dict[str, Any], api: str, where: str) -> list[str]:
    """Problems with `value` as an instance of the discovery `schema`; unknown values are skipped."""
    if value is None or value == UNKNOWN:
        return []
    if "$ref" in schema:
        return validate(value, document(api)["schemas"][schema["$ref"]], api, where)
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {value!r}"]
        problems: list[str] = []
        properties = schema.get("properties")
        for key, item in value.items():
            if properties is not None and key in properties:
                problems += validate(item, properties[key], api, f"{where}.{key}")
            elif "additionalProperties" in schema:
                problems += validate(item, schema["additionalProperties"], api, f"{where}.{key}")
            else:
                problems.append(f"{where}: {schema.get('id', 'object')} has no field {key!r}")
        return problems
    if kind == "array":
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {value!r}"]
        return [p for i, item in enumerate(value) for p in validate(item, schema["items"], api, f"{where}[{i}]")]
    if kind == "string":
        if schema.get("format") == "int64" and isinstance(value, int) and not isinstance(value, bool):
            return []
        if not isinstance(value, str):
            return [f"{where}: expected a string, got {value!r}"]
        if "enum" in schema and value not in schema["enum"]:
            return [f"{where}: {value!r} is not one of {schema['enum']}"]
        if schema.get("format") == "google-duration" and not DURATION.match(value):
            return [f"{where}: {value!r} is not a duration such as '3.5s'"]
        return []
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            return [f"{where}: expected an integer, got {value!r}"]
        return []
    if kind == "number":
        return [] if isinstance(value, (int, float)) and not isinstance(value, bool) else [f"{where}: not a number"]
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{where}: expected a boolean, got {value!r}"]
    return []


class Inputs:
    """A resource's inputs, recording which keys the adapter read (every one must be mapped)."""

    def __init__(self, resource: dict[str, Any]) -> None:
        self.values = resource["inputs"]
        self.read: set[str] = set()

    def __call__(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return self.values.get(key, default)

    def ignore(self, *keys: str) -> None:
        """Path parameters and provider-only settings: not part of the request body."""
        self.read.update(keys)


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


def cluster(i: Inputs) -> tuple[str, str, dict[str, Any]]:
    i.ignore("location", "removeDefaultNodePool", "deletionProtection")
    body = drop_none(
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
    return "container.v1", "Cluster", body


def node_pool(i: Inputs) -> tuple[str, str, dict[str, Any]]:
    i.ignore("cluster", "location")
    body = {
        "name": i("name"),
        "locations": i("nodeLocations"),
        "autoscaling": {**i("autoscaling"), "enabled": True},
        "management": i("management"),
        "config": node_config(i("nodeConfig")),
    }
    return "container.v1", "NodePool", body


def repository(i: Inputs) -> tuple[str, str, dict[str, Any]]:
    i.ignore("repositoryId", "location", "cleanupPolicyDryRun")  # path parameter; a separate PATCH field
    body = {
        "format": i("format"),
        "mode": i("mode"),
        "dockerConfig": i("dockerConfig"),
        "kmsKeyName": i("kmsKeyName"),
        "cleanupPolicies": {p["id"]: p for p in i("cleanupPolicies")},
    }
    return "artifactregistry.v1", "Repository", body


def crypto_key(i: Inputs) -> tuple[str, str, dict[str, Any]]:
    i.ignore("keyRing")
    body = {
        "purpose": i("purpose"),
        "rotationPeriod": i("rotationPeriod"),
        "versionTemplate": i("versionTemplate"),
        "destroyScheduledDuration": i("destroyScheduledDuration"),
    }
    return "cloudkms.v1", "CryptoKey", body


def alert_policy(i: Inputs) -> tuple[str, str, dict[str, Any]]:
    body = {
        "displayName": i("displayName"),
        "combiner": i("combiner"),
        "severity": i("severity"),
        "conditions": i("conditions"),
        "documentation": i("documentation"),
        "alertStrategy": i("alertStrategy"),
    }
    return "monitoring.v3", "AlertPolicy", body


def bucket(i: Inputs) -> tuple[str, str, dict[str, Any]]:
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
    body = {
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
    return "storage.v1", "Bucket", body


def ai_endpoint(i: Inputs) -> tuple[str, str, dict[str, Any]]:
    i.ignore("name", "location", "region")  # endpointId and the parent: path parameters
    psc = i("privateServiceConnectConfig")
    body = drop_none(
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
    return "aiplatform.v1", "GoogleCloudAiplatformV1Endpoint", body


def subnetwork(i: Inputs) -> tuple[str, str, dict[str, Any]]:
    i.ignore("region")
    body = {k: i(k) for k in ("name", "network", "ipCidrRange", "secondaryIpRanges", "privateIpGoogleAccess")}
    log = i("logConfig")
    body["logConfig"] = {
        "enable": True,
        "aggregationInterval": log["aggregationInterval"],
        "flowSampling": log["flowSampling"],
        "metadata": log["metadata"],
    }
    return "compute.v1", "Subnetwork", body


def router_nat(i: Inputs) -> tuple[str, str, dict[str, Any]]:
    i.ignore("router", "region")
    subnets = [{"name": s["name"], "sourceIpRangesToNat": s["sourceIpRangesToNats"]} for s in i("subnetworks")]
    body = {
        "natIpAllocateOption": i("natIpAllocateOption"),
        "sourceSubnetworkIpRangesToNat": i("sourceSubnetworkIpRangesToNat"),
        "subnetworks": subnets,
        "logConfig": i("logConfig"),
    }
    return "compute.v1", "RouterNat", body


ADAPTERS: dict[str, Callable[[Inputs], tuple[str, str, dict[str, Any]]]] = {
    "gcp:container/cluster:Cluster": cluster,
    "gcp:container/nodePool:NodePool": node_pool,
    "gcp:artifactregistry/repository:Repository": repository,
    "gcp:kms/cryptoKey:CryptoKey": crypto_key,
    "gcp:monitoring/alertPolicy:AlertPolicy": alert_policy,
    "gcp:storage/bucket:Bucket": bucket,
    "gcp:vertex/aiEndpoint:AiEndpoint": ai_endpoint,
    "gcp:compute/subnetwork:Subnetwork": subnetwork,
    "gcp:compute/routerNat:RouterNat": router_nat,
}


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_every_provider_request_is_valid_for_its_api(stack: str) -> None:
    problems: list[str] = []
    checked: set[str] = set()
    for resource in preview_of(stack)["resources"]:
        adapter = ADAPTERS.get(resource["type"])
        if adapter is None:
            continue
        inputs = Inputs(resource)
        api, schema, body = adapter(inputs)
        problems += validate(body, {"$ref": schema}, api, resource["name"])
        unmapped = set(inputs.values) - inputs.read
        problems += [f"{resource['name']}: input {k!r} is not mapped to the API" for k in sorted(unmapped)]
        checked.add(resource["type"])
    assert problems == []
    assert checked >= {t for t in ADAPTERS if any(r["type"] == t for r in preview_of(stack)["resources"])}


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
    assert any("has no field 'serviceAcount'" in p for p in problems)


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
