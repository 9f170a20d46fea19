"""The Vertex AI and Cloud Monitoring calls the deployment resource makes, and its TrafficClient.

Vertex AI keys its traffic split by deployed-model id; the program keys it by the deployed
model's display name (one per model revision, `<model>-<fingerprint>`), so this adapter maps
one to the other on every read. Long-running operations are polled with the injected clock.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from infra.clouds.gcp.rest import Api, ApiError
from infra.clouds.traffic import Clock, Split

POLL_SECONDS = 15.0
MONITORING = "https://monitoring.googleapis.com"


class OperationError(Exception):
    """A Vertex AI long-running operation finished with an error."""


class Vertex:
    """One endpoint's Vertex AI API: models, deployments, traffic; and its alert policies' state."""

    def __init__(
        self, api: Api, clock: Clock, project: str, region: str, endpoint_id: str, alert_policies: list[str]
    ) -> None:
        self.api = api
        self.clock = clock
        self.project = project
        self.base = f"https://{region}-aiplatform.googleapis.com/v1"
        self.parent = f"projects/{project}/locations/{region}"
        self.endpoint = f"{self.parent}/endpoints/{endpoint_id}"
        self.alert_policies = alert_policies

    # --- models and deployments -------------------------------------------------------------

    def deployed(self) -> dict[str, str]:
        """`{display name: deployed model id}` of what the endpoint runs now."""
        endpoint = self.api.call("GET", f"{self.base}/{self.endpoint}")
        return {d["displayName"]: d["id"] for d in endpoint.get("deployedModels", [])}

    def service_attachment(self) -> str:
        """The PSC service attachment the endpoint's deployed models are reached through."""
        endpoint = self.api.call("GET", f"{self.base}/{self.endpoint}")
        for deployed in endpoint.get("deployedModels", []):
            attachment = deployed.get("privateEndpoints", {}).get("serviceAttachment")
            if attachment:
                return attachment
        raise OperationError(f"{self.endpoint}: no deployed model exposes a Private Service Connect attachment")

    def upload(self, model: dict[str, Any]) -> str:
        """Upload a model (ModelService.UploadModel); its resource name."""
        operation = self.api.call("POST", f"{self.base}/{self.parent}/models:upload", {"model": model})
        return self._wait(operation)["model"]

    def deploy(self, deployed_model: dict[str, Any]) -> str:
        """Deploy at 0% of the traffic (the split is moved afterwards); its deployed-model id."""
        split = self._split_by_id()
        # An endpoint serving nothing takes a split that sums to 100 or nothing at all.
        body = {"deployedModel": deployed_model, "trafficSplit": {**split, "0": 0} if split else {"0": 100}}
        operation = self.api.call("POST", f"{self.base}/{self.endpoint}:deployModel", body)
        return self._wait(operation)["deployedModel"]["id"]

    def undeploy(self, display_name: str) -> None:
        """Undeploy a revision that no longer takes traffic (the rest keep their shares)."""
        ids = self.deployed()
        if display_name not in ids:
            return
        remaining = {k: v for k, v in self._split_by_id().items() if k != ids[display_name]}
        body = {"deployedModelId": ids[display_name], "trafficSplit": remaining if sum(remaining.values()) else {}}
        self._wait(self.api.call("POST", f"{self.base}/{self.endpoint}:undeployModel", body))

    def delete_model(self, model: str) -> None:
        try:
            self._wait(self.api.call("DELETE", f"{self.base}/{model}"))
        except ApiError as exc:
            if exc.status != 404:
                raise

    # --- TrafficClient ------------------------------------------------------------------------

    def current_split(self) -> Split:
        names = {v: k for k, v in self.deployed().items()}
        return {names[i]: p for i, p in self._split_by_id().items() if p and i in names}

    def apply_split(self, split: Split, mirror: Split) -> None:
        """Vertex AI has no mirrored traffic: a shadow is deployed and gets 0% (`mirror` is unused)."""
        ids = self.deployed()
        body = {"trafficSplit": {ids[k]: v for k, v in split.items()}}
        # EndpointService.UpdateEndpoint answers with the endpoint itself, not an operation.
        self.api.call("PATCH", f"{self.base}/{self.endpoint}?updateMask=traffic_split", body)

    def firing_alerts(self) -> list[str]:
        """The alert policies whose PromQL condition returns a series now (the policy would fire)."""
        firing: list[str] = []
        for name in self.alert_policies:
            policy = self.api.call("GET", f"{MONITORING}/v3/{name}")
            for condition in policy.get("conditions", []):
                query = condition.get("conditionPrometheusQueryLanguage", {}).get("query")
                if query and self._promql(query):
                    firing.append(policy.get("displayName", name))
                    break
        return firing

    # --- helpers ------------------------------------------------------------------------------

    def _split_by_id(self) -> dict[str, int]:
        endpoint = self.api.call("GET", f"{self.base}/{self.endpoint}")
        return {k: int(v) for k, v in endpoint.get("trafficSplit", {}).items()}

    def _promql(self, query: str) -> list[Any]:
        url = (
            f"{MONITORING}/v1/projects/{self.project}/location/global/prometheus/api/v1/query?"
            + urllib.parse.urlencode({"query": query})
        )
        return self.api.call("GET", url).get("data", {}).get("result", [])

    def _wait(self, operation: dict[str, Any]) -> dict[str, Any]:
        """Poll a long-running operation until done; its response, or OperationError."""
        while not operation.get("done"):
            self.clock.sleep(POLL_SECONDS)
            operation = self.api.call("GET", f"{self.base}/{operation['name']}")
        if "error" in operation:
            raise OperationError(f"{operation.get('name', 'operation')}: {operation['error'].get('message')}")
        return operation.get("response", {})
