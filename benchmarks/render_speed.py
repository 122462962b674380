"""Render speed: all three stacks through the real Pulumi program under the mock
engine, as `llmpod render` does. Target (issue 3): < 5 s after imports, < 500 MB peak.

    python benchmarks/render_speed.py [--rounds N]

Imports (pulumi, pulumi-kubernetes, the planner) are timed separately: they are
a one-off cost per process. Peak memory is the process's max RSS (ru_maxrss),
which includes the imports.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

STACKS = ("dev", "staging", "production")
#: This repository's stacks, wherever the benchmark is started from.
STACKS_DIR = Path(__file__).resolve().parents[1] / "stacks"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed renders of all stacks")
    ns = parser.parse_args()

    started = time.perf_counter()
    import pulumi_kubernetes  # noqa: F401  (import cost measured here, not in the render)

    from llmpod.render.api import render_stack

    imports_s = time.perf_counter() - started
    walls: list[float] = []
    files = 0
    for _ in range(max(1, ns.rounds)):
        t0 = time.perf_counter()
        files = sum(len(render_stack(stack, STACKS_DIR).files) for stack in STACKS)
        walls.append(time.perf_counter() - t0)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    result = {
        "imports_s": round(imports_s, 2),
        "first_render_all_stacks_s": round(walls[0], 2),
        "best_render_all_stacks_s": round(min(walls), 2),
        "files": files,
        "peak_rss_mib": round(peak_mib),
        "targets": {"render_s": 5, "peak_mib": 500},
        "ok": walls[0] < 5 and peak_mib < 500,
    }
    print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
