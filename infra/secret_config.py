"""Secret config stays secret: a resource input that carries a secret config value is marked secret.

The Pulumi CLI hands the program decrypted values and, apart, the names of the secret keys; a
value read from the config map is a plain string, and would be stored in plain text in the state.
The CLI says which *keys* are secret, not which part of a structured value was `secure:`, so in a
secret key every string at a field the spec marks as able to carry a secret (`SECRET_CAPABLE`:
an artifact URI with a token, tag values) counts as secret. Names and settings never do: marking
every string of the key would mark every resource named after an endpoint.

A stack transformation sees a resource's inputs before they resolve, so an input built from a
secret and a value unknown at preview (an Output) is marked when it resolves, at `pulumi up`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from typing import Any

import pulumi
from pulumi import _types
from pulumi.runtime.config import get_config_secret_keys_env, is_config_secret

from infra.spec import NAMESPACE
from infra.spec.credentials import secret_capable_values


def secret_keys(config: Mapping[str, str]) -> list[str]:
    """The config keys the engine marked secret (through set_all_config or PULUMI_CONFIG_SECRET_KEYS)."""
    from_env = set(get_config_secret_keys_env())
    return sorted(k for k in config if k in from_env or is_config_secret(k))


def secret_strings(config: Mapping[str, str], keys: Iterable[str]) -> frozenset[str]:
    """The strings at secret-capable fields of our namespace's `keys` (JSON-decoded like `Config.get_object`)."""
    found: set[str] = set()
    for key in keys:
        namespace, _, name = key.partition(":")
        if namespace != NAMESPACE:
            continue  # a provider's own config: the provider keeps it secret
        try:
            value: Any = json.loads(config[key])
        except ValueError:
            value = config[key]
        found |= {text for _, text in secret_capable_values(name, value)}
    return frozenset(s for s in found if s)


def masked(message: str, secrets: frozenset[str]) -> str:
    """`message` with every secret config string of 6 or more characters, whole or cut short as an
    error line shows a long value (its first 56 characters), written as `[secret]`."""
    for secret in sorted((s for s in secrets if len(s) >= 6), key=len, reverse=True):
        message = message.replace(secret, "[secret]").replace(repr(secret)[1:57], "[secret]")
    return message


def mark_secret_inputs(secrets: frozenset[str]) -> None:
    """Register a stack transformation that wraps each input holding one of `secrets` in a secret Output."""

    def transformation(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult:
        return pulumi.ResourceTransformationResult(_mark(args.props, secrets), args.opts)

    pulumi.runtime.register_stack_transformation(transformation)


def _mark(value: Any, secrets: frozenset[str]) -> Any:
    if isinstance(value, pulumi.Output):
        return value.apply(lambda resolved: _mark(resolved, secrets))
    if isinstance(value, str):
        return pulumi.Output.secret(value) if any(s in value for s in secrets) else value
    if _types.is_input_type(type(value)):
        # A provider's typed args (azure-native's `...Args` classes) hold their fields in the object or,
        # for dict-based ones, in the dict: mark a copy's fields, keeping its type and field names.
        marked = copy.copy(value)
        fields = marked if isinstance(marked, dict) else marked.__dict__
        for key, item in list(fields.items()):
            fields[key] = _mark(item, secrets)
        return marked
    if isinstance(value, dict):
        return {k: _mark(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark(v, secrets) for v in value]
    return value
