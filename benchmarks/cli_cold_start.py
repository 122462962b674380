"""CLI cold start: wall time of `llmpod plan --json` in a fresh interpreter.

Target (issue 2): under 1.5 s. Runs the console script N times (default 10)
and prints min / median / max, plus the heaviest imports of one run
(`python -X importtime`), so a regression names its cause.

    python benchmarks/cli_cold_start.py [-n 10]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

ARGS = ["plan", "--model", "meta-llama/Llama-3.1-70B-Instruct", "--gpu", "H100", "--json"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=10)
    ns = ap.parse_args()
    exe = shutil.which("llmpod")
    cmd = [exe, *ARGS] if exe else [sys.executable, "-m", "llmpod.cli.main", *ARGS]
    times = []
    for _ in range(ns.n):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    print(
        f"llmpod plan --json, {ns.n} cold starts: min {min(times):.3f} s, "
        f"median {statistics.median(times):.3f} s, max {max(times):.3f} s (target < 1.5 s)"
    )
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "llmpod.cli.main", *ARGS],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    print("heaviest imports (cumulative µs):")
    for us, name in sorted(rows, reverse=True)[:8]:
        print(f"  {us:>9}  {name}")
    return 0 if statistics.median(times) < 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
