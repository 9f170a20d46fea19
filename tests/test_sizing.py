"""Sizing: the catalog against the AWS API's own models, the formulas against published figures,
the solver's optimality on generated workloads, profile equivalence, and the `size` command."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import botocore.session
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.catalog import load_catalog, load_profiles
from infra.engine.stackfile import ROOT
from infra.sizing import formulas, solver
from infra.spec import Requirements

CATALOG = load_catalog()
LLAMA3_8B = {"params_billion": 8.03, "layers": 32, "kv_heads": 8, "head_dim": 128}


def req(**overrides) -> Requirements:
    values = {"peak_rps": 5, "p95_latency_ms": 15000, **LLAMA3_8B}
    values.update(overrides)
    return Requirements.model_validate(values)


# --- the catalog -----------------------------------------------------------------------------


def test_every_aws_instance_type_is_one_the_api_accepts_for_its_target() -> None:
    session = botocore.session.get_session()
    ec2 = set(session.get_service_model("ec2").shape_for("InstanceType").enum)
    sagemaker = set(session.get_service_model("sagemaker").shape_for("ProductionVariantInstanceType").enum)
    rows = [r for r in CATALOG.instances if r.cloud == "aws"]
    assert rows
    for row in rows:
        allowed = sagemaker if row.target == "managed" else ec2
        assert row.name in allowed, f"{row.name} is not a valid {row.target} instance type"


def test_every_catalog_number_has_a_source() -> None:
    import yaml

    data = yaml.safe_load((ROOT / "infra" / "catalog" / "catalog.yaml").read_text())
    for name, gpu in data["gpus"].items():
        assert {"memory", "bandwidth", "tflops", "llm_tokens_per_s"} <= set(gpu["sources"]), name
        assert all(str(s).strip() for s in gpu["sources"].values()), name
    for cloud, section in data["instances"].items():
        for row in section["rows"]:
            sources = row["sources"]
            assert sources.get("specs") and sources.get("price"), (cloud, row["type"])
            if "spot_hourly_usd" in row:
                assert sources.get("spot"), (cloud, row["type"])


def test_catalog_covers_every_cloud_and_target_with_the_required_gpus() -> None:
    required = {
        "aws": {"T4", "A10G", "L4", "L40S", "A100-40GB", "A100-80GB", "H100-80GB", "inferentia2"},
        "gcp": {"T4", "L4", "A100-40GB", "A100-80GB", "H100-80GB"},
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


# --- the formulas against published figures ---------------------------------------------------


def test_llama3_8b_fp16_weights_are_about_15_gib() -> None:
    # 8.03 B parameters x 2 bytes = 16.06 GB = 14.96 GiB (Meta's model card: 8.03 B parameters).
    assert formulas.weights_gib(req()) == pytest.approx(14.96, abs=0.01)
    assert formulas.weights_gib(req(precision="int4")) == pytest.approx(14.96 / 4, abs=0.01)


def test_kv_cache_per_token_matches_model_cards() -> None:
    # Llama-3-8B: 2 x 32 layers x 8 KV heads x 128 x 2 bytes = 128 KiB per token.
    assert formulas.kv_bytes_per_token(req()) == 131_072
    # Llama-2-7B (multi-head attention, 32 KV heads): 0.5 MiB per token, the figure NVIDIA's
    # "Mastering LLM Techniques: Inference Optimization" gives.
    assert formulas.kv_bytes_per_token(req(layers=32, kv_heads=32, head_dim=128, params_billion=6.74)) == 524_288
    # Llama-3-70B: 80 layers x 8 KV heads x 128 -> 320 KiB per token.
    assert formulas.kv_bytes_per_token(req(layers=80, kv_heads=8, head_dim=128, params_billion=70.6)) == 327_680


def test_kv_shape_estimate_reproduces_llama3_layer_counts() -> None:
    assert formulas.kv_shape(req(layers=None, kv_heads=None, head_dim=None)) == (32, 8, 128)
    assert formulas.kv_shape(req(params_billion=70.6, layers=None, kv_heads=None, head_dim=None))[0] == 80


def test_kv_cache_scales_with_context_and_concurrency_and_encoders_keep_none() -> None:
    base = formulas.kv_cache_gib(req(context_tokens=4096, concurrency=8))
    assert base == pytest.approx(131_072 * 4096 * 8 / 2**30)  # 4 GiB
    assert formulas.kv_cache_gib(req(context_tokens=8192, concurrency=8)) == pytest.approx(2 * base)
    assert formulas.kv_cache_gib(req(context_tokens=4096, concurrency=16)) == pytest.approx(2 * base)
    assert formulas.kv_cache_gib(req(model_type="encoder", context_tokens=512, output_tokens=1)) == 0


def test_quantization_changes_the_gpu_that_fits() -> None:
    big = req(
        params_billion=34,
        layers=None,
        kv_heads=None,
        head_dim=None,
        p95_latency_ms=60000,
        peak_rps=1,
        context_tokens=2048,
        concurrency=2,
    )
    fp16, _ = solver.solve("aws", "managed", big)
    int4, _ = solver.solve("aws", "managed", big.model_copy(update={"precision": "int4"}))
    assert formulas.memory_needed_gib(big.model_copy(update={"precision": "int4"})) < 24
    assert int4.hourly_usd < fp16.hourly_usd
    assert int4.gpus == 1


# --- the solver --------------------------------------------------------------------------------

workloads = st.builds(
    Requirements,
    peak_rps=st.floats(0.1, 200),
    p95_latency_ms=st.floats(200, 60000),
    params_billion=st.floats(0.1, 180),
    precision=st.sampled_from(["fp32", "bf16", "fp16", "int8", "int4"]),
    model_type=st.sampled_from(["llm", "encoder"]),
    context_tokens=st.integers(512, 32768),
    output_tokens=st.integers(1, 400),
    concurrency=st.integers(1, 64),
)


@settings(max_examples=120, deadline=None)
@given(
    workload=workloads,
    cloud=st.sampled_from(["aws", "gcp", "azure"]),
    target=st.sampled_from(["managed", "kubernetes"]),
    floor=st.sampled_from([0, 1, 2]),
)
def test_no_feasible_candidate_is_cheaper_than_the_choice(workload, cloud, target, floor) -> None:
    try:
        best, candidates = solver.solve(cloud, target, workload, floor=floor)
    except solver.NoPlacementError as exc:
        assert not any(
            c.feasible for c in (solver.evaluate(r, workload, "on-demand") for r in CATALOG.rows(cloud, target))
        )
        assert "the largest is" in str(exc) or "the fastest is" in str(exc)
        return

    def peak(c):
        return max(c.replicas_needed, floor) * c.hourly_usd / c.replicas_needed

    assert best.feasible and all(peak(best) <= peak(c) + 1e-9 for c in candidates if c.feasible)
    # The choice really holds the model and meets the latency target and the peak.
    row = CATALOG.find(cloud, best.instance_type, target)
    assert row is not None
    if row.gpu is not None:
        assert formulas.memory_needed_gib(workload, best.tensor_parallel) <= best.tensor_parallel * row.gpu.memory_gib
    assert best.latency_ms <= workload.p95_latency_ms
    assert best.replicas_needed * best.rps_per_replica >= workload.peak_rps * solver.PEAK_HEADROOM - 1e-9


def test_single_gpu_rows_win_when_the_model_fits_one_gpu() -> None:
    best, _ = solver.solve("aws", "kubernetes", req(peak_rps=1))
    assert best.gpus == 1


def test_measured_rps_overrides_the_estimate() -> None:
    measured = req(peak_rps=40, measured_rps_per_replica=4.0)
    best, _ = solver.solve("aws", "managed", measured)
    assert best.rps_per_replica == 4.0
    assert best.replicas_needed == math.ceil(40 * solver.PEAK_HEADROOM / 4.0)


def test_measured_on_calibrates_other_types_by_the_estimates_ratio() -> None:
    base = req(peak_rps=10)
    estimate = solver.evaluate(CATALOG.find("aws", "ml.g6e.xlarge", "managed"), base, "on-demand").rps_per_replica
    calibrated = base.model_copy(update={"measured_rps_per_replica": estimate * 2, "measured_on": "ml.g6e.xlarge"})
    row = CATALOG.find("aws", "ml.p4d.24xlarge", "managed")
    assert solver.evaluate(row, calibrated, "on-demand").rps_per_replica == pytest.approx(
        2 * solver.evaluate(row, base, "on-demand").rps_per_replica
    )


def test_neuron_rows_need_a_neuron_image() -> None:
    row = next(r for r in CATALOG.rows("aws", "managed") if r.gpu and r.gpu.vendor == "aws")
    assert "Neuron" in (solver.evaluate(row, req(), "on-demand").reason or "")
    assert solver.evaluate(row, req(neuron=True, peak_rps=0.5, p95_latency_ms=60000), "on-demand").feasible


def test_alternatives_show_quantized_and_spot_options_with_their_trade_offs() -> None:
    placement = solver.auto("aws", "kubernetes", req(), "on-demand", 1)
    options = {a["option"]: a for a in placement.alternatives}
    assert {"precision int8", "precision int4", "spot capacity"} <= set(options)
    assert "accuracy" in options["precision int4"]["note"]
    assert options["spot capacity"]["monthly_usd"] < placement.hourly_usd(placement.max_replicas) * 730


def test_auto_is_never_costlier_than_a_profile_that_carries_the_load() -> None:
    workload = req(peak_rps=3)
    auto = solver.auto("aws", "managed", workload, "on-demand", 2)
    compared = 0
    for name in ("small", "medium", "large", "xlarge"):
        try:
            profile = solver.by_profile("aws", "managed", name, workload, "on-demand", 2)
        except solver.NoPlacementError:
            continue  # the profile cannot hold or serve the model at all
        rps = solver.evaluate(profile.row, workload, "on-demand").rps_per_replica
        replicas = max(2, math.ceil(workload.peak_rps * solver.PEAK_HEADROOM / rps))
        assert auto.hourly_usd(auto.max_replicas) <= profile.hourly_usd(replicas), name
        compared += 1
    assert compared >= 2


# --- profiles ----------------------------------------------------------------------------------


# Where a cloud offers nothing of a profile's class for a target, the profile resolves to the next
# class up. Azure ML managed online deployments list no A10 (24 GB) size: `small` becomes an A100.
CLASS_GAPS = {("azure", "managed", "small")}


@pytest.mark.parametrize("name", sorted(load_profiles()))
@pytest.mark.parametrize("target", ["managed", "kubernetes"])
def test_profiles_mean_equivalent_capacity_on_every_cloud(name, target) -> None:
    profile = load_profiles()[name]
    chosen = {
        cloud: solver.by_profile(cloud, target, name, None, "on-demand", 1).row for cloud in ("aws", "gcp", "azure")
    }
    memory = {cloud: row.gpu_memory_gib for cloud, row in chosen.items()}
    assert all(m >= profile.min_gpu_memory_gib for m in memory.values()), memory
    assert all(row.gpus <= profile.max_gpus for row in chosen.values())
    in_class = {cloud: m for cloud, m in memory.items() if (cloud, target, name) not in CLASS_GAPS}
    assert max(in_class.values()) <= 2.5 * min(in_class.values()), memory
    for cloud, _, _ in (gap for gap in CLASS_GAPS if gap[1:] == (target, name)):
        rows = CATALOG.rows(cloud, target)
        assert not any(
            r.gpu
            and r.gpus <= profile.max_gpus
            and profile.min_gpu_memory_gib <= r.gpu_memory_gib <= 2.5 * min(in_class.values())
            for r in rows
        ), f"{cloud} {target} now has a {name}-class row: drop it from CLASS_GAPS"


def test_a_profile_too_slow_for_the_latency_target_is_a_clear_error() -> None:
    with pytest.raises(solver.NoPlacementError, match=r"profile 'pilot' \(\S+\): p95 \d+ ms at batch 1 exceeds"):
        solver.by_profile("aws", "managed", "pilot", req(params_billion=3, p95_latency_ms=500), "on-demand", 1)


def test_a_model_too_big_for_its_profile_is_a_clear_error() -> None:
    with pytest.raises(
        solver.NoPlacementError, match=r"profile 'small' \(ml\.g\S+\): needs \S+ GiB, .*choose a larger"
    ):
        solver.by_profile(
            "aws", "managed", "small", req(params_billion=70, layers=None, kv_heads=None, head_dim=None), "on-demand", 1
        )


# --- the command -------------------------------------------------------------------------------


def _size(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "infra", "size", *args], cwd=ROOT, capture_output=True, text=True)


def test_size_json_has_the_placement_and_every_candidate() -> None:
    proc = _size(
        "--cloud",
        "aws",
        "--serving",
        "managed",
        "--params-billion",
        "7",
        "--precision",
        "fp16",
        "--peak-rps",
        "40",
        "--p95-latency-ms",
        "800",
        "--context-tokens",
        "1024",
        "--output-tokens",
        "16",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    for key in (
        "instance_type",
        "gpus_per_replica",
        "replicas",
        "memory_needed_gib",
        "hourly_usd",
        "monthly_usd",
        "explanation",
        "candidates",
    ):
        assert key in report
    assert len(report["candidates"]) == len(CATALOG.rows("aws", "managed"))
    for candidate in report["candidates"]:
        assert {"instance_type", "feasible", "replicas_needed", "hourly_usd"} <= set(candidate)
        assert candidate["feasible"] or candidate["reason"]
    cheapest = min(c["hourly_usd"] for c in report["candidates"] if c["feasible"])
    assert report["hourly_usd"] == pytest.approx(cheapest, rel=1e-3)
    assert report["monthly_usd"] == pytest.approx(report["hourly_usd"] * 730, rel=1e-3)


def test_size_table_is_readable() -> None:
    proc = _size(
        "--cloud",
        "gcp",
        "--serving",
        "kubernetes",
        "--params-billion",
        "8",
        "--peak-rps",
        "2",
        "--p95-latency-ms",
        "20000",
    )
    assert proc.returncode == 0, proc.stderr
    assert "Candidates" in proc.stdout and "Alternatives" in proc.stdout and "$/month" in proc.stdout


def test_size_impossible_request_names_the_closest_option() -> None:
    proc = _size("--cloud", "aws", "--params-billion", "7", "--peak-rps", "40", "--p95-latency-ms", "50")
    assert proc.returncode == 2
    assert proc.stderr.startswith("size: no aws managed instance type meets p95 50 ms; the fastest is ")
    proc = _size("--cloud", "azure", "--params-billion", "1500", "--peak-rps", "1", "--p95-latency-ms", "600000")
    assert proc.returncode == 2 and "the largest is" in proc.stderr


def test_size_rejects_bad_flags_with_one_line() -> None:
    proc = _size("--cloud", "aws", "--params-billion", "7", "--peak-rps", "-3", "--p95-latency-ms", "800")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "--peak-rps: -3.0 is invalid; expected greater than 0"


# --- the serving layout ------------------------------------------------------------------------


def test_auto_placement_carries_the_layout_the_server_is_given() -> None:
    placement = solver.auto("aws", "kubernetes", req(context_tokens=4096, output_tokens=256), "on-demand", 1)
    layout = placement.layout
    assert layout.tensor_parallel * layout.copies_per_instance <= placement.row.gpus
    assert (layout.max_model_len, layout.max_input_tokens) == (4096, 3840)
    assert layout.precision == "fp16" and layout.kv_cache_precision == "fp16"
    # The KV budget holds at least the batch's full contexts (the solver checked memory for them).
    assert layout.kv_cache_tokens >= layout.max_num_seqs * 4096
    assert layout.ttft_ms is not None and layout.tpot_ms is not None
    assert 0 < layout.ttft_ms < layout.latency_ms <= 15000


def test_profile_without_requirements_shards_over_every_gpu_with_engine_defaults() -> None:
    placement = solver.by_profile("aws", "managed", "large", None, "on-demand", 1)
    layout = placement.layout
    assert layout.tensor_parallel == placement.row.gpus and layout.copies_per_instance == 1
    assert layout.kv_cache_tokens == 0 and layout.ttft_ms is None
