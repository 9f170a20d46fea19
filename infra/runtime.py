"""The serving runtime contract: what sizing decided, and how each engine is told on each platform
(`engines.yaml`).

The plan derives one `ServingRuntime` per model version from the endpoint's placement; every
translator and the Kubernetes layer turn it into the container's environment and arguments through
`engine_config(runtime, platform)`, the one reader of the engine table: the same setting is an
argument where the platform passes arguments and the engine reads them, a variable where the engine
(or the platform's entrypoint) reads one. Data layer: imports nothing of spec, sizing or plan, so the
spec can check a stack file's `env` against the names the plan owns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

Engine = Literal["vllm", "tgi", "lmi", "tei", "triton", "custom"]
ENGINES: tuple[str, ...] = get_args(Engine)
# What starts a model container: a cloud's managed endpoint service, or Kubernetes (facts.yaml
# `serving.<managed|kubernetes>.platform` says which a cloud uses).
Platform = Literal["sagemaker", "vertex", "azureml", "kubernetes"]
PLATFORMS: tuple[str, ...] = get_args(Platform)
# The engine a model version gets when the stack file names none, by `requirements.model_type`.
DEFAULT_ENGINE: dict[str, Engine] = {"llm": "vllm", "encoder": "tei"}
# POSIX portable names; SageMaker's EnvironmentMap key pattern is the same ([a-zA-Z_][a-zA-Z0-9_]*).
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,1023}$"


@dataclass(frozen=True)
class ServingRuntime:
    """How one model version's server runs on one instance (node), as sizing decided.

    tensor_parallel: GPUs one copy of the model is sharded over (1 on CPU).
    copies_per_server: model copies this one server runs (data parallel); tensor_parallel x copies
        GPUs in all. On Kubernetes each copy is a pod of its own, so 1.
    max_model_len: tokens of one sequence, prompt plus output.
    max_input_tokens: prompt tokens of one sequence.
    max_num_seqs: sequences one copy runs concurrently, its continuous batch.
    gpu_memory_utilization: fraction (0-1] of each GPU's memory the engine may take.
    precision: weights dtype or quantization (fp32 | bf16 | fp16 | fp8 | fp4 | int8 | int4).
    kv_cache_precision: KV cache dtype (fp32 | fp16 | bf16 | fp8).
    port: the TCP port the server listens on (SageMaker requires 8080).
    model_dir: where the platform puts the model artifact inside the container (None: the
        platform passes its location another way).
    env: the stack file's own variables for this model version (never a name the plan owns).
    """

    engine: Engine
    tensor_parallel: int
    copies_per_server: int
    max_model_len: int
    max_input_tokens: int
    max_num_seqs: int
    gpu_memory_utilization: float
    precision: str
    kv_cache_precision: str
    port: int
    model_dir: str | None
    env: tuple[tuple[str, str], ...] = field(default=())

    @property
    def max_batch_tokens(self) -> int:
        """Tokens in one batch when every concurrent sequence is at its longest."""
        return self.max_num_seqs * self.max_model_len


@dataclass(frozen=True)
class Setting:
    """One setting row of the engine table: a ServingRuntime field in the engine's own names."""

    env: str | None  # the variable the engine's server reads itself
    arg: str | None  # its command-line flag
    values: Mapping[str, str | None] | None
    default: str | None  # the engine's own default: not sent
    source: str


@dataclass(frozen=True)
class Delivery:
    """How the containers one platform starts tell one engine its settings (a row of its `platforms`).

    via: env (variables), args (flags after the image's entrypoint) or none (the platform cannot
    tell this engine anything; `instead` says what to do). prefix: the image's entrypoint turns
    `<prefix><NAME>` into `--<name>`. env: the platform's own variable for a setting. fixed: settings
    the platform's entrypoint sets itself. image: what the image must be for those names to be read.
    """

    via: Literal["env", "args", "none"]
    source: str
    prefix: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    fixed: frozenset[str] = frozenset()
    image: str | None = None
    instead: str | None = None

    def variable(self, name: str, setting: Setting) -> str | None:
        """The environment variable that carries setting `name` (None: it has none here)."""
        if name in self.env:
            return self.env[name]
        if self.prefix is None:
            return setting.env
        if setting.arg is None:
            return None
        return self.prefix + setting.arg.removeprefix("--").upper().replace("-", "_")


@dataclass(frozen=True)
class Http:
    """An engine's HTTP surface (its `http` row): the GET route that answers 200 once the model is
    loaded, the POST route that serves a request (None: the client names the model in the path, as
    Triton's /v2/models/<name>/infer), and the port it listens on when not told one (None: wherever
    the platform sends requests, as a custom server must)."""

    health: str
    predict: str | None
    port: int | None
    source: str


@dataclass(frozen=True)
class Routes:
    """Where a platform reaches one model server: health and predict routes (predict None: see Http)
    and the port the server listens on in this container."""

    health: str
    predict: str | None
    port: int

    @property
    def scoring(self) -> str:
        """The predict route, for a platform that must be given one (Azure ML's scoring route).
        Raises CannotTellError for an engine without one (the table refuses it there on loading)."""
        if self.predict is None:
            raise CannotTellError(f"no predict route to give (health {self.health})")
        return self.predict


@dataclass(frozen=True)
class EngineEntry:
    """One engine of the table: its settings, how each platform tells it them, its HTTP surface, and
    what one server of it can run at most (`tensor_parallel`, `copies_per_server`; unlisted:
    unbounded or configured inside the image)."""

    description: str
    settings: dict[str, Setting]
    limits: dict[str, int]
    platforms: dict[str, Delivery]
    http: Http


@dataclass(frozen=True)
class PlatformEntry:
    """A platform that starts model containers: whether it can pass them arguments, whether it must be
    given the server's predict route (Azure ML's scoring route), and the source."""

    args: bool
    source: str
    predict_route: bool = False


@dataclass(frozen=True)
class EngineConfig:
    """What a container is started with: environment variables and server arguments."""

    env: dict[str, str]
    args: tuple[str, ...]


class CannotTellError(ValueError):
    """The platform cannot pass an engine a setting the placement needs sent (the plan reports it first)."""


@cache
def _table() -> dict[str, Any]:
    return yaml.safe_load((Path(__file__).parent / "engines.yaml").read_text())


@cache
def platform_table() -> dict[str, PlatformEntry]:
    """`{platform: PlatformEntry}` from `engines.yaml`."""
    return {
        name: PlatformEntry(row["args"], row["source"], row.get("predict_route", False))
        for name, row in _table()["platforms"].items()
    }


@cache
def engine_table() -> dict[str, EngineEntry]:
    """`{engine: EngineEntry}` from `engines.yaml` (each setting and each platform row with its source).

    Raises ValueError naming the engine and platform where a row cannot deliver: arguments on a platform
    that passes none, a setting with no variable (or no flag) in the form its row sends, or no predict
    route for a platform that must be given one."""
    entries: dict[str, EngineEntry] = {}
    for engine, entry in _table()["engines"].items():
        settings = {
            name: Setting(row.get("env"), row.get("arg"), row.get("values"), row.get("default"), row["source"])
            for name, row in (entry["settings"] or {}).items()
        }
        platforms = {
            platform: Delivery(
                row["via"],
                row["source"],
                row.get("prefix"),
                dict(row.get("env") or {}),
                frozenset(row.get("fixed") or ()),
                row.get("image"),
                row.get("instead"),
            )
            for platform, row in entry["platforms"].items()
        }
        if set(platforms) != set(platform_table()):
            raise ValueError(
                f"engines.yaml: {engine} has rows for {sorted(platforms)}, expected {sorted(platform_table())}"
            )
        http = Http(**entry["http"])
        for platform, delivery in platforms.items():
            _check(engine, platform, delivery, settings, http)
        limits = dict(entry.get("limits") or {})
        entries[engine] = EngineEntry(entry["description"], settings, limits, platforms, http)
    return entries


def _check(engine: str, platform: str, delivery: Delivery, settings: dict[str, Setting], http: Http) -> None:
    where = f"engines.yaml: {engine} on {platform}"
    if delivery.via == "args" and not platform_table()[platform].args:
        raise ValueError(f"{where}: sends arguments, which {platform} cannot pass")
    if delivery.via != "none" and platform_table()[platform].predict_route and http.predict is None:
        raise ValueError(f"{where}: {platform} must be given a predict route, and {engine} has none")
    if delivery.via == "none" and not delivery.instead:
        raise ValueError(f"{where}: via none needs `instead` (what the user should do)")
    for name, setting in settings.items():
        if name in delivery.fixed:
            continue
        if delivery.via == "args" and setting.arg is None:
            raise ValueError(f"{where}: {name} has no flag")
        if delivery.via == "env" and delivery.variable(name, setting) is None:
            raise ValueError(f"{where}: {name} has no variable")


def owned_env_names(engine: str, platform: str) -> frozenset[str]:
    """The environment variables the plan may set for `engine` on `platform`: a stack file's `env` may
    not set them."""
    entry = engine_table()[engine]
    delivery = entry.platforms[platform]
    if delivery.via != "env":
        return frozenset()
    names = (delivery.variable(n, s) for n, s in entry.settings.items() if n not in delivery.fixed)
    return frozenset(n for n in names if n is not None)


def settings_to_send(runtime: ServingRuntime, platform: str) -> dict[str, str]:
    """`{setting: value}` (the engine's spelling of each value) that `runtime.engine` must be told on
    `platform`: a field the engine has no row for, an unknown value (None), a value the table maps to
    null, the engine's own default and what the platform's entrypoint fixes are not sent."""
    entry = engine_table()[runtime.engine]
    fixed = entry.platforms[platform].fixed
    sent: dict[str, str] = {}
    for name, setting in entry.settings.items():
        value = _value(runtime, name, setting)
        if name not in fixed and value is not None and value != setting.default:
            sent[name] = value
    return sent


def engine_config(runtime: ServingRuntime, platform: str) -> EngineConfig:
    """The container's environment (the plan's settings, then the stack file's `env`) and its server
    arguments, for `runtime.engine` started by `platform` (sagemaker | vertex | azureml | kubernetes),
    in the form that platform's container reads (`engines.yaml`).

    Raises CannotTellError where the platform cannot tell the engine a setting it must be sent (the plan
    refuses such a placement with a spec error on the model's `engine` first)."""
    entry = engine_table()[runtime.engine]
    delivery = entry.platforms[platform]
    sent = settings_to_send(runtime, platform)
    env: dict[str, str] = {}
    args: list[str] = []
    if delivery.via == "none" and sent:
        raise CannotTellError(f"{runtime.engine} on {platform}: {', '.join(sent)}; {delivery.instead}")
    for name, value in sent.items():
        setting = entry.settings[name]
        if delivery.via == "args":
            args += [str(setting.arg), value]
        else:
            env[str(delivery.variable(name, setting))] = value
    return EngineConfig({**env, **dict(runtime.env)}, tuple(args))


def engine_routes(runtime: ServingRuntime, platform: str) -> Routes:
    """The health and predict routes of `runtime.engine` (its `http` row) and the port its server
    listens on when `platform` starts it: the runtime's port where the engine is told it or the
    platform's entrypoint fixes it, else the engine's own default (a custom server listens on the
    runtime's port). Platforms register these as their probes and routes (Vertex AI healthRoute and
    predictRoute, Azure ML liveness/readiness/scoring routes, Kubernetes probes)."""
    http = engine_table()[runtime.engine].http
    told = "port" in engine_table()[runtime.engine].settings
    port = http.port if http.port is not None and not told else runtime.port
    return Routes(http.health, http.predict, port)


def _value(runtime: ServingRuntime, name: str, setting: Setting) -> str | None:
    raw = getattr(runtime, name)
    if raw is None:
        return None
    if setting.values is not None:
        return setting.values.get(str(raw))
    if isinstance(raw, float):
        return f"{raw:g}"
    return str(raw)
