"""The Vertex AI deployment resource's provider, offline: create, diff, update (canary steps, waits,
rollback on a firing alert), delete, against an in-memory Vertex AI with a recording clock.

The inputs are what the real program registered for gcp-staging's chat endpoint (two versions
50/50, canary 20%, 10-minute waits), with the values only the cloud knows filled in, and numbers
as the engine hands them to a dynamic provider (floats).
"""

from __future__ import annotations

import copy
from typing import Any

import dill
import pytest

from infra.clouds.gcp.deployment import VertexDeploymentProvider, revision
from infra.clouds.gcp.vertex_api import POLL_SECONDS
from infra.clouds.traffic import RolloutFailed
from tests.gcp.conftest import POLICIES, provider
from tests.gcp.fake_vertex import FakeVertex


def steps(fake: FakeVertex) -> list[tuple[str, Any]]:
    """The log without operation polling."""
    return [e for e in fake.log if e != ("sleep", POLL_SECONDS)]


def test_the_registered_inputs_are_the_plans(props: dict[str, Any]) -> None:
    assert [(m["name"], m["weight"], m["shadow"]) for m in props["models"]] == [
        ("llama3-8b-v1", 50.0, False),
        ("llama3-8b-v2", 50.0, False),
    ]
    assert props["rollout"] == {"strategy": "canary", "step_percent": 20.0, "wait_seconds": 600.0}


def test_create_uploads_deploys_and_sets_the_split(fake: FakeVertex, props: dict[str, Any]) -> None:
    result = provider(fake).create(props)
    v1, v2 = (revision(m) for m in props["models"])
    assert steps(fake) == [("upload", v1), ("deploy", v1), ("upload", v2), ("deploy", v2), ("split", {v1: 50, v2: 50})]
    assert ("sleep", POLL_SECONDS) in fake.log  # operations are polled, not assumed done
    assert result.id == "projects/acme-ml-staging/locations/us-central1/endpoints/gcp-staging-chat"
    assert result.outs["split"] == {v1: 50, v2: 50}
    assert result.outs["service_attachment"] == "sa-1"
    assert set(result.outs["deployed"]) == {v1, v2}
    # The engine's floats never reach the API as integers' stand-ins.
    (deployed,) = [d for d in fake.deployed.values() if d["displayName"] == v1]
    planned = props["models"][0]["deployment"]["dedicatedResources"]["maxReplicaCount"]  # 3.0, as the engine hands it
    assert deployed["dedicatedResources"]["maxReplicaCount"] == int(planned) and isinstance(planned, float)
    assert deployed["serviceAccount"].startswith("gcp-staging-chat@")


def test_a_shadow_is_deployed_at_zero_percent(fake: FakeVertex, props: dict[str, Any]) -> None:
    props["models"][1]["shadow"] = True
    props["models"][0]["weight"] = 100.0
    provider(fake).create(props)
    assert fake.display_names() == sorted(revision(m) for m in props["models"])
    assert fake.live_split() == {revision(props["models"][0]): 100}


def test_a_failed_create_takes_down_what_it_deployed(fake: FakeVertex, props: dict[str, Any]) -> None:
    fake.fail_deploy_of = revision(props["models"][1])
    with pytest.raises(Exception, match="RESOURCE_EXHAUSTED"):
        provider(fake).create(props)
    assert fake.deployed == {} and fake.models == {}


def test_diff_replaces_only_for_another_endpoint(props: dict[str, Any]) -> None:
    p = VertexDeploymentProvider()
    assert p.diff("id", props, copy.deepcopy(props)).changes is False
    changed = copy.deepcopy(props)
    changed["models"][1]["model"]["containerSpec"]["imageUri"] += "-fix"
    found = p.diff("id", props, changed)
    assert found.changes is True and found.replaces == []
    moved = {**props, "endpoint_id": "gcp-staging-chat-2"}
    assert p.diff("id", props, moved).replaces == ["endpoint_id"]


def new_version(props: dict[str, Any]) -> dict[str, Any]:
    """v2 replaced by v3 (a new image), still 50/50."""
    news = copy.deepcopy(props)
    news["models"][1]["name"] = "llama3-8b-v3"
    news["models"][1]["model"]["containerSpec"]["imageUri"] += "-v3"
    return news


def test_update_deploys_the_new_revision_at_zero_then_steps_waits_and_reads_alerts(
    fake: FakeVertex, props: dict[str, Any]
) -> None:
    p = provider(fake)
    olds = p.create(props).outs
    fake.log.clear()
    news = new_version(props)
    result = p.update("id", olds, news)
    v1, v2, v3 = revision(props["models"][0]), revision(props["models"][1]), revision(news["models"][1])
    assert steps(fake) == [
        ("upload", v3),
        ("deploy", v3),
        # canary: 20 points of traffic first, proportionally from what loses traffic (v2 -> v3)
        ("split", {v1: 50, v2: 30, v3: 20}),
        ("sleep", 600.0),
        ("alerts", False),
        ("alerts", False),
        ("split", {v1: 50, v3: 50}),
        ("sleep", 600.0),
        ("alerts", False),
        ("alerts", False),
        ("undeploy", v2),
        ("delete-model", olds["deployed"][v2]["model"]),
    ]
    assert fake.live_split() == {v1: 50, v3: 50}
    assert set(result.outs["deployed"]) == {v1, v3}


def test_an_update_that_moves_no_traffic_waits_on_nothing(fake: FakeVertex, props: dict[str, Any]) -> None:
    p = provider(fake)
    olds = p.create(props).outs
    fake.log.clear()
    news = {**props, "alert_policies": [*POLICIES[:1], "projects/acme-ml-staging/alertPolicies/13"]}
    fake.policies[news["alert_policies"][1]] = "p95 > 12000"
    result = p.update("id", olds, news)
    assert steps(fake) == [] and result.outs["deployed"] == olds["deployed"]


def test_a_firing_alert_restores_the_split_undeploys_the_new_revision_and_fails(
    fake: FakeVertex, props: dict[str, Any]
) -> None:
    p = provider(fake)
    olds = p.create(props).outs
    before = fake.live_split()
    fake.firing = {POLICIES[1]}
    with pytest.raises(RolloutFailed, match=r"alert\(s\) firing: 12; traffic restored") as failed:
        p.update("id", olds, new_version(props))
    assert failed.value.restored == before
    assert fake.live_split() == before
    assert fake.display_names() == sorted(before)  # the new revision is gone again
    v3 = revision(new_version(props)["models"][1])
    assert ("undeploy", v3) in fake.log and not any(n == v3 for n in fake.live_split())


def test_delete_takes_the_traffic_away_then_undeploys_and_deletes_every_model(
    fake: FakeVertex, props: dict[str, Any]
) -> None:
    p = provider(fake)
    outs = p.create(props).outs
    fake.log.clear()
    p.delete("id", outs)
    assert steps(fake)[0] == ("split", {})
    assert fake.deployed == {} and fake.models == {}


def test_the_provider_pickles_without_live_clients() -> None:
    # The engine serializes a dynamic provider with dill into the stack's state.
    restored = dill.loads(dill.dumps(VertexDeploymentProvider(), recurse=True))
    assert restored.api_factory is not None and restored.clock is not None
