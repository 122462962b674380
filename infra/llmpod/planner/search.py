"""Choose the cheapest layout that meets the request, or explain why none does.

Order of preference (DESIGN.md "The planner"): a replica on one node before
several (cross-node traffic is slow); inside one node tensor parallelism only —
pipeline stages inside a node are a fallback for when no TP-only layout fits,
because they serialise every decode step (a 70B model as TP 1 × PP 3 is a GPU
cheaper than TP 4 but three times slower per token); then lowest cost per
hour; then fewer GPUs per replica (more, smaller replicas serve throughput
better); then the user's GPU order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from llmpod.errors import LlmpodError
from llmpod.gpus.spec import GpuSpec
from llmpod.planner import layout, perf, traffic
from llmpod.planner.estimates import Estimates
from llmpod.planner.evaluate import Evaluation, evaluate
from llmpod.planner.request import PlanRequest
from llmpod.planner.startup import startup_estimate, startup_inputs


@dataclass(frozen=True)
class Candidate:
    evaluation: Evaluation
    replicas: int
    price: float
    problems: tuple[str, ...]
    estimates: Estimates

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def cost(self) -> float:
        return self.replicas * self.evaluation.gpus_per_replica * self.price

    def rank(self, preference: int) -> tuple[object, ...]:
        e = self.evaluation
        single_node = e.nodes_per_replica == 1
        return (
            not single_node,
            single_node and e.pp > 1,
            round(self.cost, 4),
            e.gpus_per_replica,
            e.pp,
            e.expert_parallel,
            preference,
            e.tp,
        )


def layouts(
    req: PlanRequest, gpu: GpuSpec
) -> tuple[list[tuple[int, int, bool]], list[tuple[int, str]]]:
    """(tp, pp, expert_parallel) layouts vLLM would accept, and (tp, why) for each tensor
    parallel size it would refuse."""
    m = req.model
    per_node = gpu.max_gpus_per_node
    rejected: list[tuple[int, str]] = []
    if req.tp or req.pp:
        tps, pps = [req.tp or 1], [req.pp or 1]
    else:
        tps = list(range(1, per_node + 1))
        pps = list(range(1, min(m.num_layers, per_node * req.max_nodes_per_replica) + 1))
    out = []
    for tp in tps:
        ep_options = [req.vllm.expert_parallel] if req.vllm.expert_parallel is not None else [False]
        if m.moe is not None and req.vllm.expert_parallel is None and tp > 1:
            ep_options.append(True)
        for ep in ep_options:
            bad = layout.tp_violation(
                m, tp, expert_parallel=bool(ep), quant=req.online_quantization or m.quant
            )
            if bad:
                if not ep:
                    rejected.append((tp, bad))
                continue
            for pp in pps:
                gpus = tp * pp
                nodes = math.ceil(gpus / per_node)
                if layout.pp_violation(m, pp) or gpus > req.max_gpus_per_replica:
                    continue
                if nodes > req.max_nodes_per_replica or (
                    nodes > 1 and (gpus % per_node or per_node % tp)
                ):
                    continue
                if tp > per_node:
                    continue
                out.append((tp, pp, bool(ep)))
    return out, rejected


def price_of(req: PlanRequest, gpu: GpuSpec) -> float:
    return req.price_per_gpu_hour.get(gpu.key, gpu.price_per_gpu_hour)


def assess(req: PlanRequest, e: Evaluation) -> Candidate:
    t = req.targets
    problems: list[str] = []
    speed = perf.estimates(e.perf)
    est: Estimates = {
        "decode_tokens_per_s": speed["decode_tokens_per_s"],
        "ttft_s_512": speed["ttft_s_512"],
        "inter_token_latency_s": speed["inter_token_latency_s"],
        "method": speed["method"],
        "startup_s": startup_estimate(startup_inputs(req, e)),
    }
    s = e.settings
    replicas = req.min_replicas
    if not e.weights_fit:
        problems.append(
            f"weights ({e.limiting.weights_gib:.1f} GiB per GPU) plus activations and runtime "
            f"overhead leave no room for a KV cache in {e.limiting.requested_gib:.1f} GiB "
            f"({s.utilization:g} × {e.gpu.memory_gib} GiB)"
        )
    elif not e.kv_fits:
        problems.append(
            f"the KV cache holds {e.capacity.tokens:,} tokens but one {s.max_model_len:,}-token "
            f"request needs {e.capacity.blocks_per_request * e.geometry.block_size:,}"
        )
    else:
        per_replica = max(1, e.concurrent_requests)
        replicas = max(replicas, math.ceil(t.concurrency / per_replica))
        if t.kv_tokens:
            replicas = max(replicas, math.ceil(t.kv_tokens / max(1, e.capacity.tokens)))
        if t.throughput_tokens_per_s:
            tps = perf.benchmark_tokens_per_s(e.perf, min(per_replica, 128))
            replicas = max(replicas, math.ceil(t.throughput_tokens_per_s / tps))
        if replicas > req.max_replicas:
            problems.append(
                f"meeting the targets needs {replicas} replicas "
                f"(max_replicas is {req.max_replicas})"
            )
        ttft = est["ttft_s_512"]
        if t.ttft_s is not None and ttft > t.ttft_s:
            problems.append(
                f"estimated TTFT {ttft * 1000:.0f} ms exceeds the {t.ttft_s * 1000:.0f} ms target"
            )
        itl = est["inter_token_latency_s"]
        if t.inter_token_latency_s is not None and itl > t.inter_token_latency_s:
            problems.append(
                f"estimated inter-token latency {itl * 1000:.1f} ms exceeds the "
                f"{t.inter_token_latency_s * 1000:.1f} ms target"
            )
    return Candidate(e, replicas, price_of(req, e.gpu), tuple(problems), est)


@dataclass(frozen=True)
class SearchResult:
    best: Candidate | None
    #: The infeasible candidate that came closest (most KV room), for diagnosis.
    closest: Candidate | None
    considered: int
    #: (tensor parallel size, why vLLM refuses it) for the first GPU type.
    rejected_layouts: tuple[tuple[int, str], ...]


def search(req: PlanRequest) -> SearchResult:
    best: tuple[tuple[object, ...], Candidate] | None = None
    closest: Candidate | None = None
    considered = 0
    rejected: list[tuple[int, str]] = []
    fitting: list[tuple[int, Candidate]] = []
    for pref, gpu in enumerate(req.gpus):
        options, skipped = layouts(req, gpu)
        if pref == 0:
            rejected += skipped
        for tp, pp, ep in options:
            cand = assess(req, evaluate(req, gpu, tp, pp, ep))
            considered += 1
            if cand.ok:
                fitting.append((pref, cand))
            elif closest is None or _closeness(cand) > _closeness(closest):
                closest = cand
    if req.workload is not None:
        fitting, missed = _size_for_traffic(req, fitting)
        if not fitting and missed:
            closest = missed[0]
    for pref, cand in fitting:
        key = cand.rank(pref)
        if best is None or key < best[0]:
            best = (key, cand)
    return SearchResult(best[1] if best else None, closest, considered, tuple(rejected))


def _size_for_traffic(
    req: PlanRequest, fitting: list[tuple[int, Candidate]]
) -> tuple[list[tuple[int, Candidate]], list[Candidate]]:
    """Replicas each fitting layout needs for the workload, cheapest first.

    More replicas only raise a layout's cost, so once a sized layout ranks ahead
    of an unsized one's lower bound (its current replica count) the rest need no
    simulation: they cannot win. Layouts that miss the targets even at
    max_replicas come back as misses (the closest of them explains the failure).
    """
    assert req.workload is not None
    sized: list[tuple[int, Candidate]] = []
    missed: list[tuple[float, Candidate]] = []
    best_key: tuple[object, ...] | None = None
    best_cost = math.inf
    #: (GPU, PP, EP) → the largest TP that missed even at max_replicas: a smaller
    #: TP of the same shape is slower per replica and misses too.
    missed_tp: dict[tuple[str, int, bool], int] = {}
    for pref, cand in sorted(fitting, key=lambda pc: pc[1].rank(pc[0])):
        if best_key is not None and cand.rank(pref) >= best_key:
            continue
        e = cand.evaluation
        shape = (e.gpu.key, e.pp, e.expert_parallel)
        if e.tp <= missed_tp.get(shape, 0):
            continue
        limit = req.max_replicas
        per_replica = e.gpus_per_replica * cand.price
        if req.cost_cap_per_hour is not None and per_replica > 0:
            # Strictly cheaper than the cap — and than the best sized so far: a way
            # out needs only the cheapest — or not worth sizing at all.
            cap = min(req.cost_cap_per_hour, best_cost)
            limit = min(limit, math.ceil(cap / per_replica) - 1)
            if limit < cand.replicas:
                continue
        fit = traffic.size_replicas(
            req,
            e.perf,
            traffic.scheduler_of(e),
            req.workload,
            start=cand.replicas,
            limit=limit,
        )
        est = cand.estimates.copy()
        est["workload"] = fit.as_json(req.workload)
        est["workload"]["cost_per_million_tokens"] = _token_costs(
            fit.replicas * e.gpus_per_replica * cand.price, fit, req.workload.prompt_tokens
        )
        if not fit.meets:
            why = "; ".join(fit.misses)
            more = (
                f" (max_replicas is {req.max_replicas}: raise replicas.max / --max-replicas)"
                if fit.replicas >= req.max_replicas
                else ""
            )
            if limit == req.max_replicas:  # a capped limit says nothing of smaller TPs
                missed_tp[shape] = max(missed_tp.get(shape, 0), e.tp)
            missed.append(
                (
                    fit.severity,
                    replace(
                        cand,
                        replicas=fit.replicas,
                        estimates=est,
                        problems=(
                            f"at {fit.replicas} replica(s){more} the workload "
                            f"({req.workload_text}) misses: {why}",
                        ),
                    ),
                )
            )
            continue
        done = replace(cand, replicas=fit.replicas, estimates=est)
        key = done.rank(pref)
        if best_key is None or key < best_key:
            best_key = key
            best_cost = done.cost
        sized.append((pref, done))
    # The layout that came nearest to the targets explains the failure best.
    return sized, [c for _, c in sorted(missed, key=lambda sc: sc[0])][:1]


def _token_costs(
    hourly: float, fit: traffic.TrafficFit, prompt_tokens: int
) -> dict[str, float | None]:
    """$ per 1M output tokens and per 1M input tokens at the workload's load (each
    charged the whole cost: the two are alternative views, not a split)."""
    per_s = fit.per_replica
    out_per_h = per_s.output_tokens_per_s * fit.replicas * 3600
    in_per_h = per_s.requests_per_s * prompt_tokens * fit.replicas * 3600
    return {
        "output": round(hourly / out_per_h * 1e6, 3) if out_per_h else None,
        "input": round(hourly / in_per_h * 1e6, 3) if in_per_h else None,
    }


def _closeness(c: Candidate) -> tuple[float, float]:
    e = c.evaluation
    return (min(s.kv_cache_gib for s in e.stages), -e.gpus_per_replica)


def check_fixed_layout(req: PlanRequest) -> None:
    """With --tp/--pp given, reject what vLLM itself would reject, before sizing."""
    if not (req.tp or req.pp):
        return
    m, gpu = req.model, req.gpus[0]
    tp, pp = req.tp or 1, req.pp or 1
    bad = layout.tp_violation(
        m,
        tp,
        expert_parallel=bool(req.vllm.expert_parallel),
        quant=req.online_quantization or m.quant,
    )
    if bad and m.moe is not None and req.vllm.expert_parallel is None:
        bad = layout.tp_violation(
            m, tp, expert_parallel=True, quant=req.online_quantization or m.quant
        )
    if bad:
        good = layout.valid_tp_sizes(
            m, gpu.max_gpus_per_node, expert_parallel=bool(req.vllm.expert_parallel)
        )
        raise LlmpodError(
            code="invalid_tensor_parallel_size",
            message=f"vLLM would refuse --tensor-parallel-size {tp} for {m.name}: {bad}.",
            suggestions=[
                f"use a tensor parallel size in {good} on {gpu.key}",
                "or drop --tp and let the planner choose",
            ],
        )
    bad = layout.pp_violation(m, pp)
    if bad:
        raise LlmpodError(
            code="invalid_pipeline_parallel_size",
            message=f"vLLM would refuse --pipeline-parallel-size {pp}: {bad}.",
            suggestions=[f"use a pipeline parallel size ≤ {m.num_layers}"],
        )
    if tp > gpu.max_gpus_per_node:
        raise LlmpodError(
            code="invalid_tensor_parallel_size",
            message=(
                f"--tensor-parallel-size {tp} exceeds the {gpu.max_gpus_per_node} "
                f"{gpu.key} GPUs of one node; tensor parallelism across nodes is too "
                f"slow to plan."
            ),
            suggestions=[
                f"use --tp {gpu.max_gpus_per_node} --pp "
                f"{math.ceil(tp / gpu.max_gpus_per_node) * (req.pp or 1)}"
            ],
        )
