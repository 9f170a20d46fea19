"""Each add-on's supported Kubernetes range (infra/addons.yaml `kubernetes`) against the cluster the
stack creates: the plan refuses a version outside any installed add-on's range with one keyed line
before any resource, every shipped stack's version lies in every range, and the releases the
program registers carry the pinned versions with image tags the mirror holds."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from infra.addons import KubernetesRange, addons_for, load_addons, minor
from infra.engine.stackfile import read_config
from infra.errors import SpecError
from infra.plan import build_plan
from infra.spec import load_spec
from infra.spec.cloud_rules import kubernetes_versions
from tests.conftest import STACKS, preview_of, run_program, with_keys

CLOUDS = ("aws", "gcp", "azure")
RELEASE = "kubernetes:helm.sh/v3:Release"


def cluster_config(cloud: str, version: str | None) -> dict[str, str]:
    """`cloud`'s dev stack with a cluster key: of `version`, or the spec's default version (None)."""
    return with_keys(read_config(f"{cloud}-dev"), cluster={} if version is None else {"kubernetes_version": version})


def plan_problems(config: dict[str, str]) -> list[str]:
    spec = load_spec(config)  # the spec accepts the version: the refusal is the plan's
    with pytest.raises(SpecError) as refused:
        build_plan(spec, "test")
    return refused.value.lines


@pytest.mark.parametrize("cloud", CLOUDS)
def test_a_version_in_the_clouds_support_that_an_add_on_does_not_support_is_one_keyed_line(cloud: str) -> None:
    assert "1.36" in kubernetes_versions(cloud)[0]
    # KEDA 2.20 is tested on 1.33-1.35 and kube-prometheus-stack 83.4.0's operator on up to 1.35.
    assert plan_problems(cluster_config(cloud, "1.36")) == [
        "ml-serving:cluster.kubernetes_version: '1.36' is newer than keda 2.20.2 (1.33-1.35) and prometheus"
        f" 83.4.0 (1.25-1.35) support; expected '1.35': of {cloud}'s versions in standard support ('1.35',"
        " '1.36'), the only one every cluster add-on supports"
    ]


def test_the_program_refuses_it_before_registering_anything(tmp_path) -> None:
    result = run_program(tmp_path, "aws-dev", cluster_config("aws", "1.36"))
    assert result["resources"] == []
    assert result["error"].splitlines() == plan_problems(cluster_config("aws", "1.36"))
    assert "Traceback" not in result["error"]


def test_a_kubernetes_endpoint_brings_the_same_check_without_a_cluster_key() -> None:
    config = read_config("aws-staging")  # a serving: kubernetes endpoint and cluster 1.35
    assert build_plan(load_spec(config), "test").cluster is not None
    lines = plan_problems(with_keys(config, cluster={"kubernetes_version": "1.36"}))
    assert len(lines) == 1 and lines[0].startswith("ml-serving:cluster.kubernetes_version: '1.36' is newer than")


def keda_needs_a_future_kubernetes(monkeypatch) -> None:
    """The plan sees KEDA's range as 1.37-1.38: a future where no version a cloud offers fits."""
    future = KubernetesRange("1.37", "1.38", "test")
    changed = {
        cloud: tuple(dataclasses.replace(a, kubernetes=future) if a.name == "keda" else a for a in addons_for(cloud))
        for cloud in CLOUDS
    }
    monkeypatch.setattr("infra.plan.addons_for", changed.__getitem__)


def test_a_stack_without_a_cluster_is_not_held_to_the_add_ons(monkeypatch) -> None:
    keda_needs_a_future_kubernetes(monkeypatch)
    config = read_config("aws-dev")  # managed endpoints only
    assert build_plan(load_spec(config), "test").cluster is None
    assert len(plan_problems(with_keys(config, cluster={}))) == 1


def test_when_no_version_in_support_fits_every_add_on_the_line_says_so(monkeypatch) -> None:
    keda_needs_a_future_kubernetes(monkeypatch)
    assert plan_problems(cluster_config("gcp", "1.35")) == [
        "ml-serving:cluster.kubernetes_version: '1.35' is older than keda 2.20.2 supports (1.37-1.38); expected"
        " a version in every cluster add-on's range; none of gcp's versions in standard support ('1.35',"
        " '1.36') is: pin add-on releases that support one (infra/addons.yaml)"
    ]


@pytest.mark.parametrize("cloud", CLOUDS)
def test_the_default_version_plans_on_every_cloud(cloud: str) -> None:
    cluster = build_plan(load_spec(cluster_config(cloud, None)), "test").cluster
    assert cluster is not None
    assert all(a.kubernetes.covers(cluster.kubernetes_version) for a in addons_for(cloud))


@pytest.mark.parametrize("stack", STACKS)
def test_every_shipped_stacks_cluster_version_is_in_every_add_ons_range(stack: str) -> None:
    plan = build_plan(load_spec(read_config(stack)), stack)
    if plan.cluster is None:
        return
    for addon in addons_for(plan.cloud):
        assert addon.kubernetes.covers(plan.cluster.kubernetes_version), (addon.name, str(addon.kubernetes))


def test_every_range_is_two_minor_versions_in_order_with_a_source() -> None:
    for addon in load_addons():
        k = addon.kubernetes
        assert re.fullmatch(r"1\.\d{2}", k.min) and re.fullmatch(r"1\.\d{2}", k.max), addon.name
        assert minor(k.min) <= minor(k.max), addon.name
        assert len(k.source) > 40, addon.name


def test_an_image_the_chart_tags_itself_is_mirrored_at_the_charts_own_version() -> None:
    # A chart value in `repository` or `registry` form leaves the tag to the chart (its appVersion,
    # which these charts keep equal to their version): the mirror must hold that very tag, or the pod
    # pulls an image that was never copied. A bump of `version` alone fails here.
    for addon in load_addons():
        for image in addon.images:
            if image.tag != "chart" and set(image.values.values()) & {"repository", "registry"}:
                assert image.tag.removeprefix("v") == addon.version.removeprefix("v"), (addon.name, image.source)


def _value(values: dict[str, Any], path: str) -> Any:
    for key in path.split("."):
        values = values[key]
    return values


def test_the_registered_releases_carry_the_pins_and_point_at_mirrored_tags() -> None:
    # gcp-staging: the mirror (an Artifact Registry path) is known at preview, so every image value is.
    releases = {
        r["inputs"]["name"]: r["inputs"] for r in preview_of("gcp-staging")["resources"] if r["type"] == RELEASE
    }
    expected = addons_for("gcp")
    assert list(releases) == [a.name for a in expected]
    mirror = _value(releases["keda"]["values"], "image.keda.registry")  # `registry` form: the mirror itself
    assert mirror.endswith("/mirror")
    for addon in expected:
        assert releases[addon.name]["version"] == addon.version
        for image in addon.images:
            for path, form in image.values.items():
                value = _value(releases[addon.name]["values"], path)
                assert value == image.mirrored(mirror, form), (addon.name, path)
                if form == "ref":
                    assert value.endswith(f"/{image.path}:{image.tag}")
    assert releases["keda"]["version"] == "2.20.2" and releases["cert-manager"]["version"] == "v1.21.1"
    assert releases["envoy-gateway"]["version"] == "v1.9.3"
    gateway = _value(releases["envoy-gateway"]["values"], "global.images.envoyGateway.image")
    assert gateway == f"{mirror}/envoyproxy/gateway:v1.9.3"
