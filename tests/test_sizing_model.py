"""The sizing model: formulas against model cards and published measurements, the model_config reader,
and the requirements' own rules."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from bench import sizing_accuracy
from infra.catalog import load_catalog
from infra.sizing import formulas
from infra.spec import Requirements

CATALOG = load_catalog()
CONFIGS = "tests/data/model_configs"
LLAMA3_8B = {"params_billion": 8.03, "layers": 32, "kv_heads": 8, "head_dim": 128}


def req(**overrides) -> Requirements:
    values = {"peak_rps": 5, "p95_latency_ms": 15000, **LLAMA3_8B}
    values.update(overrides)
    return Requirements.model_validate(values)


def engine(gpu: str, gpus: int, link: str | None, workload: Requirements) -> formulas.Engine:
    return formulas.Engine(
        CATALOG.accelerators[gpu],
        gpus,
        CATALOG.interconnects[link] if link else None,
        workload.precision,
        workload.kv_precision,
    )


# --- memory ------------------------------------------------------------------------------------


def test_llama3_8b_weights_match_the_model_card() -> None:
    # 8.03 B parameters x 2 bytes = 16.06 GB = 14.96 GiB (Meta's model card: 8.03 B parameters).
    assert formulas.weights_gib(req()) == pytest.approx(14.96, abs=0.01)
    # fp8 halves the linear layers; the embeddings and LM head (2 x 128,256 x 4,096) stay 16-bit.
    card = Requirements.model_validate(
        {"peak_rps": 1, "ttft_ms": 500, "model_config": f"{CONFIGS}/llama-3.1-8b-instruct.json"}
    )
    embeddings = 2 * 128_256 * 4096
    expected = ((8.03e9 - embeddings) * 1 + embeddings * 2) / 2**30
    assert formulas.weights_gib(card, "fp8") == pytest.approx(expected, rel=0.01)


def test_kv_cache_per_token_matches_model_cards_and_fp8_halves_it() -> None:
    assert formulas.kv_bytes_per_token(req()) == 131_072  # Llama-3-8B: 128 KiB per token at 16 bits
    # Llama-2-7B (multi-head attention): 0.5 MiB per token, NVIDIA's "Mastering LLM Techniques" figure.
    assert formulas.kv_bytes_per_token(req(layers=32, kv_heads=32, head_dim=128, params_billion=6.74)) == 524_288
    assert formulas.kv_bytes_per_token(req(kv_cache_precision="fp8")) == 65_536
    assert formulas.kv_bytes_per_token(req(model_type="encoder", context_tokens=512, output_tokens=1)) == 0


def test_shape_estimate_reproduces_llama3_layer_counts() -> None:
    assert formulas.shape(req(layers=None, kv_heads=None, head_dim=None))[:4] == (32, 32, 8, 128)
    assert formulas.shape(req(params_billion=70.6, layers=None, kv_heads=None, head_dim=None))[0] == 80


def test_overheads_reproduce_vllms_kv_capacity_for_405b_fp8_on_8xh100() -> None:
    # vllm-project/vllm#6746: Llama-3.1-405B-Instruct-FP8, TP 8 on H100 80 GB, vLLM 0.5.3: "Loading model
    # weights took 57.7520 GB" per GPU and room for 79,392 KV tokens with max_model_len 131,072 (the profile
    # pass then runs 131,072 tokens: chunked prefill was off).
    workload = Requirements.model_validate(
        {
            "peak_rps": 1,
            "ttft_ms": 10_000,
            "model_config": f"{CONFIGS}/llama-3.1-405b-instruct-fp8.json",
            "weights_gb": 57.752 * 8 * 2**30 / 1e9,
            "kv_cache_precision": "bf16",
            "context_tokens": 131_072,
        }
    )
    tokens = formulas.kv_budget_tokens(workload, CATALOG.accelerators["H100-80GB"].memory_gib, 8, 131_072)
    assert tokens == pytest.approx(79_392, rel=0.10)
    # A fixed 1 GiB reserve, as before, would have claimed room for more than the 131,072-token context.
    assert formulas.kv_budget_tokens(workload, 79.1, 8, 0) > 131_072


# --- performance -------------------------------------------------------------------------------


def test_a_batch_charges_each_prefill_once_so_throughput_grows_with_it() -> None:
    big = req(
        params_billion=70.6,
        layers=80,
        kv_heads=8,
        head_dim=128,
        attention_heads=64,
        hidden_size=8192,
        context_tokens=1280,
    )
    copy = engine("H100-80GB", 8, "nvlink4", big)
    one, many = formulas.performance(big, copy, 1), formulas.performance(big, copy, 64)
    assert many.rps > 20 * one.rps
    assert many.tpot_ms is not None and one.tpot_ms is not None and many.tpot_ms < 4 * one.tpot_ms


def test_mixture_of_experts_computes_with_active_parameters() -> None:
    moe = Requirements.model_validate(
        {"peak_rps": 1, "ttft_ms": 2000, "model_config": f"{CONFIGS}/mixtral-8x7b-instruct.json"}
    )
    dense = moe.model_copy(update={"active_params_billion": None, "experts": None, "experts_per_token": None})
    copy = engine("H100-80GB", 2, "nvlink4", moe)
    # Batch 1 streams only the two experts a token reaches; large batches reach every expert.
    assert formulas.performance(moe, copy, 1).tpot_ms < 0.6 * formulas.performance(dense, copy, 1).tpot_ms  # type: ignore[operator]
    assert formulas.performance(moe, copy, 128).rps > 2 * formulas.performance(dense, copy, 128).rps


def test_tensor_parallel_degree_must_divide_the_heads() -> None:
    fifty_two = req(attention_heads=52, kv_heads=4, layers=64, head_dim=128)
    assert [d for d in (1, 2, 4, 8) if formulas.valid_tensor_parallel(fifty_two, d)] == [1, 2, 4]
    # Eight KV heads over 16 GPUs: each KV head replicated twice (vLLM, TensorRT-LLM).
    gqa = req(attention_heads=64, kv_heads=8)
    assert formulas.valid_tensor_parallel(gqa, 16) and not formulas.valid_tensor_parallel(
        req(attention_heads=48, kv_heads=6), 4
    )


def test_pcie_all_reduces_cost_more_than_nvlink() -> None:
    big = req(params_billion=70.6, layers=80, kv_heads=8, head_dim=128, attention_heads=64, hidden_size=8192)
    nvlink, pcie = engine("L40S", 4, "nvlink4", big), engine("L40S", 4, "pcie4", big)
    assert pcie.all_reduce_s(big, 4096) > 10 * nvlink.all_reduce_s(big, 4096)
    assert formulas.performance(big, pcie, 8).ttft_ms > formulas.performance(big, nvlink, 8).ttft_ms  # type: ignore[operator]


def test_a_higher_percentile_never_promises_less_latency() -> None:
    copy = engine("L4", 1, None, req())
    p95 = formulas.performance(req(), copy, 16)
    p99 = formulas.performance(req(percentile=99), copy, 16)
    assert p99.ttft_ms >= p95.ttft_ms and p99.latency_ms >= p95.latency_ms  # type: ignore[operator]


def test_the_model_meets_its_accuracy_target_on_the_published_measurements() -> None:
    rows = sizing_accuracy.load_table()
    assert len(rows) >= 30 and len({r.gpu for r in rows}) >= 5 and any(r.encoder for r in rows)
    results = [sizing_accuracy.estimate(r) for r in rows]
    assert not [r.row for r in results if r.estimate is None], "a configuration measured running was refused"
    within = sum(sizing_accuracy.LOW <= (r.ratio or 0) <= sizing_accuracy.HIGH for r in results) / len(results)
    assert within >= sizing_accuracy.TARGET


def test_a_misspelt_measurement_key_is_an_error_naming_the_row(tmp_path) -> None:
    data = yaml.safe_load(sizing_accuracy.TABLE.read_text())
    data["rows"][3]["measured_output_token_per_s"] = data["rows"][3].pop("measured_output_tokens_per_s")
    table = tmp_path / "measurements.yaml"
    table.write_text(yaml.safe_dump(data))
    with pytest.raises(
        ValueError, match=r"^measurements.yaml: rows\[3\] \(Llama 3.1 8B\): measured_output_token_per_s"
    ):
        sizing_accuracy.load_table(table)


# --- model_config and requirements -------------------------------------------------------------


def test_model_config_fills_the_architecture_and_the_users_keys_win() -> None:
    mixtral = Requirements.model_validate(
        {"peak_rps": 1, "ttft_ms": 2000, "model_config": f"{CONFIGS}/mixtral-8x7b-instruct.json", "precision": "fp8"}
    )
    # Mistral AI's model card: 46.7 B parameters, 12.9 B used per token.
    assert mixtral.params_billion == pytest.approx(46.7, abs=0.05)
    assert mixtral.active_params_billion == pytest.approx(12.9, abs=0.05)
    assert (mixtral.layers, mixtral.attention_heads, mixtral.kv_heads, mixtral.head_dim) == (32, 32, 8, 128)
    assert (mixtral.experts, mixtral.experts_per_token, mixtral.precision) == (8, 2, "fp8")
    qwen = Requirements.model_validate(
        {"peak_rps": 1, "ttft_ms": 2000, "model_config": f"{CONFIGS}/qwen3-30b-a3b.json"}
    )
    assert (round(qwen.params_billion or 0, 1), round(qwen.active_params_billion or 0, 1)) == (30.5, 3.4)
    bert = Requirements.model_validate(
        {
            "peak_rps": 1,
            "p95_latency_ms": 100,
            "model_type": "encoder",
            "context_tokens": 384,
            "model_config": f"{CONFIGS}/bert-large-uncased.json",
        }
    )
    assert bert.params_billion == pytest.approx(0.335, abs=0.005) and bert.precision == "fp32"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"model_config": "nope/config.json"}, "model_config nope/config.json: no such file"),
        (
            {"model_config": f"{CONFIGS}/mixtral-8x7b-instruct.json", "context_tokens": 65536},
            "65536 tokens is above the model's longest sequence, 32768",
        ),
        ({"params_billion": 8, "experts": 8}, "experts and experts_per_token go together"),
        ({"params_billion": 8, "ttft_ms": None}, "give a latency SLO"),
        (
            {"params_billion": 8, "attention_heads": 52, "kv_heads": 8, "layers": 60, "head_dim": 128},
            "attention_heads 52 must be a multiple of kv_heads 8",
        ),
        ({"params_billion": 0.3, "model_type": "encoder", "context_tokens": 128}, "an encoder needs p95_latency_ms"),
        ({"params_billion": 8, "neuron": True, "rocm": True}, "neuron and rocm exclude each other"),
    ],
)
def test_inconsistent_requirements_are_one_clear_line(values, message) -> None:
    with pytest.raises(ValidationError, match=message):
        Requirements.model_validate(
            {"peak_rps": 1, "ttft_ms": 500, **values}
            if "ttft_ms" not in values
            else {"peak_rps": 1, **{k: v for k, v in values.items() if v is not None}}
        )


def test_the_stated_whole_request_bound_feeds_the_alarms() -> None:
    assert req().request_latency_slo_ms() == 15000
    chat = req(p95_latency_ms=None, ttft_ms=800, tpot_ms=40, output_tokens=256)
    assert chat.request_latency_slo_ms() == 800 + 255 * 40
    first_token_only = req(p95_latency_ms=None, ttft_ms=800)
    assert first_token_only.request_latency_slo_ms() is None
    assert first_token_only.request_latency_slo_ms(predicted_tpot_ms=20) == 800 + 255 * 20
