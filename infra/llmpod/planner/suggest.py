"""Ranked ways out of an infeasible request, each checked by planning again.

A suggestion is only offered when re-planning with it succeeds, and it carries
the numbers of that plan (GPUs, tokens), except the shorter-context one, which
states the longest --max-model-len that fits the closest layout. Each is a
Suggestion (one setting, one value), so `plan` can show it as a flag and a
stack error as a spec key.
"""

from __future__ import annotations

from dataclasses import replace

from llmpod.gpus.catalog import all_gpus
from llmpod.models.quant_config import ONLINE
from llmpod.planner import kv
from llmpod.planner.request import PlanRequest, Targets
from llmpod.planner.search import Candidate, search
from llmpod.planner.versions import profile_for
from llmpod.suggestion import Suggestion

#: The highest utilization llmpod suggests: vLLM needs the rest for the CUDA
#: context, NCCL buffers and fragmentation, and refuses to start when another
#: process holds more than 1 − utilization of the card.
HIGH_UTILIZATION = 0.95


def _describe(c: Candidate) -> str:
    e = c.evaluation
    return (
        f"{c.replicas}×{e.gpus_per_replica} {e.gpu.key} (TP {e.tp}, PP {e.pp}), "
        f"{e.capacity.tokens:,} KV tokens per replica"
    )


def _tuning(req: PlanRequest) -> list[tuple[Suggestion, PlanRequest]]:
    """Engine settings that free memory on the same GPUs: no CUDA graphs
    (--enforce-eager: slower decode, no graph memory) and a higher share of
    the card for vLLM."""
    out = []
    if not req.vllm.enforce_eager:
        out.append(
            (
                Suggestion("enforce_eager", True, "", "skip CUDA graphs (slower decode)"),
                replace(req, vllm=req.vllm.model_copy(update={"enforce_eager": True})),
            )
        )
    current = (
        req.vllm.gpu_memory_utilization or profile_for(req.vllm_version).gpu_memory_utilization
    )
    if current < HIGH_UTILIZATION:
        out.append(
            (
                Suggestion(
                    "gpu_memory_utilization",
                    HIGH_UTILIZATION,
                    "",
                    "a higher memory share (nothing else may use the GPU)",
                ),
                replace(
                    req,
                    vllm=req.vllm.model_copy(update={"gpu_memory_utilization": HIGH_UTILIZATION}),
                ),
            )
        )
    return out


def structured_suggestions(
    req: PlanRequest, closest: Candidate | None
) -> tuple[list[Suggestion], int | None]:
    """(ranked suggestions, longest max_model_len that fits the closest layout)."""
    if req.workload is not None and closest is not None and "workload" in closest.estimates:
        return _traffic_suggestions(req, closest), None
    tips: list[Suggestion] = []
    longest = None
    if closest is not None and closest.evaluation.weights_fit:
        e = closest.evaluation
        longest = kv.longest_context_that_fits(
            e.geometry,
            req.model,
            e.capacity.num_blocks - 1,
            e.settings.max_num_batched_tokens,
            e.settings.max_model_len,
        )
        if 0 < longest < e.settings.max_model_len:
            tips.append(
                Suggestion(
                    "max_model_len",
                    longest,
                    f"fits on {e.gpus_per_replica} {e.gpu.key} (TP {e.tp}, PP {e.pp})",
                    "a shorter context",
                )
            )
        if req.targets.concurrency > 1 and e.kv_fits:
            tips.append(
                Suggestion(
                    "concurrency",
                    e.concurrent_requests,
                    "full-context requests is what one replica holds",
                    "lower concurrency",
                )
            )
    variants: list[tuple[Suggestion, PlanRequest]] = []
    if req.kv_cache_dtype == "auto":
        variants.append(
            (
                Suggestion("kv_cache_dtype", "fp8", "", "an fp8 KV cache"),
                replace(req, kv_cache_dtype="fp8"),
            )
        )
    if req.model.quant is None and req.online_quantization is None:
        variants.append(
            (
                Suggestion("quantization", "fp8", "(or an fp8/AWQ checkpoint)", "fp8 weights"),
                replace(req, online_quantization=ONLINE["fp8"]),
            )
        )
    variants += _tuning(req)
    for tip, variant in variants:
        found = search(variant).best
        if found is not None:
            text = f"{tip.text} → {_describe(found)}".strip()
            tips.append(replace(tip, text=text))
    # Same vendor only: a user who asked for NVIDIA GPUs runs CUDA images and NVIDIA
    # nodes, so an AMD GPU is no way out for them (nor the other way round).
    vendors = {x.vendor for x in req.gpus}
    bigger = tuple(
        g
        for g in all_gpus()
        if g.vendor in vendors
        and g.vendor != "cpu"
        and g not in req.gpus
        and g.memory_gib > max(x.memory_gib for x in req.gpus)
    )
    if bigger:
        found = search(replace(req, gpus=bigger, tp=None, pp=None)).best
        if found is not None:
            tips.append(
                Suggestion("gpu", found.evaluation.gpu.key, f"→ {_describe(found)}", "larger GPUs")
            )
    more = search(
        replace(
            req,
            tp=None,
            pp=None,
            max_nodes_per_replica=max(4, req.max_nodes_per_replica * 2),
            max_gpus_per_replica=128,
        )
    ).best
    if more is not None:
        e = more.evaluation
        tip = (
            Suggestion(
                "max_nodes", e.nodes_per_replica, f"→ {_describe(more)}", "more GPUs / another node"
            )
            if e.nodes_per_replica > 1
            else Suggestion(
                "max_gpus", e.gpus_per_replica, f"→ {_describe(more)}", "more GPUs / another node"
            )
        )
        tips.append(tip)
    if req.targets != Targets() and not tips:
        tips.append(Suggestion("targets", None, "relax the latency/throughput targets"))
    return tips, longest


def suggestions(req: PlanRequest, closest: Candidate | None) -> tuple[list[str], int | None]:
    """The ranked suggestions as command-line flags (and the longest context)."""
    tips, longest = structured_suggestions(req, closest)
    return [t.as_flag() for t in tips], longest


#: How far past max_replicas the ways out look for a replica count that works.
REPLICA_HEADROOM = 16


def _layout(c: Candidate) -> tuple[object, ...]:
    e = c.evaluation
    return (e.gpu.key, e.tp, e.pp, c.replicas, round(c.cost, 2))


def _traffic_variants(req: PlanRequest) -> list[tuple[Suggestion, PlanRequest]]:
    """Other layouts for the same traffic, within the same replica ceiling: another
    GPU of the same vendor, fp8 weights, an fp8 KV cache, a context no longer than
    the workload needs (a smaller layout may then hold the model)."""
    w = req.workload
    assert w is not None
    out: list[tuple[Suggestion, PlanRequest]] = []
    vendors = {x.vendor for x in req.gpus}
    others = tuple(
        g for g in all_gpus() if g.vendor in vendors and g.vendor != "cpu" and g not in req.gpus
    )
    if others:
        # One search over all of them finds the cheapest that meets the targets;
        # the suggestion's value is the GPU it found.
        out.append(
            (
                Suggestion("gpu", None, "", "another GPU"),
                replace(req, gpus=others, tp=None, pp=None),
            )
        )
    if req.model.quant is None and req.online_quantization is None:
        out.append(
            (
                Suggestion("quantization", "fp8", "(or an fp8/AWQ checkpoint)", "fp8 weights"),
                replace(req, online_quantization=ONLINE["fp8"], tp=None, pp=None),
            )
        )
    if req.kv_cache_dtype == "auto":
        out.append(
            (
                Suggestion("kv_cache_dtype", "fp8", "", "an fp8 KV cache"),
                replace(req, kv_cache_dtype="fp8", tp=None, pp=None),
            )
        )
    # Twice the longest request, as a power of two: room for the tail of the lengths.
    needed = 1 << max(0, 2 * (w.prompt_tokens + w.output_tokens) - 1).bit_length()
    if req.max_model_len is None or needed < req.max_model_len:
        out.append(
            (
                Suggestion("max_model_len", needed, "", "a shorter context"),
                replace(req, max_model_len=needed, tp=None, pp=None),
            )
        )
    return out


def _traffic_suggestions(req: PlanRequest, closest: Candidate) -> list[Suggestion]:
    """Ways out when every layout fits the model but misses the workload's targets,
    each checked by planning again and ranked by what it costs an hour: more
    replicas on the layouts asked for, then — where cheaper than that — another
    GPU, fp8 weights or KV cache, a shorter context; last, what the closest layout
    achieves at the current ceiling (the targets it could keep)."""
    w = req.workload
    assert w is not None
    ranked: list[tuple[float, Suggestion]] = []
    ceiling = req.max_replicas * REPLICA_HEADROOM
    found = search(replace(req, max_replicas=ceiling)).best
    if found is not None:
        ranked.append(
            (
                found.cost,
                Suggestion(
                    "max_replicas",
                    found.replicas,
                    f"→ {_describe(found)}, ${found.cost:,.2f}/h, meet the targets",
                    "more replicas",
                ),
            )
        )
    same = None if found is None else _layout(found)
    # Another way out is worth showing only when it costs less than more replicas.
    cap = None if found is None else found.cost
    for tip, variant in _traffic_variants(req):
        best = search(replace(variant, max_replicas=ceiling, cost_cap_per_hour=cap)).best
        if best is not None and _layout(best) != same:  # else it is "more replicas" again
            also = (
                f" (with --max-replicas {best.replicas})"
                if best.replicas > req.max_replicas
                else ""
            )
            text = f"{tip.text} → {_describe(best)}, ${best.cost:,.2f}/h, meet the targets{also}"
            value = best.evaluation.gpu.key if tip.field == "gpu" else tip.value
            ranked.append((best.cost, replace(tip, value=value, text=text.strip())))
    # One way out per setting: the cheapest (e.g. the cheapest other GPU).
    tips: list[Suggestion] = []
    for _, tip in sorted(ranked, key=lambda ct: ct[0]):
        if all(t.field != tip.field for t in tips):
            tips.append(tip)
    got = closest.estimates.get("workload", {})
    ttft = got.get("ttft_ms", {}) if isinstance(got, dict) else {}
    itl = got.get("itl_ms", {}) if isinstance(got, dict) else {}
    achieved = ", ".join(
        f"{name} p95 {v['p95']:g} ms"
        for name, v in (("TTFT", ttft), ("ITL", itl))
        if isinstance(v, dict) and v.get("p95") is not None
    )
    tips.append(
        Suggestion(
            "targets",
            None,
            f"relax the latency targets (at {req.max_replicas} replicas: {achieved or 'n/a'})",
        )
    )
    return tips
