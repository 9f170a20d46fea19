"""Credentials in plain text in a stack file: found by name, by form or in a URL, and never printed.

A stack file is committed, and what the program reads from it in plain text is stored unencrypted
in the state and sent to the cloud (a container's environment, a tag), where every reader of the
resource sees it. Pulumi's answer is a secret config value (`pulumi config set --secret`): the CLI
encrypts it in the file and tells the program which config keys are secret, and the program keeps
their values secret (`infra.secret_config`).

Searched: the strings at fields the spec marks as able to carry a secret (`SECRET_CAPABLE`: model
`env`, `artifact`, `tags`), the only free-form strings the program passes to a cloud API, and the
provider config keys named for a credential (`aws:secretKey`, `azure-native:clientSecret`). What
marks a credential is data (`credentials.yaml`, a source per rule). The Pulumi engine says which
*keys* are secret, not which part of a structured key was `secure:`, so a key the engine marked is
not searched: its strings are all kept secret (but a plain value beside a `secure:` one in it stays
readable in the stack file).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml

from infra.spec.base import NAMESPACE, SECRET_CAPABLE, redacted

RULES = Path(__file__).with_name("credentials.yaml")
Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class PlainCredential:
    """A credential given in plain text: where (`loc`, from the config key down), why it is one, and
    the value (to mask it in any error line; never printed)."""

    loc: Loc
    why: str
    value: str
    provider: str | None = None  # a provider's config key (`aws:secretKey`), set whole: no --path

    @property
    def path(self) -> str:
        """The key path as `pulumi config set --path` takes it: `endpoints[0].models[0].env.HF_TOKEN`."""
        text = ""
        for part in self.loc:
            if isinstance(part, int):
                text += f"[{part}]"
            elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
                text += f".{part}" if text else part
            else:
                text += f"[{json.dumps(part)}]"
        return text

    def line(self, stack: str) -> str:
        """One line: the key path, that it is a credential in plain text, and the command that fixes it."""
        key, command = (
            (self.provider, self.provider) if self.provider else (f"{NAMESPACE}:{self.path}", f"--path '{self.path}'")
        )
        return (
            f"{key}: {self.why} in plain text; the stack file, the state and the cloud resource would hold it"
            f" unencrypted; make it a secret: pulumi config set --secret {command} --stack {stack} (it prompts for"
            " the value)"
        )


def secret_capable_values(name: str, value: Any) -> Iterator[tuple[Loc, str]]:
    """Each string of the `ml-serving:<name>` config value at a SECRET_CAPABLE field, with its location
    (`("endpoints", 0, "models", 0, "env", "HF_TOKEN")`); nothing for a key the spec does not have."""
    schema = _schema()
    if name in schema["properties"]:
        yield from _walk(value, schema["properties"][name], schema.get("$defs", {}), False, (name,))


def plain_credentials(config: Mapping[str, str], secret_keys: Iterable[str]) -> list[PlainCredential]:
    """Credentials in `config` (as the CLI passes it) outside `secret_keys`: in the secret-capable fields of
    the `ml-serving:*` keys, and the provider keys named for one (`aws:secretKey`)."""
    found: list[PlainCredential] = []
    secret = set(secret_keys)
    for key, raw in config.items():
        namespace, _, name = key.partition(":")
        if key in secret:
            continue
        if namespace != NAMESPACE:  # a provider's own credential (aws:secretKey, azure-native:clientSecret)
            why = credential_reason(name, raw)
            if why:
                found.append(PlainCredential((name,), why, raw, provider=key))
            continue
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        for loc, text in secret_capable_values(name, value):
            why = credential_reason(loc[-1] if isinstance(loc[-1], str) and len(loc) > 1 else None, text)
            if why:
                found.append(PlainCredential(loc, why, text))
    return found


def credential_reason(name: str | None, value: str) -> str | None:
    """Why `value` (under the variable or tag `name`, if any) is a credential, or None: "a credential by
    its name (HF_TOKEN)", "a Hugging Face access token", "a URL with a password". Never quotes the value."""
    rules = _rules()
    if not value or re.fullmatch(rules["literal_value"], value):
        return None
    if name is not None and _names_credential(name):
        return f"a credential by its name ({name})"
    for rule in rules["values"]:
        if re.search(rule["pattern"], value):
            return rule["what"]
    if "://" in value:
        try:
            url = urlsplit(value)
        except ValueError:
            return None
        if url.password:
            return "a URL with a password"
        if url.username:
            return "a URL with user information"
        signing = {q["name"] for q in rules["query_parameters"]}
        for param, _ in parse_qsl(url.query, keep_blank_values=True):
            if param.lower() in signing or _names_credential(param):
                return f"a URL with a {param} parameter"
    return None


def shown(value: str) -> str:
    """`value` as an error line may show it: a URL holding a credential without its user information
    and query string, any other credential as `<credential>`, anything else as it is."""
    why = credential_reason(None, value)
    if why is None:
        return value
    return redacted(value) if why.startswith("a URL") else "<credential>"


def _names_credential(name: str) -> bool:
    rules = _rules()
    if name.upper() in {n["name"] for n in rules["not_credentials"]}:
        return False
    words = [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", name)]
    if not words or words[-1] in rules["reference_suffixes"]:
        return False
    return any(words[i : i + len(rule["words"])] == rule["words"] for rule in rules["names"] for i in range(len(words)))


@cache
def _rules() -> dict[str, Any]:
    return yaml.safe_load(RULES.read_text())


@cache
def _schema() -> dict[str, Any]:
    from infra.spec.stack import Spec

    return Spec.model_json_schema()


def _walk(value: Any, node: dict[str, Any], defs: dict[str, Any], capable: bool, loc: Loc) -> Iterator[tuple[Loc, str]]:
    while "$ref" in node or "anyOf" in node:
        if "$ref" in node:
            node = {**defs[node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
        else:
            choices = [n for n in node["anyOf"] if n.get("type") != "null"]
            node = {**(choices[0] if choices else {}), **{k: v for k, v in node.items() if k != "anyOf"}}
    capable = capable or bool(node.get(SECRET_CAPABLE))
    if isinstance(value, str) and capable:
        yield loc, value
    elif isinstance(value, dict):
        properties = node.get("properties", {})
        extra = node.get("additionalProperties")
        for key, item in value.items():
            child = properties.get(key, extra if isinstance(extra, dict) else {})
            yield from _walk(item, child, defs, capable, (*loc, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, node.get("items", {}), defs, capable, (*loc, i))
