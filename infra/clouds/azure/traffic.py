"""An online endpoint's traffic, as its own step after the endpoint's deployments exist.

Why a dynamic resource: Azure ML rejects a traffic split that names a deployment which does not
exist yet (Azure/azureml-examples #3311), and a deployment needs its endpoint first, so traffic set
on the endpoint resource is either a dependency cycle or a failed first deploy. Owning traffic in a
`pulumi.dynamic.Resource` that depends on every deployment orders it after them, and lets the
update move the split in canary or linear steps with the stack's metric alerts read between steps
(the shared `infra.clouds.traffic.roll`): Azure ML has no alarm-gated rollback of its own.

The provider holds only a connect function and a clock (it is pickled into the state by dill);
the ARM client is made inside each method. Tests pass a stub client factory and a recording clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

from infra.clouds import traffic
from infra.clouds.azure import arm

ML_API = "2025-12-01"  # the API version pulumi-azure-native 3.29.0 uses for Microsoft.MachineLearningServices
MONITOR_API = "2018-03-01"  # Microsoft.Insights metricAlerts and their status
# The endpoint properties a PUT may carry (the rest are read-only).
WRITABLE = ("authMode", "compute", "description", "properties", "publicNetworkAccess", "traffic", "mirrorTraffic")
ROLLED = ("split", "mirror")  # inputs whose change moves traffic


class AzureMlTraffic:
    """`TrafficClient` for one Azure ML online endpoint over ARM.

    endpoint_id: the online endpoint's ARM id; alert_ids: its metric alert rules' ARM ids. A split
    maps deployment names to whole percents. Alerts fire when a rule's status reads "Unhealthy"
    (Microsoft.Insights metricAlerts/{rule}/status).
    """

    def __init__(self, client: arm.Arm, endpoint_id: str, alert_ids: list[str]) -> None:
        self._arm = client
        self._endpoint_id = endpoint_id
        self._alert_ids = alert_ids

    def current_split(self) -> traffic.Split:
        live = self._arm.get(self._endpoint_id, ML_API).get("properties", {}).get("traffic") or {}
        return {name: int(share) for name, share in live.items() if share}

    def apply_split(self, split: traffic.Split, mirror: traffic.Split) -> None:
        # The endpoint's PATCH takes only tags and identity: traffic changes are a PUT of the whole body.
        body = self._arm.get(self._endpoint_id, ML_API)
        properties = {k: v for k, v in body.get("properties", {}).items() if k in WRITABLE}
        properties.update(traffic=dict(split), mirrorTraffic=dict(mirror))
        document = {k: body[k] for k in ("location", "identity", "kind", "tags", "sku") if body.get(k)}
        self._arm.put(self._endpoint_id, ML_API, {**document, "properties": properties})

    def firing_alerts(self) -> list[str]:
        firing = []
        for alert_id in self._alert_ids:
            statuses = self._arm.get(f"{alert_id}/status", MONITOR_API).get("value") or []
            if any(s.get("properties", {}).get("status") == "Unhealthy" for s in statuses):
                firing.append(alert_id.rsplit("/", 1)[-1])
        return firing


def connect(props: Mapping[str, Any], clock: traffic.Clock) -> traffic.TrafficClient:
    """The real client for the endpoint the resource's inputs name."""
    return AzureMlTraffic(arm.connect(clock.sleep), props["endpointId"], list(props["alertIds"]))


Connect = Callable[[Mapping[str, Any], traffic.Clock], traffic.TrafficClient]


class TrafficProvider(ResourceProvider):
    """create/update roll the endpoint to the inputs' split (alert-gated); delete drains it to none,
    so the deployments (deleted after it) no longer take traffic; diff reports changed inputs."""

    def __init__(self, connect: Connect = connect, clock: traffic.Clock | None = None) -> None:
        self._connect = connect
        self._clock = clock or traffic.SystemClock()

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._roll(props)
        return CreateResult(f"{props['endpointId']}/traffic", outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in news if not k.startswith("__") and olds.get(k) != news[k]]
        # Another endpoint is another resource: move traffic there, drain it here.
        return DiffResult(changes=bool(changed), replaces=[k for k in changed if k == "endpointId"])

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if any(olds.get(k) != news[k] for k in ROLLED):
            self._roll(news)
        return UpdateResult(outs=news)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        self._connect(props, self._clock).apply_split({}, {})

    def _roll(self, props: Mapping[str, Any]) -> None:
        traffic.roll(
            self._connect(props, self._clock),
            self._clock,
            {k: int(v) for k, v in props["split"].items()},
            {k: int(v) for k, v in props["mirror"].items()},
            props["strategy"],
            int(props["stepPercent"]),
            float(props["waitSeconds"]),
        )


@dataclass(frozen=True)
class TrafficArgs:
    """endpoint_id: the online endpoint; split/mirror: deployment -> percent (split sums to 100,
    mirror shares at most the cloud's cap); strategy, step_percent, wait_seconds: the rollout;
    alert_ids: the metric alerts read between steps."""

    endpoint_id: pulumi.Input[str]
    split: dict[str, int]
    mirror: dict[str, int]
    strategy: str
    step_percent: int
    wait_seconds: int
    alert_ids: list[pulumi.Input[str]]


class EndpointTraffic(pulumi.dynamic.Resource):
    """The traffic and mirror traffic of one online endpoint. Pass the endpoint's deployments and
    alerts in `opts.depends_on`: traffic is applied only once they exist."""

    def __init__(
        self,
        name: str,
        args: TrafficArgs,
        opts: pulumi.ResourceOptions | None = None,
        provider: TrafficProvider | None = None,
    ) -> None:
        props = {
            "endpointId": args.endpoint_id,
            "split": args.split,
            "mirror": args.mirror,
            "strategy": args.strategy,
            "stepPercent": args.step_percent,
            "waitSeconds": args.wait_seconds,
            "alertIds": args.alert_ids,
        }
        super().__init__(provider or TrafficProvider(), name, props, opts)
