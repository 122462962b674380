"""Fit the API-server CPU costs of the scheduler simulation from vLLM's own counters.

What is fitted, and on what. vLLM's API server is one Python process whose one
asyncio loop (and one GIL) receives every request and streams every token
(vLLM 0.26.0 ``vllm/v1/engine/async_llm.py`` ``_run_output_handler``, lines
637-707); when it is busy, tokens the GPU already made reach clients late and
closed-loop users send their next request late. The H200 recordings
(tests/fixtures/h200/<load>/recording.jsonl.gz) scrape that process's
``process_cpu_seconds_total`` every 0.5 s beside vLLM's own token, step and
request counters. Per scrape interval::

    cpu − idle·dt = step_s·steps + token_s·tokens + merged_token_s·merged tokens
                    + request_s·requests + prompt_token_s·prompt tokens
                    + token_prompt_s·tokens·(their requests' prompt length)

is fitted by non-negative least squares over every interval of every recording
(``idle`` from the idle recording). The last column is there because a streamed
token of these recordings costs more the longer its request's prompt (≈ 73 µs at
32 prompt tokens, ≈ 384 µs at 4,000): their dummy-weight model emits ids the tiny
tokenizer lacks, and vLLM's detokenizer then re-decodes the prompt on every step
(``RECORDING_TERM``; measured on the real API server by
benchmarks/frontend_prompt_cost.py — with a tokenizer that covers the model's ids
the cost per token is flat). Tokens are "merged" in an interval where the
loop was saturated (CPU ≥ 0.95 s/s) and no step had more than 128 sequences
(``VLLM_V1_OUTPUT_PROC_CHUNK_SIZE``): the output handler then drains a backlog of
steps without yielding, so one SSE chunk carries several tokens (async_llm.py
lines 667-683: it yields only between 128-output slices; ``asyncio.Queue.get`` on a
non-empty queue does not yield), otherwise each token is its own chunk.

Only server-side CPU and counters are used — never the client-side TTFT,
latency or throughput that ``benchmarks/workload_accuracy.py`` scores. Because
the counters come from the same recordings, that benchmark scores each recording
with the constants fitted *without* it (``fit(exclude=…)``, leave-one-recording-out).

    python benchmarks/frontend_fit.py [--loro]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "infra"))

from llmpod.diagnose.recording import load as load_recording  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "h200"
#: vllm/envs.py VLLM_V1_OUTPUT_PROC_CHUNK_SIZE default (0.26.0).
CHUNK = 128
SATURATED = 0.95
TERMS = (
    "step_s",
    "token_s",
    "merged_token_s",
    "request_s",
    "prompt_token_s",
    "token_prompt_s",
)
#: What the simulation takes from the fit. ``merged_token_s`` is fitted only so that
#: intervals whose tokens shared SSE chunks (how many, the counters do not say) do
#: not bias the rest; the simulation derives merging from the loop itself
#: (planner/simulate.py ``_ApiServer``) and is checked against it, not fed it.
SIMULATED_TERMS = ("step_s", "token_s", "request_s", "prompt_token_s")
#: A cost of the recordings, not of serving: their dummy-weight Llama emits ids the
#: 1,024-entry tiny tokenizer lacks, so vLLM's detokenizer (``DecodeStream``, primed
#: with the prompt: vLLM 0.26.0 ``vllm/v1/engine/detokenizer.py`` 183-186) never trims
#: its buffer and decodes the whole prompt again for every output token
#: (benchmarks/frontend_prompt_cost.txt). Fitted so it does not bias the rest;
#: benchmarks/workload_accuracy.py adds it when it simulates the recordings.
RECORDING_TERM = "token_prompt_s"


def _values(text: str) -> dict[str, float]:
    """Sum every sample of each metric name (labels dropped)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name_part, _, value = line.rpartition(" ")
        name = name_part.split("{", 1)[0]
        try:
            out[name] = out.get(name, 0.0) + float(value)
        except ValueError:
            continue
    return out


@dataclass(frozen=True)
class Interval:
    recording: str
    seconds: float
    cpu_s: float
    row: tuple[float, float, float, float, float, float]


def _recording(path: Path) -> list[tuple[float, dict[str, float]]]:
    return [(s.timestamp, _values(s.text)) for s in load_recording([path])]


@cache
def idle_cpu_per_s() -> float:
    series = _recording(FIXTURES / "idle" / "recording.jsonl.gz")
    (t0, a), (t1, b) = series[0], series[-1]
    return (b["process_cpu_seconds_total"] - a["process_cpu_seconds_total"]) / (t1 - t0)


def _in_flight(m: dict[str, float]) -> float:
    return m.get("vllm:num_requests_running", 0.0) + m.get("vllm:num_requests_waiting", 0.0)


@cache
def intervals() -> tuple[Interval, ...]:
    """Every scrape interval of every load recording, as (CPU, counter deltas).

    Requests are counted where they arrive: the rise of the engine's in-flight
    gauges (running + waiting) plus the requests that finished, so a request counts
    once whatever its prompt. (Dividing prompt tokens by the mean prompt of
    ``vllm:request_prompt_tokens`` does not work: that histogram is cumulative over
    the server's life and observed at finish, so it mixes the earlier loads in.)
    Intervals before a recording's first prompt token are left out: the server was
    still running the previous load's requests (kv_exhaustion begins with the 256
    requests closed_c256's clients left behind), a load this recording did not send.
    """
    out: list[Interval] = []
    for path in sorted(FIXTURES.glob("*/recording.jsonl.gz")):
        name = path.parent.name
        if name == "idle":
            continue
        series = _recording(path)
        first_prompt = series[0][1].get("vllm:prompt_tokens_total", 0.0)
        started = False
        arrived = prompted = 0.0
        for (t0, a), (t1, b) in itertools.pairwise(series):
            dt = t1 - t0

            def d(key: str, a: dict[str, float] = a, b: dict[str, float] = b) -> float:
                return b.get(key, 0.0) - a.get(key, 0.0)

            prompt = d("vllm:prompt_tokens_total")
            started = started or b.get("vllm:prompt_tokens_total", 0.0) > first_prompt
            if not started:
                continue
            requests = max(0.0, _in_flight(b) - _in_flight(a) + d("vllm:request_success_total"))
            arrived += requests
            prompted += prompt
            cpu = d("process_cpu_seconds_total")
            tokens = d("vllm:generation_tokens_total")
            running = max(a["vllm:num_requests_running"], b["vllm:num_requests_running"])
            merged = running <= CHUNK and cpu / dt >= SATURATED
            row = (
                d("vllm:iteration_tokens_total_count"),
                0.0 if merged else tokens,
                tokens if merged else 0.0,
                requests,
                prompt,
                tokens * (prompted / arrived if arrived else 0.0),
            )
            out.append(Interval(name, dt, cpu - idle_cpu_per_s() * dt, row))
    return tuple(out)


def _solve(rows: list[tuple[float, ...]], y: list[float], cols: tuple[int, ...]) -> list[float]:
    """Least squares on the given columns (normal equations, Gauss-Jordan)."""
    n = len(cols)
    ata = [[sum(r[i] * r[j] for r in rows) for j in cols] for i in cols]
    aty = [sum(r[i] * v for r, v in zip(rows, y, strict=True)) for i in cols]
    for k in range(n):
        pivot = max(range(k, n), key=lambda i: abs(ata[i][k]))
        ata[k], ata[pivot] = ata[pivot], ata[k]
        aty[k], aty[pivot] = aty[pivot], aty[k]
        if abs(ata[k][k]) < 1e-30:
            return [float("nan")] * n
        for i in range(n):
            if i != k:
                f = ata[i][k] / ata[k][k]
                ata[i] = [x - f * z for x, z in zip(ata[i], ata[k], strict=True)]
                aty[i] -= f * aty[k]
    return [aty[i] / ata[i][i] for i in range(n)]


def _nnls(rows: list[tuple[float, ...]], y: list[float]) -> tuple[float, ...]:
    """Non-negative least squares by trying every set of active columns (6 terms: 63 sets)."""
    width = len(rows[0])
    best: tuple[float, tuple[float, ...]] | None = None
    for size in range(1, width + 1):
        for cols in itertools.combinations(range(width), size):
            coef = _solve(rows, y, cols)
            if any(not c >= 0 for c in coef):
                continue
            full = [0.0] * width
            for c, v in zip(cols, coef, strict=True):
                full[c] = v
            sse = sum(
                (sum(f * x for f, x in zip(full, r, strict=True)) - v) ** 2
                for r, v in zip(rows, y, strict=True)
            )
            if best is None or sse < best[0]:
                best = (sse, tuple(full))
    assert best is not None
    return best[1]


@cache
def fit(exclude: str | None = None) -> dict[str, float]:
    """The costs in seconds, fitted on every recording but ``exclude``."""
    used = [i for i in intervals() if i.recording != exclude]
    coef = _nnls([i.row for i in used], [i.cpu_s for i in used])
    return dict(zip(TERMS, coef, strict=True))


def recordings() -> list[str]:
    return sorted({i.recording for i in intervals()})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loro", action="store_true", help="also fit without each recording")
    args = ap.parse_args()
    print(f"idle API-server CPU: {idle_cpu_per_s():.4f} s/s (idle recording)")
    print(f"{'fitted without':26} " + " ".join(f"{t:>15}" for t in TERMS) + "   (µs)")
    rows = [None, *recordings()] if args.loro else [None]
    for name in rows:
        c = fit(name)
        label = "(all recordings)" if name is None else name
        print(f"{label:26} " + " ".join(f"{c[t] * 1e6:15.4f}" for t in TERMS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
