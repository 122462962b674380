"""Roofline estimates of decode throughput and time to first token.

These are estimates, labelled as such in every plan. The model:
- a decode step reads every weight the batch activates (for MoE, the expected
  number of distinct experts hit by B tokens) plus every sequence's KV cache,
  at an achievable fraction of HBM bandwidth, or is compute-bound, whichever
  is slower; plus a fixed per-step overhead (scheduling, sampling, launch);
- tensor parallelism divides bytes and FLOPs by TP and adds two all-reduces per
  layer, each a latency (NVLink custom all-reduce ≈ 8 µs, PCIe ≈ 30 µs) plus
  bytes over the link — this is where NVLink and PCIe scale differently;
- pipeline stages run one after another for a single request; with enough
  requests in flight they overlap, so throughput is set by one stage;
- prefill is compute-bound at an achievable fraction of dense peak.
Calibration against published vLLM runs (not fitted row by row): Llama-3.1-8B
bf16 on one H100, vLLM 0.21, TPOT 6.48 ms at concurrency 1 (InferenceBench
concurrency-sweep recipe, 2026-05) — this model gives 6.5 ms; the same model on
an A100 40GB, vLLM 0.23, ~75 output tok/s at concurrency 1 and ~6.6× that at 8
(1024 in / 128 out; johnmusgrave.com vLLM sweep) — this model gives ~78 and ~6.5×.
The benchmark scenario matches DESIGN.md: B concurrent requests, 512 prompt
tokens each, 128 generated, timed from submission to the last token.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from infra.gpus.spec import GpuSpec
from infra.models.facts import ModelFacts
from infra.planner.estimates import PerfEstimates

#: Achievable share of peak HBM bandwidth in decode GEMV/attention kernels.
BANDWIDTH_EFFICIENCY = {"nvidia": 0.85, "amd": 0.65, "cpu": 0.5}
#: Achievable share of dense peak in large prefill GEMMs.
COMPUTE_EFFICIENCY = {"nvidia": 0.60, "amd": 0.40, "cpu": 0.3}
#: Per decode step: scheduler, sampler, graph launch (vLLM V1, CUDA graphs on).
STEP_OVERHEAD_S = 0.0005
#: Kernel-launch gaps per layer per step that CUDA graphs do not remove (~10 µs:
#: the 8B H100 TPOT above is 0.3 ms over its bandwidth bound).
PER_LAYER_OVERHEAD_S = 10e-6
#: Per request: HTTP, tokenisation, detokenisation (fixed part of TTFT).
REQUEST_OVERHEAD_S = 0.006
ALLREDUCE_LATENCY_S = {"nvlink": 8e-6, "infinity-fabric": 15e-6, "pcie": 30e-6, "none": 0.0}
#: Pipeline hop between stages across nodes (NCCL send/recv over EFA/InfiniBand).
PP_HOP_S = 60e-6
PROMPT, OUTPUT = 512, 128
CONCURRENCIES = (1, 8, 32, 128)


@dataclass(frozen=True)
class PerfInputs:
    model: ModelFacts
    gpu: GpuSpec
    tp: int
    pp: int
    #: Weight bytes one GPU holds, split into always-read and expert parts.
    dense_bytes_per_gpu: float
    expert_bytes_per_gpu: float
    kv_bytes_per_token_per_gpu: float
    active_params_per_token: float
    fp8_compute: bool
    max_num_seqs: int
    max_num_batched_tokens: int
    kv_token_capacity: int
    cross_node: bool


def _expert_fraction(m: ModelFacts, batch_tokens: int) -> float:
    if m.moe is None:
        return 1.0
    k, e = m.moe.experts_per_token, m.moe.num_experts
    return 1.0 - (1.0 - k / e) ** batch_tokens


def _allreduce_s(p: PerfInputs, tokens: int) -> float:
    if p.tp == 1:
        return 0.0
    layers = p.model.num_layers / p.pp
    size = tokens * p.model.hidden_size * 2 * 2 * (p.tp - 1) / p.tp
    per = ALLREDUCE_LATENCY_S[p.gpu.interconnect] + size / (p.gpu.interconnect_gbs * 1e9)
    return 2 * layers * per


def _peak_flops(p: PerfInputs) -> float:
    tflops = p.gpu.fp8_tflops if (p.fp8_compute and p.gpu.fp8_tflops) else p.gpu.bf16_tflops
    return tflops * 1e12 * COMPUTE_EFFICIENCY[p.gpu.vendor]


def _bandwidth(p: PerfInputs) -> float:
    return p.gpu.hbm_bandwidth_gbs * 1e9 * BANDWIDTH_EFFICIENCY[p.gpu.vendor]


def stage_step_s(p: PerfInputs, batch: int, context: int) -> float:
    """One decode step of one pipeline stage for ``batch`` sequences."""
    weight_bytes = (p.dense_bytes_per_gpu
                    + p.expert_bytes_per_gpu * _expert_fraction(p.model, batch)) / p.pp
    kv_bytes = batch * context * p.kv_bytes_per_token_per_gpu / p.pp
    memory_s = (weight_bytes + kv_bytes) / _bandwidth(p)
    compute_s = 2 * p.active_params_per_token * batch / (p.tp * p.pp) / _peak_flops(p)
    layers = p.model.num_layers / p.pp
    return (max(memory_s, compute_s) + _allreduce_s(p, batch) + STEP_OVERHEAD_S / p.pp
            + layers * PER_LAYER_OVERHEAD_S)


def decode_step_s(p: PerfInputs, batch: int, context: int) -> float:
    if p.pp == 1:
        return stage_step_s(p, batch, context)
    hops = (p.pp - 1) * (PP_HOP_S if p.cross_node else 10e-6)
    if batch < p.pp:  # nothing to overlap: stages run back to back
        return p.pp * stage_step_s(p, batch, context) + hops
    micro = math.ceil(batch / p.pp)
    return p.pp * stage_step_s(p, micro, context) + hops / p.pp


def prefill_s(p: PerfInputs, tokens: int) -> float:
    m = p.model
    attn_flops = 2 * m.num_layers * m.num_attention_heads * m.head_dim * tokens * PROMPT
    flops = (2 * p.active_params_per_token * tokens + attn_flops) / p.tp
    compute_s = flops / _peak_flops(p)
    weights = p.dense_bytes_per_gpu + p.expert_bytes_per_gpu * _expert_fraction(m, tokens)
    memory_s = weights / _bandwidth(p)
    return max(compute_s, memory_s) + _allreduce_s(p, tokens) + STEP_OVERHEAD_S


def ttft_s(p: PerfInputs, prompt: int = PROMPT) -> float:
    hops = (p.pp - 1) * (PP_HOP_S if p.cross_node else 10e-6)
    return prefill_s(p, prompt) + hops + REQUEST_OVERHEAD_S


def benchmark_tokens_per_s(p: PerfInputs, concurrency: int) -> float:
    """Aggregate output tokens/s for ``concurrency`` × (512 in, 128 out)."""
    per_request_tokens = PROMPT + OUTPUT
    fits = max(1, min(concurrency, p.max_num_seqs, p.kv_token_capacity // per_request_tokens))
    waves = math.ceil(concurrency / fits)
    batch = min(concurrency, fits)
    prefill_tokens = batch * PROMPT
    chunks = math.ceil(prefill_tokens / p.max_num_batched_tokens)
    prefill = sum(prefill_s(p, min(p.max_num_batched_tokens, prefill_tokens - i *
                                   p.max_num_batched_tokens)) for i in range(chunks))
    decode = OUTPUT * decode_step_s(p, batch, PROMPT + OUTPUT // 2)
    wave_s = prefill + decode + REQUEST_OVERHEAD_S
    return concurrency * OUTPUT / (waves * wave_s)


def estimates(p: PerfInputs) -> PerfEstimates:
    return {
        "decode_tokens_per_s": {str(c): round(benchmark_tokens_per_s(p, c), 1)
                                for c in CONCURRENCIES},
        "ttft_s_512": round(ttft_s(p), 4),
        "inter_token_latency_s": round(decode_step_s(p, 1, PROMPT + OUTPUT // 2), 5),
        "method": ("roofline estimate: decode = max(bytes/achievable HBM bandwidth, "
                   "FLOPs/achievable peak) + all-reduce + step overhead; not a measurement"),
    }
