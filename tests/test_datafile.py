"""The per-cloud data files are read strictly: a misspelt or misplaced key is one line naming the
file, the cloud and the key, never a fact silently read as absent."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infra.datafile import DataFileError, load_sections
from infra.facts import CloudFacts, cloud_facts
from infra.spec.cloud_rules import CloudRules, cloud_rules

FILES = {
    "facts.yaml": (Path("infra/facts.yaml"), CloudFacts),
    "cloud_rules.yaml": (Path("infra/spec/cloud_rules.yaml"), CloudRules),
}


def test_the_shipped_files_load_for_every_cloud() -> None:
    assert set(cloud_facts()) == set(cloud_rules()) == {"aws", "gcp", "azure"}


@pytest.mark.parametrize("name", sorted(FILES))
def test_a_misspelt_key_is_one_line_naming_file_cloud_and_key(name: str, tmp_path: Path) -> None:
    path, model = FILES[name]
    data = yaml.safe_load(path.read_text())
    key = next(iter(data["gcp"]))
    data["gcp"][key + "s"] = data["gcp"].pop(key)  # e.g. region_patterns, regionss
    broken = tmp_path / name
    broken.write_text(yaml.safe_dump(data))
    with pytest.raises(DataFileError) as caught:
        load_sections(broken, model)
    assert str(caught.value).splitlines() == [
        f"{name}: gcp.{key}: field required",
        f"{name}: gcp.{key}s: extra inputs are not permitted",
    ]


def test_a_wrong_type_names_the_nested_key(tmp_path: Path) -> None:
    data = yaml.safe_load(Path("infra/facts.yaml").read_text())
    data["azure"]["serving"]["managed"]["port"] = "eighty"
    broken = tmp_path / "facts.yaml"
    broken.write_text(yaml.safe_dump(data))
    with pytest.raises(DataFileError, match=r"^facts\.yaml: azure\.serving\.managed\.port: input should be a valid"):
        load_sections(broken, CloudFacts)
