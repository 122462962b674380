"""The built-in catalog: lookups, errors, and internal consistency of every entry.

The consistency checks are derived from how the architectures are built (a
transformer's parameter count from its shapes, GQA divisibility, MoE/MLA field
sets), not from the catalog code, so a mistyped number in a JSON file fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from llmpod.errors import LlmpodError
from llmpod.models import catalog

ENTRIES = catalog.all_entries()
IDS = [e.name for e in ENTRIES]

# Models the catalog promises (issue 2, item 3).
REQUIRED = [
    "meta-llama/Llama-3.1-8B-Instruct",
    "meta-llama/Llama-3.1-70B-Instruct",
    "meta-llama/Llama-3.1-405B-Instruct",
    "meta-llama/Llama-3.3-70B-Instruct",
    "meta-llama/Llama-3.2-1B-Instruct",
    "meta-llama/Llama-3.2-3B-Instruct",
    "Qwen/Qwen2.5-7B-Instruct",
    "Qwen/Qwen2.5-14B-Instruct",
    "Qwen/Qwen2.5-32B-Instruct",
    "Qwen/Qwen2.5-72B-Instruct",
    "Qwen/Qwen3-8B",
    "Qwen/Qwen3-14B",
    "Qwen/Qwen3-32B",
    "Qwen/Qwen3-30B-A3B",
    "Qwen/Qwen3-235B-A22B",
    "Qwen/Qwen3-235B-A22B-FP8",
    "mistralai/Mixtral-8x7B-Instruct-v0.1",
    "mistralai/Mixtral-8x22B-Instruct-v0.1",
    "deepseek-ai/DeepSeek-V3",
    "deepseek-ai/DeepSeek-R1",
    "deepseek-ai/DeepSeek-V2-Lite-Chat",
    "mistralai/Mistral-7B-Instruct-v0.3",
    "mistralai/Mistral-Small-3.1-24B-Instruct-2503",
    "mistralai/Mistral-Nemo-Instruct-2407",
    "google/gemma-2-9b-it",
    "google/gemma-2-27b-it",
    "google/gemma-3-12b-it",
    "google/gemma-3-27b-it",
    "google/gemma-7b",
    "microsoft/phi-4",
    "microsoft/phi-2",
    "ibm-granite/granite-3.1-8b-instruct",
    "ibm-granite/granite-3.1-2b-instruct",
    "openai/gpt-oss-20b",
    "openai/gpt-oss-120b",
    "RedHatAI/Llama-3.3-70B-Instruct-FP8-dynamic",
    "RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w8a8",
    "Qwen/Qwen2.5-7B-Instruct-AWQ",
    # Models of the accuracy benchmark (vllm_kv_observations.csv) that must resolve.
    "Qwen/Qwen3-0.6B",
    "ibm-granite/granite-vision-3.3-2b",
    "moonshotai/Kimi-Dev-72B",
    "moonshotai/Kimi-VL-A3B-Instruct",
    "RedHatAI/Llama-3.3-70B-Instruct-quantized.w8a8",
    "RedHatAI/Mistral-Small-3.1-24B-Instruct-2503-quantized.w8a8",
    "mistralai/Mistral-Small-3.2-24B-Instruct-2506",
]
QUANT_MARKERS = ("fp8", "awq", "gptq", "w8a8")
# Checkpoints whose own release is quantized although the name does not say so.
NATIVELY_QUANTIZED = {
    "deepseek-ai/DeepSeek-V3",
    "deepseek-ai/DeepSeek-R1",
    "openai/gpt-oss-20b",
    "openai/gpt-oss-120b",
}


def _text(cfg: dict[str, Any]) -> dict[str, Any]:
    text: dict[str, Any] = cfg.get("text_config", cfg)
    return text


def _head_dim(text: dict[str, Any]) -> int:
    if text.get("kv_lora_rank"):  # MLA: a query/key head is the no-RoPE part plus the RoPE part
        return int(text["qk_nope_head_dim"] + text["qk_rope_head_dim"])
    return int(text.get("head_dim") or text["hidden_size"] // text["num_attention_heads"])


def _experts(text: dict[str, Any]) -> int | None:
    for key in ("num_experts", "num_local_experts", "n_routed_experts"):
        if text.get(key):
            return int(text[key])
    return None


def estimate_params_b(cfg: dict[str, Any]) -> float:
    """Parameters from the shapes alone: embeddings, attention, MLP/experts, vision tower.

    Norms, biases and routers are under 0.1% and left out. Gated MLPs (SwiGLU,
    GeGLU) have three matrices, phi-2's plain MLP two.
    """
    t = _text(cfg)
    hidden, layers, heads = t["hidden_size"], t["num_hidden_layers"], t["num_attention_heads"]
    kv = t.get("num_key_value_heads", heads)
    if t.get("kv_lora_rank"):  # multi-head latent attention (DeepSeek-V2/V3)
        qk = t["qk_nope_head_dim"] + t["qk_rope_head_dim"]
        q_rank = t.get("q_lora_rank")
        q = hidden * q_rank + q_rank * heads * qk if q_rank else hidden * heads * qk
        kv_proj = hidden * (t["kv_lora_rank"] + t["qk_rope_head_dim"]) + t[
            "kv_lora_rank"
        ] * heads * (t["qk_nope_head_dim"] + t["v_head_dim"])
        attention = q + kv_proj + heads * t["v_head_dim"] * hidden
    else:
        hd = _head_dim(t)
        attention = 2 * hidden * heads * hd + 2 * hidden * kv * hd
    mats = 2 if cfg["architectures"][0] == "PhiForCausalLM" else 3
    experts = _experts(t)
    if experts:
        expert_inter = t.get("moe_intermediate_size") or t["intermediate_size"]
        shared = t.get("n_shared_experts", 0) * expert_inter
        dense = t.get("first_k_dense_replace", 0)
        mlp = dense * mats * hidden * t["intermediate_size"] + (layers - dense) * mats * hidden * (
            experts * expert_inter + shared
        )
    else:
        mlp = layers * mats * hidden * t["intermediate_size"]
    tied = t.get("tie_word_embeddings", cfg.get("tie_word_embeddings", False))
    total = layers * attention + mlp + t["vocab_size"] * hidden * (1 if tied else 2)
    vision = cfg.get("vision_config")
    if vision:
        vh = vision["hidden_size"]
        vmats = 3 if vision.get("hidden_act") == "silu" else 2
        per_layer = 4 * vh * vh + vmats * vh * vision["intermediate_size"]
        total += vision["num_hidden_layers"] * per_layer
    billions: float = total / 1e9
    return billions


def test_catalog_holds_at_least_30_models_sorted_by_name() -> None:
    assert len(ENTRIES) >= 30
    assert sorted(IDS, key=str.lower) == IDS


@pytest.mark.parametrize("name", REQUIRED)
def test_required_model_is_present(name: str) -> None:
    assert catalog.find(name).name == name


def test_find_matches_full_name_case_insensitively() -> None:
    found = catalog.find("META-LLAMA/llama-3.1-8b-instruct")
    assert found.name == "meta-llama/Llama-3.1-8B-Instruct"


def test_find_matches_alias_and_bare_repo_name() -> None:
    assert catalog.find("qwen3-30b-a3b").name == "Qwen/Qwen3-30B-A3B"
    assert catalog.find("  Llama-3.1-70B  ").name == "meta-llama/Llama-3.1-70B-Instruct"
    bare = catalog.find("Mixtral-8x22B-Instruct-v0.1")
    assert bare.name == "mistralai/Mixtral-8x22B-Instruct-v0.1"


def test_typo_gets_did_you_mean_and_the_fix() -> None:
    with pytest.raises(LlmpodError, match=r"Did you mean 'llama-3\.1-8b'") as info:
        catalog.find("lama-3.1-8b")
    assert info.value.code == "unknown_model"
    assert "llmpod catalog models" in str(info.value)
    assert "hf://" in str(info.value) and "s3://" in str(info.value)


def test_unknown_name_without_close_match_still_names_the_fix() -> None:
    expected = r"'zzz-not-a-model' is not in the built-in catalog\. Try"
    with pytest.raises(LlmpodError, match=expected):
        catalog.find("zzz-not-a-model")


def test_every_alias_selects_one_model_and_is_lowercase() -> None:
    seen: dict[str, str] = {}
    for entry in ENTRIES:
        for alias in entry.aliases:
            assert alias == alias.lower()
            assert seen.setdefault(alias, entry.name) == entry.name
            assert catalog.find(alias).name == entry.name


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_entry_cites_its_config_and_how_it_was_checked(entry: catalog.CatalogEntry) -> None:
    assert entry.source == f"https://huggingface.co/{entry.name}/blob/main/config.json"
    assert entry.verified_from, "every entry records where its values were checked"
    assert entry.revision
    assert entry.params_b and entry.params_b > 0


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_unverified_fields_name_real_config_keys(entry: catalog.CatalogEntry) -> None:
    for dotted in entry.unverified:
        node: Any = entry.config
        for part in dotted.split("."):
            assert isinstance(node, dict) and part in node, f"{dotted} is not in the config"
            node = node[part]


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_attention_shapes_are_consistent(entry: catalog.CatalogEntry) -> None:
    t = _text(entry.config)
    heads, kv = t["num_attention_heads"], t.get("num_key_value_heads", t["num_attention_heads"])
    assert heads % kv == 0, "GQA needs KV heads dividing query heads"
    if "head_dim" not in t and not t.get("kv_lora_rank"):
        assert t["hidden_size"] % heads == 0, "implicit head_dim must be a whole number"
    ratio = heads * _head_dim(t) / t["hidden_size"]
    # MLA decompresses 128 wide heads from a 512-rank latent, so only GQA/MHA is bounded.
    if not t.get("kv_lora_rank"):
        assert 0.5 <= ratio <= 2.0, f"heads x head_dim / hidden = {ratio:.2f} is implausible"
    assert _head_dim(t) in (64, 80, 96, 128, 192, 256)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_moe_and_mla_fields_match_the_architecture(entry: catalog.CatalogEntry) -> None:
    arch = entry.config["architectures"][0]
    t = _text(entry.config)
    # A multimodal wrapper (Kimi-VL: KimiVLForConditionalGeneration) names its text stack
    # only through text_config.model_type ("deepseek_v3"), so both names count.
    family = f"{arch} {t.get('model_type', '')}".lower()
    is_moe = any(k in family for k in ("moe", "mixtral", "deepseek", "gptoss"))
    experts = _experts(t)
    assert bool(experts) == is_moe
    if experts:
        assert 1 <= t["num_experts_per_tok"] < experts
    is_mla = "deepseek" in family
    assert bool(t.get("kv_lora_rank")) == is_mla
    if is_mla:
        assert t["qk_rope_head_dim"] == 64 and t["kv_lora_rank"] == 512


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_layer_types_cover_every_layer(entry: catalog.CatalogEntry) -> None:
    t = _text(entry.config)
    if "layer_types" in t:
        assert len(t["layer_types"]) == t["num_hidden_layers"]
        assert set(t["layer_types"]) <= {"sliding_attention", "full_attention"}
        assert t["sliding_window"] > 0


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_quantized_checkpoints_carry_quantization_config(entry: catalog.CatalogEntry) -> None:
    lowered = entry.name.lower()
    quantized_name = any(m in lowered for m in QUANT_MARKERS)
    has_qc = "quantization_config" in entry.config
    if entry.name in NATIVELY_QUANTIZED:
        assert has_qc
    else:
        assert has_qc == quantized_name


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_published_parameter_count_matches_the_shapes(entry: catalog.CatalogEntry) -> None:
    assert entry.params_b is not None
    estimate = estimate_params_b(entry.config)
    assert abs(estimate - entry.params_b) / entry.params_b < 0.05, (
        f"shapes give {estimate:.2f}B, model card says {entry.params_b}B"
    )


def test_parameter_estimator_on_a_hand_computed_model() -> None:
    # Llama-3.1-8B by hand: 32 x (2*4096*4096 + 2*4096*1024 + 3*4096*14336)
    # + 2*128256*4096 = 8,030,261,248, the count Meta publishes.
    cfg = {
        "architectures": ["LlamaForCausalLM"],
        "hidden_size": 4096,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "intermediate_size": 14336,
        "vocab_size": 128256,
        "tie_word_embeddings": False,
    }
    assert estimate_params_b(cfg) * 1e9 == pytest.approx(
        8_030_261_248 - 32 * 2 * 4096 - 4096, rel=1e-6
    )


def test_catalog_configs_are_not_shared_mutable_state() -> None:
    from llmpod.models.sources import load_model_config

    first = load_model_config("qwen3-8b")
    first.config["num_hidden_layers"] = 1
    assert load_model_config("qwen3-8b").config["num_hidden_layers"] == 36
