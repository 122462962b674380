"""Generate llmpod's per-release vLLM facts (serve flags, metric names) from PyPI wheels.

Run by hand (network: PyPI only; no GPU, no install, vLLM is never imported):

    .venv/bin/python scripts/gen_vllm_facts.py            # every release in VERSIONS
    .venv/bin/python scripts/gen_vllm_facts.py 0.33.0     # just these

For each release it runs ``pip download vllm==X --no-deps --only-binary :all:``
(240-450 MB each, mostly compiled kernels; only the Python source is read),
copies the modules the extractor reads into ``.cache/vllm-wheel-src/X/`` (so a
re-run parses without downloading), deletes the wheel, parses the source with
``ast`` (llmpod.releases.extract) and writes
``infra/llmpod/releases/facts/vllm-X.json`` plus ``index.json`` (the version list,
this command and the date). The output is committed; llmpod never downloads.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "infra"))

from llmpod.releases.extract import extract_facts, wanted_source  # noqa: E402
from llmpod.releases.facts import FACTS_DIR, FACTS_SCHEMA, version_key  # noqa: E402

#: Every vLLM release on PyPI from 0.8.0 to the newest when this was last run
#: (`pip index versions vllm`, 2026-12-05), patch releases included.
VERSIONS = [
    "0.8.0",
    "0.8.1",
    "0.8.2",
    "0.8.3",
    "0.8.4",
    "0.8.5",
    "0.8.5.post1",
    "0.9.0",
    "0.9.0.1",
    "0.9.1",
    "0.9.2",
    "0.10.0",
    "0.10.1",
    "0.10.1.1",
    "0.10.2",
    "0.11.0",
    "0.11.1",
    "0.11.2",
    "0.12.0",
    "0.13.0",
    "0.14.0",
    "0.14.1",
    "0.15.0",
    "0.15.1",
    "0.16.0",
    "0.17.0",
    "0.17.1",
    "0.18.0",
    "0.18.1",
    "0.19.0",
    "0.19.1",
    "0.20.0",
    "0.20.1",
    "0.20.2",
    "0.21.0",
    "0.22.0",
    "0.22.1",
    "0.23.0",
    "0.24.0",
    "0.25.0",
    "0.25.1",
    "0.26.0",
    "0.27.0",
    "0.27.1",
    "0.28.0",
    "0.29.0",
    "0.30.0",
    "0.31.0",
    "0.32.0",
    "0.33.0",
    "0.34.0",
]

CACHE = ROOT / ".cache" / "vllm-wheel-src"
#: Newest first: 0.20.x ships only manylinux_2_35 wheels, 0.21.0 only manylinux_2_24.
PLATFORMS = (
    "manylinux_2_39_x86_64",
    "manylinux_2_35_x86_64",
    "manylinux_2_34_x86_64",
    "manylinux_2_31_x86_64",
    "manylinux_2_28_x86_64",
    "manylinux_2_24_x86_64",
    "manylinux2014_x86_64",
)


def fetch_source(version: str) -> Path:
    """The release's wanted modules under CACHE/version (downloaded once)."""
    dest = CACHE / version
    if (dest / ".complete").is_file():
        return dest
    with tempfile.TemporaryDirectory(prefix="vllm-wheel-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", f"vllm=={version}", "--no-deps"]
        cmd += ["--only-binary", ":all:", "--python-version", "3.12", "-d", tmp, "-q"]
        for platform in PLATFORMS:
            cmd += ["--platform", platform]
        subprocess.run(cmd, check=True, timeout=1800)
        wheels = list(Path(tmp).glob("vllm-*.whl"))
        if len(wheels) != 1:
            raise SystemExit(f"vllm=={version}: expected one wheel, got {wheels}")
        shutil.rmtree(dest, ignore_errors=True)
        with zipfile.ZipFile(wheels[0]) as zf:
            for name in zf.namelist():
                if wanted_source(name):
                    target = dest / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(zf.read(name))
        (dest / ".complete").write_text(wheels[0].name + "\n")
    return dest


def read_tree(src: Path) -> dict[str, str]:
    return {
        p.relative_to(src).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(src.rglob("*.py"))
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("versions", nargs="*", help="releases to (re)generate; default: all")
    ap.add_argument("--download-only", action="store_true")
    args = ap.parse_args()
    versions = args.versions or list(VERSIONS)
    FACTS_DIR.mkdir(parents=True, exist_ok=True)
    skipped = {}
    for version in versions:
        try:
            src = fetch_source(version)
        except subprocess.CalledProcessError:
            skipped[version] = "pip found no wheel for linux x86_64 (manylinux2014 … 2_39, py3.12)"
            print(f"{version}: skipped ({skipped[version]})", flush=True)
            continue
        if args.download_only:
            print(f"{version}: source cached", flush=True)
            continue
        facts = extract_facts(version, read_tree(src))
        out = FACTS_DIR / f"vllm-{version}.json"
        out.write_text(json.dumps(facts, indent=0, sort_keys=True) + "\n")
        print(
            f"{version}: {len(facts['flags'])} flags, {len(facts['metrics'])} metrics",
            flush=True,
        )
    if args.download_only:
        return 0
    present = sorted(
        (p.name[len("vllm-") : -len(".json")] for p in FACTS_DIR.glob("vllm-*.json")),
        key=version_key,
    )
    index = {
        "schema": FACTS_SCHEMA,
        "generated": datetime.date.today().isoformat(),
        "command": "python scripts/gen_vllm_facts.py",
        "source": "vllm wheels from PyPI (pip download --no-deps --only-binary :all:), "
        "read with ast (llmpod.releases.extract); vLLM is never imported",
        "versions": present,
        "skipped": skipped,
    }
    (FACTS_DIR / "index.json").write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
