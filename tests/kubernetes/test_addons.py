"""The add-ons as data: which cloud installs what, pinned versions, and the mirror list with the
chart values that point every image at the stack's registry."""

from __future__ import annotations

import re

import pytest

from infra.addons import addons_for, load_addons, mirror_list

MIRROR = "registry.example/ml-serving/test/mirror"


def test_the_device_plugin_goes_where_the_cloud_does_not_run_one() -> None:
    names = {cloud: [a.name for a in addons_for(cloud)] for cloud in ("aws", "gcp", "azure")}
    assert "nvidia-device-plugin" in names["aws"] and "nvidia-device-plugin" in names["azure"]
    assert "nvidia-device-plugin" not in names["gcp"]  # GKE runs its own on GPU nodes
    common = ["cert-manager", "envoy-gateway", "keda", "prometheus", "kserve-crd", "kserve"]
    assert all([n for n in found if n != "nvidia-device-plugin"] == common for found in names.values())


def test_every_version_is_an_exact_pin_and_kserve_has_named_canaries_and_the_503_fix() -> None:
    for addon in load_addons():
        assert re.fullmatch(r"v?\d+\.\d+\.\d+", addon.version), addon.name
        assert addon.source
    kserve = {a.name: a.version for a in load_addons()}["kserve"]
    assert tuple(int(p) for p in kserve.lstrip("v").split(".")) >= (0, 21, 0)  # #5984 landed after v0.20.0


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_every_image_is_on_the_mirror_list_and_the_charts_values_point_at_the_mirror(cloud) -> None:
    copies = dict(mirror_list(cloud, MIRROR))
    for addon in addons_for(cloud):
        values = addon.chart_values(MIRROR)
        for image in addon.images:
            assert copies[f"{image.source}:{image.tag}"] == f"{MIRROR}/{image.path}:{image.tag}"
            for path, form in image.values.items():
                value = values
                for key in path.split("."):
                    value = value[key]
                assert value == image.mirrored(MIRROR, form)
                assert str(value).startswith(MIRROR)
    # Nothing is pulled from a public registry by a value we did not rewrite.
    sources = {source.split("/", 1)[0] for source in copies}
    assert all(not dest.startswith(tuple(sources)) for dest in copies.values())


def test_mirrored_forms() -> None:
    kserve = next(a for a in load_addons() if a.name == "kserve")
    controller = kserve.image("docker.io/kserve/kserve-controller")
    assert controller.mirrored(MIRROR) == f"{MIRROR}/kserve/kserve-controller"
    assert controller.mirrored(MIRROR, "ref") == f"{MIRROR}/kserve/kserve-controller:v0.21.0"
    assert controller.mirrored(MIRROR, "registry") == MIRROR
    values = kserve.chart_values(MIRROR)["kserve"]
    assert values["controller"]["rbacProxyImage"] == f"{MIRROR}/brancz/kube-rbac-proxy:v0.18.0"
    assert values["controller"]["deploymentMode"] == "Standard"
