"""Unpack the H200 result tarballs into the repository layout (CPU side, stdlib only).

usage: python benchmarks/h200/tools/import_results.py TARBALL_DIR [TARBALL_DIR ...]
Writes, relative to the current directory (the repository root):
* benchmarks/h200/runs/<scenario>/  — server log (access lines dropped), startup lines,
  summary.json, throughput.json, the plan file the entrypoint read, and
  cache_config_info.prom (the ``vllm:cache_config_info`` lines of the idle /metrics scrape);
* tests/fixtures/h200/<load>/       — recording.jsonl.gz (diagnose --save format) + load.json;
* tests/fixtures/h200/verify/<case>/ — metrics.prom, models.json, status.json, plan.json;
* benchmarks/h200/throughput.csv and startup.csv, rebuilt from every run present.
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
import statistics
import sys
import tarfile
import tempfile
from pathlib import Path

RUNS = Path("benchmarks/h200/runs")
FIX = Path("tests/fixtures/h200")
#: scenario → verify case name (the plan each was launched against is plan.json).
VERIFY_CASES = {
    "llama8b-bf16": "correct-llama8b-bf16",
    "llama8b-util080": "misconfig-gpu-memory-utilization",
    "llama8b-mml32k": "misconfig-max-model-len",
    "llama8b-kvfp8": "misconfig-kv-cache-dtype",
    "llama8b-fp8w": "correct-llama8b-fp8-weights",
    "llama8b-awq-int4": "correct-llama8b-awq-int4",
    "qwen3-30b-a3b": "correct-qwen3-30b-a3b",
    "mixtral-8x7b": "correct-mixtral-8x7b",
    "qwen3-8b-bf16": "correct-qwen3-8b-bf16",
    "llama32-3b-bf16": "correct-llama32-3b-bf16",
    "qwen25-32b-bf16": "correct-qwen25-32b-bf16",
    "qwen25-7b-awq": "correct-qwen25-7b-awq-int4",
}
#: Loads of llama8b-bf16 that ran right after kv_exhaustion and waited behind the
#: requests it had aborted while queued (vLLM notices a vanished client only when it
#: has output for it); llama8b-bf16-loads2 re-ran them on a fresh server.
CONTAMINATED = {
    ("llama8b-bf16", "prefill_heavy"),
    ("llama8b-bf16", "decode_heavy"),
    ("llama8b-bf16", "burst_600_then_idle"),
}
KERNEL = {
    "llama8b-bf16": ("meta-llama/Llama-3.1-8B-Instruct", "dense-bf16", "none", "auto"),
    "llama8b-kvfp8": ("meta-llama/Llama-3.1-8B-Instruct", "dense-bf16+fp8-kv", "none", "fp8"),
    "llama8b-fp8w": ("meta-llama/Llama-3.1-8B-Instruct", "fp8-weights", "fp8", "auto"),
    "llama8b-awq-int4": (
        "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4",
        "int4-w4a16",
        "awq g128",
        "auto",
    ),
    "qwen3-30b-a3b": ("Qwen/Qwen3-30B-A3B", "moe-128e-top8-bf16", "none", "auto"),
    "mixtral-8x7b": ("mistralai/Mixtral-8x7B-Instruct-v0.1", "moe-8e-top2-bf16", "none", "auto"),
    "qwen3-8b-bf16": ("Qwen/Qwen3-8B", "dense-bf16", "none", "auto"),
    "llama32-3b-bf16": ("meta-llama/Llama-3.2-3B-Instruct", "dense-bf16", "none", "auto"),
    "qwen25-32b-bf16": ("Qwen/Qwen2.5-32B-Instruct", "dense-bf16", "none", "auto"),
    "qwen25-7b-awq": ("Qwen/Qwen2.5-7B-Instruct-AWQ", "int4-w4a16", "awq g128", "auto"),
}
STARTUP_KEYS = (
    "weights_loading_s",
    "model_loading_s",
    "dynamo_transform_s",
    "compile_graph_s",
    "compile_cache_load_s",
    "torch_compile_s",
    "graph_capture_s",
    "init_engine_s",
    "entrypoint_health_after_s",
    "warmup_total_s",
    "entrypoint_ready_after_s",
)


def import_tar(path: Path) -> str:
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(path) as tar:
        tar.extractall(tmp, filter="data")
        (src,) = list(Path(tmp).iterdir())
        name = src.name.split("-", 2)[2]
        run = RUNS / name
        shutil.rmtree(run, ignore_errors=True)
        run.mkdir(parents=True)
        for f in (
            "server.log",
            "startup_lines.log",
            "summary.json",
            "throughput.json",
            "plan_file.json",
            "plan.json",
            "plan_for_launch.json",
        ):
            if (src / f).exists():
                shutil.copy(src / f, run / f)
        for load in sorted((src / "loads").iterdir()) if (src / "loads").exists() else []:
            if (name, load.name) in CONTAMINATED:
                shutil.copy(load / "load.json", run / f"contaminated-{load.name}.load.json")
                continue
            dst = FIX / load.name
            shutil.rmtree(dst, ignore_errors=True)
            dst.mkdir(parents=True)
            shutil.copy(load / "load.json", dst / "load.json")
            # Every recording gzipped (3-5 MB each raw at 0.5 s scrapes), one format for all.
            with (
                open(load / "recording.jsonl", "rb") as fin,
                gzip.GzipFile(dst / "recording.jsonl.gz", "wb", mtime=0) as fout,
            ):
                shutil.copyfileobj(fin, fout)
        metrics = src / "verify" / "metrics.prom"
        if metrics.exists():  # the KV figures /metrics reported, beside the log's
            info = [ln for ln in metrics.read_text().splitlines() if "cache_config_info" in ln]
            (run / "cache_config_info.prom").write_text("\n".join(info) + "\n")
        case = VERIFY_CASES.get(name)
        if case and (src / "verify" / "metrics.prom").exists():
            dst = FIX / "verify" / case
            shutil.rmtree(dst, ignore_errors=True)
            dst.mkdir(parents=True)
            for f in ("metrics.prom", "models.json", "status.json"):
                shutil.copy(src / "verify" / f, dst / f)
            for f in ("plan.json", "plan_for_launch.json", "plan_file.json"):
                if (src / f).exists():
                    shutil.copy(src / f, dst / f)
        return name


def throughput_rows() -> list[dict]:
    rows = []
    for name, (model, kclass, quant, kv) in KERNEL.items():
        tp_file = RUNS / name / "throughput.json"
        if not tp_file.exists():
            continue
        tp = json.loads(tp_file.read_text())
        launched = RUNS / name / "plan_for_launch.json"
        plan_path = launched if launched.exists() else RUNS / name / "plan.json"
        plan = json.loads(plan_path.read_text())
        est = plan.get("estimates", {}).get("decode_tokens_per_s", {})
        lone = tp.get("ttft_lone_512_s") or []
        for c, runs in tp["runs"].items():
            rates = [r["output_tokens_per_s"] for r in runs]
            ttfts = [r["ttft_s"]["p50"] for r in runs if r["ttft_s"]["p50"] is not None]
            rows.append(
                {
                    "model": model,
                    "kernel_class": kclass,
                    "quant": quant,
                    "kv_cache_dtype": kv,
                    "concurrency": int(c),
                    "output_tokens_per_s": round(statistics.median(rates), 1),
                    "runs_tokens_per_s": " ".join(f"{r:g}" for r in rates),
                    "ttft_p50_s": round(statistics.median(ttfts), 4) if ttfts else "",
                    "ttft_lone_512_s": round(statistics.median(lone), 4) if lone else "",
                    "planner_estimate_tokens_per_s": est.get(str(c), ""),
                    "run": name,
                }
            )
    return rows


def startup_rows() -> list[dict]:
    rows = []
    for summary_file in sorted(RUNS.glob("*/summary.json")):
        s = json.loads(summary_file.read_text())
        st = s.get("startup", {})
        cache = "warm" if st.get("compile_cache_hit") else "cold"
        for key in STARTUP_KEYS:
            val = st.get(key)
            if val is None:
                continue
            vals = val if isinstance(val, list) else [val]
            seconds = " ".join(f"{v:g}" for v in vals)
            rows.append(
                {
                    "run": s["name"],
                    "phase": key,
                    "seconds": seconds,
                    "compile_cache": cache,
                    "cache_root_existed_before": s.get("cache_root_existed"),
                }
            )
    return rows


def write_csv(path: Path, rows: list[dict]) -> None:
    if not rows:
        return
    with open(path, "w", newline="") as handle:
        w = csv.DictWriter(handle, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def main(argv: list[str]) -> int:
    for d in argv[1:]:
        for tar in sorted(Path(d).glob("*.tar.gz")):
            print("imported", import_tar(tar))
    write_csv(Path("benchmarks/h200/throughput.csv"), throughput_rows())
    write_csv(Path("benchmarks/h200/startup.csv"), startup_rows())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
