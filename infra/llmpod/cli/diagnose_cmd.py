"""`llmpod diagnose`: is a running vLLM memory-, throughput- or latency-bound, and what fixes it."""

from __future__ import annotations

import argparse
import re
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmpod.diagnose.scrape import RawScrape
    from llmpod.diagnose.window import LoneTtft

COMMAND = ("diagnose", "scrape a running vLLM's /metrics, name the bottleneck, cost the fix")
__all__ = ["COMMAND", "add_arguments", "parse_duration", "run"]

EPILOG = """\
Saved scrapes (--save writes, --from-file reads):
  * JSON lines: one {"timestamp": <unix seconds>, "url": ..., "text": <exposition>} per line;
  * or a directory of .prom files named by their Unix scrape time (1718000000.prom, ...);
  * or a file of Prometheus text, whatever its name (curl -s URL/metrics > metrics.prom):
    one scrape, taken at the time in its name if that is a Unix time, else its mtime.

One scrape (a single file, or scrapes all taken at the same time) is not refused:
vLLM's counters and histograms count since the server started, so it gives totals
(preemptions, requests, mean and percentile TTFT since start) and the state at that
instant (running, waiting, KV usage), and says what it cannot tell (rates, trends,
the regime). Naming a bottleneck needs a window of several scrapes.

Percentiles (TTFT, inter-token latency, queue time) are estimated from the histogram
buckets by linear interpolation within a bucket, as PromQL's histogram_quantile does.

Exit codes: 0 diagnosed (the regime is in the output, bottleneck or not);
            1 could not diagnose (unreachable URL, not a vLLM server, metrics missing,
              unreadable --from-file, unknown stack/service/model, infeasible spec);
            2 bad command line.
With --json, errors are JSON too: {"regime": null, "error": {"code", "message",
"suggestions"}} on stdout, with the same exit code.
"""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, None: 1.0}
MAX_WINDOW_S = 3600.0
#: /metrics is a few hundred KiB rendered by vLLM on each request: scraping faster than
#: this measures the scrape, and 3,000,000,001 planned scrapes (--interval 0.000001ms)
#: would never finish.
MIN_INTERVAL_S = 0.1
MAX_SCRAPES = 3600


def parse_duration(text: str) -> float:
    match = _DURATION.fullmatch(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration; use e.g. 60s, 2m, 500ms")
    seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be longer than zero")
    return seconds


def add_arguments(p: argparse.ArgumentParser) -> None:
    from llmpod.cli.json_errors import json_command_line_errors

    json_command_line_errors(p)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = EPILOG
    p.add_argument("url", nargs="?", help="the vLLM server, e.g. http://127.0.0.1:8000")
    p.add_argument(
        "--window", type=parse_duration, default=60.0, help="how long to watch (default 60s)"
    )
    p.add_argument(
        "--interval", type=parse_duration, default=5.0, help="time between scrapes (default 5s)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--from-file",
        nargs="+",
        metavar="FILE",
        help="analyse saved scrapes instead of a live URL (see below)",
    )
    p.add_argument("--save", metavar="FILE", help="also write the scrapes as JSON lines")
    p.add_argument(
        "--ttft-target",
        type=parse_duration,
        help="TTFT p95 above this counts as latency-bound (default: the spec's "
        "targets.ttft_ms, if any)",
    )
    p.add_argument(
        "--unloaded-ttft",
        type=parse_duration,
        help="this server's TTFT for a lone request of the usual prompt length (e.g. "
        "from a quiet window); TTFT several times it, with a recurring queue, is "
        "throughput-bound. Default: lone requests inside the window, if any",
    )
    p.add_argument(
        "--reference",
        nargs="+",
        metavar="FILE",
        help="or: a recording of the same server under light load (as --from-file reads); "
        "its lone requests give the unloaded TTFT and their prompt length",
    )
    spec = p.add_argument_group("current spec (for the plan diff and cost delta)")
    spec.add_argument("--stack", help="stack name (stacks/Pulumi.<stack>.yaml)")
    spec.add_argument("--service", help="service name within --stack")
    spec.add_argument("--model", help="or: the model, as for `llmpod plan`")
    spec.add_argument("--gpu", action="append", help="with --model: GPU type (repeatable)")
    spec.add_argument("--replicas", type=int, help="with --model: replicas running now")
    for flag in (
        "--tp",
        "--max-model-len",
        "--max-num-seqs",
        "--max-num-batched-tokens",
        "--full-context-concurrency",
    ):
        spec.add_argument(flag, help=f"with --model: as `llmpod plan {flag}`")
    spec.add_argument("--kv-cache-dtype", help="with --model: as `llmpod plan`")
    spec.add_argument("--quantization", help="with --model: as `llmpod plan`")
    spec.add_argument("--vllm-version", help="with --model: as `llmpod plan`")


def run(ns: argparse.Namespace) -> int:
    from llmpod.cli.json_errors import print_error
    from llmpod.errors import LlmpodError

    try:
        return _diagnose(ns)
    except LlmpodError as err:
        if not ns.json:
            raise
        print_error(err, regime=None)
        return err.exit_code


def _diagnose(ns: argparse.Namespace) -> int:
    import json

    from llmpod.diagnose import recording
    from llmpod.diagnose.analyze import analyze, check_first
    from llmpod.diagnose.render import to_json, write_text
    from llmpod.diagnose.scrape import collect, metrics_url, scrape_count
    from llmpod.diagnose.spec_baseline import baseline_from_args
    from llmpod.errors import LlmpodError
    from llmpod.http_get import redacted

    _check_flags(ns)
    try:
        baseline = baseline_from_args(ns)
    except LlmpodError as err:
        err.exit_code = 1  # an infeasible current spec still means "could not diagnose"
        raise
    if ns.from_file:
        raw = recording.load(ns.from_file)
        source = ", ".join(ns.from_file)
    else:
        # Printed and saved with any password in the URL replaced.
        source = redacted(metrics_url(ns.url))
        count = scrape_count(ns.window, ns.interval)
        print(
            f"scraping {source} every {ns.interval:g} s for {ns.window:g} s ({count} scrapes)…",
            file=sys.stderr,
        )
        raw = collect(ns.url, ns.window, ns.interval, validate=check_first)
        if ns.save:
            recording.save(ns.save, raw)
    if len({s.timestamp for s in raw}) < 2:
        return _one_scrape(raw[-1], source, as_json=ns.json)
    target = ns.ttft_target
    if target is None and baseline is not None:
        target = baseline.request.targets.ttft_s
    report = analyze(
        raw,
        source=source,
        baseline=baseline,
        ttft_target_s=target,
        unloaded_ttft_s=ns.unloaded_ttft,
        reference=_reference(ns.reference) if ns.reference else None,
    )
    if ns.json:
        print(json.dumps(to_json(report), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        write_text(report, sys.stdout)
    return 0


def _reference(paths: list[str]) -> LoneTtft:
    """This server's unloaded TTFT, from its lone requests in another recording."""
    from llmpod.diagnose import recording
    from llmpod.diagnose.analyze import snapshots
    from llmpod.diagnose.window import lone_ttft
    from llmpod.errors import LlmpodError

    found = lone_ttft(snapshots(recording.load(paths)))
    if found is None:
        raise LlmpodError(
            code="no_reference",
            message=f"--reference {' '.join(paths)[:200]}: no interval between two scrapes "
            "had a request served alone (at most one running, none waiting), so it gives "
            "no unloaded TTFT.",
            suggestions=[
                "record the server with one client at a time (e.g. one request after another)",
                "or give --unloaded-ttft, the TTFT of a lone request you measured",
            ],
        )
    return found


def _one_scrape(scrape: RawScrape, source: str, *, as_json: bool) -> int:
    """Totals since start and the state now, instead of refusing (see single.py)."""
    import json

    from llmpod.diagnose.analyze import snapshots
    from llmpod.diagnose.single import single_scrape, to_json, write_text

    report = single_scrape(snapshots([scrape])[0], source)
    if as_json:
        print(json.dumps(to_json(report), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        write_text(report, sys.stdout)
    return 0


def _check_flags(ns: argparse.Namespace) -> None:
    from llmpod.errors import LlmpodError

    def bad(message: str, fix: str) -> LlmpodError:
        return LlmpodError(code="bad_diagnose_flags", message=message, suggestions=[fix])

    if ns.from_file and ns.url:
        raise bad(f"give either a URL ({ns.url}) or --from-file, not both.", "drop one of them")
    if not ns.from_file and not ns.url:
        raise bad(
            "diagnose needs a vLLM server URL or --from-file with saved scrapes.",
            "e.g. llmpod diagnose http://127.0.0.1:8000 --window 60s",
        )
    if ns.from_file and ns.save:
        raise bad(
            "--save records a live scrape; with --from-file the scrapes are already saved.",
            "drop --save",
        )
    if ns.reference and ns.unloaded_ttft is not None:
        raise bad(
            "give the unloaded TTFT either as --unloaded-ttft or from --reference, not both.",
            "drop one of them",
        )
    if ns.interval > ns.window:
        raise bad(
            f"--interval {ns.interval:g}s is longer than --window {ns.window:g}s: "
            f"that is a single scrape, and rates need two.",
            "use a window at least twice the interval, e.g. --window 60s --interval 5s",
        )
    if ns.interval < MIN_INTERVAL_S:
        raise bad(
            f"--interval {ns.interval:g}s is shorter than the {MIN_INTERVAL_S:g}s floor.",
            "scrape every 1s to 15s, e.g. --interval 5s",
        )
    if ns.window / ns.interval > MAX_SCRAPES:
        raise bad(
            f"--window {ns.window:g}s at --interval {ns.interval:g}s is more than "
            f"{MAX_SCRAPES} scrapes.",
            f"use a longer interval, at least --interval {ns.window / MAX_SCRAPES:g}s",
        )
    if ns.window > MAX_WINDOW_S:
        raise bad(
            f"--window {ns.window:g}s is longer than the {MAX_WINDOW_S:g}s limit.",
            "watch for at most an hour, or use Prometheus for longer trends",
        )
