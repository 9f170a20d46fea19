"""An in-memory Vertex AI endpoint and Cloud Monitoring, behind the same `Api.call` seam as Google's.

It enforces what the real API enforces and the provider relies on: a traffic split sums to 100 or
is empty and names only deployed models; a model with traffic cannot be undeployed; long-running
operations finish only after being polled once. Every call is recorded, in order, with the clock's
waits, so tests assert on the exact sequence the provider ran.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from infra.clouds.gcp.rest import ApiError

BASE = re.compile(r"^https://(?P<region>[a-z0-9-]+)-aiplatform\.googleapis\.com/v1/(?P<path>.*)$")


class FakeVertex:
    def __init__(self) -> None:
        self.models: dict[str, dict[str, Any]] = {}
        self.deployed: dict[str, dict[str, Any]] = {}  # deployed model id -> DeployedModel
        self.split: dict[str, int] = {}
        self.operations: dict[str, dict[str, Any]] = {}
        self.policies: dict[str, str] = {}  # alert policy name -> PromQL query
        self.firing: set[str] = set()  # alert policy names whose query returns a series
        self.fail_deploy_of: str | None = None  # a display name whose deployment fails
        self.log: list[tuple[str, Any]] = []
        self._next = 1000

    # --- the seam --------------------------------------------------------------------------

    def call(self, method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        if url.startswith("https://monitoring.googleapis.com/"):
            return self._monitoring(url)
        found = BASE.match(url)
        assert found is not None, url
        path, _, query = found["path"].partition("?")
        if method == "GET" and "/operations/" in path:
            return self._poll(path)
        if method == "POST" and path.endswith("/models:upload"):
            return self._upload(body or {})
        if method == "POST" and path.endswith(":deployModel"):
            return self._deploy(body or {})
        if method == "POST" and path.endswith(":undeployModel"):
            return self._undeploy(body or {})
        if method == "DELETE" and "/models/" in path:
            self.log.append(("delete-model", path))
            self.models.pop(path)
            return self._operation({})
        if method == "PATCH" and "/endpoints/" in path:
            assert query == "updateMask=traffic_split"
            self._set_split((body or {})["trafficSplit"])
            self.log.append(("split", self.live_split()))
            return self._endpoint()
        if method == "GET" and "/endpoints/" in path:
            return self._endpoint()
        raise AssertionError(f"unexpected call {method} {url}")

    # --- state, by display name --------------------------------------------------------------

    def live_split(self) -> dict[str, int]:
        return {self.deployed[i]["displayName"]: p for i, p in self.split.items() if p}

    def display_names(self) -> list[str]:
        return sorted(d["displayName"] for d in self.deployed.values())

    # --- Vertex AI ----------------------------------------------------------------------------

    def _id(self) -> str:
        self._next += 1
        return str(self._next)

    def _operation(self, response: dict[str, Any], error: str | None = None) -> dict[str, Any]:
        name = f"projects/p/locations/r/operations/{self._id()}"
        done = {"name": name, "done": True, **({"error": {"message": error}} if error else {"response": response})}
        self.operations[name] = done
        return {"name": name, "done": False}

    def _poll(self, path: str) -> dict[str, Any]:
        return self.operations[path]

    def _upload(self, body: dict[str, Any]) -> dict[str, Any]:
        model = body["model"]
        for key in ("artifactUri", "containerSpec", "displayName", "encryptionSpec"):
            assert key in model, key
        name = f"projects/p/locations/r/models/{self._id()}"
        self.models[name] = model
        self.log.append(("upload", model["displayName"]))
        return self._operation({"model": name})

    def _deploy(self, body: dict[str, Any]) -> dict[str, Any]:
        deployed = body["deployedModel"]
        assert deployed["model"] in self.models
        assert isinstance(deployed["dedicatedResources"]["minReplicaCount"], int)  # never 2.0
        if deployed["displayName"] == self.fail_deploy_of:
            self.log.append(("deploy-failed", deployed["displayName"]))
            return self._operation({}, error="RESOURCE_EXHAUSTED: no capacity for the machine type")
        new_id = self._id()
        self.deployed[new_id] = {**deployed, "id": new_id, "privateEndpoints": {"serviceAttachment": "sa-1"}}
        self._set_split({(new_id if k == "0" else k): v for k, v in body["trafficSplit"].items()})
        self.log.append(("deploy", deployed["displayName"]))
        return self._operation({"deployedModel": {"id": new_id}})

    def _undeploy(self, body: dict[str, Any]) -> dict[str, Any]:
        deployed_id = body["deployedModelId"]
        if self.split.get(deployed_id, 0):
            raise ApiError(400, "cannot undeploy a DeployedModel that receives traffic")
        name = self.deployed.pop(deployed_id)["displayName"]
        self._set_split(body["trafficSplit"])
        self.log.append(("undeploy", name))
        return self._operation({})

    def _set_split(self, split: dict[str, Any]) -> None:
        if split and sum(split.values()) != 100:
            raise ApiError(400, f"traffic split must sum to 100, got {split}")
        unknown = set(split) - set(self.deployed)
        if unknown:
            raise ApiError(400, f"traffic split names undeployed models {unknown}")
        self.split = {k: int(v) for k, v in split.items()}

    def _endpoint(self) -> dict[str, Any]:
        return {"deployedModels": list(self.deployed.values()), "trafficSplit": dict(self.split)}

    # --- Cloud Monitoring -------------------------------------------------------------------

    def _monitoring(self, url: str) -> dict[str, Any]:
        path, _, query = url.removeprefix("https://monitoring.googleapis.com/").partition("?")
        if path.startswith("v3/"):
            name = path.removeprefix("v3/")
            return {
                "displayName": name.rsplit("/", 1)[-1],
                "conditions": [{"conditionPrometheusQueryLanguage": {"query": self.policies[name]}}],
            }
        promql = urllib.parse.parse_qs(query)["query"][0]
        firing = any(self.policies[n] == promql for n in self.firing)
        self.log.append(("alerts", firing))
        return {
            "status": "success",
            "data": {"resultType": "vector", "result": [{"value": [0, "1"]}] if firing else []},
        }


class RecordingClock:
    """Records each wait in the fake's log, between the calls it separates."""

    def __init__(self, fake: FakeVertex) -> None:
        self.fake = fake

    def sleep(self, seconds: float) -> None:
        self.fake.log.append(("sleep", seconds))
