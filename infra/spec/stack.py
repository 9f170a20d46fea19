"""The stack file's models: network, registry, cluster, endpoints and their cross-checks."""

from __future__ import annotations

import ipaddress
import re
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from infra.catalog import load_profiles
from infra.environments import ENVIRONMENTS
from infra.facts import cloud_facts
from infra.runtime import DEFAULT_ENGINE, ENV_NAME_PATTERN, Engine, owned_env_names
from infra.spec.base import Name, _Strict
from infra.spec.requirements import Requirements

EnvName = Annotated[str, Field(pattern=ENV_NAME_PATTERN)]


@cache
def profile_names() -> tuple[str, ...]:
    return tuple(load_profiles())


class Network(_Strict):
    """Create a VPC/VNet (`cidr`), or use an existing one (`vpc_id` + `subnet_ids`)."""

    cidr: str | None = None
    zones: list[str] | None = Field(default=None, min_length=2, max_length=3)
    vpc_id: str | None = None
    subnet_ids: list[str] | None = Field(default=None, min_length=2)
    # Existing private DNS zones (a hub's, shared by many networks) to register private endpoints in,
    # by resource id; the zones a stack needs and does not name here are created with it.
    private_dns_zone_ids: list[str] = Field(default_factory=list, max_length=10)

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            net = ipaddress.IPv4Network(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an IPv4 CIDR block such as '10.20.0.0/16'") from None
        if not net.is_private or not 16 <= net.prefixlen <= 22:
            raise ValueError(f"{value!r} must be a private range from /16 to /22")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Network:
        existing = self.vpc_id is not None or self.subnet_ids is not None
        if existing and (self.cidr is not None or self.zones is not None):
            raise ValueError("give either cidr/zones (create a network) or vpc_id/subnet_ids (use one), not both")
        if existing and (self.vpc_id is None or self.subnet_ids is None):
            raise ValueError("an existing network needs both vpc_id and subnet_ids")
        return self

    @property
    def create(self) -> bool:
        return self.vpc_id is None


class Registry(_Strict):
    name: Name = "serving"
    keep_images: int = Field(default=30, ge=1, le=1000, description="lifecycle: how many images to keep")


class SystemPool(_Strict):
    instance_type: str | None = None
    min_nodes: int = Field(default=2, ge=1, le=10)
    max_nodes: int = Field(default=3, ge=1, le=20)


class Cluster(_Strict):
    kubernetes_version: str = Field(default="1.33", pattern=r"^1\.\d{2}$")
    system_pool: SystemPool = SystemPool()


class Model(_Strict):
    """One model version behind an endpoint."""

    name: Name
    image: str | None = Field(default=None, pattern=r"^[a-z0-9.-]+(:\d+)?/[^\s]+$")
    image_tag: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
    digest: str | None = Field(
        default=None, pattern=r"^sha256:[a-f0-9]{64}$", description="pin the image by digest (serving: kubernetes)"
    )
    artifact: str = Field(min_length=1)
    weight: int = Field(default=100, ge=0, le=100)
    shadow: bool = False
    engine: Engine | None = Field(default=None, description="the serving engine; default by model_type")
    # SageMaker takes at most 100 variables of up to 1024 characters; the plan sets about ten.
    env: dict[EnvName, Annotated[str, Field(max_length=1024)]] = Field(default_factory=dict, max_length=64)

    @model_validator(mode="after")
    def _one_image(self) -> Model:
        if (self.image is None) == (self.image_tag is None):
            raise ValueError(
                "give exactly one of image (a full reference) or image_tag (a tag in this stack's registry)"
            )
        return self


class Sizing(_Strict):
    profile: str
    requirements: Requirements | None = None
    capacity: Literal["on-demand", "spot"] = "on-demand"

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        names = ("auto", *profile_names())
        if value not in names:
            raise ValueError(f"{value!r} is not a sizing profile; expected one of {', '.join(names)}")
        return value

    @model_validator(mode="after")
    def _auto_needs_requirements(self) -> Sizing:
        if self.profile == "auto" and self.requirements is None:
            raise ValueError("profile 'auto' needs requirements (peak_rps, p95_latency_ms, params_billion, ...)")
        return self


class Rollout(_Strict):
    strategy: Literal["canary", "linear", "all-at-once"] | None = None
    step_percent: int = Field(default=10, ge=1, le=50)
    wait_minutes: int = Field(default=10, ge=1, le=60)

    @model_validator(mode="after")
    def _linear_steps(self) -> Rollout:
        # A linear rollout of 1-9% steps takes 11-100 waits; managed services refuse steps under 10%.
        if self.strategy == "linear" and self.step_percent < 10:
            raise ValueError(f"step_percent {self.step_percent} is below 10, the smallest linear step")
        return self


class Autoscaling(_Strict):
    min_replicas: int | None = Field(default=None, ge=0, le=100)
    max_replicas: int | None = Field(default=None, ge=1, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Autoscaling:
        if self.min_replicas is not None and self.max_replicas is not None and self.min_replicas > self.max_replicas:
            raise ValueError(f"min_replicas {self.min_replicas} is above max_replicas {self.max_replicas}")
        return self


class Endpoint(_Strict):
    name: Name
    serving: Literal["managed", "kubernetes"] = "managed"
    models: list[Model] = Field(min_length=1, max_length=10)
    sizing: Sizing
    rollout: Rollout = Rollout()
    autoscaling: Autoscaling = Autoscaling()

    def engine_of(self, model: Model) -> Engine:
        """The model's engine: as given, or the default for the endpoint's model type (llm: vllm)."""
        model_type = self.sizing.requirements.model_type if self.sizing.requirements else "llm"
        return model.engine or DEFAULT_ENGINE[model_type]

    @field_validator("sizing", mode="before")
    @classmethod
    def _profile_shorthand(cls, value: Any) -> Any:
        # `sizing: small` is short for `sizing: {profile: small}`.
        return {"profile": value} if isinstance(value, str) else value

    @field_validator("models")
    @classmethod
    def _traffic(cls, models: list[Model]) -> list[Model]:
        names = [m.name for m in models]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"model names must be unique; {', '.join(dupes)} repeats")
        live = [m for m in models if not m.shadow]
        if not live:
            raise ValueError("at least one model must take live traffic (shadow: false)")
        if len(models) - len(live) > 1:
            raise ValueError("at most one shadow model per endpoint")
        total = sum(m.weight for m in live)
        if total != 100:
            raise ValueError(f"traffic weights sum to {total}, they must sum to 100")
        return models


def live_models(ep: Endpoint) -> list[Model]:
    return [m for m in ep.models if not m.shadow]


class Spec(_Strict):
    cloud: Literal["aws", "gcp", "azure"]
    environment: Literal["dev", "staging", "prod"]
    region: str
    network: Network = Network()
    registry: Registry = Registry()
    cluster: Cluster | None = None
    endpoints: list[Endpoint] = Field(default_factory=list, max_length=20)
    budget_monthly_usd: float | None = Field(default=None, gt=0)
    tags: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$")], Annotated[str, Field(max_length=63)]] = Field(
        default_factory=dict
    )

    @property
    def served_image_tags(self) -> tuple[str, ...]:
        """Every tag of this stack's registry that a model version runs, sorted."""
        return tuple(sorted({m.image_tag for e in self.endpoints for m in e.models if m.image_tag}))

    @model_validator(mode="after")
    def _cross_checks(self) -> Spec:
        problems: list[str] = []
        facts = cloud_facts()[self.cloud]
        if not re.match(facts["region_pattern"], self.region):
            problems.append(
                f"region: {self.region!r} is not a {self.cloud} region name such as {facts['region_example']!r}"
            )
        zone_pattern = facts["zone_pattern"].format(region=re.escape(self.region))
        for i, zone in enumerate(self.network.zones or []):
            if not re.match(zone_pattern, zone):
                example = facts["zones"][0].format(region=self.region)
                problems.append(f"network.zones[{i}]: {zone!r} is not a zone of {self.region}, such as {example!r}")
        served = self.served_image_tags
        if self.registry.keep_images < len(served):
            problems.append(
                f"registry.keep_images: {self.registry.keep_images} is below the {len(served)} images this stack"
                f" serves ({', '.join(served)}); the lifecycle would expire images in use; expected {len(served)}"
                " or more"
            )
        zone_pattern_id = facts.get("private_dns_zone_id_pattern")
        for i, zone_id in enumerate(self.network.private_dns_zone_ids):
            if zone_pattern_id is None or not re.match(zone_pattern_id, zone_id, re.IGNORECASE):
                expected = (
                    f"a resource id such as {facts['private_dns_zone_id_example']!r}"
                    if zone_pattern_id
                    else (f"nothing: {self.cloud} stacks take no private DNS zones")
                )
                problems.append(f"network.private_dns_zone_ids[{i}]: {zone_id!r} is not valid; expected {expected}")
        names = [e.name for e in self.endpoints]
        for name in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"endpoints: endpoint name {name!r} repeats; names must be unique")
        env = ENVIRONMENTS[self.environment]
        for i, ep in enumerate(self.endpoints):
            at = f"endpoints[{i}]"
            if ep.rollout.strategy is not None and ep.rollout.strategy not in env.allowed_rollouts:
                problems.append(
                    f"{at}.rollout.strategy: {ep.rollout.strategy!r} is not allowed in {self.environment};"
                    f" expected one of {', '.join(env.allowed_rollouts)}"
                )
            low = ep.autoscaling.min_replicas
            if low == 0 and not facts["scale_to_zero"][ep.serving]:
                problems.append(
                    f"{at}.autoscaling.min_replicas: 0 is not possible on {self.cloud} {ep.serving} endpoints,"
                    " which keep at least one instance running; expected 1 or more"
                )
            elif low is not None and low < env.min_replicas:
                problems.append(
                    f"{at}.autoscaling.min_replicas: {low} is below the {self.environment} floor of {env.min_replicas}"
                )
            if ep.serving == "kubernetes" and len(live_models(ep)) < len(ep.models):
                problems.append(
                    f"{at}.models: a shadow model needs request mirroring, and on Kubernetes KServe owns the"
                    " endpoint's HTTPRoute (its canary weights) with no mirror filter; serve the shadow on a"
                    " managed endpoint, or as a canary with weight 0 (deployed, no traffic)"
                )
            if ep.sizing.capacity == "spot" and ep.serving == "managed":
                problems.append(f"{at}.sizing.capacity: 'spot' needs serving: kubernetes (managed endpoints have none)")
            live = live_models(ep)
            if facts["shadow_needs_one_live_model"] and len(live) > 1 and len(live) < len(ep.models):
                problems.append(
                    f"{at}.models: a shadow model on {self.cloud} needs exactly one live model"
                    f" (its shadow copies that model's traffic); {ep.name!r} has {len(live)}"
                )
            cap = facts.get("max_mirror_percent")
            for j, model in enumerate(ep.models):
                problems += _env_collisions(f"{at}.models[{j}].env", ep.engine_of(model), model.env)
                if model.digest is None and ep.serving == "kubernetes" and env.digest_pinned:
                    problems.append(
                        f"{at}.models[{j}].digest: {self.environment} runs Kubernetes models by digest;"
                        " give digest: sha256:<64 hex> of the image"
                    )
                if model.digest is not None and ep.serving == "managed":
                    problems.append(
                        f"{at}.models[{j}].digest: pins an image on serving: kubernetes; managed endpoints take"
                        " image or image_tag"
                    )
                if model.shadow and cap is not None and model.weight > cap:
                    problems.append(
                        f"{at}.models[{j}].weight: a shadow copy of {model.weight}% of requests is above"
                        f" {self.cloud}'s mirror cap of {cap}%"
                    )
                pattern = facts.get("managed_image_pattern")
                if ep.serving == "managed" and model.image and pattern and not re.match(pattern, model.image):
                    problems.append(
                        f"{at}.models[{j}].image: {model.image!r} is not in {facts['managed_image_registry']},"
                        f" the only registry {self.cloud} managed endpoints pull from; push it to this stack's"
                        " registry and give image_tag"
                    )
                scheme = model.artifact.split("://", 1)[0] if "://" in model.artifact else None
                if scheme is not None and scheme not in facts["artifact_schemes"]:
                    problems.append(
                        f"{at}.models[{j}].artifact: {model.artifact!r} is not a {self.cloud} artifact URI;"
                        f" expected {' or '.join(s + '://...' for s in facts['artifact_schemes'])}"
                        " or a key in this stack's model store"
                    )
        if problems:
            raise ValueError("\n".join(problems))
        return self


def _env_collisions(at: str, engine: str, env: dict[str, str]) -> list[str]:
    """A stack file's `env` may not set what the plan tells the engine (its sizing decisions)."""
    owned = owned_env_names(engine)
    return [
        f"{at}.{name}: set by the plan for engine {engine!r} (from sizing); remove it or change the sizing"
        for name in sorted(env)
        if name in owned
    ]
