"""The capacity data: strictly typed rows, valid for each cloud's API model, every figure sourced."""

from __future__ import annotations

import re

import botocore.session
import pytest
import yaml

from infra.catalog import HERE, CatalogError, load_catalog, load_profiles, parse_catalog, parse_profiles
from infra.facts import architecture, node_image

CATALOG = load_catalog()
RAW = yaml.safe_load((HERE / "catalog.yaml").read_text())


def test_every_aws_instance_type_is_one_the_api_accepts_for_its_target() -> None:
    session = botocore.session.get_session()
    ec2 = set(session.get_service_model("ec2").shape_for("InstanceType").enum)
    sagemaker = set(session.get_service_model("sagemaker").shape_for("ProductionVariantInstanceType").enum)
    rows = [r for r in CATALOG.instances if r.cloud == "aws"]
    assert rows
    for row in rows:
        allowed = sagemaker if row.target == "managed" else ec2
        assert row.name in allowed, f"{row.name} is not a valid {row.target} instance type"


def test_sagemaker_rows_include_the_end_2026_types_botocore_lists() -> None:
    names = {r.name for r in CATALOG.rows("aws", "managed")}
    assert {"ml.p5e.48xlarge", "ml.p5en.48xlarge", "ml.p6-b200.48xlarge", "ml.g7e.2xlarge"} <= names
    assert {"ml.p5.4xlarge", "ml.p6-b300.48xlarge"} <= names  # single H100; Blackwell Ultra


def test_h200_and_blackwell_b200_on_every_cloud() -> None:
    for cloud in ("aws", "gcp", "azure"):
        gpus = {r.gpu.name for r in CATALOG.instances if r.cloud == cloud and r.gpu}
        assert "H200" in gpus, cloud
        # Azure sells Blackwell only as ND GB200 v6: the B200-class GPU of a GB200 superchip.
        assert ("B200" if cloud != "azure" else "GB200") in gpus, cloud
    assert any(r.gpu and r.gpu.name == "MI300X" and r.gpu.engine_caveat for r in CATALOG.instances)


def test_an_arm_hosted_gpu_row_has_a_node_image_for_its_architecture() -> None:
    # Sizing may place a model on it (with requirements.arm64), so the cluster must be able to boot it.
    arm = [r for r in CATALOG.instances if r.gpu and architecture(r.cloud, r.name) == "arm64"]
    assert [r.name for r in arm] == ["Standard_ND128isr_NDR_GB200_v6"]
    assert all(node_image(r.cloud, "arm64", r.gpu.runtime if r.gpu else None) for r in arm)


# Neither cloud's API model enumerates its machine sizes, but both name them by rule, and the rule
# carries a figure the row must repeat.
# Azure (learn.microsoft.com/azure/virtual-machines/vm-naming-conventions): Standard_<family><vCPUs>
# <features>[_<accelerator>...]_v<version>, e.g. Standard_ND96isr_H200_v5 has 96 vCPUs.
AZURE_SIZE = re.compile(r"^Standard_[A-Z]+(?P<vcpu>[0-9]+)[a-z]*(_[A-Z0-9]+)*_v[0-9]+$")
# GCP (cloud.google.com/compute/docs/machine-resource): <series>-<type>-<vCPUs> (g2-standard-8), or
# <series>-<type>-<GPUs>g for accelerator-optimized types (a3-ultragpu-8g); N1 attaches GPUs (+<type>).
GCP_TYPE = re.compile(r"^[a-z][a-z0-9]*-[a-z]+-(?P<count>[0-9]+)(?P<g>g?)(\+nvidia-[a-z0-9-]+)?$")


@pytest.mark.parametrize("cloud", ["azure", "gcp"])
def test_every_size_name_follows_its_clouds_naming_rule_and_repeats_its_figure(cloud: str) -> None:
    rows = [r for r in CATALOG.instances if r.cloud == cloud]
    assert rows
    for row in rows:
        found = (AZURE_SIZE if cloud == "azure" else GCP_TYPE).match(row.name)
        assert found, f"{row.name} does not follow {cloud}'s size naming"
        if cloud == "azure":
            assert int(found["vcpu"]) == row.vcpu, row.name
        else:
            assert int(found["count"]) == (row.gpus if found["g"] else row.vcpu), row.name


def test_every_catalog_number_has_a_source() -> None:
    for name, gpu in RAW["gpus"].items():
        assert {"memory", "bandwidth", "tflops"} <= set(gpu["sources"]), name
        assert all(str(s).strip() for s in gpu["sources"].values()), name
    for name, link in RAW["interconnects"].items():
        assert {"bandwidth", "latency"} <= set(link["sources"]), name
    for cloud, section in RAW["instances"].items():
        for row in section["rows"]:
            sources = row["sources"]
            assert sources.get("specs") and sources.get("price"), (cloud, row["type"])
            if "spot_hourly_usd" in row:
                assert sources.get("spot"), (cloud, row["type"])


def test_catalog_covers_every_cloud_and_target_with_the_required_gpus() -> None:
    required = {
        "aws": {"T4", "A10G", "L4", "L40S", "A100-40GB", "A100-80GB", "H100-80GB", "H200", "B200", "inferentia2"},
        "gcp": {"T4", "L4", "A100-40GB", "A100-80GB", "H100-80GB", "H200", "B200"},
        "azure": {"T4", "A100-80GB", "H100-80GB"},
    }
    for cloud, gpus in required.items():
        for target in ("managed", "kubernetes"):
            rows = CATALOG.rows(cloud, target)
            present = {r.gpu.name for r in rows if r.gpu}
            assert gpus <= present, (cloud, target, gpus - present)
            assert any(r.gpu is None for r in rows), f"{cloud} {target} has no CPU baseline"


def test_spot_is_cheaper_than_on_demand_where_offered() -> None:
    for row in CATALOG.instances:
        if row.spot_hourly_usd is not None:
            assert 0 < row.spot_hourly_usd < row.hourly_usd, row.name


def test_multi_gpu_rows_name_their_interconnect_and_pcie_boards_have_no_nvlink() -> None:
    for row in CATALOG.instances:
        if row.gpus > 1:
            assert row.interconnect is not None, row.name
    g6e = CATALOG.find("aws", "g6e.12xlarge", "kubernetes")
    p5 = CATALOG.find("aws", "p5.48xlarge", "kubernetes")
    assert g6e and p5 and g6e.interconnect and p5.interconnect
    assert g6e.interconnect.name.startswith("pcie") and p5.interconnect.name == "nvlink4"
    assert p5.interconnect.gbps > 10 * g6e.interconnect.gbps


def test_formats_follow_the_architecture() -> None:
    acc = CATALOG.accelerators
    assert acc["A100-80GB"].tflops("fp8") is None and acc["T4"].tflops("bf16") is None
    assert acc["H100-80GB"].tflops("fp8") == pytest.approx(2 * acc["H100-80GB"].fp16_tflops, rel=0.01)
    assert acc["H100-80GB"].tflops("fp4") is None
    assert acc["B200"].tflops("fp4") == pytest.approx(2 * (acc["B200"].tflops("fp8") or 0))


# --- strict typing: a typo is an error naming the file, the row and the key ---------------------


def _with(row_change: dict, cloud: str = "aws", index: int = 0) -> dict:
    data = yaml.safe_load((HERE / "catalog.yaml").read_text())
    data["instances"][cloud]["rows"][index].update(row_change)
    return data


def test_a_misspelt_instance_key_is_an_error_naming_file_row_and_key() -> None:
    data = _with({"spot_hourly_usdd": 0.1})
    with pytest.raises(CatalogError) as caught:
        parse_catalog(data)
    assert str(caught.value) == (
        "infra/catalog/catalog.yaml: instances.aws.rows[0] (g4dn.xlarge): spot_hourly_usdd:"
        " extra inputs are not permitted (got 0.1)"
    )


def test_wrong_types_missing_keys_and_dangling_names_are_errors() -> None:
    with pytest.raises(CatalogError, match=r"rows\[1\] \(g4dn.12xlarge\): hourly_usd: input should be a valid number"):
        parse_catalog(_with({"hourly_usd": "cheap"}, index=1))
    data = _with({})
    del data["instances"]["aws"]["rows"][0]["sources"]["price"]
    with pytest.raises(CatalogError, match=r"rows\[0\] \(g4dn.xlarge\): sources.price: field required"):
        parse_catalog(data)
    with pytest.raises(CatalogError, match=r"gpu: 'X100' is not an accelerator"):
        parse_catalog(_with({"gpu": "X100"}))
    with pytest.raises(CatalogError, match=r"interconnect: None must name one of"):
        parse_catalog(_with({"interconnect": None}, index=1))
    data = yaml.safe_load((HERE / "catalog.yaml").read_text())
    data["gpus"]["A100-80GB"]["formats"].append("fp8")
    with pytest.raises(CatalogError, match=r"gpus.A100-80GB: \(row\): value error, formats lists fp8 but fp8_tflops"):
        parse_catalog(data)


def test_profiles_are_strict_too() -> None:
    data = yaml.safe_load((HERE / "profiles.yaml").read_text())
    data["small"]["max_gpu"] = 1
    with pytest.raises(
        CatalogError, match=r"^infra/catalog/profiles.yaml: small: max_gpu: extra inputs are not permitted"
    ):
        parse_profiles(data)
    assert set(load_profiles()) == {"pilot", "small", "medium", "large", "xlarge"}
