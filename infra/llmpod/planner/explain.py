"""Human-readable reasons for a chosen plan, and the argument list it implies."""

from __future__ import annotations

import json

from llmpod.planner.evaluate import Evaluation, lora_budget
from llmpod.planner.request import PlanRequest
from llmpod.planner.search import Candidate, SearchResult
from llmpod.planner.speculative import DEFAULT_NUM_SPECULATIVE_TOKENS
from llmpod.planner.vllm_args import VllmArgs
from llmpod.planner.weights import GIB
from llmpod.spec.vllm_options import EngineFlags

#: ``--runner`` arrived in vLLM 0.10.1; before it a pooling model was named by
#: ``--task`` (the release facts, llmpod/releases/facts: --task 0.8.0-0.12.0).
RUNNER_FLAG_SINCE = (0, 10, 1)
_OLD_TASKS = {"embed": "embed", "classify": "score"}


def vllm_args_for(req: PlanRequest, e: Evaluation) -> VllmArgs:
    s = e.settings
    m = req.model
    cpu = e.gpu.vendor == "cpu"
    budget = lora_budget(req)
    return VllmArgs(
        model=req.model_path,
        served_model_name=req.served_model_name,
        runner="pooling" if m.pooling and s.profile.version >= RUNNER_FLAG_SINCE else None,
        task=_OLD_TASKS[m.pooling] if m.pooling and s.profile.version < RUNNER_FLAG_SINCE else None,
        tensor_parallel_size=e.tp,
        pipeline_parallel_size=e.pp if e.pp > 1 else None,
        enable_expert_parallel=e.expert_parallel,
        # Multi-node replicas run vLLM over Ray, as the LeaderWorkerSet vLLM example does.
        distributed_executor_backend="ray" if e.nodes_per_replica > 1 else None,
        dtype=s.served_dtype if s.served_dtype != m.dtype or req.dtype != "auto" else None,
        quantization=req.online_quantization.vllm_name if req.online_quantization else None,
        kv_cache_dtype=s.kv_cache_dtype if s.kv_cache_dtype != "auto" else None,
        max_model_len=s.max_model_len,
        # On CPU vLLM does not profile memory: the plan hands it the KV budget directly.
        gpu_memory_utilization=None if cpu else s.utilization,
        kv_cache_memory_bytes=int(max(0.0, e.limiting.kv_cache_gib) * GIB) if cpu else None,
        max_num_seqs=s.max_num_seqs,
        max_num_batched_tokens=s.max_num_batched_tokens,
        enable_lora=budget is not None,
        max_loras=budget.max_loras if budget else None,
        max_lora_rank=budget.max_lora_rank if budget else None,
        max_cpu_loras=req.vllm.cpu_lora_slots,
        lora_modules=lora_modules(req),
        speculative_config=speculative_config(req),
        revision=req.revision,
        # The options vLLM gets as the user gave them: every EngineFlags field.
        **{name: getattr(req.vllm, name) for name in EngineFlags.model_fields},
    )


def reasons_for(req: PlanRequest, chosen: Candidate, result: SearchResult) -> list[str]:
    e = chosen.evaluation
    m, s, g = req.model, e.settings, e.gpu
    geo = e.geometry
    budget = lora_budget(req)
    out = [
        f"{m.name}: {m.num_layers} layers, {m.num_attention_heads} attention heads, "
        f"{m.num_kv_heads} KV heads"
        + (f", MoE {m.moe.num_experts} experts top-{m.moe.experts_per_token}" if m.moe else "")
        + (", MLA latent KV cache" if m.mla else "")
        + (", hybrid sliding-window layers" if m.is_hybrid else "")
        + f"; {e.checkpoint_bytes / GIB:.1f} GiB of weights"
        + (f" ({s.quant.method})" if s.quant else f" ({s.served_dtype})")
        + ".",
        f"{g.display}: vLLM {s.profile.text} requests ceil({g.memory_gib} GiB × "
        f"{s.utilization:g}) = {e.limiting.requested_gib:.2f} GiB per GPU; the KV cache gets "
        f"what weights ({e.limiting.weights_gib:.2f}), "
        + (
            f"LoRA buffers ({e.limiting.lora_gib:.2f}: {budget.max_loras} adapter slots at "
            f"rank {budget.max_lora_rank}), "
            if budget is not None
            else ""
        )
        + (
            f"the {req.vllm.speculative_method} proposer ({e.limiting.draft_gib:.2f}), "
            if e.limiting.draft_gib > 0
            else ""
        )
        + "activation peak "
        f"({e.limiting.activation_gib:.2f}), non-torch ({e.limiting.non_torch_gib:.2f})"
        + (
            f" and CUDA graphs ({e.limiting.cuda_graph_gib:.2f})"
            if e.limiting.cuda_graph_gib > 0
            else ""
        )
        + f" leave: {e.limiting.kv_cache_gib:.2f} GiB.",
        f"KV cache: {geo.bytes_per_token:,} bytes per token per GPU "
        f"({s.kv_cache_dtype if s.kv_cache_dtype != 'auto' else s.served_dtype}), "
        f"{e.capacity.num_blocks:,} blocks of {geo.block_size} = {e.capacity.tokens:,} tokens; "
        f"one {s.max_model_len:,}-token request needs {e.capacity.blocks_per_request:,} blocks, "
        f"so {e.capacity.max_concurrency:.2f} fit at full context.",
        _layout_reason(e, result),
    ]
    if s.no_kv_cache:
        # Replaces the memory split and KV lines: vLLM 0.32 neither profiles nor
        # allocates a KV cache for an encoder-only model (models/pooling.py).
        out[1:3] = [
            f"{g.display}: {m.architecture} is an encoder-only {m.pooling} model, served by "
            f"vLLM's pooling runner: no KV cache. Weights ({e.limiting.weights_gib:.2f} GiB), "
            f"activation peak ({e.limiting.activation_gib:.2f}) and non-torch "
            f"({e.limiting.non_torch_gib:.2f}) must fit in {e.limiting.requested_gib:.2f} GiB; "
            f"{e.limiting.kv_cache_gib:.2f} GiB stay unused.",
        ]
    elif m.pooling:
        out.append(
            f"{m.architecture} is a {m.pooling} model served by vLLM's pooling runner: it "
            "keeps a KV cache for the prompt but generates no tokens."
        )
    if chosen.replicas > 1:
        out.append(
            f"{chosen.replicas} replicas: one replica runs {e.concurrent_requests} full-context "
            f"requests at once (KV blocks and max_num_seqs {s.max_num_seqs}); the targets ask "
            f"for {req.targets.concurrency} concurrent"
            + (f" and {req.targets.kv_tokens:,} KV tokens" if req.targets.kv_tokens else "")
            + (
                f" and {req.targets.throughput_tokens_per_s:,.0f} tokens/s"
                if req.targets.throughput_tokens_per_s
                else ""
            )
            + "."
        )
    if e.expert_parallel:
        out.append(
            "Expert parallelism: each GPU holds whole experts instead of a slice of "
            "every expert, which vLLM needs when the expert width does not split."
        )
    out.append(
        f"Cost: {chosen.replicas} × {e.gpus_per_replica} × {g.key} at "
        f"${chosen.price:.2f}/GPU-hour = ${chosen.cost:.2f}/hour ({g.price_source}, "
        f"{g.price_as_of})."
    )
    out.append("Throughput and latency figures are roofline estimates, not measurements.")
    return out


def _layout_reason(e: Evaluation, result: SearchResult) -> str:
    text = (
        f"Layout TP {e.tp} × PP {e.pp} on {e.gpus_per_replica} {e.gpu.key} "
        f"({e.nodes_per_replica} node{'s' if e.nodes_per_replica > 1 else ''}): the cheapest "
        f"of {result.considered} layouts vLLM accepts that meets the targets; one node is "
        f"preferred to several and TP to PP within a node."
    )
    if e.gpu.interconnect == "pcie" and e.tp > 1:
        text += " These GPUs talk over PCIe, so each all-reduce costs more than on NVLink."
    # Only refusals that explain the choice: a tensor parallel size below the GPUs the
    # chosen layout uses (why not fewer GPUs?). TP 3 being impossible says nothing
    # about a plan that fits on one GPU.
    smaller = [f"TP {tp}: {why}" for tp, why in result.rejected_layouts if tp < e.gpus_per_replica]
    if smaller:
        text += " Not possible: " + "; ".join(smaller[:4]) + "."
    return text


def lora_modules(req: PlanRequest) -> tuple[str, ...] | None:
    """--lora-modules values: one JSON object per adapter, sorted by name.

    vLLM 0.26.0-0.32.0 (``LoRAParserAction``, entrypoints/openai/cli_args.py, later
    entrypoints/launchers/cli_args.py) reads an item with '=' and no ',' as
    ``name=path`` (0.32.0 splits at the first '='; earlier releases split at every
    '=' and fail on a second), anything else as JSON. JSON is taken always: a path
    with ',' or '=' would break the short form, and json.dumps escapes everything.
    The flag is given once with every adapter after it: a second --lora-modules
    replaces the first's list (the action assigns, it does not append)."""
    if not req.adapter_paths:
        return None
    return tuple(
        json.dumps({"name": name, "path": path}, sort_keys=True, separators=(",", ":"))
        for name, path in sorted(req.adapter_paths)
    )


def speculative_config(req: PlanRequest) -> str | None:
    """vLLM's --speculative-config for the request: one compact JSON object."""
    o = req.vllm
    if o.speculative_method is None:
        return None
    config: dict[str, object] = {
        "method": o.speculative_method,
        "num_speculative_tokens": o.num_speculative_tokens or DEFAULT_NUM_SPECULATIVE_TOKENS,
    }
    if req.draft_path is not None:
        config["model"] = req.draft_path
    return json.dumps(config, sort_keys=True, separators=(",", ":"))
