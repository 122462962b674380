"""Streaming load generator for vLLM's OpenAI completions endpoint (stdlib only).

Used on the lent H200 (benchmarks/h200/README.md) to produce the loads behind the
recordings in tests/fixtures/h200/ and the throughput figures in throughput.csv.

* Prompts are token ids, not text: the server runs a tiny offline tokenizer (its
  1,024 trained entries, extended so every id of the model's vocabulary decodes
  to text: tests/e2e/make_tiny_model.py --tokenizer-for), so only ids give exact
  prompt lengths. Each request gets its own random ids, so prefix caching never
  skips a prefill.
* Every request streams (``stream_options.include_usage``) so the client sees its
  own time to first token; the last chunk's ``usage`` gives the exact count of
  generated tokens. ``ignore_eos`` makes every request generate ``max_tokens``.
* Loads end by wall clock: requests still in flight at the end are aborted by
  shutting their sockets, which makes vLLM abort them too (it notices the
  disconnect), so one load never spills into the next recording.
* Only loopback is targeted.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import statistics
import threading
import time
from dataclasses import dataclass, field

threading.stack_size(512 * 1024)  # hundreds of client threads; 8 MiB stacks are waste
LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: Ids of the tiny tokenizer's trained text entries (1,024; 0-2 are special): ordinary
#: text tokens in every kit tokenizer, whatever the model's vocabulary size.
ID_RANGE = (10, 1000)


def prompt_ids(length: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    return [rng.randrange(*ID_RANGE) for _ in range(length)]


@dataclass
class Outcome:
    """One request as the client saw it; times are seconds on time.perf_counter()."""

    sent_at: float
    first_token_at: float | None = None
    done_at: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    chunks: int = 0
    status: str = "pending"  # ok | aborted | error
    error: str = ""

    @property
    def ttft(self) -> float | None:
        return None if self.first_token_at is None else self.first_token_at - self.sent_at

    @property
    def latency(self) -> float | None:
        return None if self.done_at is None or self.status != "ok" else self.done_at - self.sent_at


@dataclass
class Client:
    host: str
    port: int
    model: str
    _open: set = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    seed_base: int = 0

    def __post_init__(self) -> None:
        if self.host not in LOOPBACK:
            raise ValueError(f"load generator only targets loopback, not {self.host!r}")

    def abort_all(self) -> None:
        """Cut every open stream; their threads see EOF and mark the request aborted."""
        with self._lock:
            conns = list(self._open)
        for conn in conns:
            try:
                if conn.sock is not None:
                    conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def complete(self, prompt_len: int, max_tokens: int, seed: int) -> Outcome:
        body = json.dumps(
            {
                "model": self.model,
                "prompt": prompt_ids(prompt_len, self.seed_base + seed),
                "max_tokens": max_tokens,
                "temperature": 0.0,
                "ignore_eos": True,
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        ).encode()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=900)
        out = Outcome(sent_at=time.perf_counter(), prompt_tokens=prompt_len)
        with self._lock:
            self._open.add(conn)
        try:
            conn.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            if resp.status != 200:
                out.status, out.error = "error", f"HTTP {resp.status}: {resp.read()[:300]!r}"
                return out
            last = b""
            while True:
                line = resp.readline()
                if not line:
                    break
                if not line.startswith(b"data: "):
                    continue
                payload = line[6:].strip()
                if payload == b"[DONE]":
                    out.status = "ok"
                    break
                if b'"choices":[]' not in payload.replace(b" ", b""):
                    out.chunks += 1
                    if out.first_token_at is None:
                        out.first_token_at = time.perf_counter()
                last = payload
            out.done_at = time.perf_counter()
            if out.status == "ok":
                usage = json.loads(last).get("usage") or {}
                out.completion_tokens = int(usage.get("completion_tokens") or out.chunks)
            else:
                out.status, out.completion_tokens = "aborted", out.chunks
        except (OSError, http.client.HTTPException, ValueError) as exc:
            out.done_at = time.perf_counter()
            out.status, out.error = "aborted", f"{type(exc).__name__}: {exc}"
            out.completion_tokens = out.chunks
        finally:
            with self._lock:
                self._open.discard(conn)
            conn.close()
        return out


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(q / 100 * (len(values) - 1))))
    return round(values[k], 4)


def summarize(outcomes: list[Outcome], window: tuple[float, float]) -> dict:
    """Client-side figures; tokens/s counts every generated token inside the window."""
    start, end = window
    ttfts = [o.ttft for o in outcomes if o.ttft is not None]
    lats = [o.latency for o in outcomes if o.latency is not None]
    tokens = sum(o.completion_tokens for o in outcomes)
    dur = max(1e-9, end - start)
    return {
        "requests_sent": len(outcomes),
        "completed": sum(o.status == "ok" for o in outcomes),
        "aborted_at_end": sum(o.status == "aborted" for o in outcomes),
        "failed": sum(o.status == "error" for o in outcomes),
        "errors": sorted({o.error for o in outcomes if o.status == "error"})[:5],
        "ttft_s": {
            "p50": _pct(ttfts, 50),
            "p90": _pct(ttfts, 90),
            "p99": _pct(ttfts, 99),
            "n": len(ttfts),
        },
        "latency_s": {
            "p50": _pct(lats, 50),
            "p90": _pct(lats, 90),
            "p99": _pct(lats, 99),
            "n": len(lats),
        },
        "output_tokens": tokens,
        "output_tokens_per_s": round(tokens / dur, 1),
        "duration_s": round(dur, 2),
    }


def closed_loop(
    client: Client,
    concurrency: int,
    prompt_len: int,
    max_tokens: int,
    duration_s: float,
    seed: int = 0,
) -> dict:
    """``concurrency`` users each send the next request as soon as the last finished."""
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + duration_s
    counter = iter(range(seed * 1_000_000, 10**12))

    def user() -> None:
        while time.perf_counter() < deadline:
            with lock:
                n = next(counter)
            o = client.complete(prompt_len, max_tokens, n)
            with lock:
                outcomes.append(o)

    threads = [threading.Thread(target=user, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    time.sleep(max(0.0, deadline - time.perf_counter()))
    end = time.perf_counter()
    client.abort_all()
    for t in threads:
        t.join(30)
    client.abort_all()
    return summarize(outcomes, (start, end))


def burst(
    client: Client,
    requests: int,
    prompt_len: int,
    max_tokens: int,
    duration_s: float,
    seed: int = 0,
) -> dict:
    """All requests at once, then nothing: a queue that builds and drains."""
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    start = time.perf_counter()

    def one(n: int) -> None:
        o = client.complete(prompt_len, max_tokens, seed * 1_000_000 + n)
        with lock:
            outcomes.append(o)

    threads = [threading.Thread(target=one, args=(n,), daemon=True) for n in range(requests)]
    for t in threads:
        t.start()
    deadline = start + duration_s
    for t in threads:
        t.join(max(0.0, deadline - time.perf_counter()))
    end = time.perf_counter()
    client.abort_all()
    for t in threads:
        t.join(30)
    done = [o.done_at for o in outcomes if o.status == "ok" and o.done_at]
    summary = summarize(outcomes, (start, end))
    summary["all_done_after_s"] = round(max(done) - start, 2) if len(done) == requests else None
    return summary


def batch(client: Client, concurrency: int, prompt_len: int, max_tokens: int, seed: int) -> dict:
    """DESIGN.md's throughput contract: N requests submitted together, timed from
    submission to the last token of the last one; output tokens / that time."""
    outcomes: list[Outcome | None] = [None] * concurrency
    gate = threading.Barrier(concurrency + 1)

    def one(i: int) -> None:
        gate.wait()
        outcomes[i] = client.complete(prompt_len, max_tokens, seed * 1_000_000 + i)

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    gate.wait()
    start = time.perf_counter()
    for t in threads:
        t.join(600)
    got = [o for o in outcomes if o is not None]
    end = max((o.done_at or start) for o in got) if got else start
    summary = summarize(got, (start, end))
    ttfts = [o.ttft for o in got if o.ttft is not None]
    summary["ttft_mean_s"] = round(statistics.fmean(ttfts), 4) if ttfts else None
    return summary
