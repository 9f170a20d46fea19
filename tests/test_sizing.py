"""Sizing: the solver's optimality on generated workloads, its layouts, precisions and SLOs, profile
equivalence, stack files and the `size` command. (Catalog: test_sizing_catalog.py; the model's
formulas and accuracy: test_sizing_model.py.)"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.catalog import load_catalog, load_profiles
from infra.engine.stackfile import ROOT
from infra.facts import architecture
from infra.sizing import formulas, solver
from infra.spec import Requirements

CATALOG = load_catalog()
LLAMA3_8B = {"params_billion": 8.03, "layers": 32, "kv_heads": 8, "head_dim": 128}


def req(**overrides) -> Requirements:
    values = {"peak_rps": 5, "p95_latency_ms": 15000, **LLAMA3_8B}
    values.update(overrides)
    return Requirements.model_validate(values)


# --- the solver --------------------------------------------------------------------------------

workloads = (
    st.fixed_dictionaries(
        dict(
            peak_rps=st.floats(0.1, 200),
            p95_latency_ms=st.one_of(st.none(), st.floats(200, 60000)),
            ttft_ms=st.one_of(st.none(), st.floats(100, 10000)),
            tpot_ms=st.one_of(st.none(), st.floats(5, 300)),
            params_billion=st.floats(0.1, 180),
            precision=st.sampled_from(["fp32", "bf16", "fp16", "fp8", "int8", "int4"]),
            model_type=st.just("llm"),
            context_tokens=st.integers(512, 32768),
            output_tokens=st.integers(1, 400),
            concurrency=st.one_of(st.none(), st.integers(1, 64)),
        )
    )
    .filter(lambda d: d["p95_latency_ms"] or d["ttft_ms"] or d["tpot_ms"])
    .map(lambda d: Requirements.model_validate({k: v for k, v in d.items() if v is not None}))
)


@settings(max_examples=60, deadline=None)
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
        assert "the largest is" in str(exc) or "the fastest is" in str(exc) or "can serve" in str(exc)
        return

    def peak(c):
        return max(c.replicas_needed, floor) * c.hourly_usd / c.replicas_needed

    assert best.feasible and all(peak(best) <= peak(c) + 1e-9 for c in candidates if c.feasible)
    # The choice really holds the model, meets every SLO and carries the peak.
    row = CATALOG.find(cloud, best.instance_type, target)
    layout = best.layout
    assert row is not None and layout is not None
    assert layout.tensor_parallel * layout.copies_per_instance <= max(row.gpus, 1)
    if row.gpu is not None:
        assert formulas.valid_tensor_parallel(workload, layout.tensor_parallel) or layout.tensor_parallel == 1
        assert layout.kv_cache_tokens >= workload.context_tokens
    assert workload.p95_latency_ms is None or layout.latency_ms <= workload.p95_latency_ms
    assert workload.ttft_ms is None or (layout.ttft_ms or 0) <= workload.ttft_ms
    assert workload.tpot_ms is None or (layout.tpot_ms or 0) <= workload.tpot_ms
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
    assert {"precision fp8", "precision int8", "precision int4", "spot capacity"} <= set(options)
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
    with pytest.raises(
        solver.NoPlacementError,
        match=r"profile 'pilot' \(\S+\): at batch 1 and TP 1: TTFT \d+ ms, TPOT [\d.]+ ms, latency \d+ ms; "
        r"the SLO is p95 latency 500 ms; choose a larger",
    ):
        solver.by_profile("aws", "managed", "pilot", req(params_billion=3, p95_latency_ms=500), "on-demand", 1)


def test_a_model_too_big_for_its_profile_is_a_clear_error() -> None:
    with pytest.raises(
        solver.NoPlacementError,
        match=r"profile 'small' \(ml\.g\S+\): needs \S+ GiB for the weights and one 4096-token context "
        r".*choose a larger",
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
    cheapest = min(c["peak_hourly_usd"] for c in report["candidates"] if c["feasible"])
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


def test_candidates_are_priced_at_the_environments_replica_floor() -> None:
    # 2 req/s needs one replica; prod keeps two. Every row is ranked and priced at what it would run,
    # so the cheapest row of the table is the answer and no row shows fewer replicas than the floor.
    proc = _size("--cloud", "gcp", "--params-billion", "8", "--peak-rps", "2", "--p95-latency-ms", "5000", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    feasible = [c for c in report["candidates"] if c["feasible"]]
    assert report["replicas"]["min"] == 2 and all(c["replicas"] >= 2 for c in feasible)
    assert any(c["replicas_needed"] == 1 for c in feasible)  # the floor, not the load, sets the count
    best = min(feasible, key=lambda c: (c["peak_hourly_usd"], c["gpus"]))
    assert best["instance_type"] == report["instance_type"]
    assert best["peak_hourly_usd"] == pytest.approx(report["hourly_usd"], rel=1e-3)
    chosen = next(c for c in feasible if c["instance_type"] == report["instance_type"])
    assert chosen["peak_hourly_usd"] == pytest.approx(report["hourly_usd"], rel=1e-3)


def test_an_alternative_that_saves_nothing_says_so() -> None:
    # fp8 needs an fp8-capable accelerator, dearer than the GPU a 1B fp16 model already fits.
    small = Requirements(peak_rps=5, p95_latency_ms=20_000, params_billion=1)
    placement = solver.auto("aws", "managed", small, "on-demand", 2)
    fp8 = next(a for a in placement.alternatives if a["option"] == "precision fp8")
    assert fp8["feasible"] and float(fp8["saving_monthly_usd"]) < 0
    assert fp8["note"] == f"no saving: costs ${-float(fp8['saving_monthly_usd']):,.2f}/month more than the choice"
    for a in placement.alternatives:
        if a["feasible"] and float(a["saving_monthly_usd"]) <= 0:
            assert str(a["note"]).startswith("no saving")


def test_one_replica_reads_as_one_replica() -> None:
    placement = solver.auto(
        "aws", "managed", req(params_billion=1, peak_rps=0.5, p95_latency_ms=20_000), "on-demand", 1
    )
    assert "-> 1 replica;" in placement.explanation


def test_size_impossible_request_names_the_closest_option() -> None:
    proc = _size("--cloud", "aws", "--params-billion", "7", "--peak-rps", "40", "--p95-latency-ms", "50")
    assert proc.returncode == 2
    assert proc.stderr.startswith("size: no aws managed instance type meets p95 latency 50 ms; the fastest is ")
    proc = _size("--cloud", "azure", "--params-billion", "1500", "--peak-rps", "1", "--p95-latency-ms", "600000")
    assert proc.returncode == 2 and "the largest is" in proc.stderr


def test_size_rejects_bad_flags_with_one_line() -> None:
    proc = _size("--cloud", "aws", "--params-billion", "7", "--peak-rps", "-3", "--p95-latency-ms", "800")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "--peak-rps: -3.0 is invalid; expected greater than 0"
    proc = _size(
        "--cloud", "aws", "--params-billion", "7", "--peak-rps", "3", "--p95-latency-ms", "800", "--percentile", "150"
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "--percentile: 150.0 is invalid; expected less than or equal to 99.9"


# --- the serving layout ------------------------------------------------------------------------


def test_auto_placement_carries_the_layout_the_server_is_given() -> None:
    placement = solver.auto("aws", "kubernetes", req(context_tokens=4096, output_tokens=256), "on-demand", 1)
    layout = placement.layout
    assert layout.tensor_parallel * layout.copies_per_instance <= placement.row.gpus
    assert (layout.max_model_len, layout.max_input_tokens) == (4096, 3840)
    assert layout.precision == "fp16" and layout.kv_cache_precision == "fp16"
    # The paged KV budget holds the batch at its sequences' average length (prompt + half the output).
    assert layout.kv_cache_tokens >= layout.max_num_seqs * (4096 - 128)
    assert layout.ttft_ms is not None and layout.tpot_ms is not None
    assert 0 < layout.ttft_ms < layout.latency_ms <= 15000


def test_profile_without_requirements_shards_over_every_gpu_with_engine_defaults() -> None:
    placement = solver.by_profile("aws", "managed", "large", None, "on-demand", 1)
    layout = placement.layout
    assert layout.tensor_parallel == placement.row.gpus and layout.copies_per_instance == 1
    assert layout.kv_cache_tokens == 0 and layout.ttft_ms is None


# --- layouts, precisions and SLOs ----------------------------------------------------------------

LLAMA_70B = {
    "params_billion": 70.6,
    "layers": 80,
    "kv_heads": 8,
    "head_dim": 128,
    "attention_heads": 64,
    "hidden_size": 8192,
}
CONFIGS = "tests/data/model_configs"


def test_latency_buys_parallelism_70b_at_3s_on_p5_runs_at_tensor_parallel_8() -> None:
    row = CATALOG.find("aws", "p5.48xlarge", "kubernetes")
    assert row is not None
    fit = solver.evaluate(row, req(**LLAMA_70B, peak_rps=1, p95_latency_ms=3000), "on-demand")
    assert fit.feasible and fit.layout is not None
    assert (fit.layout.tensor_parallel, fit.layout.copies_per_instance) == (8, 1)
    assert fit.latency_ms <= 3000
    # With a relaxed target the same node runs more, smaller copies for more requests/s.
    relaxed = solver.evaluate(row, req(**LLAMA_70B, peak_rps=1, p95_latency_ms=30000), "on-demand")
    assert relaxed.layout is not None and relaxed.layout.tensor_parallel < 8
    assert relaxed.layout.copies_per_instance == 8 // relaxed.layout.tensor_parallel


def test_a_52_head_model_is_never_split_8_ways() -> None:
    odd = req(params_billion=70, layers=80, attention_heads=52, kv_heads=4, head_dim=128, p95_latency_ms=60000)
    for target in ("managed", "kubernetes"):
        for row in CATALOG.rows("aws", target):
            fit = solver.evaluate(row, odd, "on-demand")
            assert fit.tensor_parallel in (0, 1, 2, 4), (row.name, fit.tensor_parallel)


def test_managed_replicas_are_one_server_and_kubernetes_nodes_pack_copies() -> None:
    small = req(peak_rps=20)
    managed = solver.evaluate(CATALOG.find("aws", "ml.g6e.12xlarge", "managed"), small, "on-demand")
    nodes = solver.evaluate(CATALOG.find("aws", "g6e.12xlarge", "kubernetes"), small, "on-demand")
    assert managed.copies_per_instance == 1
    assert nodes.copies_per_instance * nodes.tensor_parallel == 4 and nodes.copies_per_instance > 1


def test_a_format_the_accelerator_lacks_is_infeasible_with_the_reason() -> None:
    a100 = CATALOG.find("aws", "p4d.24xlarge", "kubernetes")
    h100 = CATALOG.find("aws", "p5.48xlarge", "kubernetes")
    b200 = CATALOG.find("aws", "p6-b200.48xlarge", "kubernetes")
    assert a100 and h100 and b200
    fp8 = req(precision="fp8")
    assert solver.evaluate(a100, fp8, "on-demand").reason == (
        "A100-40GB has no fp8 support (precision; it runs fp32, bf16, fp16, int8, int4)"
    )
    assert solver.evaluate(h100, fp8, "on-demand").feasible
    fp4 = req(precision="fp4", kv_cache_precision="fp8")
    assert "H100-80GB has no fp4 support" in (solver.evaluate(h100, fp4, "on-demand").reason or "")
    assert solver.evaluate(b200, fp4, "on-demand").feasible
    kv8 = req(kv_cache_precision="fp8")
    assert "no fp8 support (kv_cache_precision" in (solver.evaluate(a100, kv8, "on-demand").reason or "")


def test_fp8_and_an_fp8_kv_cache_fit_what_16_bits_cannot() -> None:
    big = req(**LLAMA_70B, p95_latency_ms=60000, peak_rps=1, context_tokens=8192)
    row = CATALOG.find("aws", "g6e.xlarge", "kubernetes")  # one 48 GB L40S
    assert row is not None
    assert not solver.evaluate(row, big, "on-demand").feasible
    assert not solver.evaluate(row, big.model_copy(update={"precision": "fp8"}), "on-demand").feasible  # 66 GiB
    h200 = CATALOG.find("aws", "p5en.48xlarge", "kubernetes")
    assert h200 is not None
    fp16 = solver.evaluate(h200, big, "on-demand")
    fp8 = solver.evaluate(h200, big.model_copy(update={"precision": "fp8", "kv_cache_precision": "fp8"}), "on-demand")
    assert fp16.layout and fp8.layout
    per_gpu = [f.layout.kv_cache_tokens / f.layout.tensor_parallel for f in (fp16, fp8) if f.layout]
    assert per_gpu[1] >= 2 * per_gpu[0]  # half the bytes per weight and per KV value
    assert fp8.rps_per_replica > fp16.rps_per_replica


def test_a_mixture_of_experts_is_costed_by_its_active_parameters() -> None:
    mixtral = Requirements.model_validate(
        {"peak_rps": 20, "ttft_ms": 2000, "tpot_ms": 100, "model_config": f"{CONFIGS}/mixtral-8x7b-instruct.json"}
    )
    dense = mixtral.model_copy(update={"active_params_billion": None, "experts": None, "experts_per_token": None})
    moe_best, _ = solver.solve("aws", "kubernetes", mixtral)
    dense_best, _ = solver.solve("aws", "kubernetes", dense)
    assert moe_best.hourly_usd < dense_best.hourly_usd


def test_ttft_and_tpot_slos_shape_the_batch() -> None:
    loose = req(p95_latency_ms=None, ttft_ms=5000, tpot_ms=200, peak_rps=50)
    tight = req(p95_latency_ms=None, ttft_ms=300, tpot_ms=25, peak_rps=50)
    row = CATALOG.find("aws", "p5.48xlarge", "kubernetes")
    assert row is not None
    a, b = solver.evaluate(row, loose, "on-demand"), solver.evaluate(row, tight, "on-demand")
    assert a.layout and b.layout
    assert b.layout.ttft_ms <= 300 and b.layout.tpot_ms <= 25  # type: ignore[operator]
    assert a.layout.max_num_seqs >= b.layout.max_num_seqs and a.rps_per_replica >= b.rps_per_replica


def test_amd_rows_need_a_rocm_image_and_say_why() -> None:
    mi300x = CATALOG.find("azure", "Standard_ND96isr_MI300X_v5", "kubernetes")
    assert mi300x is not None
    reason = solver.evaluate(mi300x, req(), "on-demand").reason or ""
    assert reason.startswith("needs a ROCm image (set requirements.rocm: true); ROCm:")
    assert solver.evaluate(mi300x, req(rocm=True), "on-demand").feasible


def test_arm_hosted_gpus_need_an_arm64_image_and_say_why() -> None:
    gb200 = CATALOG.find("azure", "Standard_ND128isr_NDR_GB200_v6", "kubernetes")
    assert gb200 is not None
    reason = solver.evaluate(gb200, req(), "on-demand").reason or ""
    assert reason == "an Arm (Grace) host: needs an image with a linux/arm64 build (set requirements.arm64: true)"
    assert solver.evaluate(gb200, req(arm64=True), "on-demand").feasible


def test_fp4_on_azure_lands_on_gb200_only_for_an_arm64_image() -> None:
    # Of Azure's rows only the GB200 has fp4 tensor cores: an x86-only image has nowhere to go.
    fp4 = req(**LLAMA_70B, precision="fp4", p95_latency_ms=60000)
    with pytest.raises(solver.NoPlacementError, match="linux/arm64"):
        solver.auto("azure", "kubernetes", fp4, "on-demand", 1)
    placed = solver.auto("azure", "kubernetes", fp4.model_copy(update={"arm64": True}), "on-demand", 1)
    assert placed.row.name == "Standard_ND128isr_NDR_GB200_v6"


def test_a_profile_never_picks_an_arm_host_for_an_image_of_unknown_architecture(monkeypatch) -> None:
    # Make the GB200 the cheapest row of every class it belongs to: a profile still passes it over
    # unless the requirements say the image has a linux/arm64 build.
    cheap = tuple(
        dataclasses.replace(r, hourly_usd=0.01) if r.name == "Standard_ND128isr_NDR_GB200_v6" else r
        for r in CATALOG.instances
    )
    monkeypatch.setattr(solver, "load_catalog", lambda: dataclasses.replace(CATALOG, instances=cheap))
    placed = solver.by_profile("azure", "kubernetes", "large", None, "on-demand", 1)
    assert architecture("azure", placed.row.name) == "x86_64"
    arm = solver.by_profile("azure", "kubernetes", "large", req(arm64=True), "on-demand", 1)
    assert arm.row.name == "Standard_ND128isr_NDR_GB200_v6"


def test_measured_on_a_type_that_cannot_hold_the_model_fails_with_one_line() -> None:
    workload = req(**LLAMA_70B, measured_rps_per_replica=2.0, measured_on="ml.g5.xlarge", p95_latency_ms=60000)
    with pytest.raises(
        solver.NoPlacementError, match=r"^measured_on ml.g5.xlarge: the model cannot run there \(needs "
    ):
        solver.solve("aws", "managed", workload)


# --- stack files -------------------------------------------------------------------------------


def test_ttft_tpot_fp8_moe_and_model_config_work_in_a_stack_file(dev_config) -> None:
    from infra.plan import build_plan
    from infra.spec import load_spec
    from tests.conftest import endpoints, with_keys

    eps = endpoints(dev_config)
    eps[0]["sizing"]["requirements"] = {
        "peak_rps": 10,
        "ttft_ms": 1500,
        # 1.5 s + 511 x 50 ms = 27 s a request: its 55 s timeout fits SageMaker real-time's 60 s.
        "tpot_ms": 50,
        "percentile": 99,
        "model_config": f"{CONFIGS}/mixtral-8x7b-instruct.json",
        "precision": "fp8",
        "kv_cache_precision": "fp8",
        "context_tokens": 4096,
        "output_tokens": 512,
    }
    plan = build_plan(load_spec(with_keys(dev_config, endpoints=eps)), "test")
    chat = plan.endpoints[0]
    assert chat.layout.precision == "fp8" and chat.layout.kv_cache_precision == "fp8"
    assert chat.layout.ttft_ms is not None and chat.layout.ttft_ms <= 1500
    assert chat.layout.tpot_ms is not None and chat.layout.tpot_ms <= 50
    assert chat.latency_alarm_ms == 1500 + 511 * 50  # the whole-request bound the SLOs state
    assert "(12.9B active)" in chat.explanation


# --- the command, new flags --------------------------------------------------------------------


def test_size_help_gives_units_and_defaults() -> None:
    proc = _size("--help")
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    for phrase in (
        "--ttft-ms",
        "time to first token",
        "--tpot-ms",
        "--attention-heads",
        "--active-params-billion",
        "--kv-cache-precision",
        "--model-config",
        "ms",
        "billions",
        "(default: managed)",
    ):
        assert phrase in text, phrase


def test_size_json_reports_layout_and_predicted_ttft_tpot_from_a_model_config() -> None:
    proc = _size(
        "--cloud", "aws", "--serving", "kubernetes", "--peak-rps", "5", "--ttft-ms", "1000", "--tpot-ms", "50",
        "--model-config", f"{CONFIGS}/llama-3.1-70b-instruct.json", "--precision", "fp8", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    layout = report["layout"]
    assert layout["tensor_parallel"] * layout["copies_per_instance"] <= report["gpus_per_replica"]
    assert layout["ttft_ms"] <= 1000 and layout["tpot_ms"] <= 50 and layout["precision"] == "fp8"
    assert report["tensor_parallel"] == layout["tensor_parallel"]


def test_size_errors_name_flags_not_stack_keys() -> None:
    proc = _size("--cloud", "aws", "--peak-rps", "5", "--params-billion", "8", "--experts", "8")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "--experts and --experts-per-token go together: give both or neither"
    proc = _size(
        "--cloud", "aws", "--peak-rps", "5", "--params-billion", "8", "--attention-heads", "0", "--ttft-ms", "9"
    )
    assert proc.stderr.strip() == "--attention-heads: 0 is invalid; expected greater than or equal to 1"


def test_size_takes_a_mixture_of_experts_and_an_fp8_kv_cache_as_flags() -> None:
    common = ("--cloud", "aws", "--serving", "kubernetes", "--peak-rps", "10", "--ttft-ms", "2000", "--json")
    moe = ("--params-billion", "46.7", "--experts", "8", "--experts-per-token", "2", "--kv-cache-precision", "fp8")
    proc = _size(*common, *moe)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["layout"]["kv_cache_precision"] == "fp8"
    assert "active)" in report["explanation"]  # costed by the parameters each token uses
    dense = json.loads(_size(*common, "--params-billion", "46.7").stdout)
    assert report["rps_per_replica"] / report["hourly_usd"] > dense["rps_per_replica"] / dense["hourly_usd"]


def test_an_encoders_explanation_speaks_of_no_kv_cache() -> None:
    # An encoder keeps no KV cache; "a KV budget of 0 tokens" read as a fault (newcomer trial).
    bert = Requirements.model_validate(
        {"model_type": "encoder", "peak_rps": 50, "p95_latency_ms": 100, "params_billion": 0.34, "context_tokens": 512}
    )
    placed = solver.auto("aws", "managed", bert, "on-demand", 1)
    assert "KV" not in placed.explanation and "each batching" in placed.explanation
    llm = solver.auto("aws", "managed", req(), "on-demand", 1)
    assert "KV cache fp16" in llm.explanation and "in a KV budget of" in llm.explanation
