"""Decode throughput and time to first token: roofline plus kernel efficiencies.

These are estimates, labelled as such in every plan. The model:
- a decode step reads every weight the batch activates plus every sequence's
  KV cache. Each part is its own kernel, memory- or compute-bound, whichever
  is slower, at the efficiency of its kernel class on this GPU generation
  (infra/llmpod/planner/kernels.py): the quantized linear layers, the bf16 LM head
  (the embedding table is gathered, not streamed), the MoE experts (only the
  expected number of distinct experts B tokens hit with top-k routing), and
  attention over the KV cache; plus a fixed per-step overhead (scheduling,
  sampling, launch), per-layer launch gaps, and per-MoE-layer routing time;
- tensor parallelism divides bytes and FLOPs by TP and adds two all-reduces per
  layer, each a latency (NVLink custom all-reduce ≈ 8 µs, PCIe ≈ 30 µs) plus
  bytes over the link — this is where NVLink and PCIe scale differently;
- pipeline stages run one after another for a single request; with enough
  requests in flight they overlap, so throughput is set by one stage;
- prefill is compute-bound at an achievable fraction of the class's peak.
Calibration: dense figures against published vLLM runs (Llama-3.1-8B bf16 on
one H100, vLLM 0.21, TPOT 6.48 ms at concurrency 1, InferenceBench
concurrency-sweep recipe, 2026-05; the same model on an A100 40GB, vLLM 0.23,
~75 output tok/s at concurrency 1 and ~6.6× that at 8, johnmusgrave.com vLLM
sweep), kernel classes against the H200 runs in benchmarks/h200 (vLLM 0.26.0;
``python benchmarks/throughput_accuracy.py`` prints estimate vs measured, with
the runs held out of the fit).
The benchmark scenario matches DESIGN.md: B concurrent requests, 512 prompt
tokens each, 128 generated, timed from submission to the last token.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from llmpod.gpus.spec import GpuSpec
from llmpod.models.facts import ModelFacts
from llmpod.planner.calibration import Calibration
from llmpod.planner.estimates import PerfEstimates
from llmpod.planner.kernels import KernelClass
from llmpod.planner.speculation import Speculation

# The constants (per-step, per-layer, per-logit and per-request overheads,
# all-reduce latencies, pipeline hops and the kernel efficiencies) are data:
# planner/calibration/throughput.json, carried by PerfInputs.calibration.
PROMPT, OUTPUT = 512, 128
CONCURRENCIES = (1, 8, 32, 128)


@dataclass(frozen=True)
class PerfInputs:
    model: ModelFacts
    gpu: GpuSpec
    tp: int
    pp: int
    #: Bytes one GPU streams per step, by kernel class: the (possibly quantized)
    #: linear layers of attention and dense/shared MLPs, the LM head (bf16,
    #: always read), and the MoE experts (all of them; a step reads a share).
    linear_bytes_per_gpu: float
    lm_head_bytes_per_gpu: float
    expert_bytes_per_gpu: float
    kv_bytes_per_token_per_gpu: float
    #: Parameters one token multiplies by: outside the experts, and in its top-k experts.
    dense_params_per_token: float
    expert_params_per_token: float
    weight_kernel: KernelClass
    #: w8a8 with fp8/int8 math on this GPU (else weight-only dequant or bf16 math).
    low_precision_math: bool
    max_num_seqs: int
    max_num_batched_tokens: int
    kv_token_capacity: int
    cross_node: bool
    #: The cost model's constants for this vLLM version and GPU generation.
    calibration: Calibration
    #: Speculative decoding's proposals, acceptance and proposer; None without it.
    speculation: Speculation | None = None


def tokens_per_step(p: PerfInputs) -> float:
    """Expected tokens a decoding request gains per step (1 without speculation)."""
    return 1.0 if p.speculation is None else p.speculation.tokens_per_step


def verified_per_step(p: PerfInputs) -> int:
    """Tokens the target computes per decoding request per step (1 + proposals)."""
    return 1 if p.speculation is None else p.speculation.verified_per_step


def proposer_s(p: PerfInputs, sequences: int, context_tokens: int) -> float:
    """The proposer's k passes over ``sequences`` decoding requests, one after another.

    Each pass streams the draft's (or head's) weights and the KV its layers cached for
    ``context_tokens``, plus a launch gap per layer; it runs on the last stage only.
    n-gram proposals come from the CPU and cost no GPU time.
    """
    spec = p.speculation
    if spec is None or sequences == 0 or spec.proposer.is_empty:
        return 0.0
    prop = spec.proposer
    per_pass = (prop.weights_bytes + context_tokens * prop.kv_bytes_per_token) / _bandwidth(
        p, "dense"
    ) + prop.layers * p.calibration.per_layer_overhead_s
    return spec.proposals * per_pass


def expert_fraction(m: ModelFacts, batch_tokens: int) -> float:
    """Expected share of experts a step reads: each of B tokens picks k of E.

    With independent uniform routing an expert is missed by one token with
    probability 1 − k/E, so E·(1 − (1 − k/E)^B) distinct experts are read:
    k at B = 1, all of them at large B.
    """
    if m.moe is None:
        return 1.0
    k, e = m.moe.experts_per_token, m.moe.num_experts
    return 1.0 - (1.0 - k / e) ** batch_tokens


def _allreduce_s(p: PerfInputs, tokens: int) -> float:
    if p.tp == 1:
        return 0.0
    layers = p.model.num_layers / p.pp
    size = tokens * p.model.hidden_size * 2 * 2 * (p.tp - 1) / p.tp
    per = p.calibration.allreduce_latency_s[p.gpu.interconnect] + size / (
        p.gpu.interconnect_gbs * 1e9
    )
    return 2 * layers * per


def _hops_s(p: PerfInputs) -> float:
    """Activations handed between pipeline stages, once per stage boundary."""
    c = p.calibration
    return (p.pp - 1) * (c.pp_hop_s if p.cross_node else c.pp_hop_intra_node_s)


def _peak_flops(p: PerfInputs, kernel: KernelClass) -> float:
    eff = p.calibration.efficiency[kernel].compute
    if kernel == p.weight_kernel and p.low_precision_math and p.gpu.fp8_tflops:
        # int8 tensor throughput equals fp8's on every GPU that has both.
        return p.gpu.fp8_tflops * 1e12 * eff
    return p.gpu.bf16_tflops * 1e12 * eff


def _bandwidth(p: PerfInputs, kernel: KernelClass) -> float:
    return p.gpu.hbm_bandwidth_gbs * 1e9 * p.calibration.efficiency[kernel].bandwidth


def _gemm_s(p: PerfInputs, kernel: KernelClass, bytes_: float, params: float, tokens: int) -> float:
    """One class's GEMMs of one stage: memory- or compute-bound, whichever is slower."""
    memory = bytes_ / p.pp / _bandwidth(p, kernel)
    compute = 2 * params * tokens / (p.tp * p.pp) / _peak_flops(p, kernel)
    return max(memory, compute)


def _fixed_per_step_s(p: PerfInputs, batch: int) -> float:
    m = p.model
    layers = m.num_layers / p.pp
    c = p.calibration
    sampler = c.per_logit_step_s * batch * m.padded_vocab
    fixed = (c.step_overhead_s + sampler) / p.pp + layers * c.per_layer_overhead_s
    if m.moe is not None:
        moe_layers = (m.num_layers - len(m.moe.dense_layers)) / p.pp
        fixed += moe_layers * c.moe_layer_s
    return fixed


def _weights_s(p: PerfInputs, tokens: int) -> float:
    m = p.model
    lm_head = m.padded_vocab * m.hidden_size
    dense = max(0.0, p.dense_params_per_token - lm_head)
    head_kernel: KernelClass = "dense"
    t = _gemm_s(p, p.weight_kernel, p.linear_bytes_per_gpu, dense, tokens) + _gemm_s(
        p, head_kernel, p.lm_head_bytes_per_gpu, lm_head, tokens
    )
    if p.expert_bytes_per_gpu:
        t += _gemm_s(
            p,
            "moe",
            p.expert_bytes_per_gpu * expert_fraction(m, tokens),
            p.expert_params_per_token,
            tokens,
        )
    return t


def stage_step_s(p: PerfInputs, batch: int, context: int) -> float:
    """One decode step of one pipeline stage for ``batch`` sequences (each verifying
    its proposals too, with speculative decoding: the KV is read once for all)."""
    kv_s = batch * context * p.kv_bytes_per_token_per_gpu / p.pp / _bandwidth(p, "dense")
    tokens = batch * verified_per_step(p)
    return _weights_s(p, tokens) + kv_s + _allreduce_s(p, tokens) + _fixed_per_step_s(p, batch)


def mixed_step_s(
    p: PerfInputs,
    *,
    sequences: int,
    new_tokens: int,
    decode_context_tokens: int,
    prefill_attention_pairs: float,
    proposing: int = 0,
) -> float:
    """One scheduler step of vLLM's continuous batching, of one pipeline stage's GPUs.

    ``new_tokens`` is every token the step computes (one per decoding sequence plus
    the prefill chunks), ``decode_context_tokens`` the KV tokens the decoding
    sequences read, and ``prefill_attention_pairs`` the query × key pairs of the
    prefill chunks (a chunk of c tokens after o cached ones: c · (o + c/2)). The
    terms are the ones ``stage_step_s`` and ``prefill_s`` use for their fixed
    shapes, so the benchmark scenario and a simulated step agree. ``proposing``
    decoding requests also run the speculative proposer (``proposer_s``).
    """
    m = p.model
    kv_s = decode_context_tokens * p.kv_bytes_per_token_per_gpu / p.pp / _bandwidth(p, "dense")
    attn_flops = 4 * m.num_layers * m.num_attention_heads * m.head_dim * prefill_attention_pairs
    attn_s = attn_flops / (p.tp * p.pp) / _peak_flops(p, "dense")
    stage = (
        _weights_s(p, max(1, new_tokens))
        + kv_s
        + attn_s
        + _allreduce_s(p, new_tokens)
        + _fixed_per_step_s(p, sequences)
    )
    draft = proposer_s(p, proposing, decode_context_tokens)
    if p.pp == 1:
        return stage + draft
    hops = _hops_s(p)
    return p.pp * stage + hops + draft


def decode_only_step_s(p: PerfInputs, sequences: int) -> Callable[[int], float]:
    """``mixed_step_s`` of a step of ``sequences`` decodes and nothing else, as a
    function of the context they read: the terms that do not depend on it computed
    once (the simulation takes thousands of such steps at one batch size). The same
    operations in the same order, so the same floats as ``mixed_step_s``."""
    m = p.model
    bandwidth = _bandwidth(p, "dense")
    attn_flops = 4 * m.num_layers * m.num_attention_heads * m.head_dim * 0.0
    attn_s = attn_flops / (p.tp * p.pp) / _peak_flops(p, "dense")
    weights = _weights_s(p, max(1, sequences))
    allreduce = _allreduce_s(p, sequences)
    fixed = _fixed_per_step_s(p, sequences)
    kv_bytes, pp = p.kv_bytes_per_token_per_gpu, p.pp
    hops = _hops_s(p) if pp != 1 else 0.0

    def step_s(decode_context_tokens: int) -> float:
        kv_s = decode_context_tokens * kv_bytes / pp / bandwidth
        stage = weights + kv_s + attn_s + allreduce + fixed
        draft = proposer_s(p, sequences, decode_context_tokens)
        if pp == 1:
            return stage + draft
        return pp * stage + hops + draft

    return step_s


def decode_step_s(p: PerfInputs, batch: int, context: int) -> float:
    draft = proposer_s(p, batch, batch * context)
    if p.pp == 1:
        return stage_step_s(p, batch, context) + draft
    hops = _hops_s(p)
    if batch < p.pp:  # nothing to overlap: stages run back to back
        return p.pp * stage_step_s(p, batch, context) + hops + draft
    micro = math.ceil(batch / p.pp)
    return p.pp * stage_step_s(p, micro, context) + hops / p.pp + draft


def inter_token_s(p: PerfInputs, batch: int, context: int) -> float:
    """Time between a request's tokens: a decode step over the tokens it yields."""
    return decode_step_s(p, batch, context) / tokens_per_step(p)


def prefill_s(p: PerfInputs, tokens: int) -> float:
    m = p.model
    attn_flops = 2 * m.num_layers * m.num_attention_heads * m.head_dim * tokens * PROMPT
    attn_s = attn_flops / p.tp / _peak_flops(p, "dense")
    # All stages in sequence: a prompt passes every layer once.
    return (
        p.pp * _weights_s(p, tokens)
        + attn_s
        + _allreduce_s(p, tokens) * p.pp
        + p.calibration.step_overhead_s
    )


def ttft_s(p: PerfInputs, prompt: int = PROMPT) -> float:
    hops = _hops_s(p)
    return prefill_s(p, prompt) + hops + p.calibration.request_overhead_s


def benchmark_tokens_per_s(p: PerfInputs, concurrency: int) -> float:
    """Aggregate output tokens/s for ``concurrency`` × (512 in, 128 out)."""
    per_request_tokens = PROMPT + OUTPUT
    fits = max(1, min(concurrency, p.max_num_seqs, p.kv_token_capacity // per_request_tokens))
    waves = math.ceil(concurrency / fits)
    batch = min(concurrency, fits)
    prefill_tokens = batch * PROMPT
    chunks = math.ceil(prefill_tokens / p.max_num_batched_tokens)
    prefill = sum(
        prefill_s(p, min(p.max_num_batched_tokens, prefill_tokens - i * p.max_num_batched_tokens))
        for i in range(chunks)
    )
    decode = OUTPUT * inter_token_s(p, batch, PROMPT + OUTPUT // 2)
    wave_s = prefill + decode + p.calibration.request_overhead_s
    return concurrency * OUTPUT / (waves * wave_s)


def estimates(p: PerfInputs) -> PerfEstimates:
    return {
        "decode_tokens_per_s": {
            str(c): round(benchmark_tokens_per_s(p, c), 1) for c in CONCURRENCIES
        },
        "ttft_s_512": round(ttft_s(p), 4),
        "inter_token_latency_s": round(inter_token_s(p, 1, PROMPT + OUTPUT // 2), 5),
        "method": (
            "estimate, not a measurement: per kernel class (dense, fp8, int8, int4, "
            "fused MoE) max(bytes / achievable HBM bandwidth, FLOPs / achievable peak) "
            "+ all-reduce + step, layer and MoE-routing overheads; "
            + _calibration_text(p)
            + ("" if p.speculation is None else "; " + p.speculation.describe())
        ),
    }


def _calibration_text(p: PerfInputs) -> str:
    c = p.calibration
    if c.measured:
        return "efficiencies fit to vLLM 0.26.0 H200 runs (benchmarks/h200)"
    if c.generation in ("amd", "cpu"):
        return f"no {c.generation.upper()} measurements: roofline default efficiencies"
    return (
        f"not measured on {c.generation} GPUs: efficiencies fit to vLLM 0.26.0 H200 runs "
        "(benchmarks/h200), carried over"
    )
