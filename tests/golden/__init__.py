"""Rename safety: the identity of every resource each shipped stack registers, kept in git.

`tests/golden/<stack>.json` lists, per resource, its type, logical name, parent (the parent's
identity, `null` at the top) and whether it is protected. A resource's identity is what the
engine's URN is made of, the chain of its ancestors' types, its type and its name
(`ml-serving:aws:Keys$aws:kms/key:Key::keys-key`): change any of them and `pulumi up` replaces the
resource, unless the new one carries an alias to the old identity. A protected resource's entry
also holds `names`, the inputs that name and place it in its cloud's API (`vaultName`, `location`,
...): the provider replaces the resource when one changes, and no alias prevents that.

`python -m tests.golden` shows how each stack differs from its file; `--update` rewrites the files
from the real program (`make golden` does the same). `tests/test_golden.py` fails on any
difference, and names the protected resources a change would replace.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from infra.engine.mockrun import UNKNOWN

GOLDEN = Path(__file__).parent
UPDATE = "python -m tests.golden --update"  # or `make golden`

Entry = dict[str, Any]  # {"type", "name", "parent", "protect"} and, where protected, "names"
# Per type of resource the stacks protect: the inputs that name or place it in its API, each of
# which the provider can only change by replacing the resource (a type absent here whose name the
# provider generates from the logical name, such as an unnamed S3 bucket, is kept by its identity).
NAME_INPUTS: dict[str, tuple[str, ...]] = {
    "aws:kms/key:Key": (),  # AWS generates the key id
    "aws:s3/bucket:Bucket": ("bucket", "bucketPrefix"),
    "aws:ecr/repository:Repository": ("name",),
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": ("modelPackageGroupName",),
    "gcp:kms/keyRing:KeyRing": ("name", "location"),
    "gcp:kms/cryptoKey:CryptoKey": ("name",),
    "gcp:artifactregistry/repository:Repository": ("repositoryId", "location"),
    "gcp:storage/bucket:Bucket": ("name", "location"),
    "gcp:bigquery/dataset:Dataset": ("datasetId", "location"),
    "gcp:container/cluster:Cluster": ("name", "location"),
    "aws:eks/cluster:Cluster": ("name",),
    "azure-native:containerservice:ManagedCluster": ("resourceName", "resourceGroupName", "location"),
    "azure-native:resources:ResourceGroup": ("resourceGroupName", "location"),
    "azure-native:keyvault:Vault": ("vaultName", "resourceGroupName", "location"),
    "azure-native:keyvault:Key": ("keyName",),
    "azure-native:containerregistry:Registry": ("registryName", "resourceGroupName", "location"),
    "azure-native:storage:StorageAccount": ("accountName", "resourceGroupName", "location"),
    "azure-native:storage:BlobContainer": ("containerName",),
    "azure-native:machinelearningservices:Workspace": ("workspaceName", "resourceGroupName", "location"),
}


def golden_path(stack: str) -> Path:
    return GOLDEN / f"{stack}.json"


def read_golden(stack: str) -> list[Entry] | None:
    """The stack's golden entries; None when the stack has no golden file yet."""
    path = golden_path(stack)
    return json.loads(path.read_text()) if path.exists() else None


def write_golden(stack: str, entries: list[Entry]) -> None:
    """One entry per line, so a review shows each resource that appears, disappears or changes."""
    lines = ",\n".join(f"  {json.dumps(e)}" for e in entries)
    golden_path(stack).write_text(f"[\n{lines}\n]\n")


def entries_of(resources: list[dict[str, Any]]) -> list[Entry]:
    """Golden entries of a preview's resources (as `infra.engine.mockrun` records them), sorted."""
    by_urn = {r["urn"]: r for r in resources}
    found = [
        {
            "type": r["type"],
            "name": r["name"],
            "parent": _identity(by_urn[r["parent"]], by_urn) if r["parent"] in by_urn else None,
            "protect": r["protect"],
        }
        | ({"names": names_of(r)} if r["protect"] else {})
        for r in resources
    ]
    return sorted(found, key=identity)


def names_of(resource: dict[str, Any]) -> dict[str, str]:
    """The known values of a protected resource's `NAME_INPUTS`; a KeyError names a protected
    type the table lacks, so a newly protected type cannot go unrecorded."""
    if resource["type"] not in NAME_INPUTS:
        raise KeyError(f"{resource['type']} is protected: list the inputs that name it in NAME_INPUTS")
    inputs = resource["inputs"]
    return {
        k: inputs[k] for k in NAME_INPUTS[resource["type"]] if isinstance(inputs.get(k), str) and inputs[k] != UNKNOWN
    }


def identity(entry: Entry) -> str:
    """`<ancestor types and own type, $-joined>::<name>`: what the engine's URN is made of."""
    if entry["parent"] is None:
        return f"{entry['type']}::{entry['name']}"
    parent_types = entry["parent"].rsplit("::", 1)[0]
    return f"{parent_types}${entry['type']}::{entry['name']}"


def differences(golden: list[Entry], resources: list[dict[str, Any]]) -> list[str]:
    """One line per entry that is in only one of the golden file and the preview."""
    now = entries_of(resources)
    gone = [e for e in golden if e not in now]
    new = [e for e in now if e not in golden]
    return [f"- {json.dumps(e)}" for e in gone] + [f"+ {json.dumps(e)}" for e in new]


def protected_replacements(golden: list[Entry], resources: list[dict[str, Any]]) -> list[str]:
    """A line per protected golden resource the preview would replace: one whose identity nothing
    keeps (neither a resource of that identity nor one carrying an alias to it), or whose name in
    its API (`names`) changes."""
    entries = entries_of(resources)
    now = {identity(e) for e in entries} | set(aliased_identities(resources))
    kept = {identity(e): e.get("names", {}) for e in entries}
    problems = [
        f"{identity(e)} is protected and would be replaced: add `aliases=[pulumi.Alias(...)]` naming its"
        f" old name, type or parent to the resource that takes its place (or, if replacing it is"
        f" intended, unprotect it first and run `{UPDATE}`)"
        for e in golden
        if e["protect"] and identity(e) not in now
    ]
    for e in golden:
        if not e["protect"] or identity(e) not in kept:
            continue
        for key, old in e.get("names", {}).items():
            new = kept[identity(e)].get(key, old)  # a name unknown at preview is not a change
            if new != old:
                problems.append(
                    f"{identity(e)} is protected and would be replaced: its {key} changes from {old!r} to"
                    f" {new!r}, which no alias keeps; derive the old name again (or, if replacing it is"
                    f" intended, unprotect it first and run `{UPDATE}`)"
                )
    return problems


def aliased_identities(resources: list[dict[str, Any]]) -> Iterable[str]:
    """The old identities the preview's resources answer to through their aliases."""
    by_urn = {r["urn"]: r for r in resources}
    for resource in resources:
        for alias in resource["aliases"]:
            if "urn" in alias:
                yield _urn_identity(alias["urn"])
                continue
            if alias.get("noParent"):
                parent = None
            elif alias.get("parentUrn"):
                owner = by_urn.get(alias["parentUrn"])
                parent = _identity(owner, by_urn) if owner else _urn_identity(alias["parentUrn"])
            else:
                owner = by_urn.get(resource["parent"])
                parent = _identity(owner, by_urn) if owner else None
            entry = {"type": alias.get("type") or resource["type"], "name": alias.get("name") or resource["name"]}
            yield identity({**entry, "parent": parent})


def _identity(resource: dict[str, Any], by_urn: dict[str, dict[str, Any]]) -> str:
    parent = by_urn.get(resource["parent"])
    entry = {"type": resource["type"], "name": resource["name"]}
    return identity({**entry, "parent": _identity(parent, by_urn) if parent else None})


def _urn_identity(urn: str) -> str:
    """`urn:pulumi:<stack>::<project>::<types>::<name>` without the stack, project and root type."""
    rest = urn.split("::", 2)[2]
    return rest.removeprefix("pulumi:pulumi:Stack$")
