"""Stepped traffic rollout with alert checks, for services without alarm-gated rollback.

SageMaker shifts traffic in canary or linear steps and rolls back on a CloudWatch alarm by itself;
Vertex AI and Azure ML only take a traffic split. This module gives both the same behaviour: move
from the current split to the stack's in steps, wait between them, read the endpoint's alert
policies, and restore the split from before the update when one fires.

A split maps a deployment (Vertex: deployed model, Azure ML: deployment) to a whole percent of
live traffic; a split sums to 100. A mirror (shadow traffic) is a separate map applied with it.
Each cloud supplies a `TrafficClient` adapter; the clock is injected so tests run without waiting.
"""

from __future__ import annotations

import math
import time
from typing import Protocol

Split = dict[str, int]
STRATEGIES = ("canary", "linear", "all-at-once")


class RolloutFailed(Exception):  # noqa: N818 (the name the shared contract gives it)
    """An alert fired during a rollout; the split from before the update has been restored."""

    def __init__(self, alerts: list[str], restored: Split) -> None:
        self.alerts = alerts
        self.restored = restored
        super().__init__(
            f"rollout stopped: alert(s) firing: {', '.join(alerts)}; traffic restored to {_describe(restored)}"
        )


class TrafficClient(Protocol):
    """One endpoint's traffic, as a cloud's API sees it."""

    def current_split(self) -> Split:
        """The live split now; empty when nothing serves yet."""
        ...

    def apply_split(self, split: Split, mirror: Split) -> None:
        """Set the live split (sums to 100) and the mirrored share per deployment; returns once applied."""
        ...

    def firing_alerts(self) -> list[str]:
        """Names of this endpoint's alert policies that are firing now."""
        ...


class Clock(Protocol):
    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock (tests inject one that records the waits instead)."""

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def validate(split: Split, what: str = "split") -> None:
    """Raise ValueError unless every share is a whole percent in 0..100 and they sum to 100."""
    bad = {k: v for k, v in split.items() if not isinstance(v, int) or not 0 <= v <= 100}
    if bad:
        raise ValueError(f"{what}: shares must be whole percents in 0..100, got {bad}")
    if sum(split.values()) != 100:
        raise ValueError(f"{what}: shares sum to {sum(split.values())}, they must sum to 100")


def steps(current: Split, target: Split, strategy: str, step_percent: int) -> list[Split]:
    """The splits to apply in order, the last one `target`.

    `step_percent` is in points of total traffic moved per step: canary moves `step_percent`
    points towards the target, then the rest; linear moves `step_percent` points per step;
    all-at-once applies the target. Each intermediate split is the current one moved part of the
    way towards the target, proportionally for every deployment, rounded to whole percents that
    sum to 100 (largest remainder). Nothing serving yet (`current` empty) or nothing to move: one
    step, the target. Raises ValueError for an invalid target, strategy or step.
    """
    validate(target, "target")
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy {strategy!r}: expected one of {', '.join(STRATEGIES)}")
    if not 1 <= step_percent <= 100:
        raise ValueError(f"step_percent {step_percent}: expected 1..100")
    if current:
        validate(current, "current")
    keys = sorted(set(current) | set(target))
    moved = sum(abs(target.get(k, 0) - current.get(k, 0)) for k in keys) / 2  # points of traffic to move
    if not current or moved == 0 or strategy == "all-at-once":
        return [dict(target)]
    if strategy == "canary":
        fractions = [step_percent / moved] if step_percent < moved else []
    else:
        fractions = [i * step_percent / moved for i in range(1, math.ceil(moved / step_percent))]
    result: list[Split] = []
    for split in [_between(current, target, keys, f) for f in fractions]:
        # Rounding can make a small step land on the split before it: never wait on a no-op.
        if _live(split) != _live(result[-1] if result else current) and _live(split) != _live(target):
            result.append(split)
    return [*result, dict(target)]


def roll(
    client: TrafficClient,
    clock: Clock,
    target: Split,
    mirror: Split,
    strategy: str,
    step_percent: int,
    wait_seconds: float,
) -> list[Split]:
    """Move the endpoint to `target` in steps; return the splits applied.

    After each step (the last one too, as SageMaker bakes its final step) wait `wait_seconds`,
    then read the endpoint's alerts; if any fires, restore the split from before the update and
    raise RolloutFailed naming them. A first deployment (nothing serving) applies the target at
    once: there is no previous split to return to. The mirror is applied with every step and kept
    on restore: it does not change what callers receive.
    """
    before = client.current_split()
    planned = steps(before, target, strategy, step_percent)
    if not before:
        client.apply_split(planned[-1], mirror)
        return planned
    for split in planned:
        client.apply_split(split, mirror)
        clock.sleep(wait_seconds)
        firing = client.firing_alerts()
        if firing:
            client.apply_split(before, mirror)
            raise RolloutFailed(firing, before)
    return planned


def _between(current: Split, target: Split, keys: list[str], fraction: float) -> Split:
    """`current` moved `fraction` (0..1) of the way to `target`, in whole percents summing to 100."""
    exact = {k: current.get(k, 0) + (target.get(k, 0) - current.get(k, 0)) * fraction for k in keys}
    floors = {k: math.floor(v) for k, v in exact.items()}
    short = 100 - sum(floors.values())
    for k in sorted(keys, key=lambda k: (floors[k] - exact[k], k))[:short]:
        floors[k] += 1
    return _live(floors)


def _live(split: Split) -> Split:
    return {k: v for k, v in split.items() if v}


def _describe(split: Split) -> str:
    return ", ".join(f"{k} {v}%" for k, v in sorted(split.items())) or "nothing"
