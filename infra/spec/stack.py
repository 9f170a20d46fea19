"""The stack file's models: network, registry, cluster, endpoints and their cross-checks."""

from __future__ import annotations

import difflib
import ipaddress
import re
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from infra.catalog import load_profiles
from infra.environments import ENVIRONMENTS
from infra.facts import cloud_facts
from infra.runtime import DEFAULT_ENGINE, ENV_NAME_PATTERN, Engine, owned_env_names
from infra.spec.base import SECRET, SECRET_CAPABLE, Name, _Strict, redacted
from infra.spec.cloud_rules import cloud_rules, kubernetes_versions, regions
from infra.spec.requirements import Requirements

EnvName = Annotated[str, Field(pattern=ENV_NAME_PATTERN)]


@cache
def profile_names() -> tuple[str, ...]:
    return tuple(load_profiles())


class Network(_Strict):
    """Create a VPC/VNet (`cidr`), or use an existing one (`vpc_id` + `subnet_ids`)."""

    cidr: str | None = Field(
        default=None,
        description="IPv4 CIDR block of a network to create: a private range from /16 to /22, split into one"
        " block per zone. Default 10.0.0.0/16 when neither this nor vpc_id is given.",
        examples=["10.20.0.0/16"],
    )
    zones: list[str] | None = Field(
        default=None,
        min_length=2,
        max_length=3,
        description="2-3 zones of the stack's region for the created network's subnets. Default: the"
        " region's first two zones.",
        examples=[["us-east-1a", "us-east-1b"]],
    )
    vpc_id: str | None = Field(
        default=None,
        description="An existing network to use instead of creating one, in the cloud's id format (AWS"
        " vpc-<hex>, a GCP network name or self-link, an Azure virtual network resource id).",
    )
    subnet_ids: list[str] | None = Field(
        default=None,
        min_length=1,
        description="Subnets of the existing network (vpc_id), in the cloud's id format: on AWS two or more"
        " private subnets in different zones; on GCP the one regional subnet; on Azure the private endpoints'"
        " subnet, then the nodes' subnet.",
    )
    secondary_ranges: dict[Literal["pods", "services"], str] | None = Field(
        default=None,
        description="GCP, existing subnet with a cluster: the names of its secondary ranges for GKE pods and"
        " services. Default {pods: pods, services: services}.",
        examples=[{"pods": "gke-pods", "services": "gke-services"}],
    )
    # Existing private DNS zones (a hub's, shared by many networks) to register private endpoints in,
    # by resource id; the zones a stack needs and does not name here are created with it.
    private_dns_zone_ids: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Existing private DNS zones (by resource id; at most 10) to register private endpoints in;"
        " the zones the stack needs and does not name are created with it.",
    )

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
    """The image repository serving images are pushed to."""

    name: Name = Field(default="serving", description="The repository's name within the stack's registry.")
    keep_images: int = Field(
        default=30, ge=1, le=1000, description="Lifecycle rule: how many images (count) the repository keeps."
    )


class SystemPool(_Strict):
    """The cluster's CPU node pool for system workloads (DNS, device plugins, controllers)."""

    instance_type: str | None = Field(
        default=None,
        description="The cloud's instance type for system nodes. Default: the cloud's general-purpose type.",
    )
    min_nodes: int = Field(default=2, ge=1, le=10, description="Fewest system nodes (count).")
    max_nodes: int = Field(default=3, ge=1, le=20, description="Most system nodes (count).")


class Cluster(_Strict):
    """A managed Kubernetes cluster; created automatically when an endpoint has serving: kubernetes."""

    kubernetes_version: str = Field(
        default="1.35",
        pattern=r"^1\.\d{2}$",
        description=(
            "Kubernetes minor version (quoted), one in the cloud's standard support and every cluster"
            ' add-on\'s supported range (infra/addons.yaml), e.g. "1.35".'
        ),
    )
    system_pool: SystemPool = Field(default=SystemPool(), description="The CPU pool for system workloads.")

    @field_validator("kubernetes_version", mode="before")
    @classmethod
    def _quoted(cls, value: Any) -> Any:
        if isinstance(value, float | int) and not isinstance(value, bool):
            # YAML reads 1.30 as the number 1.3: the version must be a quoted string.
            raise ValueError(f'{value!r} is a number (YAML reads 1.30 as 1.3); write the version quoted, e.g. "1.35"')
        return value


class Model(_Strict):
    """One model version behind an endpoint."""

    name: Name = Field(description="The version's name, unique within its endpoint.")
    image: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9.-]+(:\d+)?/[^\s]+$",
        description="A full serving image reference (registry/repository:tag). Give this or image_tag.",
    )
    image_tag: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$",
        description="A tag in this stack's registry. Give this or image.",
    )
    digest: str | None = Field(
        default=None,
        pattern=r"^sha256:[a-f0-9]{64}$",
        description="Pin the image by digest, sha256:<64 hex> (serving: kubernetes; required in staging and prod).",
    )
    artifact: str = Field(
        min_length=1,
        description="The model's weights: a URI on the stack's cloud (s3://, gs://, https://) or a key in this"
        " stack's model store. May be `secure:` (a URL with a token).",
        json_schema_extra={SECRET_CAPABLE: True},
    )
    weight: int = Field(
        default=100,
        ge=0,
        le=100,
        description="Share of live traffic in percent; live versions' weights sum to 100. For a shadow version,"
        " the percent of requests copied to it.",
    )
    shadow: bool = Field(
        default=False,
        description="A shadow version gets a copy of weight percent of requests; its answers are dropped.",
    )
    engine: Engine | None = Field(
        default=None, description="The serving engine (vllm, tgi, lmi, tei, triton, custom). Default: by model_type."
    )
    # SageMaker takes at most 100 variables of up to 1024 characters; the plan sets about ten.
    env: dict[EnvName, Annotated[str, Field(max_length=1024)]] = Field(
        default_factory=dict,
        max_length=64,
        description="Extra environment variables of the serving container (at most 64; values up to 1024"
        " characters). Values may be `secure:` (a token). Settings the plan derives from sizing are refused.",
        json_schema_extra={SECRET_CAPABLE: True},
    )

    @model_validator(mode="after")
    def _one_image(self) -> Model:
        if (self.image is None) == (self.image_tag is None):
            raise ValueError(
                "give exactly one of image (a full reference) or image_tag (a tag in this stack's registry)"
            )
        return self


class Sizing(_Strict):
    """How capacity is chosen: a named profile, or `auto` from requirements."""

    profile: str = Field(
        description="A profile name (pilot, small, medium, large, xlarge) or auto: the cheapest placement that"
        " meets requirements."
    )
    requirements: Requirements | None = Field(
        default=None, description="What the endpoint must deliver; needed by auto, checked against a named profile."
    )
    capacity: Literal["on-demand", "spot"] = Field(
        default="on-demand", description="spot: interruptible capacity at a discount (serving: kubernetes only)."
    )

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
    """How a new configuration replaces the old one, with automatic rollback on the alarms."""

    strategy: Literal["canary", "linear", "all-at-once"] | None = Field(
        default=None, description="Default: the environment's (dev all-at-once, staging and prod canary)."
    )
    step_percent: int = Field(
        default=10, ge=1, le=50, description="Percent of capacity shifted by the canary, or by each linear step."
    )
    wait_minutes: int = Field(
        default=10, ge=1, le=60, description="Minutes to watch the alarms after each step before the next."
    )

    @model_validator(mode="after")
    def _linear_steps(self) -> Rollout:
        # A linear rollout of 1-9% steps takes 11-100 waits; managed services refuse steps under 10%.
        if self.strategy == "linear" and self.step_percent < 10:
            raise ValueError(f"step_percent {self.step_percent} is below 10, the smallest linear step")
        return self


class Autoscaling(_Strict):
    """Replica bounds overriding sizing's (checked against the peak and the environment's floor)."""

    min_replicas: int | None = Field(
        default=None, ge=0, le=100, description="Fewest replicas (count); at least the environment's floor."
    )
    max_replicas: int | None = Field(
        default=None, ge=1, le=100, description="Most replicas (count); enough to carry peak_rps."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Autoscaling:
        if self.min_replicas is not None and self.max_replicas is not None and self.min_replicas > self.max_replicas:
            raise ValueError(f"min_replicas {self.min_replicas} is above max_replicas {self.max_replicas}")
        return self


class Endpoint(_Strict):
    """One inference endpoint: its model versions, capacity and rollout."""

    name: Name = Field(description="The endpoint's name, unique within the stack.")
    serving: Literal["managed", "kubernetes"] = Field(
        default="managed",
        description="managed: the cloud's inference endpoints (SageMaker, Vertex AI, Azure ML); kubernetes: a GPU"
        " node pool in the stack's cluster.",
    )
    models: list[Model] = Field(min_length=1, max_length=10, description="The model versions behind the endpoint.")
    sizing: Sizing = Field(description="A profile name (short form), or {profile, requirements, capacity}.")
    rollout: Rollout = Field(default=Rollout(), description="How updates roll out.")
    autoscaling: Autoscaling = Field(default=Autoscaling(), description="Replica bounds overriding sizing.")

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
    """A stack file's `ml-serving:` config: what the stack serves, where, and under which rules."""

    cloud: Literal["aws", "gcp", "azure"] = Field(description="The cloud the stack runs on.")
    environment: Literal["dev", "staging", "prod"] = Field(
        description="Sets the defaults and the policy enforcement (see the environment table); the one source"
        " of a stack's environment for the program, the tests and CI."
    )
    region: str = Field(
        description="The cloud's region name; it must offer every service the stack uses.", examples=["us-east-1"]
    )
    network: Network = Field(default=Network(), description="Create a private network, or use an existing one.")
    registry: Registry = Field(default=Registry(), description="The serving-image repository.")
    cluster: Cluster | None = Field(
        default=None, description="A Kubernetes cluster; created with defaults when an endpoint needs one."
    )
    endpoints: list[Endpoint] = Field(default_factory=list, max_length=20, description="The inference endpoints.")
    budget_monthly_usd: float | None = Field(
        default=None,
        gt=0,
        description="Monthly budget in USD: the stack policy fails when the estimate at maximum replicas,"
        " every billable resource included, exceeds it.",
    )
    tags: dict[str, str] = Field(
        default_factory=dict,
        description="Extra tags (labels on GCP) on every resource, within the stack's cloud's rules for keys"
        " and values. Values may be `secure:`.",
        json_schema_extra={SECRET_CAPABLE: True},
    )

    _provider_config: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def provider_config(self) -> dict[str, str]:
        """The cloud provider's config keys the program reads (`provider_config` in cloud_rules.yaml, e.g.
        `{"gcp:project": "acme-ml"}`), set and checked by `load_spec`."""
        return self._provider_config

    @property
    def served_image_tags(self) -> tuple[str, ...]:
        """Every tag of this stack's registry that a model version runs, sorted."""
        return tuple(sorted({m.image_tag for e in self.endpoints for m in e.models if m.image_tag}))

    @model_validator(mode="after")
    def _cross_checks(self) -> Spec:
        problems = [
            *_region_problems(self),
            *_network_problems(self),
            *_tag_problems(self),
            *_cluster_problems(self),
        ]
        facts = cloud_facts()[self.cloud]
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
        if not self.endpoints and self.cluster is None:
            problems.append(
                "endpoints: [] with no cluster; the stack would serve nothing; expected at least one endpoint"
                " (or `cluster:` to prepare capacity before the first endpoint)"
            )
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
                    f" which keep at least one instance running; expected {max(1, env.min_replicas)} or more"
                    + (f" (the {self.environment} floor)" if env.min_replicas > 1 else "")
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
                platform = facts["serving"][ep.serving]["platform"]
                problems += _env_collisions(f"{at}.models[{j}].env", ep.engine_of(model), platform, model.env)
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
                        f"{at}.models[{j}].artifact: {redacted(model.artifact)!r} is not an artifact URI for"
                        f" {self.cloud};"
                        f" expected {' or '.join(s + '://...' for s in facts['artifact_schemes'])}"
                        " or a key in this stack's model store"
                    )
        if problems:
            raise ValueError("\n".join(problems))
        return self


def _env_collisions(at: str, engine: str, platform: str, env: dict[str, str]) -> list[str]:
    """A stack file's `env` may not set what the plan tells the engine on its platform (its sizing decisions)."""
    owned = owned_env_names(engine, platform)
    return [
        f"{at}.{name}: set by the plan for engine {engine!r} on {platform} (from sizing); remove it or change"
        " the sizing"
        for name in sorted(env)
        if name in owned
    ]


def _region_problems(spec: Spec) -> list[str]:
    uses = {"managed"} if any(e.serving == "managed" for e in spec.endpoints) else set()
    if spec.cluster is not None or any(e.serving == "kubernetes" for e in spec.endpoints):
        uses.add("cluster")
    known, source = regions(spec.cloud, frozenset(uses))
    if spec.region not in known:
        close = difflib.get_close_matches(spec.region, sorted(known), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"expected one of {', '.join(sorted(known)[:6])}, ..."
        owners = [c for c in cloud_rules() if c != spec.cloud and spec.region in regions(c, frozenset())[0]]
        if owners:
            example = cloud_facts()[spec.cloud]["region_example"]
            hint = f"it is a region of {owners[0]}; expected a region of {spec.cloud} such as {example!r}"
        return [
            f"region: {spec.region!r} is not a region of {spec.cloud} offering this stack's services ({source}); {hint}"
        ]
    facts = cloud_facts()[spec.cloud]
    zone_pattern = facts["zone_pattern"].format(region=re.escape(spec.region))
    example = facts["zones"][0].format(region=spec.region)
    return [
        f"network.zones[{i}]: {zone!r} is not a zone of {spec.region}, such as {example!r}"
        for i, zone in enumerate(spec.network.zones or [])
        if not re.match(zone_pattern, zone)
    ]


def _cluster_problems(spec: Spec) -> list[str]:
    """The cluster's Kubernetes version must be in the cloud's standard support for a while yet: past it
    the cloud bills extended support (EKS), needs a premium tier (AKS LTS) or another channel (GKE)."""
    if spec.cluster is None and not any(e.serving == "kubernetes" for e in spec.endpoints):
        return []
    version = (spec.cluster or Cluster()).kubernetes_version
    supported, beyond = kubernetes_versions(spec.cloud)
    if version in supported:
        return []
    return [
        f"cluster.kubernetes_version: {version!r} is not in {spec.cloud}'s standard support for the next"
        f" months (past it: {beyond}); expected one of {', '.join(repr(v) for v in supported)}"
    ]


def _network_problems(spec: Spec) -> list[str]:
    """Existing network ids in the cloud's format and number (a name where an id belongs, or a subnet the
    program would ignore, fails here, not at apply); secondary range names only where subnets carry them."""
    formats = cloud_rules()[spec.cloud]["network_ids"]
    count = cloud_rules()[spec.cloud]["existing_subnets"]
    subnets = spec.network.subnet_ids
    wanted = str(count["min"]) if count["min"] == count["max"] else f"{count['min']}-{count['max']}"
    problems = []
    if subnets is not None and not count["min"] <= len(subnets) <= count["max"]:
        problems.append(f"network.subnet_ids: {len(subnets)} given; {spec.cloud} takes {wanted}: {count['roles']}")
    ranges = spec.network.secondary_ranges
    if ranges is not None and not (count.get("secondary_ranges") and subnets is not None):
        why = (
            "taken only with existing subnet_ids"
            if count.get("secondary_ranges")
            else f"{spec.cloud} subnets carry none; remove it"
        )
        problems.append(f"network.secondary_ranges: {ranges!r} names an existing subnet's secondary ranges; {why}")
    given = [("vpc_id", spec.network.vpc_id)] + [
        (f"subnet_ids[{i}]", s) for i, s in enumerate(spec.network.subnet_ids or [])
    ]
    for at, value in given:
        rule = formats[at.split("[")[0]]
        if value is not None and not re.match(rule["pattern"], value):
            problems.append(f"network.{at}: {value!r} is not a {spec.cloud} id such as {rule['example']!r}")
    return problems


def _tag_problems(spec: Spec) -> list[str]:
    """Tags against the stack's cloud's rules (GCP labels are lowercase; AWS and Azure allow upper case)."""
    rule = cloud_rules()[spec.cloud]["tags"]
    problems = []
    for key, value in spec.tags.items():
        at = f"tags.{key}" if re.fullmatch(r"[A-Za-z_][\w-]*", key) else f"tags[{key!r}]"
        if not re.match(rule["key_pattern"], key):
            problems.append(
                f"{at}: key {key!r} ({len(key)} characters) is invalid on {spec.cloud}; expected {rule['rule']}"
            )
        elif any(key.lower().startswith(p) for p in rule["reserved_prefixes"]):
            problems.append(
                f"{at}: key {key!r} uses a prefix {spec.cloud} reserves ({', '.join(rule['reserved_prefixes'])})"
            )
        if value != SECRET and not re.match(rule["value_pattern"], value):  # a secret is checked by the CLI's run
            problems.append(
                f"{at}: value {value!r} ({len(value)} characters) is invalid on {spec.cloud};"
                f" expected {rule['value_rule']}"
            )
    return problems
