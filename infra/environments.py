"""Environment defaults: the one place that says how dev, staging and prod differ.

Everything safety-related is stricter the closer a stack is to production; a stack file can
ask for more safety anywhere, and for less only where this table allows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Environment = Literal["dev", "staging", "prod"]
Strategy = Literal["canary", "linear", "all-at-once"]


@dataclass(frozen=True)
class EnvironmentDefaults:
    min_replicas: int  # floor for every endpoint (0 = scale to zero where the service can)
    rollout: Strategy  # strategy when the stack file names none
    allowed_rollouts: tuple[Strategy, ...]
    protect: bool  # stateful resources (keys, registries, buckets) protected and retained
    data_capture: bool  # request/response capture on managed endpoints
    policy_enforcement: Literal["advisory", "mandatory"]
    error_rate_alarm_percent: float  # share of 5xx responses that fails a rollout (rollback alarm)
    digest_pinned: bool  # Kubernetes model images by digest: what was tested is what runs


ENVIRONMENTS: dict[str, EnvironmentDefaults] = {
    "dev": EnvironmentDefaults(
        min_replicas=0,
        rollout="all-at-once",
        allowed_rollouts=("canary", "linear", "all-at-once"),
        protect=False,
        data_capture=False,
        policy_enforcement="advisory",
        error_rate_alarm_percent=5.0,
        digest_pinned=False,
    ),
    "staging": EnvironmentDefaults(
        min_replicas=1,
        rollout="canary",
        allowed_rollouts=("canary", "linear", "all-at-once"),
        protect=False,
        data_capture=True,
        policy_enforcement="mandatory",
        error_rate_alarm_percent=2.0,
        digest_pinned=True,
    ),
    "prod": EnvironmentDefaults(
        min_replicas=2,
        rollout="canary",
        allowed_rollouts=("canary", "linear"),
        protect=True,
        data_capture=True,
        policy_enforcement="mandatory",
        error_rate_alarm_percent=1.0,
        digest_pinned=True,
    ),
}
