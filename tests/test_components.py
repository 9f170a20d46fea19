"""Every component of every shipped stack keeps the interface convention: it is built from one
frozen `...Args` dataclass, and declares as attributes exactly the outputs it registers (as the
real program registered them)."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from functools import cache

import pulumi
import pytest

from tests.conftest import STACKS, preview_of


@cache
def component_class(resource_type: str) -> type[pulumi.ComponentResource] | None:
    """The class registering `ml-serving:<layer>:<Concept>`, in `infra.clouds.<layer>` (a cloud's
    translator) or `infra.<layer>` (the Kubernetes layer)."""
    layer = resource_type.split(":")[1]
    try:
        package = importlib.import_module(f"infra.clouds.{layer}")
    except ModuleNotFoundError:
        package = importlib.import_module(f"infra.{layer}")
    for module in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
        for value in vars(importlib.import_module(module.name)).values():
            if not (inspect.isclass(value) and issubclass(value, pulumi.ComponentResource)):
                continue
            if value.__module__ == module.name and f'"{resource_type}"' in inspect.getsource(value):
                return value
    return None


def components(stack: str) -> list[dict]:
    """The stack's components of the translators (`ml-serving:<cloud>:<Concept>`, not `index`)."""
    return [r for r in preview_of(stack)["resources"] if not r["custom"] and r["type"].split(":")[1] != "index"]


@pytest.mark.parametrize("stack", STACKS)
def test_each_component_declares_exactly_the_outputs_it_registers(stack: str) -> None:
    assert components(stack)
    for resource in components(stack):
        cls = component_class(resource["type"])
        assert cls is not None, f"no class registers {resource['type']}"
        declared = set(inspect.get_annotations(cls))
        assert declared == set(resource["registeredOutputs"]), resource["type"]


@pytest.mark.parametrize("stack", STACKS)
def test_each_component_takes_one_frozen_args_dataclass(stack: str) -> None:
    for resource in components(stack):
        cls = component_class(resource["type"])
        parameters = list(inspect.signature(cls.__init__).parameters)
        assert parameters == ["self", "name", "args", "opts"], cls
        args_type = inspect.get_annotations(cls.__init__, eval_str=True)["args"]
        assert inspect.isclass(args_type) and args_type.__name__.endswith("Args"), args_type
        assert dataclasses.is_dataclass(args_type) and vars(args_type)["__dataclass_params__"].frozen, args_type
