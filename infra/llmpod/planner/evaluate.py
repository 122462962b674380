"""Evaluate one layout (GPU, TP, PP, expert parallel) for a request: memory, KV, speed."""

from __future__ import annotations

import math
from dataclasses import dataclass

from llmpod.gpus.spec import GpuSpec
from llmpod.models.facts import ModelFacts, QuantFacts
from llmpod.models.quant_config import ONLINE
from llmpod.planner import kernels, kv, lora, memory, perf, speculative
from llmpod.planner.calibration import calibration_for
from llmpod.planner.cudagraph_rules import model_runner
from llmpod.planner.layout import stage_layer_ranges
from llmpod.planner.request import PlanRequest
from llmpod.planner.speculation import speculation_for
from llmpod.planner.versions import VersionProfile, profile_for
from llmpod.planner.weights import GIB, checkpoint_bytes, quant_bytes_per_param, stage_weights


@dataclass(frozen=True)
class Settings:
    """Values resolved from the request and vLLM's version/device defaults."""

    served_dtype: str
    quant: QuantFacts | None
    kv_cache_dtype: str
    utilization: float
    max_model_len: int
    max_num_seqs: int
    max_num_batched_tokens: int
    block_size: int
    profile: VersionProfile
    #: An encoder-only pooling model: vLLM allocates no KV cache for it.
    no_kv_cache: bool = False
    #: "embed" / "classify" for a model vLLM serves with its pooling runner.
    pooling_task: str | None = None


@dataclass(frozen=True)
class Evaluation:
    gpu: GpuSpec
    tp: int
    pp: int
    expert_parallel: bool
    settings: Settings
    stages: tuple[memory.StageMemory, ...]
    limiting_stage: int
    geometry: kv.KvGeometry
    capacity: kv.KvCapacity
    perf: perf.PerfInputs
    checkpoint_bytes: float

    @property
    def gpus_per_replica(self) -> int:
        return self.tp * self.pp

    @property
    def nodes_per_replica(self) -> int:
        return math.ceil(self.gpus_per_replica / self.gpu.max_gpus_per_node)

    @property
    def kv_fits(self) -> bool:
        if self.settings.no_kv_cache:
            return True  # nothing to hold: vLLM allocates no KV cache (models/pooling.py)
        # One block is vLLM's reserved null block.
        return self.capacity.num_blocks - 1 >= self.capacity.blocks_per_request

    @property
    def weights_fit(self) -> bool:
        return min(s.kv_cache_gib for s in self.stages) > 0

    @property
    def limiting(self) -> memory.StageMemory:
        return self.stages[self.limiting_stage]

    @property
    def concurrent_requests(self) -> int:
        """Full-context requests one replica runs at once (KV blocks and max_num_seqs)."""
        if self.settings.no_kv_cache:
            return self.settings.max_num_seqs
        return min(int(self.capacity.max_concurrency), self.settings.max_num_seqs)


def resolve_settings(req: PlanRequest, gpu: GpuSpec) -> Settings:
    m = req.model
    profile = profile_for(req.vllm_version)
    served = req.dtype if req.dtype != "auto" else m.dtype
    if served == "float32" and req.dtype == "auto":
        served = "bfloat16"  # vLLM downcasts fp32 checkpoints under dtype=auto
    quant = req.online_quantization or m.quant
    kv_dtype = req.kv_cache_dtype
    if kv_dtype == "auto" and quant is not None and quant.kv_cache_fp8:
        kv_dtype = "fp8"
    seqs, batched = profile.batch_defaults(gpu)
    seqs = req.vllm.max_num_seqs or seqs
    batched = req.vllm.max_num_batched_tokens or batched
    max_len = req.max_model_len or m.max_model_len
    if not req.vllm.max_num_batched_tokens:
        batched = min(seqs * max_len, batched)
    seqs = min(seqs, batched)
    return Settings(
        served_dtype=served,
        quant=quant,
        kv_cache_dtype=kv_dtype,
        utilization=req.vllm.gpu_memory_utilization or profile.gpu_memory_utilization,
        max_model_len=max_len,
        max_num_seqs=seqs,
        max_num_batched_tokens=batched,
        block_size=kv.block_size_for(m, gpu.compute_capability, req.vllm.block_size),
        profile=profile,
        no_kv_cache=m.encoder_only,
        pooling_task=m.pooling,
    )


def _lora_gib(
    req: PlanRequest, layers: range, *, tp: int, ep: int, stage: int, pp: int, dtype_bytes: int
) -> float:
    """LoRA buffers this stage's GPUs allocate (0 with LoRA off)."""
    budget = lora_budget(req)
    if budget is None:
        return 0.0
    return (
        lora.lora_bytes_per_gpu(
            req.model,
            layers,
            tp=tp,
            ep=ep,
            first_stage=stage == 0,
            last_stage=stage == pp - 1,
            budget=budget,
            dtype_bytes=dtype_bytes,
        )
        / GIB
    )


def lora_budget(req: PlanRequest) -> lora.LoraBudget | None:
    """The slots and rank vLLM reserves, with vLLM's defaults for what is not given."""
    if not req.vllm.lora_enabled:
        return None
    lora.check_lora_supported(req.model)
    return lora.LoraBudget(
        max_loras=req.vllm.lora_slots or lora.DEFAULT_MAX_LORAS,
        max_lora_rank=req.vllm.lora_rank or lora.DEFAULT_MAX_LORA_RANK,
    )


def _declared(quant: QuantFacts | None) -> QuantFacts | None:
    return quant if quant is not None and quant.vllm_name not in ONLINE else None


def evaluate(req: PlanRequest, gpu: GpuSpec, tp: int, pp: int, ep: bool) -> Evaluation:
    m = req.model
    s = resolve_settings(req, gpu)
    dtype_bytes = 4 if s.served_dtype == "float32" else 2
    kv_bytes = kv.kv_dtype_bytes(s.kv_cache_dtype, dtype_bytes)
    ep_size = tp if ep else 1
    weights = stage_weights(
        m,
        tp=tp,
        pp=pp,
        ep=ep_size,
        quant=s.quant,
        served_dtype_bytes=dtype_bytes,
        version=s.profile.version,
    )
    ranges = stage_layer_ranges(m.num_layers, pp)
    proposer = speculative.proposer_memory(
        req.vllm.speculative_method,
        m,
        req.draft,
        tp=tp,
        block=s.block_size,
        kv_bytes=kv_bytes,
        dtype_bytes=dtype_bytes,
        version=s.profile.version,
    )
    runner = (
        "none"
        if gpu.vendor == "cpu"
        else model_runner(
            s.profile.version,
            m.architecture,
            is_moe=m.is_moe,
            is_quantized=m.quant is not None,
            vendor=gpu.vendor,
            speculative=req.vllm.speculative_method,
        )
    )
    stages, geos, caps = [], [], []
    for i, (w, layers) in enumerate(zip(weights, ranges, strict=True)):
        last = i == pp - 1
        act = memory.activation_gib(
            m,
            tp=tp,
            last_stage=last,
            max_num_seqs=s.max_num_seqs,
            max_num_batched_tokens=s.max_num_batched_tokens,
            profile=s.profile,
        )
        st = memory.stage_memory(
            gpu,
            utilization=s.utilization,
            weights_gib=w.gib,
            activation=act,
            # From 0.27 vLLM's "consumed memory (weights + non-torch)" also holds
            # the runner's persistent buffers (versions.counts_runner_buffers).
            non_torch=memory.non_torch_gib(gpu, tp, s.profile)
            + memory.runner_buffers_gib(
                m,
                runner=runner,
                last_stage=last,
                max_num_seqs=s.max_num_seqs,
                profile=s.profile,
            ),
            cuda_graph=memory.cuda_graph_gib(
                m,
                len(layers),
                enforce_eager=req.vllm.enforce_eager,
                profile=s.profile,
                gpu=gpu,
                speculative=req.vllm.speculative_method,
            ),
            lora=_lora_gib(req, layers, tp=tp, ep=ep_size, stage=i, pp=pp, dtype_bytes=dtype_bytes),
            draft=proposer.weights_bytes / GIB if last else 0.0,
        )
        geo = kv.geometry(
            m,
            layers,
            tp=tp,
            block=s.block_size,
            kv_bytes=kv_bytes,
            hybrid_manager=s.profile.hybrid_kv_manager,
        )
        if last and not proposer.is_empty:
            geo = kv.with_extra_layers(geo, proposer.kv_bytes_per_token)
        cap = kv.capacity(
            geo,
            m,
            0.0 if s.no_kv_cache else max(0.0, st.kv_cache_gib) * GIB,
            max_model_len=s.max_model_len,
            max_num_batched_tokens=s.max_num_batched_tokens,
        )
        stages.append(st)
        geos.append(geo)
        caps.append(cap)
    # vLLM gives every rank the smallest block count among them.
    limiting = min(range(pp), key=lambda i: caps[i].num_blocks)
    whole = kv.geometry(
        m,
        range(m.num_layers),
        tp=tp,
        block=s.block_size,
        kv_bytes=kv_bytes,
        hybrid_manager=s.profile.hybrid_kv_manager,
    )
    return Evaluation(
        gpu=gpu,
        tp=tp,
        pp=pp,
        expert_parallel=ep,
        settings=s,
        stages=tuple(stages),
        limiting_stage=limiting,
        geometry=geos[limiting],
        capacity=caps[limiting],
        perf=_perf_inputs(
            req,
            gpu,
            tp,
            pp,
            ep_size,
            s,
            weights[0].bytes_per_gpu * pp,
            whole.bytes_per_token,
            caps[limiting].tokens,
            proposer,
        ),
        # On disk the checkpoint keeps its own format, whatever vLLM does at load;
        # a --quantization that declares how an unconfigured checkpoint is stored
        # (awq, gptq, compressed-tensors: never applied at load) is that format.
        checkpoint_bytes=checkpoint_bytes(
            m, m.quant or _declared(req.online_quantization), m.dtype_bytes, s.profile.version
        ),
    )


def _perf_inputs(
    req: PlanRequest,
    gpu: GpuSpec,
    tp: int,
    pp: int,
    ep: int,
    s: Settings,
    weight_bytes_per_gpu: float,
    kv_bytes_per_token: int,
    kv_tokens: int,
    proposer: speculative.ProposerMemory,
) -> perf.PerfInputs:
    m = req.model
    h = m.hidden_size
    expert_params = 0.0
    active_expert_params = 0.0
    if m.moe is not None:
        moe_layers = m.num_layers - len(m.moe.dense_layers)
        per_expert = 3 * h * m.moe.expert_intermediate_size
        expert_params = moe_layers * m.moe.num_experts * per_expert
        active_expert_params = moe_layers * m.moe.experts_per_token * per_expert
    dtype_bytes = 4 if s.served_dtype == "float32" else 2
    qb = quant_bytes_per_param(s.quant, dtype_bytes)
    expert_bytes = expert_params * qb / (ep if ep > 1 else tp)
    # Embeddings and LM head stay in the model dtype; decode gathers B rows of
    # the embedding table (negligible) but streams the whole LM head.
    table = m.padded_vocab * h / tp * dtype_bytes
    # A pooling model has no LM head; its embedding table is only gathered.
    head_bytes = 0.0 if m.pooling else table
    embedding = 0.0 if m.tie_word_embeddings and not m.pooling else table
    linear_bytes = max(0.0, weight_bytes_per_gpu - expert_bytes - head_bytes - embedding)
    math_bits = s.quant is not None and s.quant.activations in ("fp8", "int8")
    return perf.PerfInputs(
        model=m,
        gpu=gpu,
        tp=tp,
        pp=pp,
        linear_bytes_per_gpu=linear_bytes,
        lm_head_bytes_per_gpu=head_bytes,
        expert_bytes_per_gpu=expert_bytes,
        kv_bytes_per_token_per_gpu=kv_bytes_per_token,
        dense_params_per_token=_dense_params(m),
        expert_params_per_token=active_expert_params,
        weight_kernel=kernels.weight_class(s.quant),
        low_precision_math=math_bits and gpu.has_fp8_compute,
        max_num_seqs=s.max_num_seqs,
        max_num_batched_tokens=s.max_num_batched_tokens,
        kv_token_capacity=kv_tokens,
        cross_node=tp * pp > gpu.max_gpus_per_node,
        calibration=calibration_for(s.profile.version, kernels.generation(gpu)),
        speculation=speculation_for(
            req.vllm.speculative_method,
            req.vllm.num_speculative_tokens,
            req.vllm.speculative_acceptance_rate,
            proposer,
        ),
    )


def _dense_params(m: ModelFacts) -> float:
    """Parameters every token touches: attention, dense/shared MLPs, LM head."""
    h = m.hidden_size
    if m.mla is not None:
        a = m.mla
        qk = a.qk_nope_head_dim + a.qk_rope_head_dim
        attn = (
            (h * a.q_lora_rank + a.q_lora_rank * m.num_attention_heads * qk)
            if a.q_lora_rank
            else h * m.num_attention_heads * qk
        )
        attn += h * (a.kv_lora_rank + a.qk_rope_head_dim)
        attn += a.kv_lora_rank * m.num_attention_heads * (a.qk_nope_head_dim + a.v_head_dim)
        attn += m.num_attention_heads * a.v_head_dim * h
    else:
        attn = 2 * h * m.num_attention_heads * m.head_dim + 2 * h * m.num_kv_heads * m.head_dim
    total = attn * m.num_layers + (0 if m.pooling else m.padded_vocab * h)
    if m.moe is None:
        return total + m.num_layers * m.mlp_matrices * h * m.intermediate_size
    dense = len(m.moe.dense_layers) * 3 * h * m.intermediate_size
    shared = (m.num_layers - len(m.moe.dense_layers)) * 3 * h * m.moe.shared_intermediate_size
    return total + dense + shared
