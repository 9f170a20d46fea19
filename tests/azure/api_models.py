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
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from infra.engine.stackfile import ROOT
from tests.api_check import Kind, Node, check

WHEELS = ROOT / ".venv" / "api-models"
# package -> (pinned version, the models package inside its wheel): the API version azure-native
# 3.29 calls for each resource (its module docstrings: "Azure REST API version ..."), or the
# nearest one a wheel ships where none ships it exactly (noted).
API_MODEL_WHEELS = {
    "azure-mgmt-keyvault": ("14.1.0", "azure/mgmt/keyvault/models"),
    "azure-mgmt-storage": ("25.3.0", "azure/mgmt/storage/models"),
    "azure-mgmt-containerregistry": ("15.0.0", "azure/mgmt/containerregistry/models"),
    "azure-mgmt-containerservice": ("41.8.0", "azure/mgmt/containerservice/models"),
    "azure-ai-ml": ("1.35.2", "azure/ai/ml/_restclient/arm_ml_service/models"),
    # 2024-05-01, as azure-native's network module.
    "azure-mgmt-network": ("28.1.0", "azure/mgmt/network/models"),
    # 2024-06-01.
    "azure-mgmt-privatedns": ("1.2.0", "azure/mgmt/privatedns/models"),
    # Metric alerts 2018-03-01 as azure-native; autoscale settings 2022-10-01 (azure-native sends
    # 2021-05-01-preview, whose members 2022-10-01 keeps).
    "azure-mgmt-monitor": ("7.0.0", "azure/mgmt/monitor/models"),
    # 2025-07-01 (azure-native: 2023-09-01; no wheel ships that version's models).
    "azure-mgmt-loganalytics": ("13.1.1", "azure/mgmt/loganalytics/models"),
    "azure-mgmt-applicationinsights": ("4.1.0", "azure/mgmt/applicationinsights/v2020_02_02/models"),
    "azure-mgmt-authorization": ("4.0.0", "azure/mgmt/authorization/v2022_04_01/models"),
    "azure-mgmt-msi": ("7.0.0", "azure/mgmt/msi/v2023_01_31/models"),
    # Resource groups 2022-09-01 (azure-native: 2024-03-01, the same members).
    "azure-mgmt-resource": ("23.1.1", "azure/mgmt/resource/resources/v2022_09_01/models"),
}
SCALARS: dict[str, Kind] = {"str": "string", "bool": "boolean", "int": "integer", "float": "number"}
DURATION = (
    "an ISO 8601 duration",
    re.compile(r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"),
)
# msrest `_validation` keys -> `Node` fields (the constraints the older generator states).
CONSTRAINTS = {
    "pattern": "pattern",
    "min_length": "min_length",
    "max_length": "max_length",
    "min_items": "min_length",
    "max_items": "max_length",
    "minimum": "minimum",
    "maximum": "maximum",
}


@dataclass
class Field:
    wire: str
    annotation: str
    read_only: bool
    constraints: dict[str, Any] = field(default_factory=dict)  # `Node` fields: pattern, bounds


@dataclass
class Model:
    name: str
    bases: list[str]
    discriminator: str | None  # this subclass's discriminator value
    fields: dict[str, Field] = field(default_factory=dict)  # by wire name and by camelCase name
    discriminator_keys: tuple[str, ...] = ()  # on the base: the discriminator's wire and camelCase names
    subtypes: dict[str, str] = field(default_factory=dict)  # on the base: discriminator value -> model
    open: bool = False  # takes members it does not name (msrest `additional_properties`)


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

    def discriminator_of(self, name: str) -> tuple[str, ...]:
        model = self.models[name]
        if model.discriminator_keys:
            return model.discriminator_keys
        return next((d for b in model.bases if b in self.models and (d := self.discriminator_of(b))), ())

    def subtype(self, name: str, value: dict[str, Any]) -> str:
        """The subclass of `name` the body's discriminator selects (or `name`)."""
        wanted = next((value[k] for k in self.discriminator_of(name) if k in value), None)
        return self.models[name].subtypes.get(wanted, name) if isinstance(wanted, str) else name

    def is_open(self, name: str) -> bool:
        model = self.models[name]
        return model.open or any(self.is_open(b) for b in model.bases if b in self.models)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _enums(source: str) -> dict[str, set[str]]:
    return {
        node.name: {
            v.lower()
            for item in node.body
            if isinstance(item, ast.Assign) and isinstance(v := _literal(item.value), str)
        }
        for node in ast.parse(source).body
        if isinstance(node, ast.ClassDef)
    }


def _parse(models_source: str, enums_source: str) -> Api:
    """Models generated from TypeSpec: members declared `rest_field(name=<wire>, visibility=...)`."""
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
                model.discriminator_keys = (wire, _camel(item.target.id))
        models[node.name] = model
    for model in models.values():
        for base in model.bases:
            if model.discriminator is not None and base in models:
                models[base].subtypes[model.discriminator] = model.name
    return Api(models, _enums(enums_source))


def _msrest_type(text: str) -> str:
    """An msrest `_attribute_map` type (`[Subnet]`, `{str}`, `duration`) as a Python annotation."""
    if text.startswith("["):
        return f"list[{_msrest_type(text[1:-1])}]"
    if text.startswith("{"):
        return f"dict[str, {_msrest_type(text[1:-1])}]"
    simple = {"duration": "datetime.timedelta", "iso-8601": "datetime.datetime", "object": "Any"}
    return simple.get(text, text if text in SCALARS else f"_models.{text}")


def _parse_msrest(models_source: str, enums_source: str) -> Api:
    """Models of the older (msrest) generator: `_attribute_map` gives each member's wire path
    (`properties.addressSpace`, flattened by azure-native) and type, `_validation` its read-only
    flag and constraints, `_subtype_map` the discriminated subtypes, and `__init__`'s annotations
    the enums (`Union[str, "_models.SecurityRuleProtocol"]`)."""
    models: dict[str, Model] = {}
    subtype_maps: dict[str, dict[str, dict[str, str]]] = {}
    for node in ast.parse(models_source).body:
        if not isinstance(node, ast.ClassDef):
            continue
        tables: dict[str, Any] = {}
        annotations: dict[str, str] = {}
        for item in node.body:
            if isinstance(item, ast.Assign) and isinstance(target := item.targets[0], ast.Name):
                tables[target.id] = _literal(item.value)
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                args = item.args.kwonlyargs + item.args.args
                annotations = {a.arg: ast.unparse(a.annotation) for a in args if a.annotation is not None}
        model = Model(node.name, [b.id for b in node.bases if isinstance(b, ast.Name)], None)
        validation = tables.get("_validation") or {}
        for python, spec in (tables.get("_attribute_map") or {}).items():
            if spec["key"] == "":
                model.open = True  # additional_properties: any other member is taken as is
                continue
            wire = re.split(r"(?<!\\)\.", spec["key"])[-1].replace("\\.", ".")
            annotation = annotations.get(python) or _msrest_type(spec["type"])
            annotation = annotation.replace("List[", "list[").replace("Dict[", "dict[")
            rules = validation.get(python, {})
            constraints = {CONSTRAINTS[k]: v for k, v in rules.items() if k in CONSTRAINTS}
            member = Field(wire, annotation, bool(rules.get("readonly")), constraints)
            model.fields[wire] = model.fields[_camel(python)] = member
        if tables.get("_subtype_map"):
            subtype_maps[node.name] = tables["_subtype_map"]
        models[node.name] = model
    for base, table in subtype_maps.items():
        for python, subtypes in table.items():
            member = models[base].fields[_camel(python)]
            models[base].discriminator_keys = (member.wire, _camel(python))
            models[base].subtypes = dict(subtypes)
            for value, sub in subtypes.items():
                models[sub].discriminator = value
    return Api(models, _enums(enums_source))


@cache
def api(package: str) -> Api:
    """The models and enums of one pinned wheel; FileNotFoundError naming `make api-models`."""
    version, models_dir = API_MODEL_WHEELS[package]
    wheel = WHEELS / f"{package.replace('-', '_')}-{version}-py3-none-any.whl"
    if not wheel.is_file():
        raise FileNotFoundError(f"{wheel} is missing: run `make api-models`")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        enums = next(n for n in sorted(names) if n.startswith(f"{models_dir}/_") and n.endswith("_enums.py"))
        if f"{models_dir}/_models.py" in names:
            return _parse(archive.read(f"{models_dir}/_models.py").decode(), archive.read(enums).decode())
        return _parse_msrest(archive.read(f"{models_dir}/_models_py3.py").decode(), archive.read(enums).decode())


def _strip(annotation: str) -> str:
    text = annotation.strip().strip("'\"")
    match = re.fullmatch(r"Optional\[(.*)\]", text)
    return _strip(match.group(1)) if match else text


def node(api_: Api, annotation: str, constraints: dict[str, Any] | None = None) -> Node:
    """The annotated type as the shared checker's `Node` (with the member's msrest constraints)."""
    text = _strip(annotation)
    rules = constraints or {}
    enum = re.fullmatch(r"Union\[str, [\"']_models\.(\w+)[\"']\]", text)
    if enum:
        return Node("string", enum.group(1), enum=frozenset(api_.enums.get(enum.group(1), set())), fold_case=True)
    if text.startswith("list["):
        return Node("list", text, item=lambda: node(api_, text[5:-1]), **rules)
    if text.startswith("dict[str, "):
        return Node("map", text, item=lambda: node(api_, text[len("dict[str, ") : -1]), **rules)
    if text == "datetime.timedelta":
        return Node("string", "duration", form=DURATION)
    if text in SCALARS:
        return Node(SCALARS[text], text, **rules)
    model = re.fullmatch(r"[\"']?_models\.(\w+)[\"']?", text)
    if model:
        return model_node(api_, model.group(1))
    return Node("any", text)  # Any, Literal, datetime and other shapes the stacks do not send


def model_node(api_: Api, name: str) -> Node:
    """Model `name` as a `Node`; a flattened `properties` model's members are its own too
    (azure-native takes them at the top level)."""

    def members(value: dict[str, Any]) -> tuple[str, dict[str, Node]]:
        subtype = api_.subtype(name, value)
        fields = api_.all_fields(subtype)
        flattened = fields.get("properties")
        inner = re.fullmatch(r"[\"']?_models\.(\w+)[\"']?", _strip(flattened.annotation)) if flattened else None
        everything = {**(api_.all_fields(inner.group(1)) if inner else {}), **fields}
        return subtype, {
            key: replace(node(api_, f.annotation, f.constraints), read_only=f.read_only)
            for key, f in everything.items()
        }

    return Node("object", name, members=members, extra=(lambda: Node("any")) if api_.is_open(name) else None)


def check_model(api_: Api, name: str, value: Any, where: str, skip: frozenset[str] = frozenset()) -> list[str]:
    """Problems with `value` as a body of model `name`; keys in `skip` are URL parameters."""
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k not in skip}
    return check(value, model_node(api_, name), where)


def download() -> None:
    """`make api-models`: the pinned wheels into `.venv/api-models/`, as files (never installed)."""
    import subprocess
    import sys

    pins = [f"{package}=={version}" for package, (version, _) in API_MODEL_WHEELS.items()]
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps"]
    subprocess.run([*command, "-d", str(WHEELS), *pins], check=True)


if __name__ == "__main__":
    download()
