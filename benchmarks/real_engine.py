"""Wall times of the real Pulumi engine on the shipped stacks: `pulumi preview` and
`pulumi up` of dev (render mode), previews of staging and production with no cluster,
and `pulumi up` / `destroy` of both against the local API server.

    python benchmarks/real_engine.py [--rounds N] [--json OUT]

Uses the CLI and provider from scripts/install_pulumi_toolchain.sh (built on first
use) and scripts/local_cluster.sh; each step runs through tests/realengine's driver
(the Automation API, one process per call), so a figure includes the program's own
planning and the CLI's start. AWS services are left out of staging and production
(no pulumi-aws provider here). Medians over the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from realengine.engine import ENGINE_TOOLS, Engine, build_tools, copy_project, engine_env  # noqa: E402
from realengine.stacks import kubernetes_only  # noqa: E402


def _timed(
    engine: Engine, project: Path, stack: str, *steps: str, env: dict[str, str]
) -> dict[str, float]:
    report = engine.drive(project, stack, *steps, extra_env=env)
    out = {}
    for entry in report["steps"]:
        if not entry["ok"]:
            raise SystemExit(f"{stack} {entry['step']} failed:\n{entry.get('error', '')[-3000:]}")
        out[entry["step"]] = float(entry["seconds"])
    return out


def one_round(bin_dir: Path, work: Path, kubeconfig: Path) -> dict[str, float]:
    engine = Engine(bin_dir, engine_env(bin_dir, work / "state"))
    project = copy_project(work / "project")
    for stack in ("staging", "production"):
        kubernetes_only(project, stack)
    figures: dict[str, float] = {}
    dev = _timed(engine, project, "dev", "select", "preview", "up", "destroy", env={})
    figures.update({f"dev {k}": v for k, v in dev.items() if k != "select"})
    for stack in ("staging", "production"):
        no_cluster = _timed(engine, project, stack, "select", "preview", env={})
        figures[f"{stack} preview (no cluster)"] = no_cluster["preview"]
    cluster_env = {"KUBECONFIG": str(kubeconfig), "LLMPOD_SKIP_AWAIT": "1"}
    for stack in ("staging", "production"):
        applied = _timed(engine, project, stack, "up", "preview-no-changes", env=cluster_env)
        figures[f"{stack} up (API server)"] = applied["up"]
        figures[f"{stack} preview, no changes (API server)"] = applied["preview-no-changes"]
    for stack in ("production", "staging"):
        figures[f"{stack} destroy (API server)"] = _timed(
            engine, project, stack, "destroy", env=cluster_env
        )["destroy"]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    ns = parser.parse_args()

    t0 = time.perf_counter()
    bin_dir = build_tools(ENGINE_TOOLS)
    print(f"toolchain ready in {time.perf_counter() - t0:.1f} s ({bin_dir})")
    rounds: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="llmpod-bench-") as tmp:
        cluster = Path(tmp) / "cluster"
        script = REPO / "scripts" / "local_cluster.sh"
        t0 = time.perf_counter()
        up = subprocess.run(
            ["bash", str(script), "up", str(cluster)],
            capture_output=True,
            text=True,
            timeout=3600,
            env={**os.environ, "LLMPOD_PYTHON": sys.executable},
            check=False,
        )
        if up.returncode != 0:
            raise SystemExit(f"local_cluster.sh up failed:\n{up.stderr[-3000:]}")
        print(f"local API server up in {time.perf_counter() - t0:.1f} s")
        try:
            for i in range(max(1, ns.rounds)):
                rounds.append(
                    one_round(bin_dir, Path(tmp) / f"round{i}", Path(up.stdout.split()[-1]))
                )
        finally:
            subprocess.run(
                ["bash", str(script), "down", str(cluster)], capture_output=True, timeout=120
            )
    medians: dict[str, Any] = {
        k: round(statistics.median(r[k] for r in rounds), 2) for k in rounds[0]
    }
    width = max(len(k) for k in medians)
    for key, value in medians.items():
        print(f"{key:<{width}}  {value:6.2f} s")
    if ns.json:
        ns.json.write_text(
            json.dumps({"rounds": len(rounds), "median_s": medians}, indent=2) + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
