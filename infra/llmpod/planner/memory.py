"""Per-GPU memory as vLLM's profiler accounts it, for one pipeline stage.

KV budget = ceil(total × gpu_memory_utilization) − weights − activation peak
− non-torch (from 0.27 with the runner's persistent buffers: ``runner_buffers_gib``)
− (from 0.21, per release and runner: ``cudagraph_rules``) the CUDA-graph estimate.
See vllm_rules.md §2 and vllm/v1/worker/gpu_worker.py determine_available_memory.

The activation peak is the larger of the dummy forward over
max_num_batched_tokens tokens and (last stage only) the dummy sampler run over
min(max_num_seqs, max_num_batched_tokens) requests × padded vocab; MoE layers
add their fused-MoE workspace, which persists. Coefficients are fits to the
logged peaks in kv_observations.csv and are recorded next to each term.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from llmpod.gpus.spec import GpuSpec
from llmpod.models.facts import ModelFacts
from llmpod.planner.versions import VersionProfile

GIB = 1024**3
#: During the sampler run one max_num_batched_tokens × hidden buffer (model
#: dtype) is still alive, ×1.14: fit to Kimi-Dev-72B (hidden 8192) vs
#: Qwen2.5-7B (hidden 3584), same vocabulary, 2.29 vs 2.21 GiB in v0.19.
SAMPLER_HIDDEN_TENSORS = 1.14
#: Forward pass per token: ~3 MLP-width and ~6 hidden-width tensors live at the
#: peak (gate_up output, activation, residual, norms); fit to the Llama-3.1-8B PP4
#: first-stage peak of 1.05 GiB at 8192 tokens (LLMD-26).
FORWARD_MLP_TENSORS = 3
FORWARD_HIDDEN_TENSORS = 6


@dataclass(frozen=True)
class StageMemory:
    total_gib: float
    requested_gib: float
    weights_gib: float
    activation_gib: float
    non_torch_gib: float
    cuda_graph_gib: float
    #: LoRA A/B buffers for max_loras adapters at max_lora_rank (planner/lora.py).
    lora_gib: float = 0.0
    #: The speculative proposer's weights (planner/speculative.py), last stage only.
    draft_gib: float = 0.0

    @property
    def kv_cache_gib(self) -> float:
        return (
            self.requested_gib
            - self.weights_gib
            - self.lora_gib
            - self.draft_gib
            - self.activation_gib
            - self.non_torch_gib
            - self.cuda_graph_gib
        )


def activation_gib(
    m: ModelFacts,
    *,
    tp: int,
    last_stage: bool,
    max_num_seqs: int,
    max_num_batched_tokens: int,
    profile: VersionProfile,
    act_bytes: int = 2,
) -> float:
    tokens = max_num_batched_tokens
    if m.moe is not None:
        mlp_width = (
            max(m.moe.shared_intermediate_size, m.intermediate_size if m.moe.dense_layers else 0)
            / tp
        )
    else:
        mlp_width = m.intermediate_size / tp
    mlp_tensors = FORWARD_MLP_TENSORS if m.mlp_matrices == 3 else 2
    forward = (
        tokens * act_bytes * (mlp_tensors * mlp_width + FORWARD_HIDDEN_TENSORS * m.hidden_size)
    )
    peak = forward / GIB
    if last_stage:
        reqs = min(max_num_seqs, max_num_batched_tokens)
        sampler = (
            profile.sampler_bytes_per_logit * reqs * m.padded_vocab
            + SAMPLER_HIDDEN_TENSORS * tokens * m.hidden_size * act_bytes
        ) / GIB
        peak = max(peak, sampler)
    mxfp4_experts = m.quant is not None and m.quant.method == "mxfp4"
    if m.moe is not None and not mxfp4_experts:
        # fused-MoE workspaces (tokens × top-k × [gate_up + act + down widths]);
        # fit: Qwen3-30B-A3B +0.46 GiB, DeepSeek-V2-Lite +0.40 GiB over the sampler peak.
        # Not for MXFP4 experts (gpt-oss): their logged peaks are the sampler peak
        # alone — gpt-oss-20b 7.38 GiB in v0.11 (LLMD-DOC-63, 7.40 predicted), 2.87
        # at TP 2 in v0.19 (LLMD-40, 2.90) — and the workspace term put them
        # 0.7 / 0.44 GiB over (issue 20, item 7: gpt-oss-120b's KV 2.50 vs 3.33 GiB).
        width = 3 * m.moe.expert_intermediate_size / tp + m.hidden_size
        peak += tokens * m.moe.experts_per_token * width * act_bytes / GIB
    return peak


def non_torch_gib(gpu: GpuSpec, tp: int, profile: VersionProfile) -> float:
    if gpu.vendor == "cpu":
        return 0.0
    if tp == 1:
        return profile.non_torch_tp1_gib
    if gpu.interconnect in ("nvlink", "infinity-fabric"):
        return profile.non_torch_tp_nvlink_gib
    return profile.non_torch_tp_pcie_gib


def runner_buffers_gib(
    m: ModelFacts, *, runner: str, last_stage: bool, max_num_seqs: int, profile: VersionProfile
) -> float:
    """Runner buffers that 0.27+'s free-memory accounting takes off the KV budget.

    Model Runner V2 builds its sampler after the weights are measured and before
    the profile run (vllm/v1/worker/gpu/model_runner.py: ``self.sampler =
    Sampler(`` at :352 in 0.27.1, after ``model_memory_usage`` at :328; :485
    after :423 in 0.32.0), on the last PP rank only. Its PenaltiesState holds
    ``output_bin_counts`` [max_num_seqs, vocab] and ``prompt_bin_mask``
    [max_num_seqs, ceil(vocab/32)], both int32 on the GPU, whatever the request
    asks for (vllm/v1/worker/gpu/sample/penalties.py:32-41 in 0.26.0-0.30.0,
    :40-47 in 0.31.0 and 0.32.0): 0.50 GiB at 1024 × 128,256. Its other
    buffers (inputs, block tables, slot mappings) are MiB-sized and left out,
    as are V1's, which has no per-vocab GPU state before the profile run.
    """
    if not profile.counts_runner_buffers or runner != "v2" or not last_stage:
        return 0.0
    return max_num_seqs * (m.vocab_size + math.ceil(m.vocab_size / 32)) * 4 / GIB


def cuda_graph_gib(
    m: ModelFacts,
    stage_layers: int,
    *,
    enforce_eager: bool,
    profile: VersionProfile,
    gpu: GpuSpec,
    speculative: str | None = None,
) -> float:
    """Estimated CUDA-graph pool, where the release and runner subtract one.

    Fit to the estimates logged by v0.19 on H100 (V1 runner): ~0.3 GiB plus
    ~17.5 MiB per captured layer (0.84 GiB for 32 layers, 1.7 GiB for 80), MoE
    +0.35 GiB. From 0.29 V2 measures its own graphs with a different method
    (vllm/v1/worker/gpu/cudagraph_utils.py); no V2 estimate has been logged
    here yet, so the V1 fit stands in for it.
    """
    subtracted = profile.subtracts_cudagraph_for(
        m.architecture,
        is_moe=m.is_moe,
        is_quantized=m.quant is not None,
        vendor=gpu.vendor,
        enforce_eager=enforce_eager,
        speculative=speculative,
    )
    if not subtracted:
        return 0.0
    return 0.3 + 0.0175 * stage_layers + (0.35 if m.moe is not None else 0.0)


def stage_memory(
    gpu: GpuSpec,
    *,
    utilization: float,
    weights_gib: float,
    activation: float,
    non_torch: float,
    cuda_graph: float,
    lora: float = 0.0,
    draft: float = 0.0,
) -> StageMemory:
    requested = math.ceil(gpu.memory_gib * GIB * utilization) / GIB  # v0.33 rounds up bytes
    return StageMemory(
        gpu.memory_gib, requested, weights_gib, activation, non_torch, cuda_graph, lora, draft
    )
