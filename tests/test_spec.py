"""Stack spec validation: shipped files load; every kind of mistake gives one clean line each."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.engine.mockrun import run_config
from infra.engine.stackfile import read_config
from infra.errors import SpecError
from infra.estimate import estimate
from infra.plan import build_plan
from infra.spec import load_spec
from infra.spec.base import SECRET
from infra.spec.cloud_rules import cloud_rules, kubernetes_versions, regions
from infra.summary import sizing_summary
from tests.conftest import SHIPPED, STACKS, endpoints, provider_keys, with_keys

LINE = re.compile(r"^[a-z-]+:\S.*?: \S.*$")


@pytest.mark.parametrize("stack", STACKS)
def test_stack_files_are_valid(stack: str) -> None:
    """Every stack file in the stacks folder, shipped or a user's, validates and plans."""
    spec = load_spec(read_config(stack))
    build_plan(spec, stack)
    if stack in SHIPPED:
        assert (spec.cloud, spec.environment) == SHIPPED[stack]


def _errors(config: dict[str, str]) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(config)
    assert all(LINE.match(line) for line in caught.value.lines), caught.value.lines
    return caught.value.lines


def _endpoint_change(config: dict[str, str], change) -> dict[str, str]:
    eps = endpoints(config)
    change(eps[0])
    return with_keys(config, endpoints=eps)


AZURE_VNET = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/net/providers/" + (
    "Microsoft.Network/virtualNetworks/hub"
)

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
        "ml-serving:region: 'eastus' is not a region of aws offering this stack's services",
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
        "ml-serving:endpoints[0].name: 'Chat_Bot' may hold only lowercase letters, digits and '-'",
    ),
    "artifact on another cloud": (
        lambda c: _endpoint_change(c, lambda e: e["models"][0].update(artifact="gs://bucket/m.tar.gz")),
        "ml-serving:endpoints[0].models[0].artifact: 'gs://bucket/m.tar.gz' is not an artifact URI for aws",
    ),
    "artifact URL carrying a token (not echoed)": (
        lambda c: _endpoint_change(
            c, lambda e: e["models"][0].update(artifact="https://u:pw@huggingface.co/x/model.tar.gz?token=hf_abc123")
        ),
        "ml-serving:endpoints[0].models[0].artifact: 'https://huggingface.co/x/model.tar.gz?<redacted>' is not an"
        " artifact URI for aws",
    ),
    "a gcp region on aws": (
        lambda c: with_keys(c, region="us-central1"),
        "ml-serving:region: 'us-central1' is not a region of aws offering this stack's services (botocore's endpoint"
        " data for s3, kms, api.ecr, sts, logs, monitoring, api.sagemaker, runtime.sagemaker); it is a region of gcp;"
        " expected a region of aws such as 'us-east-1'",
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
        lambda c: with_keys(
            c, network={"cidr": "10.0.0.0/16", "vpc_id": "vpc-0a1b2c3d", "subnet_ids": ["subnet-0a1b2c3d", "subnet-1"]}
        ),
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
    "region that does not exist, with matching zones": (
        lambda c: with_keys(c, region="us-west-9", network={"zones": ["us-west-9a", "us-west-9b"]}),
        "ml-serving:region: 'us-west-9' is not a region of aws offering this stack's services"
        " (botocore's endpoint data for s3, kms,",
    ),
    "misspelt region": (
        lambda c: with_keys(c, region="us-wset-2"),
        "ml-serving:region: 'us-wset-2' is not a region of aws",
    ),
    "region without the managed service": (
        # An isolated region with S3, KMS, ECR and EKS, where botocore lists no SageMaker runtime.
        lambda c: with_keys(c, region="us-isob-west-1"),
        "ml-serving:region: 'us-isob-west-1' is not a region of aws offering this stack's services",
    ),
    "existing vpc by name": (
        lambda c: with_keys(c, network={"vpc_id": "prod-vpc", "subnet_ids": ["subnet-0a1b2c3d", "subnet-0a1b2c3e"]}),
        "ml-serving:network.vpc_id: 'prod-vpc' is not a aws id such as 'vpc-0a1b2c3d4e5f67890'",
    ),
    "existing subnet by name": (
        lambda c: with_keys(c, network={"vpc_id": "vpc-0a1b2c3d", "subnet_ids": ["subnet-0a1b2c3d", "private-b"]}),
        "ml-serving:network.subnet_ids[1]: 'private-b' is not a aws id such as 'subnet-0a1b2c3d4e5f67890'",
    ),
    "gcp network neither a name nor a self-link": (
        lambda c: with_keys(
            c,
            cloud="gcp",
            region="us-central1",
            network={"vpc_id": "projects/acme/networks/x", "subnet_ids": ["a", "b"]},
        ),
        "ml-serving:network.vpc_id: 'projects/acme/networks/x' is not a gcp id such as 'projects/acme-ml/global/",
    ),
    "azure network by name": (
        lambda c: with_keys(c, cloud="azure", region="eastus", network={"vpc_id": "serving", "subnet_ids": ["a", "b"]}),
        "ml-serving:network.vpc_id: 'serving' is not a azure id such as '/subscriptions/",
    ),
    "one subnet on aws": (
        lambda c: with_keys(c, network={"vpc_id": "vpc-0a1b2c3d", "subnet_ids": ["subnet-0a1b2c3d"]}),
        "ml-serving:network.subnet_ids: 1 given; aws takes 2-16: private subnets in at least two zones",
    ),
    "two subnets on gcp (one is ignored)": (
        lambda c: with_keys(
            c | provider_keys("gcp"),
            cloud="gcp",
            region="us-central1",
            network={"vpc_id": "vpc", "subnet_ids": ["a", "b"]},
        ),
        "ml-serving:network.subnet_ids: 2 given; gcp takes 1: the one regional subnet",
    ),
    "three subnets on azure (one is ignored)": (
        lambda c: with_keys(
            c | provider_keys("azure"),
            cloud="azure",
            region="eastus",
            network={"vpc_id": AZURE_VNET, "subnet_ids": [f"{AZURE_VNET}/subnets/{n}" for n in "abc"]},
        ),
        "ml-serving:network.subnet_ids: 3 given; azure takes 2: the private endpoints' subnet, then the AKS nodes'",
    ),
    "secondary ranges on aws": (
        lambda c: with_keys(c, network={"secondary_ranges": {"pods": "p"}}),
        "ml-serving:network.secondary_ranges: {'pods': 'p'} names an existing subnet's secondary ranges; aws subnets"
        " carry none; remove it",
    ),
    "name too long": (
        lambda c: _endpoint_change(c, lambda e: e.update(name="a" * 33)),
        f"ml-serving:endpoints[0].name: {'a' * 33!r} is 33 characters, at most 32",
    ),
    "upper-case label on gcp": (
        lambda c: with_keys(c, cloud="gcp", region="us-central1", tags={"CostCenter": "ml-1234"}),
        "ml-serving:tags.CostCenter: key 'CostCenter' (10 characters) is invalid on gcp; expected 1-63 lowercase",
    ),
    "upper-case label value on gcp": (
        lambda c: with_keys(c, cloud="gcp", region="us-central1", tags={"team": "ML"}),
        "ml-serving:tags.team: value 'ML' (2 characters) is invalid on gcp",
    ),
    "reserved tag prefix on aws": (
        lambda c: with_keys(c, tags={"aws:owner": "me"}),
        "ml-serving:tags['aws:owner']: key 'aws:owner' uses a prefix aws reserves",
    ),
    "tag value too long on aws": (
        lambda c: with_keys(c, tags={"team": "x" * 257}),
        "ml-serving:tags.team: value",
    ),
    "azure tag name with a slash": (
        lambda c: with_keys(c, cloud="azure", region="eastus", tags={"cost/center": "1"}),
        "ml-serving:tags['cost/center']: key 'cost/center' (11 characters) is invalid on azure",
    ),
    "misspelt namespace": (
        lambda c: {("mlserving:cloud" if k == "ml-serving:cloud" else k): v for k, v in c.items()},
        "mlserving:cloud: unknown namespace 'mlserving'; did you mean 'ml-serving:'?",
    ),
    "a secure value where a checked value belongs": (
        lambda c: _endpoint_change(c, lambda e: e.update(name=SECRET)),
        "ml-serving:endpoints[0].name: a secure value; the offline preview cannot check it",
    ),
    "nothing to serve": (
        lambda c: with_keys(c, endpoints=[], cluster=None),
        "ml-serving:endpoints: [] with no cluster; the stack would serve nothing",
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


def test_a_key_typo_does_not_hide_the_cross_checks(dev_config) -> None:
    # The typo fails the schema pass; the region and tag cross-checks still run on the rest.
    config = _endpoint_change(
        with_keys(dev_config, region="us-west-9", tags={"aws:team": "x"}), lambda e: e.update(servng="managed")
    )
    lines = _errors(config)
    assert lines[0] == "ml-serving:endpoints[0].servng: unknown key 'servng'; did you mean 'serving'?"
    assert any(line.startswith("ml-serving:region: 'us-west-9' is not a region of aws") for line in lines), lines
    assert any(line.startswith("ml-serving:tags['aws:team']: key 'aws:team' uses a prefix") for line in lines), lines


def test_problems_caused_by_a_removed_key_are_not_reported(dev_config) -> None:
    # Without the misspelt `wieght`, weight defaults to 100 and the sum is wrong; that is the typo's doing.
    config = _endpoint_change(
        dev_config, lambda e: e["models"].append({**e["models"][0], "name": "b", "weight": 0, "wieght": 10})
    )
    assert _errors(config) == ["ml-serving:endpoints[0].models[1].wieght: unknown key 'wieght'; did you mean 'weight'?"]


def test_a_misspelt_namespace_is_not_also_reported_missing(dev_config) -> None:
    config = {k.replace("ml-serving:", "mlserving:"): v for k, v in dev_config.items()}
    lines = _errors(config)
    assert "mlserving:cloud: unknown namespace 'mlserving'; did you mean 'ml-serving:'?" in lines
    assert not any("missing" in line for line in lines), lines


@pytest.mark.parametrize(("cloud", "region"), [("aws", "us-east-1"), ("azure", "eastus")])
def test_upper_case_tag_keys_are_fine_where_the_cloud_allows_them(cloud: str, region: str, dev_config) -> None:
    config = with_keys(dev_config | provider_keys(cloud), cloud=cloud, region=region, tags={"CostCenter": "ML-1234"})
    assert load_spec(config).tags == {"CostCenter": "ML-1234"}


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


@pytest.mark.parametrize("stack", ["aws-dev", "gcp-staging", "azure-prod"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_stack_files_plan_or_fail_cleanly(stack: str, data) -> None:
    # One stack per cloud (and environment): whatever a value does to the spec, it is planned, priced
    # and summarised, or refused with clean lines and nothing registered; never another exception.
    base = read_config(stack)
    document: dict[str, Any] = {
        k.split(":", 1)[1]: json.loads(v) if v[:1] in "[{" else v
        for k, v in base.items()
        if k.startswith("ml-serving:")
    }
    paths = [p for p in _paths(document) if p]
    path = data.draw(st.sampled_from(paths))
    value = data.draw(_values)
    target: Any = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    config = {k: v for k, v in base.items() if not k.startswith("ml-serving:")}
    config |= {f"ml-serving:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in document.items()}
    try:
        plan = build_plan(load_spec(config), stack)
    except SpecError as exc:
        assert exc.lines and all(LINE.match(line) for line in exc.lines), exc.lines
        result = run_config(stack, config)
        assert result["resources"] == [] and result["error"] == str(exc)
        return
    # The estimate counts every endpoint instance the plan prices, and more (rounded per line).
    assert estimate(plan).monthly_max >= plan.cost.monthly_max - 0.05
    assert set(sizing_summary(plan)["endpoints"]) == {e.name for e in plan.endpoints}


# The kinds of value a person gets wrong most (regions, existing network ids, tags, names), drawn
# near the valid forms: each either validates into a spec that satisfies the cloud's rules or
# fails with clean lines naming the key.
_near = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789-_:/ ", max_size=40)
_kinds = {
    "region": st.one_of(st.sampled_from(["us-east-1", "us-west-2", "us-west-9", "us-wset-2", "eastus"]), _near),
    "network": st.one_of(
        st.builds(
            lambda v, s: {"vpc_id": v, "subnet_ids": s},
            st.one_of(st.just("vpc-0a1b2c3d"), st.from_regex(r"vpc-[0-9a-f]{6,18}", fullmatch=True), _near),
            st.lists(st.one_of(st.from_regex(r"subnet-[0-9a-f]{8}", fullmatch=True), _near), min_size=0, max_size=3),
        ),
        st.builds(lambda z: {"zones": z}, st.lists(st.sampled_from(["us-east-1a", "us-east-1b", "us-west-2a"]))),
    ),
    "tags": st.dictionaries(_near, _near, max_size=3),
    "cloud": st.sampled_from(["aws", "gcp", "azure"]),
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_regions_ids_tags_and_names_validate_or_fail_cleanly(data, dev_config) -> None:
    keys = data.draw(st.sets(st.sampled_from(sorted(_kinds)), min_size=1))
    providers = provider_keys("gcp") | provider_keys("azure")  # the drawn cloud's provider config is set
    config = with_keys(dev_config | providers, **{key: data.draw(_kinds[key]) for key in keys})
    name = data.draw(st.one_of(st.just("chat"), _near))
    config = _endpoint_change(config, lambda e: e.update(name=name))
    try:
        spec = load_spec(config)
    except SpecError as exc:
        assert exc.lines and all(LINE.match(line) for line in exc.lines), exc.lines
        return
    rules = cloud_rules()[spec.cloud]
    assert spec.region in regions(spec.cloud, frozenset({"managed"}))[0]
    assert 1 <= len(spec.endpoints[0].name) <= 32
    for key, value in spec.tags.items():
        assert re.match(rules["tags"]["key_pattern"], key) and re.match(rules["tags"]["value_pattern"], value)
    for value in [spec.network.vpc_id, *(spec.network.subnet_ids or [])]:
        assert value is None or any(re.match(r["pattern"], value) for r in rules["network_ids"].values())


@pytest.mark.parametrize(
    ("stack", "key", "value"),
    [("gcp-dev", "gcp:project", "Acme_ML"), ("azure-dev", "azure-native:tenantId", "contoso.onmicrosoft.com")],
)
def test_the_providers_config_is_checked_with_the_spec_all_at_once(stack: str, key: str, value: str) -> None:
    # The provider keys the program reads are user input too: reported with the spec's own problems,
    # one line each, before any resource.
    config = with_keys(read_config(stack) | {key: value}, environment="qa")
    lines = _errors(config)
    (provider_line,) = [line for line in lines if line.startswith(f"{key}:")]
    assert provider_line.startswith(f"{key}: {value!r} is invalid; expected ") and "pulumi config set" in provider_line
    assert any(line.startswith("ml-serving:environment:") for line in lines), lines
    assert run_config(stack, config)["resources"] == []


_REGION = {"aws": "us-east-1", "gcp": "us-central1", "azure": "eastus"}


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_the_default_kubernetes_version_is_in_every_clouds_standard_support(cloud: str, dev_config) -> None:
    config = with_keys(dev_config | provider_keys(cloud), cloud=cloud, region=_REGION[cloud], cluster={})
    spec = load_spec(config)
    assert spec.cluster is not None and spec.cluster.kubernetes_version in kubernetes_versions(cloud)[0]


@pytest.mark.parametrize(("cloud", "version"), [("aws", "1.33"), ("aws", "1.34"), ("gcp", "1.30"), ("azure", "1.33")])
def test_a_kubernetes_version_past_standard_support_is_one_keyed_line(cloud: str, version: str, dev_config) -> None:
    # EKS bills extended support at 6x the control-plane rate; AKS keeps 1.33 only under LTS (Premium tier).
    config = with_keys(
        dev_config | provider_keys(cloud), cloud=cloud, region=_REGION[cloud], cluster={"kubernetes_version": version}
    )
    (line,) = _errors(config)
    assert line.startswith(f"ml-serving:cluster.kubernetes_version: {version!r} is not in {cloud}'s standard support")
    assert line.endswith("expected one of '1.35', '1.36'"), line


def test_min_replicas_zero_in_prod_names_the_prod_floor_in_one_go() -> None:
    config = read_config("aws-prod")
    eps = endpoints(config)
    eps[0]["autoscaling"] = {**eps[0].get("autoscaling", {}), "min_replicas": 0}
    (line,) = _errors(with_keys(config, endpoints=eps))
    assert line.endswith("which keep at least one instance running; expected 2 or more (the prod floor)")


def test_an_unquoted_kubernetes_version_says_to_quote_it(dev_config) -> None:
    config = dict(dev_config)
    config["ml-serving:cluster"] = '{"kubernetes_version": 1.3}'  # what YAML makes of 1.30
    (line,) = _errors(config)
    assert line == (
        "ml-serving:cluster.kubernetes_version: 1.3 is a number (YAML reads 1.30 as 1.3); write the version"
        ' quoted, e.g. "1.35"'
    )


def test_a_wrong_endpoint_does_not_hide_a_wrong_region(dev_config) -> None:
    # The endpoint's own check (weights) fails the item as a whole; the spec's cross-checks still run.
    eps = endpoints(dev_config)
    eps[0]["models"][0]["weight"] = 95
    lines = _errors(with_keys(dev_config, endpoints=eps, region="eastus"))
    assert any("weights" in line and line.startswith("ml-serving:endpoints[0]") for line in lines), lines
    assert any(line.startswith("ml-serving:region: 'eastus' is not a region of aws") for line in lines), lines
