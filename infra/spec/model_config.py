"""Read a model's architecture from its Hugging Face `config.json` into requirement keys.

`requirements.model_config: path/to/config.json` (relative to the project root) fills the keys a
user has not given: layers, attention and KV heads, head dimension, hidden size, vocabulary,
experts and experts per token, the parameter counts (total and active), and the precision from
`torch_dtype` / `quantization_config`. Keys the user gives win.

Parameter counts follow the transformer layout of Llama/Mistral/Qwen/Mixtral checkpoints
(Hugging Face `modeling_llama.py`, `modeling_mixtral.py`, `modeling_qwen3_moe.py`): per layer
attention q/k/v/o projections plus a gated MLP (gate, up, down) or, for a mixture of experts, one
gated MLP per expert plus the router; embeddings and the LM head once each (once when tied).
Llama-3.1-8B: 8.03 B; Mixtral-8x7B: 46.7 B total, 12.9 B active (Mistral AI's model card figures).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

_DTYPES = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}
# The keys a config.json states the model's longest sequence under, as vLLM reads them
# (vllm/config `_get_and_verify_max_len`: OPT, GPT-2, MPT, ChatGLM2, Command-R, Whisper, others);
# where several are present the smallest holds.
_MAX_LENGTH_KEYS = (
    "max_position_embeddings",
    "n_positions",
    "max_seq_len",
    "seq_length",
    "model_max_length",
    "max_target_positions",
    "max_sequence_length",
    "max_seq_length",
    "seq_len",
)
# RoPE types whose stated length already counts the scaling (vLLM applies no factor to these).
_ROPE_PRESCALED = ("su", "longrope", "llama3", "default")


class ModelConfigError(ValueError):
    """The file is missing, not JSON, or lacks a key the architecture needs; the message says which."""


def read_model_config(path: str) -> dict[str, Any]:
    """Requirement keys derived from the config at `path` (relative to the project root).

    Returns a dict with layers, attention_heads, kv_heads, head_dim, hidden_size, vocab_size,
    params_billion, and when the model is a mixture of experts: experts, experts_per_token and
    active_params_billion; plus precision when the config states a dtype or quantization.
    Raises ModelConfigError naming the file and the missing key.
    """
    file = ROOT / path
    try:
        raw = json.loads(file.read_text())
    except FileNotFoundError:
        raise ModelConfigError(f"{path}: no such file (model_config paths are relative to the project root)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelConfigError(f"{path}: not a readable JSON file ({exc})") from None
    if not isinstance(raw, dict):
        raise ModelConfigError(f"{path}: expected a JSON object")
    # Multimodal checkpoints keep the language model's architecture under `text_config`.
    cfg: dict[str, Any] = {**raw, **raw["text_config"]} if isinstance(raw.get("text_config"), dict) else raw

    def need(key: str) -> int:
        value = cfg.get(key)
        if not isinstance(value, int) or value <= 0:
            raise ModelConfigError(f"{path}: {key} must be a positive integer, got {value!r}")
        return value

    hidden, layers, heads = need("hidden_size"), need("num_hidden_layers"), need("num_attention_heads")
    vocab = need("vocab_size")
    kv_heads = cfg.get("num_key_value_heads") or heads
    head_dim = cfg.get("head_dim") or hidden // heads
    experts = cfg.get("num_local_experts") or cfg.get("num_experts") or cfg.get("n_routed_experts")
    top_k = cfg.get("num_experts_per_tok")
    attention = hidden * heads * head_dim * 2 + hidden * kv_heads * head_dim * 2  # q, o + k, v
    # Hugging Face ties the LM head to the embeddings unless the config says otherwise.
    embeddings = vocab * hidden * (1 if cfg.get("tie_word_embeddings", True) else 2)
    # SwiGLU MLPs (Llama, Mistral, Qwen) have gate, up and down matrices; GELU MLPs (BERT) two.
    matrices = 3 if str(cfg.get("hidden_act", "silu")) in ("silu", "swish", "swiglu") else 2
    found: dict[str, Any] = {
        "layers": layers,
        "attention_heads": heads,
        "kv_heads": kv_heads,
        "head_dim": head_dim,
        "hidden_size": hidden,
        "vocab_size": vocab,
    }
    if experts and top_k:
        expert = matrices * hidden * (cfg.get("moe_intermediate_size") or need("intermediate_size"))
        shared = matrices * hidden * (cfg.get("shared_expert_intermediate_size") or 0)
        per_layer = attention + experts * expert + shared + hidden * experts
        active_layer = attention + top_k * expert + shared + hidden * experts
        found |= {
            "experts": experts,
            "experts_per_token": top_k,
            "params_billion": round((layers * per_layer + embeddings) / 1e9, 3),
            "active_params_billion": round((layers * active_layer + embeddings) / 1e9, 3),
        }
    else:
        mlp = matrices * hidden * need("intermediate_size")
        found["params_billion"] = round((layers * (attention + mlp) + embeddings) / 1e9, 3)
    precision = _precision(cfg)
    if precision:
        found["precision"] = precision
    longest = max_context(cfg)
    if longest is not None:
        found["max_context_tokens"], found["max_context_key"] = longest
    return found


def max_context(cfg: dict[str, Any]) -> tuple[int, str] | None:
    """The model's longest sequence in tokens and the key that says so (`"max_position_embeddings"`, or
    `"rope_scaling.factor x original_max_position_embeddings"` when RoPE scaling stretches it), as vLLM
    derives it: the smallest of `_MAX_LENGTH_KEYS` present, times the RoPE scaling factor (YaRN from
    its original length). None when the config states no length."""
    stated = [(v, k) for k in _MAX_LENGTH_KEYS if isinstance(v := cfg.get(k), int) and not isinstance(v, bool)]
    if not stated:
        return None
    length, key = min(stated)
    rope = cfg.get("rope_scaling") or cfg.get("rope_parameters")
    if isinstance(rope, dict):
        kind = rope.get("rope_type") or rope.get("type")
        factor = rope.get("factor")
        if kind not in _ROPE_PRESCALED and isinstance(factor, int | float) and factor > 1:
            original = rope.get("original_max_position_embeddings") if kind == "yarn" else None
            base, named = (original, "original_max_position_embeddings") if isinstance(original, int) else (length, key)
            length, key = int(base * factor), f"{named} x rope_scaling.factor {factor:g}"
    return length, key


def _precision(cfg: dict[str, Any]) -> str | None:
    """The weights' format: the quantization method's, else `torch_dtype`."""
    quant = cfg.get("quantization_config")
    if isinstance(quant, dict):
        method = str(quant.get("quant_method", "")).lower()
        algo = str(quant.get("quant_algo", "")).lower()
        bits = quant.get("bits") or quant.get("w_bit")
        if "fp8" in method or algo == "fp8":
            return "fp8"
        if "fp4" in algo or method == "mxfp4":
            return "fp4"
        if bits in (4, 8):
            return f"int{bits}"
    dtype = cfg.get("torch_dtype") or cfg.get("dtype")
    return _DTYPES.get(str(dtype)) if dtype else None
