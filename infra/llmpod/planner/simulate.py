"""A discrete-event model of vLLM's V1 scheduler over the planner's step cost.

Why simulate: latency at a given load depends on how the scheduler mixes
prefill chunks and decodes, when the KV cache runs out and whom it preempts —
a closed form for one benchmark shape cannot say what 50 chat users at 2,000
tokens in / 300 out will see. The rules modelled are those of
``vllm/v1/core/sched/scheduler.py`` ``Scheduler.schedule`` (0.26.0 – 0.32.0):

- one token budget per step, ``max_num_batched_tokens``; running requests are
  scheduled first, in order, each its remaining prefill (chunked to what the
  budget has left) or one decode token; then waiting requests, first come
  first served, while the budget, ``max_num_seqs`` and free KV blocks allow;
- KV blocks are allocated per ``block_size`` tokens as a request grows; when a
  running request cannot get its next block, the most recently admitted
  running request is preempted (its blocks freed, it goes back to the front of
  the waiting queue and recomputes from scratch: V1's recompute preemption);
- a waiting request's prompt starts after its prefix-cache hit (whole blocks);
- a request's first token comes at the end of the step that finishes its
  prompt, one more per step after that — or, with speculative decoding, 1 + k
  tokens scheduled per decoding request (the last sampled token and k
  proposals, verified together) and 1 + r·k kept on average (planner/speculation.py).

Each step costs ``perf.mixed_step_s`` for what it computed. What a client sees
also goes through vLLM's API server, one Python process on one asyncio loop
(``_ApiServer`` below): it takes every request in and streams every token, and
the engine does not wait for it. On the H200 recordings it is what caps a
saturated server: at 256 users it sits at 100% CPU streaming ~8,000 tokens/s
while the engine's own inter-token histogram says the GPU could give each
stream a token every 20 ms, not the 36 ms the clients saw. Its costs are
``calibration.frontend`` (fitted on the server's CPU counters,
benchmarks/frontend_fit.py); the measured per-request overhead covers the rest of
a lone request's latency. Everything is deterministic: the same workload gives
the same numbers.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from llmpod.planner import perf
from llmpod.planner.calibration import FrontEndCosts
from llmpod.planner.perf import PerfInputs
from llmpod.planner.workload import Workload

__all__ = ["Scheduler", "Workload", "WorkloadEstimate", "simulate"]

#: Stop simulating after this many scheduler steps (a guard, far above any
#: workload the planner or the benchmark asks for).
MAX_STEPS = 200_000


@dataclass(frozen=True)
class Scheduler:
    max_num_seqs: int
    max_num_batched_tokens: int
    kv_blocks: int
    block_size: int


#: One yield of the API server's loop: when it starts and the tokens each request's
#: chunk carries (chunks written ``chunk_s`` apart, in this order).
Drain = tuple[float, dict["_Request", int]]


@dataclass
class _ApiServer:
    """vLLM's API server: one asyncio loop, one CPU, first come first served.

    Every request is received and every token streamed by one Python process;
    the engine core does not wait for it, so when it falls behind, tokens the GPU
    made reach the client late — and a closed-loop user's next request leaves
    late. What it does per engine step (vLLM 0.26.0):

    - the output handler (``vllm/v1/engine/async_llm.py`` ``_run_output_handler``,
      lines 637-707) takes the step's outputs off the queue and runs
      ``OutputProcessor.process_outputs`` on them (``output_processor.py`` 586-):
      ``step_s`` plus ``output_s`` an output, always;
      each output is put in its request's ``RequestOutputCollector``, which
      *merges* it with what the request's task has not taken yet (lines 62-72);
    - it yields to other tasks only between slices of ``chunk`` outputs
      (async_llm.py 671-683: ``await asyncio.sleep(0)`` only if more follow) and
      when its queue is empty (``asyncio.Queue.get`` on a non-empty queue returns
      without yielding). The queue is filled by another task on the same loop,
      ``process_outputs_socket`` (``core_client.py`` 1005-1040), which reads every
      step the engine has sent by the time it runs (a ready ZMQ socket returns
      without yielding) — so the handler handles the steps read at the reader's
      last turn and yields, however far behind it is; the reader runs again in
      that turn, after the woken streams;
    - when it yields, every request task with something in its collector wakes
      (``q.get_nowait() or await q.get()``, async_llm.py 579) and the serving
      generator writes one SSE chunk for all of it
      (``entrypoints/openai/completion/serving.py`` 309-442): ``chunk_s`` a request.

    So behind on steps of at most ``chunk`` outputs the loop handles the backlog
    the reader took without yielding, and the next chunk of each stream carries
    all its tokens: the per-token delivery cost falls as the backlog grows. With R
    streams, steps of τ and a handler cost h = step_s + output_s·R < τ, a drain
    cycle settles at T = chunk_s·R / (1 − h/τ): the backlog limits itself instead
    of growing without bound. Steps of more than ``chunk`` outputs yield inside
    each step, so their chunks never merge across steps.

    A request's own work on the loop is taken in before it reaches the scheduler
    (``intake_s``; the rest of ``request_s`` runs on the tokenizer pool's thread),
    after the streams the handler woke before it arrived: their wake-ups were
    queued on the loop before the new connection's data was read.
    """

    costs: FrontEndCosts
    #: When the loop is next free (handler, deliveries and intake on one timeline).
    free_at: float = 0.0
    #: When the engine-output reader task last ran: the handler's queue holds the
    #: steps that had ended by then, and it yields once it has handled them.
    read_at: float = 0.0
    #: Tokens waiting in each request's collector, in the order they were put.
    waiting: dict[_Request, int] = field(default_factory=dict)

    def receive(self, sent: float, prompt_tokens: int) -> float:
        """When a request sent at ``sent`` reaches the engine's waiting queue."""
        c = self.costs
        self.free_at = max(self.free_at, sent) + c.intake_s + c.prompt_token_s * prompt_tokens
        return self.free_at

    def drain(self) -> Drain:
        """The loop yields: each request with tokens in its collector gets one chunk,
        in the order they were put (``chunk_s`` apart from ``start``)."""
        start = self.free_at
        held = self.waiting
        if held:
            self.waiting = {}
            self.free_at = start + self.costs.chunk_s * len(held)
        # The reader task runs in the same turn of the loop, after the woken streams:
        # it takes every step the engine has sent by then.
        self.read_at = self.free_at
        return start, held

    def _arrive(self, step_end: float) -> list[Drain]:
        """A step's outputs reach the API server: the drain the loop went through
        before its handler takes them, if any."""
        drains: list[Drain] = []
        if step_end > self.read_at:
            # The step was not in the queue when the reader last ran: the handler has
            # emptied its queue and yielded before it gets this one.
            if self.waiting:
                drains.append(self.drain())
            # It runs when the loop is next free and the step is there.
            self.read_at = max(self.free_at, step_end)
        return drains

    def stream_ones(self, step_end: float, reqs: list[_Request]) -> list[Drain]:
        """``stream`` for a step in which each of ``reqs`` made one token."""
        drains = self._arrive(step_end)
        c = self.costs
        if not reqs or len(reqs) > c.chunk:
            return drains + self.stream(step_end, [(r, 1) for r in reqs])
        self.free_at = max(self.free_at, step_end) + c.step_s
        self.free_at += c.output_s * len(reqs)
        held = self.waiting
        if held:
            get = held.get
            for r in reqs:
                held[r] = get(r, 0) + 1
        else:
            self.waiting = dict.fromkeys(reqs, 1)
        return drains

    def stream(self, step_end: float, outputs: list[tuple[_Request, int]]) -> list[Drain]:
        """Take a step that ended at ``step_end``; return the drains it went through."""
        drains = self._arrive(step_end)
        if not outputs:
            return drains
        c = self.costs
        self.free_at = max(self.free_at, step_end) + c.step_s
        size = c.chunk
        if len(outputs) <= size:
            self.free_at += c.output_s * len(outputs)
            if self.waiting:
                for req, tokens in outputs:
                    self.waiting[req] = self.waiting.get(req, 0) + tokens
            else:
                self.waiting = dict(outputs)
            return drains
        for start in range(0, len(outputs), size):
            part = outputs[start : start + size]
            self.free_at += c.output_s * len(part)
            for req, tokens in part:
                self.waiting[req] = self.waiting.get(req, 0) + tokens
            if start + size < len(outputs):
                drains.append(self.drain())
        return drains


@dataclass(eq=False, slots=True)
class _Request:
    arrival: float
    prompt: int
    output: int
    cached: int
    computed: int = 0
    generated: int = 0
    blocks: int = 0
    first_token_at: float | None = None
    #: Tokens the client has been sent (the engine may be ahead: ``generated``).
    delivered: int = 0
    preempted: int = 0
    #: Blocks released by the last preemption (read once by the scheduler loop).
    freed: int = 0
    #: Expected tokens gained so far minus those counted (speculative decoding
    #: yields 1 + r·k a step on average; whole tokens are handed out as they add up).
    carry: float = 0.0

    #: Tokens whose KV the request needs: its prompt and what it generated
    #: (after a preemption V1 recomputes all of them). Kept up to date by the loop.
    length: int = 0

    def __post_init__(self) -> None:
        self.length = self.prompt + self.generated


@dataclass
class Outcome:
    ttft_s: list[float] = field(default_factory=list)
    itl_s: list[float] = field(default_factory=list)
    e2e_s: list[float] = field(default_factory=list)
    output_tokens_in_window: int = 0
    completed: int = 0
    preemptions: int = 0
    peak_kv_blocks: int = 0
    window_s: float = 0.0
    steps: int = 0
    truncated: bool = False


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class WorkloadEstimate:
    output_tokens_per_s: float
    requests_per_s: float
    ttft_p50_s: float | None
    ttft_p95_s: float | None
    itl_p50_s: float | None
    itl_p95_s: float | None
    e2e_p50_s: float | None
    e2e_p95_s: float | None
    kv_peak_utilisation: float
    preemptions: int
    completed: int
    steps: int

    def as_dict(self) -> dict[str, float | int | None]:
        def r(x: float | None, n: int = 4) -> float | None:
            return None if x is None else round(x, n)

        return {
            "output_tokens_per_s": round(self.output_tokens_per_s, 1),
            "requests_per_s": round(self.requests_per_s, 3),
            "ttft_p50_s": r(self.ttft_p50_s),
            "ttft_p95_s": r(self.ttft_p95_s),
            "itl_p50_s": r(self.itl_p50_s, 5),
            "itl_p95_s": r(self.itl_p95_s, 5),
            "e2e_p50_s": r(self.e2e_p50_s, 3),
            "e2e_p95_s": r(self.e2e_p95_s, 3),
            "kv_peak_utilisation": round(self.kv_peak_utilisation, 3),
            "preemptions": self.preemptions,
        }


def _arrivals(w: Workload) -> list[float]:
    if w.kind == "burst":
        return [0.0] * w.requests
    if w.kind == "open":
        if w.rate_per_s <= 0:
            return []
        n = max(1, int(w.duration_s * w.rate_per_s))
        return [i / w.rate_per_s for i in range(n)]
    if w.ramp_s:
        return [i * w.ramp_s / w.clients for i in range(w.clients)]
    return [0.0] * w.clients


def simulate(p: PerfInputs, sched: Scheduler, w: Workload) -> WorkloadEstimate:
    """Run the workload through the scheduler model; return what clients would see."""
    out = _run(p, sched, w)
    window = max(out.window_s, 1e-9)
    return WorkloadEstimate(
        output_tokens_per_s=out.output_tokens_in_window / window,
        requests_per_s=out.completed / window,
        ttft_p50_s=_percentile(out.ttft_s, 0.5),
        ttft_p95_s=_percentile(out.ttft_s, 0.95),
        itl_p50_s=_percentile(out.itl_s, 0.5),
        itl_p95_s=_percentile(out.itl_s, 0.95),
        e2e_p50_s=_percentile(out.e2e_s, 0.5),
        e2e_p95_s=_percentile(out.e2e_s, 0.95),
        kv_peak_utilisation=out.peak_kv_blocks / max(1, sched.kv_blocks),
        preemptions=out.preemptions,
        completed=out.completed,
        steps=out.steps,
    )


def _cached_tokens(w: Workload, block: int) -> int:
    hit = int(w.prompt_tokens * min(max(w.prefix_hit, 0.0), 1.0))
    # Whole blocks only, and the last prompt token is always computed.
    return min(hit // block * block, max(0, w.prompt_tokens - 1) // block * block)


def _preempt(req: _Request, waiting: deque[_Request], out: Outcome) -> None:
    """V1's recompute preemption: free the blocks, back to the front of the queue.

    vLLM 0.26.0 ``vllm/v1/core/sched/scheduler.py``: the newest running request is
    popped (line 601, FCFS policy) and ``_preempt_request`` (lines 1212-1234) frees
    its blocks, sets ``num_computed_tokens = 0`` and prepends it to the waiting
    queue, so its prompt and every token it generated are computed again. Freed
    blocks keep their prefix-cache hashes until evicted; with the cache full they
    are evicted first, so no hit is counted here (the recompute is charged in full).
    """
    req.freed = req.blocks
    req.blocks = req.computed = 0
    req.preempted += 1
    out.preemptions += 1
    waiting.appendleft(req)


def _admits(waiting: deque[_Request], sched: Scheduler, running: int, free_blocks: int) -> bool:
    """Whether the step may admit a waiting request once ``running`` decodes are
    scheduled (False only when it surely cannot: ``_run``'s waiting loop would stop
    at its head; the decodes' own blocks can only make that more certain)."""
    budget = sched.max_num_batched_tokens - running
    if not waiting or budget <= 0 or running >= sched.max_num_seqs:
        return False
    req = waiting[0]
    start = req.cached if req.preempted == 0 else 0
    new = min(req.length - start, budget)
    return -(-(start + new) // sched.block_size) <= free_blocks


def _decode_step(
    p: PerfInputs,
    running: list[_Request],
    block: int,
    free_blocks: int,
    now: float,
    out: Outcome,
    kv_blocks: int,
    step_s: Callable[[int], float],
) -> tuple[float, int, list[_Request]]:
    """One step in which every running request decodes one token (no speculation,
    nobody waiting, a free block for each): what ``_run``'s general step does then,
    the same numbers in the same order, with one pass over the batch. ``step_s``:
    ``perf.decode_only_step_s`` for this many requests.

    Returns the time the step ends, the free blocks after it and the requests that
    made a token (one each), in order.
    """
    decode_ctx = 0
    finished = False
    for r in running:
        computed = r.computed
        decode_ctx += computed
        # A decode grows its request by one token: at most one new block.
        need = -(-(computed + 1) // block) - r.blocks
        free_blocks -= need
        r.blocks += need
        r.computed = r.length
        r.generated += 1
        r.length += 1
        if r.generated >= r.output:
            finished = True
    now += step_s(decode_ctx)
    out.steps += 1
    out.peak_kv_blocks = max(out.peak_kv_blocks, kv_blocks - free_blocks)
    stepped = running
    if finished:
        stepped = running[:]
        keep: list[_Request] = []
        for r in running:
            if r.generated >= r.output:
                free_blocks += r.blocks
                r.blocks = 0
            else:
                keep.append(r)
        running[:] = keep
    return now, free_blocks, stepped


def _run(p: PerfInputs, sched: Scheduler, w: Workload) -> Outcome:
    out = Outcome()
    block = sched.block_size
    cached = _cached_tokens(w, block)
    pending = deque(sorted(_arrivals(w)))
    waiting: deque[_Request] = deque()
    running: list[_Request] = []
    free_blocks = sched.kv_blocks
    now = 0.0
    closed = w.kind == "closed"
    horizon = w.duration_s if w.kind != "burst" else math.inf
    verified = perf.verified_per_step(p)
    gained = perf.tokens_per_step(p)
    #: No speculative decoding: every decode keeps exactly one token.
    plain = verified == 1 and gained == 1.0
    costs = p.calibration.frontend
    server = _ApiServer(costs)
    # The measured per-request overhead (a lone request's TTFT minus its prefill)
    # already holds the API server's own work at no load: add only the rest.
    unloaded = costs.intake_s + costs.prompt_token_s * w.prompt_tokens
    unloaded += costs.step_s + costs.output_s + costs.chunk_s
    overhead = max(0.0, p.calibration.request_overhead_s - unloaded)
    #: Requests the API server is still taking in: (ready at, request).
    intake: deque[tuple[float, _Request]] = deque()

    chunk_s = costs.chunk_s
    #: Whether every running request is decoding (None: not known since the last
    #: step that could admit, prefill or preempt).
    all_decoding: bool | None = None
    #: perf.decode_only_step_s by batch size.
    decode_step_costs: dict[int, Callable[[int], float]] = {}

    def deliver(start: float, held: dict[_Request, int]) -> None:
        """Record what clients saw: first tokens, tokens in the window, finishes."""
        seen = start
        in_window = 0
        for req, tokens in held.items():
            seen += chunk_s
            if seen <= horizon:
                in_window += tokens
            if req.first_token_at is None:
                req.first_token_at = seen
                out.ttft_s.append(seen - req.arrival + overhead)
            req.delivered += tokens
            if req.delivered < req.output:
                continue
            if seen <= horizon:
                out.completed += 1
            out.e2e_s.append(seen - req.arrival + overhead)
            if req.output > 1:
                out.itl_s.append((seen - req.first_token_at) / (req.output - 1))
            if closed and seen < horizon:
                pending.append(seen + overhead)
        out.output_tokens_in_window += in_window

    def next_event() -> float | None:
        """The next time a request is sent or reaches the waiting queue."""
        times = ([pending[0]] if pending else []) + ([intake[0][0]] if intake else [])
        return min(times) if times else None

    def blocks_for(tokens: int) -> int:
        return -(-tokens // block)

    while out.steps < MAX_STEPS:
        while pending and pending[0] <= now:
            sent = pending.popleft()
            if server.waiting:
                # The handler yields when its batch is done; the streams it woke run
                # before the new connection's task (asyncio runs ready callbacks in order).
                deliver(*server.drain())
            ready = server.receive(sent, w.prompt_tokens)
            intake.append((ready, _Request(sent, w.prompt_tokens, w.output_tokens, cached)))
        while intake and intake[0][0] <= now:
            waiting.append(intake.popleft()[1])
        if not running and not waiting:
            # The engine is idle: the loop has yielded and streamed what it held.
            deliver(*server.drain())
            upcoming = next_event()
            if upcoming is None:
                break
            now = max(now, upcoming)
            continue
        if now >= horizon:
            break
        if (
            plain
            and all_decoding is not False
            and len(running) <= sched.max_num_batched_tokens
            and free_blocks >= len(running)
            and not _admits(waiting, sched, len(running), free_blocks)
        ):
            if all_decoding is None:
                all_decoding = all(r.generated > 0 and r.computed == r.length - 1 for r in running)
            if all_decoding:
                # Every running request decodes one token and no waiting one can be
                # admitted: the step the general path below would take, without its
                # per-request bookkeeping (a decode needs at most one new block, and
                # there are free blocks for all, so no one is preempted).
                step_s = decode_step_costs.get(len(running))
                if step_s is None:
                    step_s = perf.decode_only_step_s(p, len(running))
                    decode_step_costs[len(running)] = step_s
                now, free_blocks, stepped = _decode_step(
                    p, running, block, free_blocks, now, out, sched.kv_blocks, step_s
                )
                for drained in server.stream_ones(now, stepped):
                    deliver(*drained)
                continue
        # The step below may admit, prefill or preempt: look again after it.
        all_decoding = None
        budget = sched.max_num_batched_tokens
        # What the step computes (summed in schedule order) and what it yields;
        # a request's own state moves on as soon as it is scheduled — nothing
        # scheduled after it in this step reads it.
        sequences = 0
        new_tokens = 0
        decode_ctx = 0
        decoding = 0
        pairs = 0.0
        finished: list[_Request] = []
        outputs = []
        # Running requests first, in admission order; preempt from the back.
        i = 0
        while i < len(running) and budget > 0:
            req = running[i]
            left = req.length - req.computed
            is_decode = req.generated > 0 and left == 1
            new = verified if is_decode else left
            if new > budget:
                new = budget
            need = -(-(req.computed + new) // block) - req.blocks
            while need > free_blocks and running[-1] is not req:
                victim = running.pop()
                _preempt(victim, waiting, out)
                free_blocks += victim.freed
            if need > free_blocks:
                # Even alone it cannot grow: V1 preempts the request itself.
                running.remove(req)
                _preempt(req, waiting, out)
                free_blocks += req.freed
                continue
            free_blocks -= need
            req.blocks += need
            budget -= new
            i += 1
            sequences += 1
            new_tokens += new
            if is_decode:
                decode_ctx += req.computed
                decoding += 1
                if plain:
                    tokens = 1
                    req.computed = req.length
                else:
                    # A decode (with its proposals): keep 1 + what was accepted,
                    # never past the request's output length.
                    req.carry += gained
                    tokens = min(max(1, int(req.carry)), req.output - req.generated)
                    req.carry -= tokens
                    # Every kept token but the newest now has its KV.
                    req.computed = req.length - 1 + tokens
            else:
                pairs += new * (req.computed + new / 2)
                req.computed += new
                if req.computed < req.length:
                    continue  # more prompt chunks to go
                tokens = 1
            req.generated += tokens
            req.length += tokens
            outputs.append((req, tokens))
            if req.generated >= req.output:
                finished.append(req)
        # Then waiting requests, first come first served.
        while waiting and budget > 0 and len(running) < sched.max_num_seqs:
            req = waiting[0]
            start = req.cached if req.preempted == 0 else 0
            new = min(req.length - start, budget)
            need = blocks_for(start + new)
            if need > free_blocks:
                break
            waiting.popleft()
            free_blocks -= need
            req.blocks = need
            running.append(req)
            budget -= new
            sequences += 1
            new_tokens += new
            pairs += new * (start + new / 2)
            req.computed = start + new
            if req.computed < req.length:
                continue  # more prompt chunks to go
            req.generated += 1
            req.length += 1
            outputs.append((req, 1))
            if req.generated >= req.output:
                finished.append(req)
        if not sequences:
            # Nothing fits: only a finishing request or a new arrival changes that.
            deliver(*server.drain())
            upcoming = next_event()
            if upcoming is not None:
                now = max(now, upcoming)
                continue
            break
        now += perf.mixed_step_s(
            p,
            sequences=sequences,
            new_tokens=new_tokens,
            decode_context_tokens=decode_ctx,
            prefill_attention_pairs=pairs,
            proposing=decoding,
        )
        out.steps += 1
        out.peak_kv_blocks = max(out.peak_kv_blocks, sched.kv_blocks - free_blocks)
        for req in finished:
            running.remove(req)
            free_blocks += req.blocks
            req.blocks = 0
        # What the clients see: the chunks the API server wrote while this step ran.
        for drained in server.stream(now, outputs):
            deliver(*drained)
    else:
        out.truncated = True
    deliver(*server.drain())
    # A load with a duration is measured over that duration, as its clients do
    # (the engine may have stopped early: the rest waits on the API server).
    out.window_s = horizon if math.isfinite(horizon) else max(now, server.free_at)
    return out
