"""The plan: every cloud-neutral decision, made once, before a translator builds resources.

spec + sizing -> Plan. Pure functions, no Pulumi import: the translators only turn a Plan into
resources, so every choice here is testable with plain pytest.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

from infra.addons import AddOn, addons_for, minor
from infra.addressing import carve, pod_range_problem
from infra.environments import ENVIRONMENTS
from infra.errors import EndpointKeyError, SpecError
from infra.facts import architecture, cloud_facts, node_image
from infra.kubernetes_plan import SYSTEM_POOL_DISK_GIB, KubernetesServing, canary_nodes, serving
from infra.naming import Names
from infra.runtime import ServingRuntime, engine_table, settings_to_send
from infra.sizing import formulas, solver
from infra.sizing.layout import Layout
from infra.spec import Cluster, Endpoint, Model, Requirements, Spec
from infra.spec.cloud_rules import kubernetes_versions

# Alarms look at this many one-minute periods, so a blip does not roll a deployment back.
ALARM_PERIODS = 3
# A request may run this many times the p95 target before the server cuts it off: the tail past p95
# is still a good answer, and a timeout below it fails long generations (Azure ML's 5 s default
# answers HTTP 408).
REQUEST_TIMEOUT_FACTOR = 2.0
# ...and never under 5 s: a tighter cut-off turns a queueing blip into errors.
MIN_REQUEST_TIMEOUT_SECONDS = 5


# Loading a model onto a new instance, estimated pessimistically from the weights' size: the
# platform copies the artifact from object storage and unpacks it (100 MiB/s, well below an
# instance's network, for a single-stream copy and a gzip'd tarball), then the server reads the
# weights into accelerator memory (0.5 GiB/s from the instance's volume) and warms up (kernel
# compilation and CUDA graph capture take minutes on vLLM and TGI).
DOWNLOAD_MIB_PER_S = 100
DOWNLOAD_BASE_S = 120
LOAD_GIB_PER_S = 0.5
STARTUP_BASE_S = 300


@dataclass(frozen=True)
class ModelPlan:
    name: str
    image: str | None  # a full image reference, or None: `image_tag` in this stack's registry
    image_tag: str | None
    digest: str | None  # sha256:<hex> pinning the image (serving: kubernetes)
    artifact: str  # a full URI, or a key in this stack's model store
    weight: int
    shadow: bool
    max_replicas: int  # this version's fleet at the peak (its share of the endpoint's, on managed)
    runtime: ServingRuntime  # how its server runs: what the container is told (infra.runtime.engine_config)


@dataclass(frozen=True)
class RolloutPlan:
    strategy: str  # canary | linear | all-at-once
    step_percent: int
    wait_seconds: int


@dataclass(frozen=True)
class Cost:
    hourly_min: float
    hourly_max: float

    @property
    def monthly_min(self) -> float:
        return round(self.hourly_min * solver.HOURS_PER_MONTH, 2)

    @property
    def monthly_max(self) -> float:
        return round(self.hourly_max * solver.HOURS_PER_MONTH, 2)

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.hourly_min + other.hourly_min, self.hourly_max + other.hourly_max)

    def as_dict(self) -> dict[str, float]:
        return {
            "hourly_usd_min": round(self.hourly_min, 4),
            "hourly_usd_max": round(self.hourly_max, 4),
            "monthly_usd_min": self.monthly_min,
            "monthly_usd_max": self.monthly_max,
        }


@dataclass(frozen=True)
class EndpointPlan:
    name: str
    serving: str  # managed | kubernetes
    platform: str  # what starts its containers (sagemaker | vertex | azureml | kubernetes), from the cloud's facts
    instance_type: str
    gpu: str
    gpus: int
    accelerator: str | None  # what the image runs on: nvidia | neuron; None on CPU
    capacity: str  # on-demand | spot
    min_replicas: int
    max_replicas: int
    initial_replicas: int
    target_rps_per_replica: float  # autoscaling tracks invocations per replica against this
    models: tuple[ModelPlan, ...]
    rollout: RolloutPlan
    latency_alarm_ms: float  # p95 model latency that fails a rollout
    request_timeout_seconds: int  # the server-side limit on one request, within the platform's own limit
    error_rate_alarm_percent: float
    cost: Cost
    explanation: str
    instance_extra: dict[str, str]  # cloud-specific names for the translator (e.g. accelerator)
    layout: Layout  # the serving layout sizing chose (tensor parallelism, batch, context, precision)
    download_timeout_s: int  # how long the platform may take to fetch and unpack the model artifact
    startup_timeout_s: int  # how long a new server may take to load the weights and pass its health check
    # On Kubernetes: the nodes a canary's fixed pods occupy on top of the stable version's, per model
    # version; the GPU pool and the cost count them (managed endpoints run a fleet per version instead).
    canary_nodes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class NodePoolPlan:
    name: str
    instance_type: str
    gpu: str | None  # the accelerator model, None for CPU nodes
    accelerator: str | None  # nvidia | neuron; None for CPU nodes
    capacity: str
    min_nodes: int
    max_nodes: int
    instance_extra: dict[str, str]
    architecture: str  # x86_64 | arm64, from the cloud's facts
    node_image: str  # the cloud's node image for that architecture and accelerator
    disk_gib: int  # root volume of each node: OS, images and, on GPU pools, the weights of every copy
    endpoint: str | None = None  # the endpoint a GPU pool is sized for (None: the system pool)
    gpus: int = 0  # accelerators per node


@dataclass(frozen=True)
class ClusterPlan:
    kubernetes_version: str
    system_pool: NodePoolPlan
    gpu_pools: tuple[NodePoolPlan, ...]
    upgrade_channel: str | None = None  # the cloud's channel for the environment (facts.yaml), None: none


@dataclass(frozen=True)
class NetworkPlan:
    create: bool
    cidr: str | None
    zones: tuple[str, ...]
    vpc_id: str | None
    subnet_ids: tuple[str, ...]
    private_dns_zone_ids: tuple[str, ...] = ()  # existing zones to register private endpoints in
    # Services the stack reaches through a private endpoint of its own (facts.yaml `private_endpoints`:
    # on AWS in created networks only, one per zone; on Azure in any network, one per service).
    private_endpoints: tuple[str, ...] = ()
    private_endpoints_per_zone: bool = False
    # Private DNS zones the stack creates for its private endpoints: the cloud's zones less those given.
    private_dns_zones: tuple[str, ...] = ()
    # Kubernetes nodes pull an image from outside the cloud's registries: the network needs egress.
    egress: bool = False
    # A created network's ranges, carved by infra/addressing.py: {zone or role: CIDR}.
    ranges: dict[str, str] = field(default_factory=dict)
    # The names of the subnet's secondary ranges for pods and services (GKE; created or the user's).
    secondary_ranges: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    cloud: str
    environment: str
    region: str
    stack: str
    network: NetworkPlan
    registry_name: str
    keep_images: int
    served_image_tags: tuple[str, ...]  # tags of this stack's registry that some model version runs
    cluster: ClusterPlan | None
    endpoints: tuple[EndpointPlan, ...]
    protect: bool  # stateful resources protected and retained on delete
    data_capture: bool
    tags: dict[str, str]
    budget_monthly_usd: float | None
    kubernetes: tuple[KubernetesServing, ...]  # per `serving: kubernetes` endpoint, in spec order
    # The provider config keys the program reads ({"gcp:project": ...}), checked with the spec.
    provider_config: dict[str, str] = field(default_factory=dict)
    data_capture_percent: int = 20  # share of requests captured when data_capture is on

    @property
    def cost(self) -> Cost:
        return sum((e.cost for e in self.endpoints), Cost(0.0, 0.0))

    @property
    def names(self) -> Names:
        """Every physical name of this stack: `plan.names("sagemaker_endpoint", endpoint)`."""
        return Names(self.cloud, self.stack)


def build_plan(spec: Spec, stack: str) -> Plan:
    """Turn a validated spec into a plan; sizing problems are reported as SpecError lines."""
    env = ENVIRONMENTS[spec.environment]
    problems: list[str] = []
    endpoints: list[EndpointPlan] = []
    kubernetes: list[KubernetesServing] = []
    for i, ep in enumerate(spec.endpoints):
        try:
            planned = _endpoint(spec, ep)
            if ep.serving == "kubernetes":
                kubernetes.append(serving(spec, ep, planned, Names("kubernetes", stack)))
                planned = _with_canary_nodes(planned, canary_nodes(kubernetes[-1]))
            endpoints.append(planned)
        except solver.NoPlacementError as exc:
            problems.append(f"ml-serving:endpoints[{i}].sizing: {exc}")
        except EndpointKeyError as exc:
            problems.append(f"ml-serving:endpoints[{i}].{exc.key}: {exc}")
    cluster = None
    try:
        cluster = _cluster(spec, endpoints, {k.endpoint: k.node_disk_gib for k in kubernetes})
    except SpecError as exc:
        problems += exc.lines
    facts = cloud_facts()[spec.cloud]
    zones = tuple(spec.network.zones or [z.format(region=spec.region) for z in facts["zones"][:2]])
    cidr = spec.network.cidr or "10.0.0.0/16" if spec.network.create else None
    ranges = carve(spec.cloud, cidr, zones) if cidr else {}
    if cidr and cluster:
        nodes = sum(p.max_nodes for p in (cluster.system_pool, *cluster.gpu_pools))
        problems += filter(None, [pod_range_problem(spec.cloud, cidr, ranges, nodes)])
    if problems:
        raise SpecError(problems)
    services = facts.get("private_endpoints", {})
    given_zones = {zone_id.rsplit("/", 1)[-1].lower() for zone_id in spec.network.private_dns_zone_ids}
    network = NetworkPlan(
        spec.network.create,
        cidr,
        zones,
        spec.network.vpc_id,
        tuple(spec.network.subnet_ids or ()),
        tuple(spec.network.private_dns_zone_ids),
        _private_endpoints(
            services, spec.network.create, cluster is not None, any(e.serving == "managed" for e in endpoints)
        ),
        services.get("per_zone", False),
        tuple(z for z in facts.get("private_dns_zones", []) if z not in given_zones),
        egress=_needs_egress(spec, facts.get("private_image_pattern")),
        ranges=ranges,
        secondary_ranges=facts.get("secondary_range_names", {}) | dict(spec.network.secondary_ranges or {}),
    )
    return Plan(
        cloud=spec.cloud,
        environment=spec.environment,
        region=spec.region,
        stack=stack,
        network=network,
        registry_name=spec.registry.name,
        keep_images=spec.registry.keep_images,
        served_image_tags=spec.served_image_tags,
        cluster=cluster,
        endpoints=tuple(endpoints),
        protect=env.protect,
        data_capture=env.data_capture,
        tags={"managed-by": "pulumi", "project": "ml-serving", "environment": spec.environment, **spec.tags},
        budget_monthly_usd=spec.budget_monthly_usd,
        kubernetes=tuple(kubernetes),
        provider_config=dict(spec.provider_config),
    )


def _private_endpoints(services: dict[str, Any], created: bool, cluster: bool, managed: bool) -> tuple[str, ...]:
    """The services of facts.yaml `private_endpoints` the stack gets an endpoint for: `always`, plus
    `cluster` with a cluster and `managed` with managed endpoints; none in an existing network unless
    the cloud's endpoints belong to the stack there too (`in_existing_network`)."""
    if not (created or services.get("in_existing_network", False)):
        return ()
    wanted = list(services.get("always", []))
    if cluster:
        wanted += services.get("cluster", [])
    if managed:
        wanted += services.get("managed", [])
    return tuple(wanted)


def _needs_egress(spec: Spec, private_images: str | None) -> bool:
    """Whether a Kubernetes node must pull an image from a registry the cloud reaches privately
    (`private_image_pattern` in facts.yaml; a cloud without one has no such decision to make)."""
    return private_images is not None and any(
        m.image is not None and not re.match(private_images, m.image)
        for ep in spec.endpoints
        if ep.serving == "kubernetes"
        for m in ep.models
    )


def _endpoint(spec: Spec, ep: Endpoint) -> EndpointPlan:
    env = ENVIRONMENTS[spec.environment]
    floor = solver.replica_floor(spec.environment, spec.cloud, ep.serving)
    req = ep.sizing.requirements
    if ep.sizing.profile == "auto":
        assert req is not None  # the spec requires it
        placement = solver.auto(spec.cloud, ep.serving, req, ep.sizing.capacity, floor)
    else:
        placement = solver.by_profile(spec.cloud, ep.serving, ep.sizing.profile, req, ep.sizing.capacity, floor)
    low = ep.autoscaling.min_replicas if ep.autoscaling.min_replicas is not None else placement.min_replicas
    high = ep.autoscaling.max_replicas if ep.autoscaling.max_replicas is not None else max(placement.max_replicas, low)
    if high < low:
        raise EndpointKeyError("autoscaling.max_replicas", f"{high} is below the minimum of {low} replicas")
    rps = _rps_per_replica(placement, req)
    if req is not None and high * rps < req.peak_rps:
        carry = "replica carries" if high == 1 else "replicas carry"
        raise EndpointKeyError(
            "autoscaling.max_replicas", f"{high} {carry} {high * rps:.1f} req/s, below peak_rps {req.peak_rps:g}"
        )
    strategy = ep.rollout.strategy or env.rollout
    # Managed services give every model version (live or shadow) a fleet of its own, sized for its
    # share of the traffic; on Kubernetes the versions' pods share the endpoint's node pool.
    managed = ep.serving == "managed"
    models = tuple(
        ModelPlan(
            m.name,
            m.image,
            m.image_tag,
            m.digest,
            m.artifact,
            m.weight,
            m.shadow,
            max(low, math.ceil(high * m.weight / 100)) if managed else high,
            _runtime(spec, ep, j, m, placement.layout),
        )
        for j, m in enumerate(ep.models)
    )
    cost = (
        Cost(placement.hourly_usd(low) * len(models), sum(placement.hourly_usd(m.max_replicas) for m in models))
        if managed
        else Cost(placement.hourly_usd(low), placement.hourly_usd(high))
    )
    # Whole-request latency alarm: the bound the user stated (p95_latency_ms, or TTFT + output x TPOT),
    # else the latency sizing predicts; 10 s for a profile sized without requirements.
    stated = req.request_latency_slo_ms(placement.layout.tpot_ms) if req else None
    latency_alarm = stated or placement.layout.latency_ms or 10_000.0
    timeout = _request_timeout(spec.cloud, ep.serving, req, latency_alarm)
    timeouts = _load_timeouts(spec.cloud, req, placement)
    return EndpointPlan(
        name=ep.name,
        serving=ep.serving,
        platform=cloud_facts()[spec.cloud]["serving"][ep.serving]["platform"],
        instance_type=placement.row.name,
        gpu=placement.row.gpu.name if placement.row.gpu else "cpu",
        gpus=placement.row.gpus,
        accelerator=placement.row.gpu.runtime if placement.row.gpu else None,
        capacity=placement.capacity,
        min_replicas=low,
        max_replicas=high,
        initial_replicas=max(low, 1),
        target_rps_per_replica=round(rps / solver.PEAK_HEADROOM, 3),
        models=models,
        rollout=RolloutPlan(strategy, ep.rollout.step_percent, ep.rollout.wait_minutes * 60),
        latency_alarm_ms=latency_alarm,
        request_timeout_seconds=timeout,
        error_rate_alarm_percent=env.error_rate_alarm_percent,
        cost=cost,
        explanation=placement.explanation,
        instance_extra=placement.row.extra,
        layout=placement.layout,
        download_timeout_s=timeouts["download_timeout_s"],
        startup_timeout_s=timeouts["startup_timeout_s"],
    )


def _request_timeout(cloud: str, serving: str, req: Requirements | None, latency_ms: float) -> int:
    """Seconds one request may run: REQUEST_TIMEOUT_FACTOR x the whole-request latency bound
    (`latency_ms`), at least MIN_REQUEST_TIMEOUT_SECONDS.

    Raises EndpointKeyError, on the requirement the bound comes from, where that exceeds the most the
    platform lets one request run (facts.yaml `serving.<mode>.max_request_timeout_s`: SageMaker
    real-time 60 s, Azure ML 180 s, Vertex AI 600 s): a lower limit would cut the slowest requests
    off, so it is never applied silently."""
    timeout = max(MIN_REQUEST_TIMEOUT_SECONDS, math.ceil(latency_ms * REQUEST_TIMEOUT_FACTOR / 1000))
    facts = cloud_facts()[cloud]["serving"][serving]
    limit = facts.get("max_request_timeout_s")
    if limit is None or timeout <= limit:
        return timeout
    if req is not None and req.p95_latency_ms is not None:
        key, value = "sizing.requirements.p95_latency_ms", f"{req.p95_latency_ms:g} ms"
    elif req is not None:
        # TTFT + output tokens x TPOT (stated or predicted): the output length drives it.
        key = "sizing.requirements.output_tokens"
        value = f"{req.output_tokens} tokens ({latency_ms / 1000:.0f} s a request)"
    else:
        key, value = "sizing", f"the profile's predicted {latency_ms / 1000:.0f} s a request"
    raise EndpointKeyError(
        key,
        f"{value} needs a request timeout of {timeout} s ({REQUEST_TIMEOUT_FACTOR:g} x the whole-request"
        f" latency), above the {limit} s {facts['platform']} lets one request run; keep whole requests under"
        f" {limit * 1000 / REQUEST_TIMEOUT_FACTOR:.0f} ms (fewer output tokens), or serve this endpoint with"
        " serving: kubernetes",
    )


def _load_timeouts(cloud: str, req: Requirements | None, placement: solver.Placement) -> dict[str, int]:
    """How long a new instance may take to fetch the artifact and to start serving, in seconds,
    from the weights' size (without requirements: all of the instance's accelerator memory, the
    most a placement can hold), within the cloud's bounds where it has them."""
    weights_gib = formulas.weights_gib(req) if req else placement.row.gpu_memory_gib
    download = DOWNLOAD_BASE_S + weights_gib * 1024 / DOWNLOAD_MIB_PER_S
    startup = STARTUP_BASE_S + weights_gib / LOAD_GIB_PER_S
    bounds = cloud_facts()[cloud].get("model_load_timeout_s", {"min": 0, "max": math.inf})
    return {
        name: int(min(max(math.ceil(seconds), bounds["min"]), bounds["max"]))
        for name, seconds in (("download_timeout_s", download), ("startup_timeout_s", startup))
    }


def _runtime(spec: Spec, ep: Endpoint, index: int, model: Model, layout: Layout) -> ServingRuntime:
    """One model version's server, from the endpoint's layout.

    A managed endpoint runs one server per instance: the layout's copies run inside it (vLLM's
    data parallelism) where the engine can, and an engine that cannot is a spec error. On
    Kubernetes every copy is a pod of its own, so each server runs one copy. An engine the platform
    cannot tell a setting it needs (an engine that reads only arguments, on a platform that passes
    none) is a spec error too, saying what to do instead.
    """
    engine = ep.engine_of(model)
    copies = layout.copies_per_instance if ep.serving == "managed" else 1
    entry = engine_table()[engine]
    for setting, value in (("tensor_parallel", layout.tensor_parallel), ("copies_per_server", copies)):
        most = entry.limits.get(setting)
        if most is not None and value > most:
            raise EndpointKeyError(
                f"models[{index}].engine",
                f"{engine!r} runs at most {most} {setting.replace('_', ' ')} per server; sizing chose {value}"
                " for this placement; choose an engine that shards (vllm, tgi, lmi) or a smaller instance",
            )
    serving = cloud_facts()[spec.cloud]["serving"][ep.serving]
    runtime = ServingRuntime(
        engine=engine,
        tensor_parallel=layout.tensor_parallel,
        copies_per_server=copies,
        max_model_len=layout.max_model_len,
        max_input_tokens=layout.max_input_tokens,
        max_num_seqs=layout.max_num_seqs,
        gpu_memory_utilization=layout.gpu_memory_utilization,
        precision=layout.precision,
        kv_cache_precision=layout.kv_cache_precision,
        port=serving["port"],
        model_dir=serving["model_dir"],
        env=tuple(sorted(model.env.items())),
    )
    platform = serving["platform"]
    delivery = entry.platforms[platform]
    unsent = settings_to_send(runtime, platform)
    if delivery.via == "none" and unsent:
        told = ", ".join(f"{name} {value}" for name, value in unsent.items())
        raise EndpointKeyError(
            f"models[{index}].engine", f"{platform} cannot tell {engine!r} its {told}; {delivery.instead}"
        )
    return runtime


def _rps_per_replica(placement: solver.Placement, req: Requirements | None) -> float:
    """Requests/s one replica carries: the sizing estimate (the solver has checked the placement is
    feasible), or 1 req/s for a named profile without requirements."""
    if req is None:
        return 1.0
    return solver.evaluate(placement.row, req, placement.capacity).rps_per_replica


def _addon_support_problem(cloud: str, version: str) -> str | None:
    """The line refusing a cluster `version` ("1.36") that an add-on `cloud` installs does not support
    (infra/addons.yaml `kubernetes`: its maintainers' range), naming each such add-on and its range,
    and the versions the cloud keeps in standard support that every add-on supports; None if all do.
    Installing a release its maintainers do not support on that Kubernetes risks removed APIs and
    untested webhooks in the serving path (cert-manager 1.17 on 1.35, for one)."""
    addons = addons_for(cloud)
    misfits = [a for a in addons if not a.kubernetes.covers(version)]
    if not misfits:
        return None
    newer = [a for a in misfits if minor(version) > minor(a.kubernetes.max)]
    older = [a for a in misfits if a not in newer]
    why = " and ".join(
        f"{side} than {_supporting(group)}" for side, group in (("newer", newer), ("older", older)) if group
    )
    in_support = kubernetes_versions(cloud)[0]
    fits = [v for v in in_support if all(a.kubernetes.covers(v) for a in addons)]
    listed = ", ".join(repr(v) for v in in_support)
    if fits:
        only = "the only one" if len(fits) == 1 else "the ones"
        expected = f"{', '.join(repr(v) for v in fits)}: of {cloud}'s versions in standard support ({listed}), {only}"
        expected += " every cluster add-on supports"
    else:
        expected = (
            f"a version in every cluster add-on's range; none of {cloud}'s versions in standard support ({listed}) is:"
            " pin add-on releases that support one (infra/addons.yaml)"
        )
    return f"ml-serving:cluster.kubernetes_version: {version!r} is {why}; expected {expected}"


def _supporting(addons: list[AddOn]) -> str:
    """'keda 2.20.2 supports (1.33-1.35)', or 'keda 2.20.2 (1.33-1.35) and prometheus 83.4.0 (1.25-1.35) support'."""
    if len(addons) == 1:
        return f"{addons[0].name} {addons[0].version} supports ({addons[0].kubernetes})"
    named = [f"{a.name} {a.version} ({a.kubernetes})" for a in addons]
    return f"{', '.join(named[:-1])} and {named[-1]} support"


def _with_canary_nodes(e: EndpointPlan, nodes: dict[str, int]) -> EndpointPlan:
    """`e` with its canaries' nodes counted in its pool and its cost (each node at the row's rate)."""
    extra = sum(nodes.values())
    rate = e.cost.hourly_max / e.max_replicas if e.max_replicas else 0.0
    cost = Cost(rate * (e.min_replicas + extra), rate * (e.max_replicas + extra))
    return replace(e, canary_nodes=nodes, cost=cost)


def _cluster(spec: Spec, endpoints: list[EndpointPlan], disks: dict[str, int]) -> ClusterPlan | None:
    """The system pool and one accelerated pool per Kubernetes endpoint; raises SpecError where the
    cluster's Kubernetes version is outside an add-on's supported range, or where a pool's instance
    type has no node image for its architecture and accelerator."""
    gpu_endpoints = [e for e in endpoints if e.serving == "kubernetes"]
    if spec.cluster is None and not gpu_endpoints:
        return None
    cluster = spec.cluster or Cluster()
    sys_pool = cluster.system_pool
    problems: list[str] = list(filter(None, [_addon_support_problem(spec.cloud, cluster.kubernetes_version)]))

    def pool(key: str, instance_type: str, accelerator: str | None) -> tuple[str, str]:
        arch = architecture(spec.cloud, instance_type)
        image = node_image(spec.cloud, arch, accelerator)
        if image is None:
            problems.append(
                f"ml-serving:{key}: {instance_type!r} is {arch} {accelerator or 'CPU'}; {spec.cloud} has no"
                " Kubernetes node image for that pair; choose another instance type"
            )
        return arch, image or ""

    system_type = sys_pool.instance_type or cloud_facts()[spec.cloud]["system_pool_instance_type"]
    arch, image = pool("cluster.system_pool.instance_type", system_type, None)
    system = NodePoolPlan(
        name="system",
        instance_type=system_type,
        gpu=None,
        accelerator=None,
        capacity="on-demand",
        min_nodes=sys_pool.min_nodes,
        max_nodes=sys_pool.max_nodes,
        instance_extra={},
        architecture=arch,
        node_image=image,
        disk_gib=SYSTEM_POOL_DISK_GIB,
    )
    pools: list[NodePoolPlan] = []
    for e in gpu_endpoints:
        index = next(i for i, ep in enumerate(spec.endpoints) if ep.name == e.name)
        arch, image = pool(f"endpoints[{index}].sizing", e.instance_type, e.accelerator)
        pools.append(
            NodePoolPlan(
                name=f"gpu-{e.name}",
                instance_type=e.instance_type,
                gpu=e.gpu if e.accelerator else None,
                accelerator=e.accelerator,
                capacity=e.capacity,
                min_nodes=e.min_replicas + sum(e.canary_nodes.values()),
                max_nodes=e.max_replicas + sum(e.canary_nodes.values()),
                instance_extra=e.instance_extra,
                architecture=arch,
                node_image=image,
                disk_gib=disks[e.name],
                endpoint=e.name,
                gpus=e.gpus if e.accelerator else 0,
            )
        )
    if problems:
        raise SpecError(problems)
    channel = cloud_facts()[spec.cloud]["upgrade_channels"][spec.environment]
    return ClusterPlan(cluster.kubernetes_version, system, tuple(pools), channel)
