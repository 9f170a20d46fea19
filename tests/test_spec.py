"""Stack spec validation: shipped files load; every kind of mistake gives one clean line each."""

from __future__ import annotations

import copy
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.engine.mockrun import run_config
from infra.engine.stackfile import read_config
from infra.errors import SpecError
from infra.spec import load_spec
from tests.conftest import STACKS, endpoints, with_keys

LINE = re.compile(r"^ml-serving:\S.*?: \S.*$")


@pytest.mark.parametrize("stack", STACKS)
def test_shipped_stacks_are_valid(stack: str) -> None:
    spec = load_spec(read_config(stack))
    assert spec.environment == stack.split("-", 1)[1]
    assert spec.cloud == stack.split("-", 1)[0]


def _errors(config: dict[str, str]) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(config)
    assert all(LINE.match(line) for line in caught.value.lines), caught.value.lines
    return caught.value.lines


def _endpoint_change(config: dict[str, str], change) -> dict[str, str]:
    eps = endpoints(config)
    change(eps[0])
    return with_keys(config, endpoints=eps)


INVALID = {
    "bad enum": (
        lambda c: with_keys(c, environment="qa"),
        "ml-serving:environment: 'qa' is invalid; expected 'dev', 'staging' or 'prod'",
    ),
    "missing key": (lambda c: with_keys(c, cloud=None), "ml-serving:cloud: missing; this key is required"),
    "unknown top-level key": (
        lambda c: with_keys(c, budget_monthly=5),
        "ml-serving:budget_monthly: unknown key 'budget_monthly'; did you mean 'budget_monthly_usd'?",
    ),
    "typo in a nested key": (
        lambda c: _endpoint_change(c, lambda e: e["models"][0].update(wieght=100)),
        "ml-serving:endpoints[0].models[0].wieght: unknown key 'wieght'; did you mean 'weight'?",
    ),
    "weights not 100": (
        lambda c: _endpoint_change(c, lambda e: e["models"][0].update(weight=90)),
        "ml-serving:endpoints[0].models: traffic weights sum to 90, they must sum to 100",
    ),
    "bad region for the cloud": (
        lambda c: with_keys(c, region="eastus"),
        "ml-serving:region: 'eastus' is not a aws region name such as 'us-east-1'",
    ),
    "unknown profile": (
        lambda c: _endpoint_change(c, lambda e: e.update(sizing="huge")),
        "ml-serving:endpoints[0].sizing.profile: Value error, 'huge' is not a sizing profile",
    ),
    "auto without requirements": (
        lambda c: _endpoint_change(c, lambda e: e.update(sizing={"profile": "auto"})),
        "ml-serving:endpoints[0].sizing: Value error, profile 'auto' needs requirements",
    ),
    "negative rps": (
        lambda c: _endpoint_change(c, lambda e: e["sizing"]["requirements"].update(peak_rps=-1)),
        "ml-serving:endpoints[0].sizing.requirements.peak_rps: -1 is invalid; expected greater than 0",
    ),
    "bad precision": (
        lambda c: _endpoint_change(c, lambda e: e["sizing"]["requirements"].update(precision="fp6")),
        "ml-serving:endpoints[0].sizing.requirements.precision: 'fp6' is invalid; expected 'fp32', 'bf16'",
    ),
    "name not DNS-safe": (
        lambda c: _endpoint_change(c, lambda e: e.update(name="Chat_Bot")),
        "ml-serving:endpoints[0].name: 'Chat_Bot' is invalid; expected to match pattern",
    ),
    "artifact on another cloud": (
        lambda c: _endpoint_change(c, lambda e: e["models"][0].update(artifact="gs://bucket/m.tar.gz")),
        "ml-serving:endpoints[0].models[0].artifact: 'gs://bucket/m.tar.gz' is not a aws artifact URI",
    ),
    "unsafe rollout in prod": (
        lambda c: _endpoint_change(
            with_keys(c, environment="prod"), lambda e: e.update(rollout={"strategy": "all-at-once"})
        ),
        "ml-serving:endpoints[0].rollout.strategy: 'all-at-once' is not allowed in prod; expected one of canary",
    ),
    "prod below two replicas": (
        lambda c: _endpoint_change(
            with_keys(c, environment="prod"), lambda e: e.update(autoscaling={"min_replicas": 1})
        ),
        "ml-serving:endpoints[0].autoscaling.min_replicas: 1 is below the prod floor of 2",
    ),
    "bad cidr": (
        lambda c: with_keys(c, network={"cidr": "8.8.0.0/16"}),
        "ml-serving:network.cidr: Value error, '8.8.0.0/16' must be a private range from /16 to /22",
    ),
    "zone outside the region": (
        lambda c: with_keys(c, network={"cidr": "10.0.0.0/16", "zones": ["us-east-1a", "us-west-2b"]}),
        "ml-serving:network.zones[1]: 'us-west-2b' is not a zone of us-east-1, such as 'us-east-1a'",
    ),
    "both network sources": (
        lambda c: with_keys(c, network={"cidr": "10.0.0.0/16", "vpc_id": "vpc-1", "subnet_ids": ["a", "b"]}),
        "ml-serving:network: Value error, give either cidr/zones",
    ),
    "two images": (
        lambda c: _endpoint_change(c, lambda e: e["models"][0].update(image="123.dkr.ecr.us-east-1.amazonaws.com/x:1")),
        "ml-serving:endpoints[0].models[0]: Value error, give exactly one of image",
    ),
    "endpoints not a list": (
        lambda c: with_keys(c, endpoints="chat"),
        "ml-serving:endpoints: 'chat' is invalid; expected a valid list",
    ),
    "shadow beside two live models on aws": (
        lambda c: _endpoint_change(
            c,
            lambda e: (
                e["models"].extend(
                    [
                        {**e["models"][0], "name": "b", "weight": 50},
                        {**e["models"][0], "name": "s", "weight": 10, "shadow": True},
                    ]
                )
                or e["models"][0].update(weight=50)
            ),
        ),
        "ml-serving:endpoints[0].models: a shadow model on aws needs exactly one live model",
    ),
    "managed image outside ECR": (
        lambda c: _endpoint_change(
            c, lambda e: e["models"][0].pop("image_tag") and e["models"][0].update(image="ghcr.io/acme/vllm:0.6")
        ),
        "ml-serving:endpoints[0].models[0].image: 'ghcr.io/acme/vllm:0.6' is not in Amazon ECR",
    ),
    "linear step below 10": (
        lambda c: _endpoint_change(c, lambda e: e.update(rollout={"strategy": "linear", "step_percent": 5})),
        "ml-serving:endpoints[0].rollout: Value error, step_percent 5 is below 10, the smallest linear step",
    ),
    "measured on an unknown type": (
        lambda c: _endpoint_change(
            c,
            lambda e: e["sizing"]["requirements"].update(measured_rps_per_replica=3, measured_on="g5.xlargee"),
        ),
        "ml-serving:endpoints[0].sizing.requirements: Value error, measured_on 'g5.xlargee' is not an instance type",
    ),
    "spot on managed": (
        lambda c: _endpoint_change(c, lambda e: e["sizing"].update(capacity="spot")),
        "ml-serving:endpoints[0].sizing.capacity: 'spot' needs serving: kubernetes",
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_stack_files_fail_with_one_line_naming_key_and_value(case: str, dev_config) -> None:
    mutate, expected = INVALID[case]
    lines = _errors(mutate(copy.deepcopy(dev_config)))
    assert any(line.replace("Value error, ", "").startswith(expected.replace("Value error, ", "")) for line in lines), (
        lines
    )


@pytest.mark.parametrize("case", ["bad enum", "weights not 100", "unknown top-level key", "unsafe rollout in prod"])
def test_invalid_config_registers_nothing_and_prints_no_traceback(case: str, dev_config) -> None:
    result = run_config("aws-dev", INVALID[case][0](copy.deepcopy(dev_config)))
    assert result["resources"] == []
    assert result["error"] and "Traceback" not in result["error"]
    assert all(LINE.match(line) for line in result["error"].splitlines())


def test_all_problems_are_reported_at_once(dev_config) -> None:
    config = with_keys(dev_config, environment="qa", cloud="oracle", budget_monthly=1)
    assert len(_errors(config)) == 3


# Hypothesis: arbitrary values at arbitrary keys of a valid stack. Each result is either a valid
# spec or a clean list of one-line errors; never another exception.
_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.lists(st.integers(0, 3), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=2),
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_stack_files_validate_or_fail_cleanly(data, dev_config) -> None:
    document = {k.split(":", 1)[1]: json.loads(v) if v[:1] in "[{" else v for k, v in dev_config.items()}
    paths = [p for p in _paths(document) if p]
    path = data.draw(st.sampled_from(paths))
    value = data.draw(_values)
    target = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    config = {f"ml-serving:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in document.items()}
    try:
        load_spec(config)
    except SpecError as exc:
        assert exc.lines and all(LINE.match(line) for line in exc.lines), exc.lines
        result = run_config("aws-dev", config)
        assert result["resources"] == [] and result["error"] == str(exc)
