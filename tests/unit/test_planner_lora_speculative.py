"""LoRA slots and speculative decoding in one memory budget with the KV cache (issue 24).

Expected LoRA sizes are written out tensor by tensor from the shapes vLLM 0.32.0
allocates in ``create_lora_weights`` (vllm/lora/layers/{base_linear,
column_parallel_linear,row_parallel_linear,vocab_parallel_embedding,
logits_processor}.py), for Llama-3.1-8B's published config: hidden 4096, MLP
14336, 32 query / 8 KV heads of 128, vocabulary 128256, 32 layers.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from llmpod.cli.main import main
from llmpod.errors import LlmpodError
from llmpod.models.resolve import resolve_model
from llmpod.planner.lora import LoraBudget, check_lora_supported, lora_bytes_per_gpu
from llmpod.planner.speculative import proposer_memory
from llmpod.planning.service import plan_service
from llmpod.spec.service import ServingSpec

H, MLP, VOCAB, LAYERS = 4096, 14336, 128256, 32
Q, KV = 32 * 128, 8 * 128


def _llama_8b_slot_elements(tp: int, *, embed: bool, head: bool, layers: int = LAYERS) -> int:
    """One adapter slot's elements on one GPU, listed as vLLM allocates them."""
    r = 16
    per_layer = [
        # qkv_proj (MergedQKVParallelLinearWithLoRA): 3 slices; A keeps the whole
        # input, B this rank's share of q, k and v.
        (r, H), (r, H), (r, H), (Q // tp, r), (KV // tp, r), (KV // tp, r),
        # o_proj (RowParallelLinearWithLoRA): A takes this rank's input share.
        (r, Q // tp), (H, r),
        # gate_up_proj (MergedColumnParallelLinearWithLoRA): 2 slices.
        (r, H), (r, H), (MLP // tp, r), (MLP // tp, r),
        # down_proj (row-parallel).
        (r, MLP // tp), (H, r),
    ]  # fmt: skip
    total = layers * sum(a * b for a, b in per_layer)
    if embed:  # VocabParallelEmbeddingWithLoRA: A (vocab, rank), B (hidden, rank)
        total += VOCAB * r + H * r
    if head:  # LogitsProcessorWithLoRA: A (rank, hidden), B (vocab, rank)
        total += r * H + VOCAB * r
    return total


def _llama() -> Any:
    return resolve_model("llama-3.1-8b").facts


def test_lora_buffers_match_vllms_tensors_tp1() -> None:
    got = lora_bytes_per_gpu(
        _llama(),
        range(LAYERS),
        tp=1,
        first_stage=True,
        last_stage=True,
        budget=LoraBudget(max_loras=4, max_lora_rank=16),
        dtype_bytes=2,
    )
    assert got == 4 * 2 * _llama_8b_slot_elements(1, embed=True, head=True)


def test_lora_buffers_split_by_tensor_parallel_as_vllm_splits_them() -> None:
    got = lora_bytes_per_gpu(
        _llama(),
        range(LAYERS),
        tp=2,
        first_stage=True,
        last_stage=True,
        budget=LoraBudget(max_loras=1, max_lora_rank=16),
        dtype_bytes=2,
    )
    # Above TP 1 the logits wrapper also keeps sharded_to_full_mapping_gpu: one
    # int64 per padded vocabulary entry (128256 is already a multiple of 64).
    assert got == 2 * _llama_8b_slot_elements(2, embed=True, head=True) + VOCAB * 8


def test_pipeline_stages_hold_only_their_layers_embedding_and_head() -> None:
    budget = LoraBudget(max_loras=2, max_lora_rank=16)
    kw: dict[str, Any] = {"tp": 1, "budget": budget, "dtype_bytes": 2}
    first = lora_bytes_per_gpu(_llama(), range(16), first_stage=True, last_stage=False, **kw)
    last = lora_bytes_per_gpu(_llama(), range(16, 32), first_stage=False, last_stage=True, **kw)
    assert first == 2 * 2 * _llama_8b_slot_elements(1, embed=True, head=False, layers=16)
    assert last == 2 * 2 * _llama_8b_slot_elements(1, embed=False, head=True, layers=16)


def _facts(name: str) -> Any:
    return resolve_model(name).facts


def _slot(model: str, tp: int = 1) -> float:
    return lora_bytes_per_gpu(
        _facts(model),
        range(2),
        tp=tp,
        first_stage=True,
        last_stage=True,
        budget=LoraBudget(max_loras=1, max_lora_rank=8),
        dtype_bytes=1,
    )


def test_classes_without_embedding_modules_get_no_embedding_or_head_buffers() -> None:
    # vLLM 0.32's Qwen2ForCausalLM (like Mistral and Gemma 2) lists no
    # embedding_modules, so only its linear layers are wrapped: two layers of
    # Qwen2.5-7B (hidden 3584, 28 q / 4 kv heads of 128, MLP 18944) at rank 8.
    h, q, kv, mlp, r = 3584, 28 * 128, 4 * 128, 18944, 8
    per_layer = 3 * r * h + (q + 2 * kv) * r + r * q + h * r + 2 * r * h + 2 * mlp * r
    per_layer += r * mlp + h * r
    assert _slot("Qwen/Qwen2.5-7B-Instruct") == 2 * per_layer


def test_phi3_packs_qkv_and_gate_up_as_one_slice_each() -> None:
    # Phi3ForCausalLM maps qkv_proj → [qkv_proj] and gate_up_proj → [gate_up_proj]:
    # one A of rank × hidden each, not three and two. phi-4: hidden 5120, 40 q /
    # 10 kv heads of 128, MLP 17920, vocabulary 100352, embedding and head wrapped.
    h, q, kv, mlp, vocab, r = 5120, 40 * 128, 10 * 128, 17920, 100352, 8
    per_layer = r * h + (q + 2 * kv) * r + r * q + h * r + r * h + 2 * mlp * r + r * mlp + h * r
    assert _slot("microsoft/phi-4") == 2 * per_layer + 2 * (vocab * r + h * r)


def test_fused_moe_layers_add_their_expert_buffers_and_adapter_flags() -> None:
    # Mixtral-8x7B, two layers, 4 slots of rank 16: hidden 4096, 32 q / 8 kv heads
    # of 128, 8 experts of 14336, vocabulary 32000, embedding and head wrapped.
    # FusedMoEWithLoRA keeps w1/w3 A (rank × hidden) and B (14336 × rank) and
    # w2 A (rank × 14336), B (hidden × rank) per expert, plus adapter_enabled:
    # max_loras + 1 int32 flags per layer. The router is a replicated linear.
    h, q, kv, experts, inter, vocab, r = 4096, 4096, 1024, 8, 14336, 32000, 16
    layer = 3 * r * h + (q + 2 * kv) * r + r * q + h * r
    layer += experts * (2 * (r * h + inter * r) + (r * inter + h * r)) + r * h + experts * r
    slot = 2 * layer + 2 * (vocab * r + h * r)
    got = lora_bytes_per_gpu(
        _facts("mistralai/Mixtral-8x7B-Instruct-v0.1"),
        range(2),
        tp=1,
        first_stage=True,
        last_stage=True,
        budget=LoraBudget(max_loras=4, max_lora_rank=r),
        dtype_bytes=2,
    )
    # 130,353,192: also what vLLM 0.32's own manager allocated for this config
    # (benchmarks/lora_memory_reference.md).
    assert got == slot * 4 * 2 + 2 * 4 * (4 + 1)


def test_lora_refused_where_vllm_refuses_it() -> None:
    facts = _facts("llama-3.1-8b")
    no_lora = replace(facts, architecture="BloomForCausalLM")
    with pytest.raises(LlmpodError, match="supports_lora") as err:
        check_lora_supported(no_lora)
    assert err.value.code == "lora_unsupported"
    with pytest.raises(LlmpodError, match="258048"):
        check_lora_supported(replace(facts, vocab_size=258049))
    check_lora_supported(facts)
    # Gemma 2's class wraps no LM head, so its vocabulary is no obstacle.
    check_lora_supported(replace(_facts("google/gemma-2-9b-it"), vocab_size=262208))


def test_wrappers_whose_layout_is_not_read_get_embedding_and_head_buffers_and_no_refusal() -> None:
    # Gemma3ForConditionalGeneration's buffers follow its inner language model's class
    # (and its module does not import in the CPU build): the planner assumes the
    # embedding and LM head are wrapped, the larger figure, and does not refuse
    # its 262208-token vocabulary on a guess.
    gemma3 = _facts("google/gemma-3-12b-it")
    assert gemma3.vocab_size > 258048
    check_lora_supported(gemma3)
    kw: dict[str, Any] = {
        "tp": 1,
        "budget": LoraBudget(max_loras=1, max_lora_rank=8),
        "dtype_bytes": 1,
    }
    ends = lora_bytes_per_gpu(gemma3, range(0), first_stage=True, last_stage=True, **kw)
    h = gemma3.hidden_size
    assert ends == 2 * (gemma3.vocab_size * 8 + h * 8)


def _plan(capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    argv = ["plan", "--model", "llama-3.1-8b", "--gpu", "H200", "--max-model-len", "8192"]
    assert main([*argv, *extra, "--json"]) == 0
    plan: dict[str, Any] = json.loads(capsys.readouterr().out)
    return plan


def test_lora_slots_come_out_of_the_kv_cache_and_reach_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = _plan(capsys)
    lora = _plan(capsys, "--max-loras", "8", "--max-lora-rank", "64")
    reserved = 8 * 2 * _llama_8b_slot_elements(1, embed=True, head=True) * 4  # rank 64 = 4 × 16
    assert lora["per_gpu"]["lora_gib"] == pytest.approx(reserved / 2**30, abs=0.005)
    assert "lora_gib" not in base["per_gpu"]
    freed = base["per_gpu"]["kv_cache_gib"] - lora["per_gpu"]["kv_cache_gib"]
    assert freed == pytest.approx(reserved / 2**30, abs=0.011)
    assert lora["kv_cache_tokens"] < base["kv_cache_tokens"]
    args = lora["vllm_args"]
    assert args[args.index("--enable-lora") :][:5] == [
        "--enable-lora",
        "--max-loras",
        "8",
        "--max-lora-rank",
        "64",
    ]
    assert "--enable-lora" not in base["vllm_args"]


def test_rank_alone_turns_lora_on_with_vllms_one_slot(capsys: pytest.CaptureFixture[str]) -> None:
    plan = _plan(capsys, "--max-lora-rank", "32")
    args = plan["vllm_args"]
    assert args[args.index("--max-loras") : args.index("--max-loras") + 4] == [
        "--max-loras",
        "1",
        "--max-lora-rank",
        "32",
    ]


@pytest.mark.parametrize(
    "argv, says",
    [
        (["--max-lora-rank", "20"], "--max-lora-rank '20': vLLM accepts a LoRA rank of 1, 8, 16"),
        (["--max-loras", "4", "--max-cpu-loras", "2"], "--max-cpu-loras (2) is below --max-loras"),
        (["--speculative-model", "llama-3.2-1b"], "but --speculative-method is not"),
        (["--speculative-method", "eagle3"], "eagle3 needs --speculative-model"),
        (["--speculative-method", "ngram", "--speculative-model", "x"], "loads no other model"),
        (["--speculative-method", "mtp"], "has no multi-token-prediction layers"),
    ],
)
def test_bad_feature_options_are_bad_input(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "--model", "llama-3.1-8b", "--gpu", "H200", *argv]) == 1
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


def test_the_stack_names_the_key_it_refuses() -> None:
    with pytest.raises(ValueError, match="max_cpu_loras \\(1\\) is below max_loras \\(2\\)"):
        ServingSpec.model_validate(
            {
                "name": "chat",
                "model": "llama-3.1-8b",
                "gpus": {"types": ["H200"]},
                "vllm": {"max_loras": 2, "max_cpu_loras": 1},
            }
        )


def test_ngram_needs_no_gpu_memory(capsys: pytest.CaptureFixture[str]) -> None:
    base = _plan(capsys)
    ngram = _plan(capsys, "--speculative-method", "ngram", "--num-speculative-tokens", "4")
    assert ngram["kv_cache_tokens"] == base["kv_cache_tokens"]
    config = json.loads(ngram["vllm_args"][ngram["vllm_args"].index("--speculative-config") + 1])
    assert config == {"method": "ngram", "num_speculative_tokens": 4}


def test_a_draft_model_costs_its_weights_and_a_kv_page_per_layer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = _plan(capsys)
    draft = _plan(
        capsys, "--speculative-method", "draft_model", "--speculative-model", "llama-3.2-1b"
    )
    config = json.loads(draft["vllm_args"][draft["vllm_args"].index("--speculative-config") + 1])
    assert config == {
        "method": "draft_model",
        "model": "/models/meta-llama/Llama-3.2-1B-Instruct",
        "num_speculative_tokens": 3,
    }
    # Llama-3.2-1B as published: 16 layers, 8 KV heads of 64, hidden 2048, vocab 128256,
    # tied embeddings: ~1.24 B parameters in bf16.
    assert draft["per_gpu"]["draft_gib"] == pytest.approx(1.24e9 * 2 / 2**30, rel=0.03)
    target_per_token = LAYERS * 2 * KV * 2  # K and V, bf16
    draft_per_token = 16 * 2 * 8 * 64 * 2
    kv_bytes = draft["per_gpu"]["kv_cache_gib"] * 2**30
    expected = kv_bytes / (target_per_token + draft_per_token)
    assert draft["kv_cache_tokens"] == pytest.approx(expected, rel=0.002)
    assert draft["kv_cache_tokens"] < base["kv_cache_tokens"] * target_per_token / (
        target_per_token + draft_per_token
    )


def test_mtp_uses_the_checkpoints_own_layers() -> None:
    v3 = resolve_model("deepseek-ai/DeepSeek-V3").facts
    assert v3.mtp_layers == 1  # num_nextn_predict_layers in the published config
    mem = proposer_memory(
        "mtp", v3, None, tp=8, block=64, kv_bytes=2, dtype_bytes=2, version=(0, 32, 0)
    )
    # One MLA layer's latent cache (576 wide, not split by TP), bf16.
    assert mem.kv_bytes_per_token == 576 * 2
    # One MoE decoder layer of 671B/61 layers ≈ 11 B parameters, fp8 experts, over 8 GPUs,
    # plus eh_proj (2 × 7168 × 7168, bf16): between 1 and 2 GiB per GPU.
    assert 1.0 < mem.weights_bytes / 2**30 < 2.0


def test_an_unknown_mtp_model_is_refused_with_the_way_out() -> None:
    with pytest.raises(LlmpodError, match="no multi-token-prediction layers"):
        proposer_memory(
            "mtp", _llama(), None, tp=1, block=16, kv_bytes=2, dtype_bytes=2, version=(0, 32, 0)
        )


def _spec(vllm: dict[str, Any]) -> ServingSpec:
    return ServingSpec.model_validate(
        {
            "name": "chat",
            "model": "llama-3.1-8b",
            "max_model_len": 8192,
            "gpus": {"types": ["H200"]},
            "vllm": vllm,
        }
    )


def test_a_stack_with_a_draft_model_plans_and_points_vllm_at_the_fetched_draft() -> None:
    # Refused while the loader fetched the checkpoint only; the loader now fetches the
    # draft into its catalog directory (tests/unit/test_lora_adapters_loader.py).
    sp = plan_service(
        _spec({"speculative_method": "draft_model", "speculative_model": "llama-3.2-1b"}), "dev"
    )
    args = list(sp.plan.vllm_args)
    config = json.loads(args[args.index("--speculative-config") + 1])
    assert config["model"] == "/models/meta-llama/Llama-3.2-1B-Instruct"
    assert sp.draft is not None and sp.draft.raw.name == "meta-llama/Llama-3.2-1B-Instruct"


def test_a_stack_serves_ngram_and_lora_with_the_planned_flags() -> None:
    sp = plan_service(
        _spec({"speculative_method": "ngram", "max_loras": 2, "max_lora_rank": 8}), "dev"
    )
    args = list(sp.plan.vllm_args)
    assert "--enable-lora" in args and args[args.index("--max-lora-rank") + 1] == "8"
    assert json.loads(args[args.index("--speculative-config") + 1])["method"] == "ngram"


@pytest.mark.parametrize(
    "method, graphs_subtracted",
    [("ngram", True), ("draft_model", True), ("eagle3", False), (None, False)],
)
def test_ngram_and_draft_models_send_a_dense_model_to_the_v1_runner_on_0_26(
    method: str | None, graphs_subtracted: bool
) -> None:
    # vLLM 0.26.0 config/vllm.py _get_v2_model_runner_unsupported_features: Model
    # Runner V2 runs eagle/eagle3/mtp drafts only; ngram and draft models fall back
    # to V1, whose CUDA-graph profile comes off the KV budget (V2's returns 0).
    from llmpod.planner.versions import profile_for

    got = profile_for("0.26.0").subtracts_cudagraph_for(
        "LlamaForCausalLM",
        is_moe=False,
        is_quantized=False,
        vendor="nvidia",
        enforce_eager=False,
        speculative=method,
    )
    assert got is graphs_subtracted
