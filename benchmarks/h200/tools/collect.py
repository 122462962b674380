"""Bring finished scenario results back through $OUT (device side, stdlib only).

usage: collect.py MAX_WAIT_S
Waits until both lanes have finished or MAX_WAIT_S passed, then copies result
tarballs not yet collected (at most 6: a call returns at most 8 files) and a
progress report into $OUT, and prints the lanes' log tails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path("/tmp/h200")


def main(argv: list[str]) -> int:
    deadline = time.monotonic() + float(argv[1])
    while time.monotonic() < deadline:
        if all((ROOT / f"lane-{i}.finished").exists() for i in (0, 1)):
            break
        time.sleep(3)
    out = Path(os.environ["OUT"])
    seen_file = ROOT / "collected.txt"
    seen = set(seen_file.read_text().split()) if seen_file.exists() else set()
    done = sorted(p for p in (ROOT / "done").glob("*.tar.gz")) if (ROOT / "done").exists() else []
    fresh = [p for p in done if p.name not in seen][:6]
    for p in fresh:
        shutil.copy(p, out / p.name)
        seen.add(p.name)
    seen_file.write_text("\n".join(sorted(seen)) + "\n")
    report = [
        f"collected now: {[p.name for p in fresh]}",
        f"all done: {[p.name for p in done]}",
        f"left: {[p.name for p in done if p.name not in seen]}",
    ]
    for i in (0, 1):
        log = ROOT / f"lane{i}.log"
        report.append(f"--- lane{i} finished={(ROOT / f'lane-{i}.finished').exists()}")
        if log.exists():
            report += log.read_text(errors="replace").splitlines()[-25:]
    smi = subprocess.run(
        ["nvidia-smi", "--query-gpu=index,memory.used,utilization.gpu", "--format=csv,noheader"],
        capture_output=True,
        text=True,
    )
    report.append(smi.stdout)
    text = "\n".join(report) + "\n"
    (out / "progress.txt").write_text(text)
    full = [ROOT / "lane0.log", ROOT / "lane1.log"]
    with open(out / "lanes.log", "w") as handle:
        for f in full:
            if f.exists():
                handle.write(f"=== {f.name}\n" + f.read_text(errors="replace"))
    print(text[-6000:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
