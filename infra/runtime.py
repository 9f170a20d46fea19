"""The serving runtime contract: what sizing decided, and how each engine is told (`engines.yaml`).

The plan derives one `ServingRuntime` per model version from the endpoint's placement; every
translator and the Kubernetes layer turn it into the container's environment (and arguments)
through `engine_config`, the one reader of the engine table. Data layer: imports nothing of
spec, sizing or plan, so the spec can check a stack file's `env` against the names the plan owns.
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
    """One row of the engine table: a ServingRuntime field as one engine reads it."""

    env: str | None
    arg: str | None
    values: Mapping[str, str | None] | None
    default: str | None  # the engine's own default: not sent
    source: str


@dataclass(frozen=True)
class EngineEntry:
    """One engine of the table: its settings, and what one server of it can run at most
    (`tensor_parallel`, `copies_per_server`; unlisted: unbounded or configured inside the image)."""

    description: str
    settings: dict[str, Setting]
    limits: dict[str, int]


@dataclass(frozen=True)
class EngineConfig:
    """What a container is started with: environment variables and server arguments."""

    env: dict[str, str]
    args: tuple[str, ...]


@cache
def engine_table() -> dict[str, EngineEntry]:
    """`{engine: EngineEntry}` from `engines.yaml` (each setting with its source)."""
    data: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "engines.yaml").read_text())
    return {
        engine: EngineEntry(
            entry["description"],
            {
                name: Setting(row.get("env"), row.get("arg"), row.get("values"), row.get("default"), row["source"])
                for name, row in (entry["settings"] or {}).items()
            },
            dict(entry.get("limits") or {}),
        )
        for engine, entry in data.items()
    }


def owned_env_names(engine: str) -> frozenset[str]:
    """The environment variables the plan sets for `engine`: a stack file's `env` may not set them."""
    return frozenset(s.env for s in engine_table()[engine].settings.values() if s.env is not None)


def engine_config(runtime: ServingRuntime) -> EngineConfig:
    """The container's environment (the plan's settings, then the stack file's `env`) and the
    server arguments, for `runtime.engine`. A field the engine has no row for, an unknown value
    (None) or a value the table maps to null is not sent."""
    env: dict[str, str] = {}
    args: list[str] = []
    for name, setting in engine_table()[runtime.engine].settings.items():
        value = _value(runtime, name, setting)
        if value is None or value == setting.default:
            continue
        if setting.env is not None:
            env[setting.env] = value
        if setting.arg is not None:
            args += [setting.arg, value]
    return EngineConfig({**env, **dict(runtime.env)}, tuple(args))


def _value(runtime: ServingRuntime, name: str, setting: Setting) -> str | None:
    raw = getattr(runtime, name)
    if raw is None:
        return None
    if setting.values is not None:
        return setting.values.get(str(raw))
    if isinstance(raw, float):
        return f"{raw:g}"
    return str(raw)
