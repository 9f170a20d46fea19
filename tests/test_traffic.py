"""The shared stepped rollout: pure step derivation (property-tested) and the alert-gated roll."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.clouds.traffic import STRATEGIES, RolloutFailed, Split, roll, steps


@st.composite
def splits(draw: st.DrawFn) -> Split:
    """A split over 1-4 of five deployment names, whole percents summing to 100."""
    keys = draw(st.lists(st.sampled_from("abcde"), min_size=1, max_size=4, unique=True))
    cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=len(keys) - 1, max_size=len(keys) - 1)))
    bounds = [0, *cuts, 100]
    return {k: bounds[i + 1] - bounds[i] for i, k in enumerate(keys)}


def live(split: Split) -> Split:
    return {k: v for k, v in split.items() if v}


@given(splits(), splits(), st.sampled_from(STRATEGIES), st.integers(1, 100))
def test_every_step_sums_to_100_and_the_last_is_the_target(
    current: Split, target: Split, strategy: str, step: int
) -> None:
    planned = steps(current, target, strategy, step)
    assert planned[-1] == target
    for split in planned:
        assert sum(split.values()) == 100
        assert all(0 <= v <= 100 for v in split.values())
    # No step repeats the one before it (or the starting split): every wait is on a change.
    previous = [live(current), *(live(s) for s in planned[:-1])]
    assert all(live(s) != p for s, p in zip(planned, previous, strict=True)) or live(current) == live(target)


@given(splits(), splits(), st.integers(1, 100))
def test_a_linear_step_moves_at_most_step_percent_plus_rounding(current: Split, target: Split, step: int) -> None:
    before = current
    for split in steps(current, target, "linear", step):
        keys = set(before) | set(split)
        moved = sum(abs(split.get(k, 0) - before.get(k, 0)) for k in keys) / 2
        assert moved <= step + len(keys)  # whole percents: each share rounds by less than one point
        before = split


def test_canary_sends_step_percent_to_the_new_version_first() -> None:
    assert steps({"v1": 100}, {"v2": 100}, "canary", 10) == [{"v1": 90, "v2": 10}, {"v2": 100}]


def test_linear_moves_in_equal_steps() -> None:
    assert steps({"v1": 100}, {"v2": 100}, "linear", 25) == [
        {"v1": 75, "v2": 25},
        {"v1": 50, "v2": 50},
        {"v1": 25, "v2": 75},
        {"v2": 100},
    ]


def test_canary_smaller_than_the_change_goes_straight_to_the_target() -> None:
    # Adding a 10% version moves 10 points: a 20-point canary step is the whole change.
    assert steps({"v1": 100}, {"v1": 90, "v2": 10}, "canary", 20) == [{"v1": 90, "v2": 10}]


def test_proportions_among_new_versions_are_kept() -> None:
    first = steps({"v1": 100}, {"v2": 50, "v3": 50}, "canary", 10)[0]
    assert first == {"v1": 90, "v2": 5, "v3": 5}


def test_first_deployment_and_all_at_once_apply_the_target() -> None:
    assert steps({}, {"v1": 100}, "canary", 10) == [{"v1": 100}]
    assert steps({"v1": 100}, {"v2": 100}, "all-at-once", 10) == [{"v2": 100}]


@pytest.mark.parametrize(
    ("target", "strategy", "step", "message"),
    [
        ({"v1": 90}, "canary", 10, "sum to 90"),
        ({"v1": 100}, "blue-green", 10, "strategy 'blue-green'"),
        ({"v1": 100}, "linear", 0, "step_percent 0"),
        ({"v1": 110, "v2": -10}, "linear", 10, "whole percents"),
    ],
)
def test_invalid_input_is_one_clear_error(target: Split, strategy: str, step: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        steps({"v1": 100}, target, strategy, step)


class StubEndpoint:
    """A TrafficClient recording every call; alerts fire from the given step (1-based) on."""

    def __init__(self, split: Split, fire_after_step: int | None = None) -> None:
        self.split = split
        self.fire_after_step = fire_after_step
        self.calls: list[tuple[str, object]] = []
        self.applied = 0

    def current_split(self) -> Split:
        return dict(self.split)

    def apply_split(self, split: Split, mirror: Split) -> None:
        self.calls.append(("apply", (dict(split), dict(mirror))))
        self.split = dict(split)
        self.applied += 1

    def firing_alerts(self) -> list[str]:
        firing = self.fire_after_step is not None and self.applied >= self.fire_after_step
        self.calls.append(("alerts", firing))
        return ["chat-error-rate", "chat-p95-latency"] if firing else []


class RecordingClock:
    def __init__(self, stub: StubEndpoint) -> None:
        self.stub = stub

    def sleep(self, seconds: float) -> None:
        self.stub.calls.append(("sleep", seconds))


def test_roll_applies_each_step_then_waits_then_reads_alerts() -> None:
    stub = StubEndpoint({"v1": 100})
    applied = roll(stub, RecordingClock(stub), {"v2": 100}, {"v3": 10}, "linear", 50, 600)
    assert applied == [{"v1": 50, "v2": 50}, {"v2": 100}]
    assert stub.calls == [
        ("apply", ({"v1": 50, "v2": 50}, {"v3": 10})),
        ("sleep", 600),
        ("alerts", False),
        ("apply", ({"v2": 100}, {"v3": 10})),
        ("sleep", 600),
        ("alerts", False),
    ]
    assert stub.split == {"v2": 100}


def test_a_firing_alert_restores_the_split_from_before_and_names_the_alerts() -> None:
    stub = StubEndpoint({"v1": 100}, fire_after_step=1)
    with pytest.raises(RolloutFailed, match="chat-error-rate, chat-p95-latency") as failed:
        roll(stub, RecordingClock(stub), {"v2": 100}, {}, "canary", 10, 300)
    assert failed.value.restored == {"v1": 100}
    assert stub.calls == [
        ("apply", ({"v1": 90, "v2": 10}, {})),
        ("sleep", 300),
        ("alerts", True),
        ("apply", ({"v1": 100}, {})),
    ]
    assert stub.split == {"v1": 100}


def test_an_alert_while_baking_the_last_step_still_rolls_back() -> None:
    stub = StubEndpoint({"v1": 100}, fire_after_step=2)
    with pytest.raises(RolloutFailed):
        roll(stub, RecordingClock(stub), {"v2": 100}, {}, "canary", 10, 60)
    assert stub.split == {"v1": 100}


def test_a_first_deployment_applies_the_target_without_waiting() -> None:
    stub = StubEndpoint({}, fire_after_step=1)
    roll(stub, RecordingClock(stub), {"v1": 100}, {}, "canary", 10, 600)
    assert stub.calls == [("apply", ({"v1": 100}, {}))]
