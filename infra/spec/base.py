"""What every stack-file model shares: strictness, the namespace, the name rule and URL redaction."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

NAMESPACE = "ml-serving"
NAME_MAX = 32
# What the offline preview passes for a `secure:` value, which only the Pulumi CLI can decrypt.
SECRET = "[secret]"
# JSON Schema mark of a field whose strings stay secret in resources when its config key is secret.
SECRET_CAPABLE = "x-secret-capable"
_NAME = re.compile(r"[a-z]([a-z0-9-]*[a-z0-9])?")


def _name(value: str) -> str:
    """Names become parts of cloud resource names: DNS-safe, and short enough to leave room."""
    if len(value) > NAME_MAX:
        raise ValueError(f"{value!r} is {len(value)} characters, at most {NAME_MAX}")
    if not _NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} may hold only lowercase letters, digits and '-', start with a letter and end with"
            " a letter or digit"
        )
    return value


Name = Annotated[
    str,
    # The pattern and length are in the JSON Schema for editors; the validator words the error.
    Field(json_schema_extra={"pattern": _NAME.pattern.join("^$"), "maxLength": NAME_MAX, "minLength": 1}),
    AfterValidator(_name),
]


class _Strict(BaseModel):
    # Unknown keys are errors: a typo must never be silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


def redacted(uri: str) -> str:
    """`uri` without credentials (`user:pass@`) or query string (`?token=...`), for an error line."""
    scheme, sep, rest = uri.partition("://")
    if sep:
        host, slash, path = rest.partition("/")
        rest = host.rsplit("@", 1)[-1] + slash + path
    shown = f"{scheme}{sep}{rest}" if sep else uri
    return shown.split("?", 1)[0] + ("?<redacted>" if "?" in shown else "")
