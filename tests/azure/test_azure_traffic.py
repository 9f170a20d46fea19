"""The Azure ML traffic step offline: the dynamic provider against a stub endpoint and a recording
clock (the steps, a rollback on a firing alert, delete, diff), and the ARM adapter against a stub
transport (what it reads and the body it PUTs)."""

from __future__ import annotations

from typing import Any

import dill
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from infra.clouds import traffic
from infra.clouds.azure import arm
from infra.clouds.azure.traffic import ML_API, MONITOR_API, AzureMlTraffic, TrafficProvider

ENDPOINT = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ml-serving-azure-prod/providers/"
    "Microsoft.MachineLearningServices/workspaces/azure-prod-ml/onlineEndpoints/azure-prod-chat-424bbb"
)
ALERTS = [
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ml-serving-azure-prod/providers/"
    f"Microsoft.Insights/metricAlerts/azure-prod-chat-424bbb-{suffix}"
    for suffix in ("p95-latency", "5xx")
]


class StubEndpoint:
    """An online endpoint's traffic and alerts; `fire_after` applies: an alert fires once that many
    splits have been applied."""

    def __init__(self, split: traffic.Split, fire_after: int | None = None) -> None:
        self.split = dict(split)
        self.mirror: traffic.Split = {}
        self.applied: list[tuple[traffic.Split, traffic.Split]] = []
        self.fire_after = fire_after

    def current_split(self) -> traffic.Split:
        return {k: v for k, v in self.split.items() if v}

    def apply_split(self, split: traffic.Split, mirror: traffic.Split) -> None:
        self.split, self.mirror = dict(split), dict(mirror)
        self.applied.append((dict(split), dict(mirror)))

    def firing_alerts(self) -> list[str]:
        fired = self.fire_after is not None and len(self.applied) >= self.fire_after
        return ["azure-prod-chat-424bbb-5xx"] if fired else []


class Clock:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


def props(split: dict[str, int], mirror: dict[str, int] | None = None, strategy: str = "canary") -> dict[str, Any]:
    return {
        "endpointId": ENDPOINT,
        "split": split,
        "mirror": mirror or {},
        "strategy": strategy,
        "stepPercent": 10,
        "waitSeconds": 900,
        "alertIds": ALERTS,
    }


def provider(stub: StubEndpoint, clock: Clock) -> TrafficProvider:
    return TrafficProvider(connect=lambda _props, _clock: stub, clock=clock)


def test_a_first_create_applies_the_split_at_once() -> None:
    stub, clock = StubEndpoint({}), Clock()
    result = provider(stub, clock).create(props({"v1": 100}))
    assert stub.applied == [({"v1": 100}, {})]
    assert clock.waits == []
    assert result.id == f"{ENDPOINT}/traffic"


def test_a_canary_update_steps_waits_and_reads_alerts_between_steps() -> None:
    stub, clock = StubEndpoint({"v1": 100}), Clock()
    provider(stub, clock).update("id", props({"v1": 100}), props({"v1": 90, "v2": 10}))
    assert stub.applied == [({"v1": 90, "v2": 10}, {})]
    stub2, clock2 = StubEndpoint({"v1": 100}), Clock()
    provider(stub2, clock2).update("id", props({"v1": 100}), props({"v2": 100}))
    assert [split for split, _ in stub2.applied] == [{"v1": 90, "v2": 10}, {"v2": 100}]
    assert clock2.waits == [900, 900]


def test_a_linear_update_moves_step_percent_per_step_with_the_mirror_kept() -> None:
    stub, clock = StubEndpoint({"v1": 100}), Clock()
    provider(stub, clock).update("id", props({"v1": 100}), props({"v2": 100}, {"v3": 20}, "linear"))
    assert [split for split, _ in stub.applied] == [{"v1": 100 - p, "v2": p} for p in range(10, 100, 10)] + [
        {"v2": 100}
    ]
    assert all(mirror == {"v3": 20} for _, mirror in stub.applied)
    assert len(clock.waits) == 10


def test_a_firing_alert_restores_the_previous_split_and_fails_naming_it() -> None:
    stub, clock = StubEndpoint({"v1": 100}, fire_after=1), Clock()
    with pytest.raises(traffic.RolloutFailed) as caught:
        provider(stub, clock).update("id", props({"v1": 100}), props({"v2": 100}))
    assert [split for split, _ in stub.applied] == [{"v1": 90, "v2": 10}, {"v1": 100}]
    assert stub.current_split() == {"v1": 100}
    assert "azure-prod-chat-424bbb-5xx" in str(caught.value) and "v1 100%" in str(caught.value)


def test_an_update_that_moves_no_traffic_touches_nothing() -> None:
    stub, clock = StubEndpoint({"v1": 100}), Clock()
    old = props({"v1": 100})
    new = {**old, "waitSeconds": 600}
    provider(stub, clock).update("id", old, new)
    assert stub.applied == [] and clock.waits == []
    diff = provider(stub, clock).diff("id", old, new)
    assert diff.changes is True and diff.replaces == []
    assert provider(stub, clock).diff("id", old, dict(old)).changes is False
    assert provider(stub, clock).diff("id", old, {**old, "endpointId": ENDPOINT + "x"}).replaces == ["endpointId"]


def test_delete_drains_the_endpoint_so_its_deployments_can_go() -> None:
    stub, clock = StubEndpoint({"v1": 90, "v2": 10}), Clock()
    stub.mirror = {"v3": 20}
    provider(stub, clock).delete("id", props({"v1": 90, "v2": 10}))
    assert stub.applied == [({}, {})]


def test_the_provider_pickles_small_and_without_a_live_client() -> None:
    serialized = serialize_provider(TrafficProvider())
    assert len(serialized) < 200_000
    restored = dill.loads(__import__("base64").b64decode(serialized))
    assert isinstance(restored._clock, traffic.SystemClock)


class Response:
    def __init__(self, status: int, body: dict[str, Any] | None) -> None:
        self.status_code = status
        self._body = body
        self.content = b"{}" if body is not None else b""
        self.text = ""

    def json(self) -> dict[str, Any]:
        return self._body or {}


class StubArm:
    """ARM as a stub transport: a stored endpoint document and alert statuses; records every call."""

    def __init__(self, unhealthy: set[str]) -> None:
        self.calls: list[tuple[str, str, str, Any]] = []
        self.unhealthy = unhealthy
        self.endpoint = {
            "id": ENDPOINT,
            "location": "eastus",
            "kind": "Managed",
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {"/x": {}}},
            "properties": {
                "authMode": "AADToken",
                "publicNetworkAccess": "Disabled",
                "traffic": {"v1": 100, "v2": 0},
                "scoringUri": "https://read-only",
                "provisioningState": "Succeeded",
            },
        }

    def send(self, method: str, url: str, params: dict[str, str], json: Any, **_: Any) -> Response:
        path = url.removeprefix(arm.MANAGEMENT)
        self.calls.append((method, path, params["api-version"], json))
        if method == "PUT":
            self.endpoint = {**json, "properties": {**json["properties"], "provisioningState": "Succeeded"}}
            return Response(202, None)
        if path.endswith("/status"):
            rule = path.split("/")[-2]
            return Response(
                200, {"value": [{"properties": {"status": "Unhealthy" if rule in self.unhealthy else "Healthy"}}]}
            )
        return Response(200, self.endpoint)


def test_the_adapter_reads_the_live_split_and_puts_the_whole_endpoint_with_its_traffic() -> None:
    stub = StubArm(set())
    client = AzureMlTraffic(arm.Arm(stub.send, lambda: "token", lambda _s: None), ENDPOINT, ALERTS)
    assert client.current_split() == {"v1": 100}
    client.apply_split({"v1": 90, "v2": 10}, {"v3": 20})
    _method, path, version, body = next(c for c in stub.calls if c[0] == "PUT")
    assert (path, version) == (ENDPOINT, ML_API)
    assert body["properties"] == {
        "authMode": "AADToken",
        "publicNetworkAccess": "Disabled",
        "traffic": {"v1": 90, "v2": 10},
        "mirrorTraffic": {"v3": 20},
    }
    assert body["identity"]["type"] == "UserAssigned" and body["location"] == "eastus"
    assert client.current_split() == {"v1": 90, "v2": 10}


def test_the_adapter_names_the_alert_rules_whose_status_is_unhealthy() -> None:
    stub = StubArm({"azure-prod-chat-424bbb-5xx"})
    client = AzureMlTraffic(arm.Arm(stub.send, lambda: "token", lambda _s: None), ENDPOINT, ALERTS)
    assert client.firing_alerts() == ["azure-prod-chat-424bbb-5xx"]
    assert [(c[1], c[2]) for c in stub.calls] == [(f"{a}/status", MONITOR_API) for a in ALERTS]


def test_an_arm_error_names_the_call_and_the_services_message() -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> Response:
        return Response(400, {"error": {"code": "BadRequest", "message": "Deployment v9 not found"}})

    client = arm.Arm(refuse, lambda: "token", lambda _s: None)
    with pytest.raises(arm.ArmError, match="HTTP 400 BadRequest: Deployment v9 not found"):
        client.get(ENDPOINT, ML_API)
