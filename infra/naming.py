"""Physical names: one derivation for every cloud, each cloud's rules as data (`naming.yaml`).

`physical_name(cloud, kind, stack, *parts)` turns a stack name (anything `pulumi stack init`
accepts: letters, digits, `_`, `.`, `-`, up to 100 characters) and the spec's own names into a
name the cloud's API accepts for that kind of resource. A name that already fits is kept as it
reads (`aws-prod-chat`); one that does not (too long, upper case where the API folds case, a
character the API refuses) is cleaned and shortened, and gets a short stable hash of the
original parts so two inputs never share a cleaned name; so does a name whose parts would not
split back one way. Within one stack, distinct parts give distinct names. Pure and
deterministic: the same inputs give the same name on every run and every machine.

For an `autoname` kind the result leaves room for the provider's own suffix (Pulumi names a
resource `<logical name>-<7 hex>`); translators pass it as the resource's logical name. A kind
with `stack: false` names an object inside the stack's own cluster (`kubernetes` rows): the stack
is not one of its parts.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml

# Pulumi's autoname: the logical name, '-', and seven random hex characters.
AUTONAME_SUFFIX_LENGTH = 8
HASH_LENGTH = 6  # hex characters of sha256: 16.7M values, against a handful of names per stack
# Prepended when a kind must start with a letter and the name would start with a digit.
LEAD = "m"
_EDGES = re.compile(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$")  # punctuation at either end of a part
STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")  # pulumi/pulumi validateStackName


@dataclass(frozen=True)
class NameRule:
    """One row of `naming.yaml`: how a kind of resource may be named on one cloud."""

    kind: str
    max: int
    chars: str  # regex class body of the characters emitted inside a part
    lower: bool
    sep: str
    start: Literal["letter", "alnum"]
    pattern: str  # the API's documented rule for the whole name
    source: str
    min: int = 1
    autoname: bool = False
    prefix: str = ""
    suffix: str = ""
    inner: str | None = None
    always_hash: bool = False
    stack: bool = True  # the stack name is the first part (false: the name lives in the stack's cluster)

    @property
    def budget(self) -> int:
        """Characters left for the derived part: the whole minus fixed text and the autoname suffix."""
        return self.max - len(self.prefix) - len(self.suffix) - (AUTONAME_SUFFIX_LENGTH if self.autoname else 0)


@cache
def name_rules() -> dict[str, dict[str, NameRule]]:
    """`{cloud: {kind: NameRule}}` from `naming.yaml`."""
    data = yaml.safe_load((Path(__file__).parent / "naming.yaml").read_text())
    return {cloud: {kind: NameRule(kind=kind, **row) for kind, row in kinds.items()} for cloud, kinds in data.items()}


def physical_name(cloud: str, kind: str, stack: str, *parts: str) -> str:
    """The name of a `kind` resource of `cloud` for `stack` and the given parts (endpoint, model, ...).

    Raises KeyError for a kind `naming.yaml` does not list and ValueError for a stack name
    `pulumi stack init` would refuse (the engine never hands one to the program).
    """
    if not STACK_NAME.match(stack):
        raise ValueError(f"{stack!r} is not a Pulumi stack name (^[A-Za-z0-9_.-]{{1,100}}$)")
    rule = name_rules()[cloud][kind]
    if rule.inner is not None:
        return rule.prefix + physical_name(cloud, rule.inner, stack, *parts) + rule.suffix
    return rule.prefix + _fit(rule, [stack, *parts] if rule.stack else list(parts)) + rule.suffix


@dataclass(frozen=True)
class Names:
    """`physical_name` bound to one cloud and stack: `names("sagemaker_endpoint", "chat")`."""

    cloud: str
    stack: str

    def __call__(self, kind: str, *parts: str) -> str:
        return physical_name(self.cloud, kind, self.stack, *parts)


def _fit(rule: NameRule, raw: list[str]) -> str:
    cleaned = [_clean(part, rule) for part in raw]
    kept = [c for c in cleaned if c]
    # Joined parts must split back one way: a separator inside a middle part (`a-b` + `c` against
    # `a` + `b-c`) makes the name ambiguous, so it gets the hash as a lossy clean-up does.
    ambiguous = len(kept) > 2 and any(not rule.sep or rule.sep in part for part in kept[1:-1])
    lossy = cleaned != raw or ambiguous
    text = rule.sep.join(kept)
    lead = LEAD if rule.start == "letter" and not text[:1].isalpha() else ""
    size = len(lead) + len(text) + len(rule.prefix) + len(rule.suffix)
    # Nothing left to read (no parts, or only punctuation): the hash alone names it.
    if not text or lossy or rule.always_hash or len(lead) + len(text) > rule.budget or size < rule.min:
        digest = hashlib.sha256("/".join(raw).encode()).hexdigest()[:HASH_LENGTH]
        room = rule.budget - len(digest) - len(rule.sep) - (len(LEAD) if rule.start == "letter" else 0)
        text = rule.sep.join([*_trim(kept, room, rule.sep), digest])
        lead = LEAD if rule.start == "letter" and not text[:1].isalpha() else ""
    return lead + text


def _clean(part: str, rule: NameRule) -> str:
    """The part in the rule's characters: others become the separator, runs of punctuation collapse
    to their first character, and no punctuation is left at either end."""
    text = part.lower() if rule.lower else part
    text = re.sub(f"[^{rule.chars}]", rule.sep, text)
    text = re.sub(r"([^A-Za-z0-9])[^A-Za-z0-9]+", r"\1", text)
    return _EDGES.sub("", text)


def _trim(parts: list[str], room: int, sep: str) -> list[str]:
    """Shorten the longest part first, one character at a time, until the parts fit in `room`."""
    parts = list(parts)
    while parts and len(sep.join(parts)) > room:
        longest = max(range(len(parts)), key=lambda i: len(parts[i]))
        cut = _EDGES.sub("", parts[longest][:-1])
        if cut:
            parts[longest] = cut
        else:
            del parts[longest]
    return parts
