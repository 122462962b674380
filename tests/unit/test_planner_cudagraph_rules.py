"""Whether the KV budget loses a CUDA-graph estimate, per vLLM release and case (issue 27).

Every expected value below was read in that release's PyPI sdist, not taken from
the code under test:
- V2 runner's ``profile_cudagraph_memory`` (vllm/v1/worker/gpu/model_runner.py) is
  ``return 0`` in 0.26.0 (:707), 0.27.0 and 0.27.1 (:751), 0.28.0 (:845); from 0.29.0
  it calls cudagraph_utils.profile_cudagraph_memory, which captures and measures.
- V1's (vllm/v1/worker/gpu_model_runner.py) measures in every release.
- 0.26.0–0.28.0 default V2 for generate models that are not MoE or whose
  architecture is in DEFAULT_V2_MODEL_RUNNER_ARCHITECTURES (config/vllm.py); 0.27
  adds KimiK3ForConditionalGeneration, 0.28 DeepseekV4ForCausalLM, each dropped on
  ROCm. From 0.29.0 V2 is the default for every model.
- No runner choice reads the GPU generation, the quantisation or TP/PP; the
  worker never profiles graphs when cudagraph_mode is NONE (--enforce-eager).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json

import pytest

from llmpod.cli.main import main
from llmpod.gpus.catalog import find_gpu
from llmpod.models.catalog import find
from llmpod.models.config import parse_model_config
from llmpod.planner.cudagraph_rules import (
    RULES,
    Vendor,
    model_runner,
    rule_for,
    subtracts_cudagraph,
)
from llmpod.planner.memory import runner_buffers_gib
from llmpod.planner.versions import parse_version, profile_for

EARLY_V2 = ("0.25.0", "0.25.1", "0.26.0", "0.27.0", "0.27.1", "0.28.0")  # V2 profiler returns 0
#: ... of which the planner still reserves the estimate (logged 0.28.0 runs had that much less KV).
RESERVED_ANYWAY = ("0.27.0", "0.27.1", "0.28.0")
MEASURING = ("0.29.0", "0.30.0", "0.31.0", "0.32.0", "0.33.0")  # both runners measure


def _sub(
    version: str,
    arch: str,
    *,
    moe: bool,
    quantized: bool = False,
    vendor: Vendor = "nvidia",
    eager: bool = False,
) -> bool:
    return subtracts_cudagraph(
        parse_version(version),
        arch,
        is_moe=moe,
        is_quantized=quantized,
        vendor=vendor,
        enforce_eager=eager,
    )


def _runner(version: str, arch: str, *, vendor: Vendor) -> str:
    return model_runner(
        parse_version(version), arch, is_moe=True, is_quantized=False, vendor=vendor
    )


@pytest.mark.parametrize("version", EARLY_V2)
@pytest.mark.parametrize("vendor", ["nvidia", "amd"])
def test_dense_models_run_on_v2_whose_profiler_measures_nothing_up_to_0_28(
    version: str, vendor: Vendor
) -> None:
    # Qwen2.5-14B, bf16 or its AWQ build (quantisation is no input from 0.24), and Llama.
    rule = rule_for(parse_version(version))
    assert rule is not None and not rule.v2_profiles_cudagraphs
    reserved = version in RESERVED_ANYWAY
    for quantized in (False, True):
        for arch in ("Qwen2ForCausalLM", "LlamaForCausalLM"):
            assert rule.runner(arch, is_moe=False, is_quantized=quantized, vendor=vendor) == "v2"
            got = _sub(version, arch, moe=False, quantized=quantized, vendor=vendor)
            assert got is reserved, (version, arch, quantized)


@pytest.mark.parametrize("version", MEASURING)
def test_every_runner_measures_graphs_from_0_29(version: str) -> None:
    assert _sub(version, "Qwen2ForCausalLM", moe=False)
    assert _sub(version, "Qwen3MoeForCausalLM", moe=True)
    assert _sub(version, "Qwen2MoeForCausalLM", moe=True)
    assert _sub(version, "DeepseekV4ForCausalLM", moe=True, vendor="amd")


@pytest.mark.parametrize("version", EARLY_V2)
def test_unlisted_moe_runs_on_v1_and_subtracts(version: str) -> None:
    assert _sub(version, "Qwen3MoeForCausalLM", moe=True)
    assert _sub(version, "MixtralForCausalLM", moe=True)
    assert _sub(version, "GptOssForCausalLM", moe=True)


@pytest.mark.parametrize("version", ("0.24.0", *EARLY_V2))
def test_listed_moe_runs_on_v2_and_subtracts_nothing(version: str) -> None:
    for arch in ("Qwen2MoeForCausalLM", "DeepseekV2ForCausalLM"):
        assert _runner(version, arch, vendor="nvidia") == "v2"
        assert _sub(version, arch, moe=True) is (version in RESERVED_ANYWAY)


@pytest.mark.parametrize(
    ("version", "arch", "nvidia", "amd"),
    [
        # KimiK3 joined the V2 list in 0.27 (config:76) and is excluded on ROCm (config:84).
        ("0.26.0", "KimiK3ForConditionalGeneration", True, True),
        ("0.27.1", "KimiK3ForConditionalGeneration", False, True),
        # 0.28 keeps KimiK3 on V2 everywhere and adds DeepseekV4, dropped on ROCm (config:92).
        ("0.28.0", "KimiK3ForConditionalGeneration", False, False),
        ("0.27.1", "DeepseekV4ForCausalLM", True, True),
        ("0.28.0", "DeepseekV4ForCausalLM", False, True),
    ],
)
def test_architecture_lists_change_by_release_and_vendor(
    version: str, arch: str, nvidia: bool, amd: bool
) -> None:
    # The flags say "on V1" (whose profiler measures graphs) for each vendor.
    assert _runner(version, arch, vendor="nvidia") == ("v1" if nvidia else "v2")
    assert _runner(version, arch, vendor="amd") == ("v1" if amd else "v2")


@pytest.mark.parametrize("version", EARLY_V2 + MEASURING + ("0.21.0",))
def test_enforce_eager_never_subtracts(version: str) -> None:
    assert not _sub(version, "Qwen3MoeForCausalLM", moe=True, eager=True)
    assert not _sub(version, "Qwen2ForCausalLM", moe=False, eager=True)


def test_before_0_21_nothing_and_0_21_everything_on_v1() -> None:
    assert not _sub("0.20.0", "LlamaForCausalLM", moe=False)
    # 0.21.0: VLLM_USE_V2_MODEL_RUNNER defaults to 0 (envs.py:251).
    assert _sub("0.21.0", "LlamaForCausalLM", moe=False)
    assert _sub("0.21.0", "Qwen3ForCausalLM", moe=False)


@pytest.mark.parametrize(
    ("version", "arch", "moe", "quantized", "expected"),
    [
        # 0.22.1: V2 only for Qwen3ForCausalLM, not MoE, not a quantised checkpoint.
        ("0.22.1", "Qwen3ForCausalLM", False, False, False),
        ("0.22.1", "Qwen3ForCausalLM", False, True, True),  # AWQ Qwen3 -> V1
        ("0.22.1", "LlamaForCausalLM", False, False, True),
        # 0.23.0: Llama, Mistral and Qwen3 join; quantised checkpoints still on V1.
        ("0.23.0", "LlamaForCausalLM", False, False, False),
        ("0.23.0", "LlamaForCausalLM", False, True, True),  # Llama AWQ-INT4 -> V1
        ("0.23.0", "Qwen2ForCausalLM", False, False, True),  # Qwen2.5 not listed
        # 0.24.0: the list decides alone; quantisation no longer matters.
        ("0.24.0", "LlamaForCausalLM", False, True, False),
        ("0.24.0", "Qwen2ForCausalLM", False, False, True),
        ("0.24.0", "Qwen2MoeForCausalLM", True, False, False),
        ("0.24.0", "Qwen3MoeForCausalLM", True, False, True),
        # 0.25.x: every dense model on V2.
        ("0.25.1", "Qwen2ForCausalLM", False, True, False),
        ("0.25.0", "Qwen3MoeForCausalLM", True, False, True),
    ],
)
def test_0_22_to_0_25_runner_lists(
    version: str, arch: str, moe: bool, quantized: bool, expected: bool
) -> None:
    assert _sub(version, arch, moe=moe, quantized=quantized) is expected


def test_unread_releases_follow_their_minor_then_the_newest_below() -> None:
    assert rule_for((0, 20, 2)) is None
    assert rule_for((0, 22, 0)) is rule_for((0, 22, 1))
    assert rule_for((0, 25, 0)) is rule_for((0, 25, 1))
    assert rule_for((0, 27, 0)) is rule_for((0, 27, 1))
    assert rule_for((0, 28, 3)) is rule_for((0, 28, 0))
    assert rule_for((0, 40, 0)) is RULES[-1]


def test_every_rule_cites_its_release() -> None:
    assert [r.release for r in RULES] == sorted(r.release for r in RULES)
    for r in RULES:
        assert r.citations and all(":" in c for c in r.citations), r.release


def _planned_graph_gib(model: str, gpu: str, version: str, *extra: str) -> float:
    argv = ["plan", "--model", model, "--gpu", gpu, "--vllm-version", version, "--json"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*argv, *extra]) == 0
    return float(json.loads(out.getvalue())["per_gpu"]["cuda_graph_gib"])


@pytest.mark.parametrize("gpu", ["L40S", "L4", "H200", "A100-80GB"])
@pytest.mark.parametrize("layout", [(), ("--tp", "2"), ("--pp", "2")])
def test_qwen25_14b_plan_reserves_graphs_on_0_28_as_its_logs_need_not_on_0_26(
    gpu: str, layout: tuple[str, ...]
) -> None:
    assert _planned_graph_gib("qwen2.5-14b", gpu, "0.26.0", *layout) == 0.0
    assert _planned_graph_gib("qwen2.5-14b", gpu, "0.28.0", *layout) > 0.0
    assert _planned_graph_gib("qwen2.5-14b", gpu, "0.29.0", *layout) > 0.0


def test_awq_build_routes_like_the_bf16_build() -> None:
    # A 14B AWQ build: same architecture, AWQ quantization_config (from Qwen2.5-7B-AWQ).
    e14, awq = find("qwen2.5-14b"), find("qwen2.5-7b-awq")
    m = parse_model_config(e14.config, name=e14.name)
    q = parse_model_config(awq.config, name=awq.name)
    assert q.quant is not None and m.quant is None
    m_awq = dataclasses.replace(m, quant=q.quant)
    l40s = find_gpu("L40S")
    for version, expected in (("0.26.0", False), ("0.28.0", True), ("0.29.0", True)):
        p = profile_for(version)
        for facts in (m, m_awq):
            got = p.subtracts_cudagraph_for(
                facts.architecture,
                is_moe=facts.is_moe,
                is_quantized=facts.quant is not None,
                vendor=l40s.vendor,
                enforce_eager=False,
            )
            assert got is expected, (version, facts.name)


# Runner buffers (issue 27): from 0.27 vLLM's non-KV figure is the free-memory drop
# since the worker's first snapshot (vllm/utils/mem_utils.py:317-326 in 0.27.0), which
# takes in Model Runner V2's sampler state allocated after the weights were measured:
# output_bin_counts [max_num_seqs, vocab] + prompt_bin_mask [max_num_seqs, ceil(vocab/32)],
# int32 (vllm/v1/worker/gpu/sample/penalties.py:32-41 in 0.28.0). 0.26.0 left it out.
QWEN25_14B_256 = 256 * (152064 + 4752) * 4 / 1024**3  # 0.1496 GiB, L40S default 256 seqs
LLAMA8B_1024 = 1024 * (128256 + 4008) * 4 / 1024**3  # 0.5045 GiB, H100/H200 default 1024


@pytest.mark.parametrize(
    ("model", "seqs", "expected"),
    [("qwen2.5-14b", 256, QWEN25_14B_256), ("llama-3.1-8b", 1024, LLAMA8B_1024)],
)
def test_v2_sampler_state_counts_from_0_27_on_the_last_stage(
    model: str, seqs: int, expected: float
) -> None:
    e = find(model)
    m = parse_model_config(e.config, name=e.name)

    def buffers(version: str, runner: str = "v2", last: bool = True) -> float:
        return runner_buffers_gib(
            m, runner=runner, last_stage=last, max_num_seqs=seqs, profile=profile_for(version)
        )

    assert buffers("0.26.0") == 0.0
    for version in ("0.27.0", "0.28.0", "0.32.0"):
        assert buffers(version) == pytest.approx(expected, rel=1e-9)
        assert buffers(version, runner="v1") == 0.0
        assert buffers(version, last=False) == 0.0


def test_l40s_qwen25_14b_plan_on_0_28_holds_the_sampler_state_off_kv() -> None:
    def per_gpu(version: str) -> dict[str, float]:
        argv = ["plan", "--model", "qwen2.5-14b", "--gpu", "L40S", "--json"]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main([*argv, "--vllm-version", version]) == 0
        return dict(json.loads(out.getvalue())["per_gpu"])

    old, new = per_gpu("0.26.0"), per_gpu("0.28.0")
    assert new["non_torch_gib"] - old["non_torch_gib"] == pytest.approx(QWEN25_14B_256, abs=0.01)
    assert new["kv_cache_gib"] < old["kv_cache_gib"]
