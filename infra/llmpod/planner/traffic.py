"""Size a layout for the traffic a service must carry (issue 19).

For one candidate layout: how many replicas the workload needs so that its
latency targets (TTFT and ITL at the 95th percentile) hold at the offered load,
found by simulating vLLM's scheduler (planner/simulate.py) on one replica's
share of the load. The load splits evenly: a replica sees ceil(users / r) users
or rate / r requests per second. Without latency targets the load must simply
be carried — no preemption, and an arrival stream served as fast as it comes.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, fields, replace

from llmpod.planner import perf
from llmpod.planner.evaluate import Evaluation
from llmpod.planner.perf import PerfInputs
from llmpod.planner.request import PlanRequest
from llmpod.planner.simulate import Scheduler, WorkloadEstimate, simulate
from llmpod.planner.workload import Workload

#: Simulated time per check: long enough for every user to finish a few requests,
#: bounded so a search over layouts stays well under a second per service.
MIN_WINDOW_S = 10.0
MAX_WINDOW_S = 240.0
REQUESTS_PER_USER = 4
#: An arrival stream counts as carried when this share of it finished in the window.
CARRIED_SHARE = 0.9
#: Simulations kept for reuse: a plan's later searches (more replicas, the ways
#: out) revisit layouts and replica counts the first one simulated.
MEMO_SIZE = 512
_PERF_FIELDS = tuple(f.name for f in fields(PerfInputs) if f.name != "calibration")
_memo: OrderedDict[tuple[object, ...], tuple[object, WorkloadEstimate]] = OrderedDict()


def _simulate(p: PerfInputs, sched: Scheduler, share: Workload) -> WorkloadEstimate:
    """``simulate``, remembered: it is deterministic in its inputs. The calibration
    (constants held in mappings, so not hashable) is matched by identity — the entry
    holds it, so its id cannot be reused while the entry lives."""
    key = (*(getattr(p, name) for name in _PERF_FIELDS), id(p.calibration), sched, share)
    hit = _memo.get(key)
    if hit is not None and hit[0] is p.calibration:
        _memo.move_to_end(key)
        return hit[1]
    est = simulate(p, sched, share)
    _memo[key] = (p.calibration, est)
    if len(_memo) > MEMO_SIZE:
        _memo.popitem(last=False)
    return est


@dataclass(frozen=True)
class TrafficFit:
    replicas: int
    #: What one replica sees at that many replicas.
    per_replica: WorkloadEstimate
    #: The latency targets and the load hold.
    meets: bool
    #: Why not, target by target (empty when ``meets``).
    misses: tuple[str, ...]
    #: How far off the worst target is (1 = just met; 2 = twice the target).
    severity: float = 1.0

    def as_json(self, workload: Workload) -> dict[str, object]:
        est = self.per_replica

        def ms(x: float | None) -> float | None:
            return None if x is None else round(x * 1000, 1)

        return {
            "replicas_needed": self.replicas,
            "output_tokens_per_s": round(est.output_tokens_per_s * self.replicas, 1),
            "requests_per_s": round(est.requests_per_s * self.replicas, 3),
            "ttft_ms": {"p50": ms(est.ttft_p50_s), "p95": ms(est.ttft_p95_s)},
            "itl_ms": {"p50": ms(est.itl_p50_s), "p95": ms(est.itl_p95_s)},
            "kv_utilisation_peak": round(est.kv_peak_utilisation, 3),
            "preemptions_per_replica": est.preemptions,
            "load": _describe(workload),
            "meets_targets": self.meets,
            "misses": list(self.misses),
            "method": (
                "simulation of vLLM's V1 scheduler (token budget, chunked prefill, "
                "max_num_seqs, KV blocks and recompute preemption, prefix-cache hits) "
                "over the per-step cost model, and of vLLM's API server (one asyncio loop "
                "taking requests in and streaming every token, CPU costs fitted on the "
                "H200 recordings); one replica's share of the load"
            ),
        }


def scheduler_of(e: Evaluation) -> Scheduler:
    """The scheduler limits one replica of this layout runs with."""
    return Scheduler(
        max_num_seqs=e.settings.max_num_seqs,
        max_num_batched_tokens=e.settings.max_num_batched_tokens,
        kv_blocks=max(1, e.capacity.num_blocks - 1),  # one is vLLM's null block
        block_size=e.geometry.block_size,
    )


def _describe(w: Workload) -> str:
    load = f"{w.clients} users" if w.kind == "closed" else f"{w.rate_per_s:g} requests/s"
    hit = f", {w.prefix_hit:.0%} prefix-cache hits" if w.prefix_hit else ""
    return f"{load}, {w.prompt_tokens} tokens in / {w.output_tokens} out{hit}"


def _share(w: Workload, replicas: int, alone_e2e_s: float) -> Workload:
    window = min(MAX_WINDOW_S, max(MIN_WINDOW_S, REQUESTS_PER_USER * alone_e2e_s))
    if w.kind == "closed":
        users = math.ceil(w.clients / replicas)
        # Real users do not all press enter at the same instant: unless the load
        # says how they start, their first requests spread over one request's time.
        ramp = alone_e2e_s if w.ramp_s is None else w.ramp_s
        return replace(w, clients=users, duration_s=window, ramp_s=ramp)
    rate = w.rate_per_s / replicas
    window = min(MAX_WINDOW_S, max(window, REQUESTS_PER_USER * 25 / rate))
    return replace(w, rate_per_s=rate, duration_s=window)


def _alone_e2e_s(p: PerfInputs, w: Workload) -> float:
    itl = perf.inter_token_s(p, 1, w.prompt_tokens + w.output_tokens // 2)
    return perf.ttft_s(p, w.prompt_tokens) + w.output_tokens * itl


def _check(
    req: PlanRequest, p: PerfInputs, sched: Scheduler, w: Workload, replicas: int
) -> TrafficFit:
    share = _share(w, replicas, _alone_e2e_s(p, w))
    est = _simulate(p, sched, share)
    t = req.targets
    misses: list[str] = []
    ratios = [1.0]
    if t.ttft_p95_s is not None and (est.ttft_p95_s is None or est.ttft_p95_s > t.ttft_p95_s):
        got = "no first token" if est.ttft_p95_s is None else f"{est.ttft_p95_s * 1000:.0f} ms"
        misses.append(f"TTFT p95 {got} > {t.ttft_p95_s * 1000:.0f} ms")
        ratios.append(math.inf if est.ttft_p95_s is None else est.ttft_p95_s / t.ttft_p95_s)
    if t.itl_p95_s is not None and (est.itl_p95_s is None or est.itl_p95_s > t.itl_p95_s):
        got = "none finished" if est.itl_p95_s is None else f"{est.itl_p95_s * 1000:.1f} ms"
        misses.append(f"ITL p95 {got} > {t.itl_p95_s * 1000:.1f} ms")
        ratios.append(math.inf if est.itl_p95_s is None else est.itl_p95_s / t.itl_p95_s)
    if est.preemptions:
        misses.append(f"{est.preemptions} preemptions (the KV cache runs out)")
        ratios.append(1.5)
    if share.kind == "open":
        offered = share.rate_per_s
        if est.requests_per_s < CARRIED_SHARE * offered * _finishable(share, est):
            misses.append(
                f"serves {est.requests_per_s:.2f} of {offered:.2f} requests/s (the queue grows)"
            )
    return TrafficFit(replicas, est, not misses, tuple(misses), max(ratios))


def _finishable(w: Workload, est: WorkloadEstimate) -> float:
    """Share of the window's arrivals that could have finished by its end."""
    e2e = est.e2e_p50_s or 0.0
    return max(0.0, 1.0 - e2e / w.duration_s)


def size_replicas(
    req: PlanRequest, p: PerfInputs, sched: Scheduler, w: Workload, *, start: int, limit: int
) -> TrafficFit:
    """The fewest replicas in [start, limit] that carry ``w`` within the targets
    (bisecting, assuming more replicas never make latency worse); the fit at
    ``limit`` when even that misses."""
    low = max(1, start)
    fit = _check(req, p, sched, w, low)
    if fit.meets or low >= limit:
        return fit
    top = _check(req, p, sched, w, limit)
    if not top.meets:
        return top
    bad, good = low, top
    while good.replicas - bad > 1:
        mid = (good.replicas + bad) // 2
        trial = _check(req, p, sched, w, mid)
        if trial.meets:
            good = trial
        else:
            bad = mid
    return good
