"""Model upload, deployment and traffic on a Vertex AI endpoint: a `pulumi.dynamic.Resource`.

Neither Pulumi nor Terraform can deploy a model to a Vertex AI endpoint (terraform-provider-google
#15303: `AiEndpoint` alone serves nothing), so this resource owns the endpoint's models:

- create: upload every model version and deploy it (a shadow at 0%), then set the stack's split;
- update: upload and deploy the new revisions at 0%, move the split in the stack's canary or
  linear steps with the shared stepper (`infra.clouds.traffic.roll`), reading the endpoint's alert
  policies between steps; on a firing alert restore the split, undeploy the new revisions and fail;
  after a good rollout undeploy and delete the revisions no longer in the stack;
- delete: take the endpoint's traffic away, undeploy and delete every model it deployed.

A revision is a model version with its exact serving spec, named `<model>-<8 hex of its spec>`: a
new image, artifact, machine or replica bound is a new revision and rolls out like a new version
(Vertex AI makes a deployed model's resources immutable).

The provider is pickled into the stack's state: it holds only an API factory and a clock (both
parameters, so tests drive create/diff/update/delete against a stub, step by step).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

from infra.clouds.gcp.rest import Api, GoogleApi
from infra.clouds.gcp.vertex_api import Vertex
from infra.clouds.traffic import Clock, Split, SystemClock, roll

# Inputs that name another endpoint: changing one replaces the resource (deploys on the new one).
IDENTITY = ("project", "region", "endpoint_id")
DEPLOYMENT_INPUTS = ("models", "rollout", "alert_policies")


def whole(value: Any) -> Any:
    """`value` with every integral float as an int. The engine hands a dynamic provider its inputs as
    protobuf Struct values, where every number is a float: `minReplicaCount: 2.0` is not an int32."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: whole(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole(v) for v in value]
    return value


def revision(model: dict[str, Any]) -> str:
    """`<model name>-<8 hex of the model and deployment spec>`: the deployed model's display name."""
    spec = json.dumps(whole({"model": model["model"], "deployment": model["deployment"]}), sort_keys=True)
    return f"{model['name']}-{hashlib.sha256(spec.encode()).hexdigest()[:8]}"


def target_split(props: dict[str, Any]) -> Split:
    """The stack's split over live revisions; shadows stay deployed at 0%."""
    return {revision(m): int(m["weight"]) for m in props["models"] if not m["shadow"]}


class VertexDeploymentProvider(ResourceProvider):
    """create/diff/update/delete of one endpoint's deployed models (see the module docstring)."""

    def __init__(self, api_factory: Callable[[], Api] = GoogleApi, clock: Clock | None = None) -> None:
        self.api_factory = api_factory
        self.clock = clock or SystemClock()

    def _vertex(self, props: dict[str, Any]) -> Vertex:
        return Vertex(
            self.api_factory(),
            self.clock,
            props["project"],
            props["region"],
            props["endpoint_id"],
            list(props.get("alert_policies") or []),
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        vertex = self._vertex(props)
        deployed: dict[str, dict[str, str]] = {}
        try:
            # Live versions first: the first deployment on an empty endpoint takes all its traffic.
            for model in sorted(props["models"], key=lambda m: m["shadow"]):
                deployed[revision(model)] = _deploy(vertex, model)
            vertex.apply_split(target_split(props), {})
            outputs = _outputs(vertex, props, deployed)
        except Exception as failed:
            # A failed create leaves no state behind: take down what it deployed, or the endpoint
            # could never be deleted (Vertex refuses to delete an endpoint with deployed models).
            _clean_up(failed, vertex, deployed, drain=True)
            raise
        return CreateResult(vertex.endpoint, outputs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in IDENTITY if olds.get(k) != news.get(k)]
        changed = [k for k in DEPLOYMENT_INPUTS if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(replaces or changed), replaces=replaces, stables=[], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        vertex = self._vertex(news)
        deployed: dict[str, dict[str, str]] = dict(olds.get("deployed") or {})
        wanted = {revision(m): m for m in news["models"]}
        added: dict[str, dict[str, str]] = {}
        try:
            for name, model in wanted.items():
                if name not in deployed:
                    added[name] = _deploy(vertex, model)
            rollout = news["rollout"]
            target = target_split(news)
            # Nothing new and the split already the stack's (e.g. only an alert policy changed):
            # no traffic to move, so no step to wait on.
            if added or vertex.current_split() != target:
                roll(
                    vertex,
                    self.clock,
                    target,
                    {},
                    rollout["strategy"],
                    int(rollout["step_percent"]),
                    float(rollout["wait_seconds"]),
                )
        except Exception as failed:
            # The split is the one from before the update (restored by `roll`, or never moved):
            # the new revisions take no traffic and go again.
            _clean_up(failed, vertex, added, drain=False)
            raise
        retired = {k: v for k, v in deployed.items() if k not in wanted}
        _remove(vertex, retired)
        kept = {k: v for k, v in deployed.items() if k in wanted}
        return UpdateResult(_outputs(vertex, news, {**kept, **added}))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        vertex = self._vertex(props)
        vertex.apply_split({}, {})
        _remove(vertex, dict(props.get("deployed") or {}))


def _outputs(vertex: Vertex, props: dict[str, Any], deployed: dict[str, dict[str, str]]) -> dict[str, Any]:
    return {
        **props,
        "deployed": deployed,
        "split": target_split(props),
        "service_attachment": vertex.service_attachment(),
    }


def _deploy(vertex: Vertex, model: dict[str, Any]) -> dict[str, str]:
    name = revision(model)
    uploaded = vertex.upload({**whole(model["model"]), "displayName": name})
    try:
        deployed_id = vertex.deploy({**whole(model["deployment"]), "model": uploaded, "displayName": name})
    except Exception:
        vertex.delete_model(uploaded)  # the upload is ours alone: never leave it behind
        raise
    return {"model": uploaded, "deployedModelId": deployed_id}


def _clean_up(failed: Exception, vertex: Vertex, deployed: dict[str, dict[str, str]], drain: bool) -> None:
    """Undeploy after a failure; a failing clean-up is noted on the original error, never hides it."""
    try:
        if drain:
            vertex.apply_split({}, {})
        _remove(vertex, deployed)
    except Exception as cleanup:
        failed.add_note(f"clean-up after the failure also failed: {cleanup}; undeploy {sorted(deployed)} by hand")


def _remove(vertex: Vertex, deployed: dict[str, dict[str, str]]) -> None:
    """Undeploy revisions that take no traffic, then delete their uploaded models."""
    for name, entry in deployed.items():
        vertex.undeploy(name)
        vertex.delete_model(entry["model"])


class VertexDeployment(pulumi.dynamic.Resource):
    """The models one Vertex AI endpoint serves and its traffic split (inputs: see `ManagedEndpoint`)."""

    deployed: pulumi.Output[dict[str, Any]]
    split: pulumi.Output[dict[str, int]]  # revision display name -> percent, what `verify` expects
    service_attachment: pulumi.Output[str]  # where the stack's PSC forwarding rule points

    def __init__(
        self,
        name: str,
        props: dict[str, Any],
        opts: pulumi.ResourceOptions | None = None,
        provider: VertexDeploymentProvider | None = None,
    ) -> None:
        outputs = {"deployed": None, "split": None, "service_attachment": None}
        super().__init__(provider or VertexDeploymentProvider(), name, {**props, **outputs}, opts)
