"""What a SageMaker endpoint is built from: its typed args and its variants.

Shared by the modules that build an endpoint's parts (`roles`, `alarms`, `scaling`, `endpoint`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.naming import Names
from infra.plan import EndpointPlan, ModelPlan

# Captured requests and responses go to `<bucket>/<CAPTURE_PREFIX>/<endpoint>/`.
CAPTURE_PREFIX = "data-capture"


@dataclass(frozen=True)
class ManagedEndpointArgs:
    """One endpoint's plan, its names (naming layer), and what it runs on: the stack's key, the
    private network, the model store's bucket and the registry.

    `data_capture_percent` is None when the environment captures nothing. `bucket_pattern` and
    `repository_name` are known at preview, so the execution roles' documents are too.
    """

    endpoint: EndpointPlan
    environment: str
    region: str
    data_capture_percent: int | None
    endpoint_name: str
    log_group_name: str
    alarm_names: dict[str, str]  # alarm ("5xx-rate", "p95-latency") -> CloudWatch alarm name
    key_arn: pulumi.Input[str]
    key_alias: str
    subnet_ids: list[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    bucket_name: pulumi.Input[str]
    bucket_pattern: str  # matches the bucket's autoname: `<logical name>-*`
    repository_url: pulumi.Input[str]
    repository_name: str
    names: Names  # the names of the autonamed parts (models, roles, configuration, scaling policies)


@dataclass(frozen=True)
class Variant:
    name: str
    model: ModelPlan


def variants(endpoint: EndpointPlan) -> list[Variant]:
    """Variant names by position, not by model: a blue/green update keeps its guardrails only when
    the new configuration has the same variant names, so `live-1` stays `live-1` across versions."""
    live = [m for m in endpoint.models if not m.shadow]
    shadow = [m for m in endpoint.models if m.shadow]
    return [Variant(f"live-{i}", m) for i, m in enumerate(live, 1)] + [
        Variant(f"shadow-{i}", m) for i, m in enumerate(shadow, 1)
    ]
