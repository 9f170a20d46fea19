"""The Azure management API's own models, read as data from the SDK wheels (never imported).

`make api-models` downloads the pinned wheels (`API_MODEL_WHEELS`) with `pip download --no-deps`
into `.venv/api-models/`: the azure-mgmt packages and azure-ai-ml (which bundles the Machine
Learning Services ARM client). Their TypeSpec-generated `models/_models.py` declare every member
as `rest_field(name=<wire name>, visibility=[...])` with its type, and `models/_enums.py` every
enum; this module parses both with `ast` and validates a request body against them: unknown
members, read-only members, enum values, scalar types, nested models and discriminated unions.
"""

from __future__ import annotations

import ast
import re
import zipfile
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from infra.engine.mockrun import UNKNOWN
from infra.engine.stackfile import ROOT

WHEELS = ROOT / ".venv" / "api-models"
# package -> (pinned version, the models package inside its wheel)
API_MODEL_WHEELS = {
    "azure-mgmt-keyvault": ("14.1.0", "azure/mgmt/keyvault/models"),
    "azure-mgmt-storage": ("25.3.0", "azure/mgmt/storage/models"),
    "azure-mgmt-containerregistry": ("15.0.0", "azure/mgmt/containerregistry/models"),
    "azure-mgmt-containerservice": ("41.8.0", "azure/mgmt/containerservice/models"),
    "azure-ai-ml": ("1.35.2", "azure/ai/ml/_restclient/arm_ml_service/models"),
}
SCALARS = {"str": str, "bool": bool, "int": int, "float": (int, float)}
DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")


@dataclass
class Field:
    wire: str
    annotation: str
    read_only: bool


@dataclass
class Model:
    name: str
    bases: list[str]
    discriminator: str | None  # this subclass's discriminator value
    fields: dict[str, Field] = field(default_factory=dict)  # by wire name
    discriminator_field: str | None = None  # wire name of the discriminator, on the base


@dataclass
class Api:
    models: dict[str, Model]
    enums: dict[str, set[str]]

    def all_fields(self, name: str) -> dict[str, Field]:
        model = self.models[name]
        found: dict[str, Field] = {}
        for base in model.bases:
            if base in self.models:
                found.update(self.all_fields(base))
        return {**found, **model.fields}

    def discriminator_of(self, name: str) -> str | None:
        model = self.models[name]
        if model.discriminator_field:
            return model.discriminator_field
        return next((d for b in model.bases if b in self.models and (d := self.discriminator_of(b))), None)

    def subtype(self, name: str, value: dict[str, Any]) -> str:
        """The subclass of `name` the body's discriminator selects (or `name`)."""
        key = self.discriminator_of(name)
        wanted = value.get(key) if key else None
        for model in self.models.values():
            if name in model.bases and model.discriminator is not None and model.discriminator == wanted:
                return model.name
        return name


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _parse(models_source: str, enums_source: str) -> Api:
    models: dict[str, Model] = {}
    for node in ast.parse(models_source).body:
        if not isinstance(node, ast.ClassDef):
            continue
        bases = [b.id for b in node.bases if isinstance(b, ast.Name)]
        discriminator = next((_literal(k.value) for k in node.keywords if k.arg == "discriminator"), None)
        model = Model(node.name, bases, discriminator)
        for item in node.body:
            if not (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)):
                continue
            call = item.value
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
                continue
            if call.func.id not in ("rest_field", "rest_discriminator"):
                continue
            kwargs = {k.arg: _literal(k.value) for k in call.keywords}
            wire = kwargs.get("name") or item.target.id
            visibility = kwargs.get("visibility") or []
            member = Field(wire, ast.unparse(item.annotation), visibility == ["read"])
            # azure-native names a member after the SDK's client name where it renames the wire
            # name (`enableHttpsTrafficOnly` for `supportsHttpsTrafficOnly`): both are the member.
            model.fields[wire] = model.fields[_camel(item.target.id)] = member
            if call.func.id == "rest_discriminator":
                model.discriminator_field = wire
        models[node.name] = model
    enums: dict[str, set[str]] = {}
    for node in ast.parse(enums_source).body:
        if isinstance(node, ast.ClassDef):
            enums[node.name] = {
                v.lower()
                for item in node.body
                if isinstance(item, ast.Assign) and isinstance(v := _literal(item.value), str)
            }
    return Api(models, enums)


@cache
def api(package: str) -> Api:
    """The models and enums of one pinned wheel; FileNotFoundError naming `make api-models`."""
    version, models_dir = API_MODEL_WHEELS[package]
    wheel = WHEELS / f"{package.replace('-', '_')}-{version}-py3-none-any.whl"
    if not wheel.is_file():
        raise FileNotFoundError(f"{wheel} is missing: run `make api-models`")
    with zipfile.ZipFile(wheel) as archive:
        return _parse(
            archive.read(f"{models_dir}/_models.py").decode(), archive.read(f"{models_dir}/_enums.py").decode()
        )


def _strip(annotation: str) -> str:
    text = annotation.strip().strip("'\"")
    match = re.fullmatch(r"Optional\[(.*)\]", text)
    return _strip(match.group(1)) if match else text


def validate(api_: Api, annotation: str, value: Any, where: str) -> list[str]:
    """Problems with `value` as an instance of the annotated type; unknown values are skipped."""
    if value is None or value == UNKNOWN:
        return []
    text = _strip(annotation)
    enum = re.fullmatch(r"Union\[str, [\"']_models\.(\w+)[\"']\]", text)
    if enum:
        values = api_.enums.get(enum.group(1), set())
        if not isinstance(value, str) or value.lower() not in values:
            return [f"{where}: {value!r} is not one of {enum.group(1)}'s values {sorted(values)}"]
        return []
    if text.startswith("list["):
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {value!r}"]
        inner = text[5:-1]
        return [p for i, v in enumerate(value) for p in validate(api_, inner, v, f"{where}[{i}]")]
    if text.startswith("dict[str, "):
        if not isinstance(value, dict):
            return [f"{where}: expected a map, got {value!r}"]
        inner = text[len("dict[str, ") : -1]
        return [p for k, v in value.items() for p in validate(api_, inner, v, f"{where}.{k}")]
    if text == "datetime.timedelta":
        return (
            []
            if isinstance(value, str) and DURATION.match(value)
            else [f"{where}: {value!r} is not an ISO 8601 duration"]
        )
    if text in SCALARS:
        if text in ("int", "float"):
            # The engine's wire format (protobuf Struct) carries every number as a float.
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            ok = ok and (text == "float" or value == int(value))
        else:
            ok = isinstance(value, SCALARS[text])
        return [] if ok else [f"{where}: expected {text}, got {value!r}"]
    model = re.fullmatch(r"[\"']?_models\.(\w+)[\"']?", text)
    if model:
        return check_model(api_, model.group(1), value, where)
    return []  # Any, Literal, datetime and other shapes the stacks do not send


def check_model(api_: Api, name: str, value: Any, where: str, skip: frozenset[str] = frozenset()) -> list[str]:
    """Problems with `value` as a body of model `name`; keys in `skip` are URL parameters."""
    if not isinstance(value, dict):
        return [f"{where}: expected a {name} object, got {value!r}"]
    name = api_.subtype(name, value)
    fields = api_.all_fields(name)
    flattened = fields.get("properties")
    nested = _strip(flattened.annotation) if flattened else ""
    inner = re.fullmatch(r"[\"']?_models\.(\w+)[\"']?", nested)
    inner_fields = api_.all_fields(inner.group(1)) if inner else {}
    problems: list[str] = []
    for key, item in value.items():
        if key in skip:
            continue
        found = fields.get(key) or (inner_fields.get(key) if key != "properties" else None)
        if found is None:
            problems.append(f"{where}.{key}: {name} has no member {key!r}")
        elif found.read_only:
            problems.append(f"{where}.{key}: {name}.{key} is read-only")
        else:
            problems += validate(api_, found.annotation, item, f"{where}.{key}")
    return problems


def download() -> None:
    """`make api-models`: the pinned wheels into `.venv/api-models/`, as files (never installed)."""
    import subprocess
    import sys

    pins = [f"{package}=={version}" for package, (version, _) in API_MODEL_WHEELS.items()]
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps"]
    subprocess.run([*command, "-d", str(WHEELS), *pins], check=True)


if __name__ == "__main__":
    download()
