"""Run a lane of H200 scenarios: llmpod's entrypoint around `vllm serve`, then loads.

Stdlib only; runs on the lent GPU machine (benchmarks/h200/README.md says how).
usage: driver.py SCENARIOS.json LANE_INDEX GPU_INDEX PORT_BASE

For each scenario of the lane, in order:
1. write the plan file the entrypoint reads (the plan's vllm_args as launched: the
   planner's arguments plus ``--load-format dummy``, plus the deliberate change for a
   misconfiguration case) and start ``python -m llmpod.image.runtime.entrypoint``;
2. wait until /status says ready (or failed), then save one idle scrape of
   /metrics, /v1/models and /status (what ``llmpod verify`` reads);
3. run each load with a /metrics recorder (``llmpod diagnose --save`` format) and
   write ``load.json`` with the client-side figures;
4. measure DESIGN.md's throughput contract when asked;
5. SIGTERM the entrypoint (it drains and stops vLLM), parse the startup phases vLLM
   logged, and pack everything into /tmp/h200/done/<lane>-<n>-<name>.tar.gz.
A scenario that fails is recorded as failed and the lane moves on.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadgen
from recorder import Recorder, fetch

ROOT = Path("/tmp/h200")
APP = ROOT / "app"  # a private copy of infra/llmpod/image, immune to checkout refreshes
TOOLS = Path(__file__).resolve().parent
WARMUP = {
    "enabled": True,
    "prompt_tokens": [128, 1024],
    "near_max_context": True,
    "concurrency": 8,
    "batch_prompt_tokens": 512,
    "max_tokens": 16,
}
THROUGHPUT_CONCURRENCY = tuple(
    int(c) for c in os.environ.get("H200_TP_CONCURRENCY", "1,8,32,128").split(",")
)
THROUGHPUT_REPEATS = {1: 3, 8: 3, 32: 3, 128: 2}  # fewer where one batch is long
SCRAPE_INTERVAL_S = 0.5
# Access-log lines (one per request and scrape) drown the lines that matter.
NOISE = re.compile(
    r'"(POST /v1/completions|GET /metrics|GET /health|GET /v1/models|'
    r'POST /tokenize)[^"]*" \d{3}'
)

# Startup phases vLLM 0.26.0 logs (figures in seconds unless named otherwise).
PATTERNS = {
    "weights_loading_s": r"Loading weights took ([\d.]+) seconds",
    "model_init_s": r"Initializing model took ([\d.]+) seconds",
    "model_loading_gib": r"Model loading took ([\d.]+) GiB",
    "model_loading_s": r"Model loading took [\d.]+ GiB(?: memory)? and ([\d.]+) seconds",
    "dynamo_transform_s": r"Dynamo bytecode transform time: ([\d.]+) s",
    "compile_graph_s": r"Compiling a graph for [^\n]*? takes? ([\d.]+) s",
    "compile_cache_load_s": r"Directly load the compiled graph\(s\)[^\n]*? took ([\d.]+) s",
    "torch_compile_s": r"torch\.compile (?:takes|took) ([\d.]+) ?s",
    "available_kv_gib": r"Available KV cache memory: ([\d.]+) GiB",
    "kv_cache_tokens": r"GPU KV cache size: ([\d,]+) tokens",
    "max_concurrency_x": r"Maximum concurrency for [\d,]+ tokens per request: ([\d.]+)x",
    "graph_capture_s": r"Graph capturing finished in ([\d.]+) secs?",
    "graph_capture_gib": r"Graph capturing finished in [\d.]+ secs?, took ([\d.\-]+) GiB",
    "init_engine_s": r"init engine \(profile, create kv cache, warmup model\) took ([\d.]+) s",
    # gpu_worker.py's closing memory line (both runners) and the V1 runner's estimate.
    "weights_usage_gib": r"Actual usage is ([\d.]+) GiB for weight",
    "peak_activation_gib": r"([\d.]+) GiB for peak activation",
    "non_torch_gib": r"([\d.]+) GiB for non-torch memory",
    "cudagraph_usage_gib": r"([\d.]+) GiB for CUDAGraph memory",
    "estimated_cudagraph_gib": r"Estimated CUDA graph memory: ([\d.]+) GiB",
}
#: Which model runner vLLM picked, and why not V2 when it says so.
RUNNER_PATTERNS = {
    "model_runner": r"Using (V[12]) Model Runner",
    "v2_unsupported": r"Model Runner V2 does not yet support ([^;]+); using the V1",
}
KEEP = re.compile(
    r"took|takes|KV cache|concurrency|Graph captur|torch\.compile|Compil|"
    r"Directly load|cache|Loading|Starting|startup|quantiz|[Mm]arlin|kernel|"
    r"backend|Using|WARNING|ERROR|Error|Traceback|non-default|preempt|"
    r"Model Runner|LoRA|[Ll]ora|[Ss]peculat|[Dd]raft|[Nn]gram|[Ee]ager|Actual usage|"
    r'"event"'
)


def log(lane: int, msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} lane{lane} {msg}", flush=True)


def parse_startup(text: str) -> dict:
    found: dict = {}
    for key, pat in PATTERNS.items():
        hits = re.findall(pat, text)
        if hits:
            vals = [float(h.replace(",", "")) for h in hits]
            found[key] = vals[0] if len(vals) == 1 else vals
    for key, pat in RUNNER_PATTERNS.items():
        if m := re.search(pat, text):
            found[key] = m.group(1)
    # The V1 runner (gpu_model_runner.py) does not log "Using V1 Model Runner".
    if "model_runner" not in found and "gpu_model_runner.py" in text:
        found["model_runner"] = "V1"
    found["compile_cache_hit"] = "Directly load the compiled graph" in text
    for line in text.splitlines():
        if line.startswith("{") and '"llmpod.entrypoint"' in line:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("event") == "health":
                found.setdefault("entrypoint_health_after_s", ev.get("after_s"))
            elif ev.get("event") == "ready":
                found["entrypoint_ready_after_s"] = ev.get("after_s")
                found["warmup_total_s"] = ev.get("warmup_total_s")
    return found


def get_json(url: str) -> object:
    return json.loads(fetch(url))


def wait_ready(proc: subprocess.Popen, status_url: str, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    last: dict = {}
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return {"phase": "exited", "code": proc.returncode, **last}
        try:
            last = get_json(status_url)  # type: ignore[assignment]
            if last.get("phase") in ("ready", "failed"):
                return last
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    return {"phase": "timeout", **last}


def stop(proc: subprocess.Popen, vllm_pid: int | None) -> int | None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    if vllm_pid:  # vLLM runs in its own session; never leave it holding the GPU
        with contextlib.suppress(OSError):
            os.killpg(vllm_pid, signal.SIGKILL)
    return proc.returncode


def run_load(sc_dir: Path, client: loadgen.Client, metrics_url: str, load: dict) -> dict:
    d = sc_dir / "loads" / load["name"]
    d.mkdir(parents=True, exist_ok=True)
    rec = Recorder(metrics_url, load.get("scrape_interval_s", SCRAPE_INTERVAL_S)).start()
    time.sleep(load.get("lead_s", 2.0))
    started = time.time()
    kind = load["kind"]
    if kind == "idle":
        time.sleep(load["duration_s"])
        figures: dict = {"requests_sent": 0, "duration_s": load["duration_s"]}
    elif kind == "closed":
        figures = loadgen.closed_loop(
            client,
            load["concurrency"],
            load["prompt_tokens"],
            load["max_tokens"],
            load["duration_s"],
            seed=load["seed"],
        )
    elif kind == "burst":
        figures = loadgen.burst(
            client,
            load["requests"],
            load["prompt_tokens"],
            load["max_tokens"],
            load["duration_s"],
            seed=load["seed"],
        )
    else:
        raise ValueError(f"unknown load kind {kind}")
    ended = time.time()
    time.sleep(load.get("tail_s", 3.0))
    rec.stop()
    rec.write(str(d / "recording.jsonl"))
    # vLLM notices a client that went away only when it has output for it, so requests
    # aborted while still queued stay in its queue; wait for them before the next load.
    drain_start = time.monotonic()
    while time.monotonic() - drain_start < 120:
        busy = sum(
            float(v)
            for v in re.findall(
                r"^vllm:num_requests_(?:running|waiting)\{[^}]*\} ([\d.e+]+)",
                fetch(metrics_url),
                re.M,
            )
        )
        if busy == 0:
            break
        time.sleep(1)
    drained_after_s = round(time.monotonic() - drain_start, 1)
    doc = {
        "load": load,
        "client": figures,
        "started_at": round(started, 3),
        "ended_at": round(ended, 3),
        "scrapes": len(rec.rows),
        "scrape_failures": rec.failures,
        "metrics_url": metrics_url,
        "server_idle_again_after_s": drained_after_s,
    }
    (d / "load.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return doc


def run_throughput(client: loadgen.Client) -> dict:
    out: dict = {"prompt_tokens": 512, "max_tokens": 128, "runs": {}}
    lone = [client.complete(512, 1, 90_000 + i) for i in range(5)]
    out["ttft_lone_512_s"] = sorted(o.ttft for o in lone if o.ttft is not None)
    for c in THROUGHPUT_CONCURRENCY:
        runs = [
            loadgen.batch(client, c, 512, 128, seed=100 + 10 * c + r)
            for r in range(THROUGHPUT_REPEATS.get(c, 2))
        ]
        out["runs"][str(c)] = runs
    return out


def vocab_size(config: dict) -> int:
    """Output ids of a model config.json (multimodal ones keep it under text_config)."""
    size = config.get("vocab_size", (config.get("text_config") or {}).get("vocab_size"))
    if not isinstance(size, int):
        raise SystemExit(f"config has no vocab_size: {sorted(config)}")
    return size


def copy_tokenizer(vocab: int, model_dir: Path) -> None:
    """The kit's tokenizer for this vocabulary size (tok/<vocab_size>/, built by
    tests/e2e/make_tiny_model.py --tokenizer-for): every id the dummy model can emit
    decodes to text. With the 1,024-entry tiny tokenizer vLLM's detokenizer re-decoded
    the whole prompt on every step (benchmarks/frontend_prompt_cost.txt, table B).
    tokenizer.json may come gzipped (a 150k vocabulary is 3.7 MB raw, 0.7 MB gzipped)."""
    src = TOOLS.parent / "tok" / str(vocab)
    if not src.is_dir():
        have = sorted(p.name for p in (TOOLS.parent / "tok").iterdir())
        raise SystemExit(
            f"no tokenizer for vocab_size {vocab} in {src.parent} (have {have}): build it with"
            " tests/e2e/make_tiny_model.py KIT/tok --tokenizer-for KIT/models/<slug>/config.json"
        )
    for f in src.iterdir():
        if f.name.endswith(".gz"):
            with gzip.open(f, "rb") as fin, (model_dir / f.name[:-3]).open("wb") as fout:
                shutil.copyfileobj(fin, fout)
        else:
            shutil.copy(f, model_dir / f.name)


def prepare_model(sc: dict) -> None:
    # extra_models: a draft model for speculative decoding, same layout.
    for m in [sc, *sc.get("extra_models", [])]:
        model_dir = Path(m["model_dir"])
        model_dir.mkdir(parents=True, exist_ok=True)
        config = TOOLS.parent / m["config_src"]
        shutil.copy(config, model_dir / "config.json")
        copy_tokenizer(vocab_size(json.loads(config.read_text())), model_dir)


def run_scenario(lane: int, idx: int, sc: dict, gpu: str, port: int) -> None:
    name = sc["name"]
    sc_dir = ROOT / "res" / f"{lane}-{idx:02d}-{name}"
    shutil.rmtree(sc_dir, ignore_errors=True)
    (sc_dir / "verify").mkdir(parents=True)
    summary: dict = {"name": name, "lane": lane, "gpu_index": gpu, "notes": sc.get("notes", "")}
    # The tokenizer served (copy_tokenizer): tok/<vocab_size>/, every output id is text.
    summary["tokenizer"] = (
        f"tok/{vocab_size(json.loads((TOOLS.parent / sc['config_src']).read_text()))}"
    )
    for key in ("baseline", "added_flags"):  # runs that differ from a recorded run by flags
        if key in sc:
            summary[key] = sc[key]
    plan_file = {"vllm_args": sc["launch_args"], "warmup": sc.get("warmup", WARMUP)}
    (sc_dir / "plan_file.json").write_text(json.dumps(plan_file, indent=2) + "\n")
    if "plan" in sc:  # LoRA / speculative runs have no plan: the planner models neither
        (sc_dir / "plan.json").write_text(json.dumps(sc["plan"], indent=2) + "\n")
    if "plan_for_launch" in sc:  # what the planner says for the settings actually launched
        (sc_dir / "plan_for_launch.json").write_text(
            json.dumps(sc["plan_for_launch"], indent=2) + "\n"
        )
    status_port = port + 81
    env = dict(os.environ)
    env.update(
        {
            "CUDA_VISIBLE_DEVICES": gpu,
            "LLMPOD_PLAN_FILE": str(sc_dir / "plan_file.json"),
            "LLMPOD_VLLM_BIN": str(TOOLS / "vllm"),
            "LLMPOD_VLLM_HOST": "127.0.0.1",
            "LLMPOD_VLLM_PORT": str(port),
            "LLMPOD_STATUS_HOST": "127.0.0.1",
            "LLMPOD_STATUS_PORT": str(status_port),
            "LLMPOD_READY_FILE": f"/tmp/h200/ready-{lane}",
            "LLMPOD_STARTUP_TIMEOUT_S": str(sc.get("startup_timeout_s", 600)),
            "LLMPOD_DRAIN_PROPAGATION_S": "1",
            "VLLM_CACHE_ROOT": sc["cache_root"],
            "VLLM_USE_FLASHINFER_SAMPLER": "0",
            "HF_HUB_OFFLINE": "1",
            "VLLM_NO_USAGE_STATS": "1",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": f"{APP}:{env.get('PYTHONPATH', '')}",
        }
    )
    env.update(sc.get("env", {}))
    summary["env"] = {k: env[k] for k in sorted(env) if k.startswith(("VLLM_", "LLMPOD_", "CUDA_"))}
    summary["cache_root_existed"] = Path(sc["cache_root"]).exists()
    raw_log = sc_dir / "server.raw.log"
    t0 = time.time()
    with open(raw_log, "wb") as logf:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llmpod.image.runtime.entrypoint"],
            cwd=APP,
            env=env,
            stdout=logf,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    log(lane, f"{name}: entrypoint pid {proc.pid}")
    base = f"http://127.0.0.1:{port}"
    status = wait_ready(
        proc, f"http://127.0.0.1:{status_port}/status", sc.get("startup_timeout_s", 600) + 300
    )
    summary["ready_wall_s"] = round(time.time() - t0, 2)
    summary["phase_at_start"] = status.get("phase")
    summary["status_reason"] = status.get("reason")
    log(lane, f"{name}: phase {status.get('phase')} after {summary['ready_wall_s']} s")
    try:
        if status.get("phase") in ("ready", "failed"):
            (sc_dir / "verify" / "metrics.prom").write_text(fetch(f"{base}/metrics"))
            (sc_dir / "verify" / "models.json").write_text(fetch(f"{base}/v1/models"))
            (sc_dir / "verify" / "status.json").write_text(
                fetch(f"http://127.0.0.1:{status_port}/status")
            )
            client = loadgen.Client("127.0.0.1", port, sc["served_name"], seed_base=idx * 10**9)
            for load in sc.get("loads", []):
                log(lane, f"{name}: load {load['name']}")
                doc = run_load(sc_dir, client, f"{base}/metrics", load)
                c = doc["client"]
                log(
                    lane,
                    f"{name}: {load['name']} done: {c.get('completed')} ok,"
                    f" {c.get('output_tokens_per_s')} tok/s, ttft {c.get('ttft_s')}",
                )
            if sc.get("throughput"):
                log(lane, f"{name}: throughput contract")
                tp = run_throughput(client)
                (sc_dir / "throughput.json").write_text(json.dumps(tp, indent=2) + "\n")
                for c, runs in tp["runs"].items():
                    log(lane, f"{name}: c={c} tok/s {[r['output_tokens_per_s'] for r in runs]}")
            (sc_dir / "verify" / "metrics_after.prom").write_text(fetch(f"{base}/metrics"))
    except Exception:  # record and move on: the other scenarios still matter
        summary["error"] = traceback.format_exc()
        log(lane, f"{name}: ERROR {summary['error'][-300:]}")
    summary["exit_code"] = stop(proc, status.get("vllm_pid"))
    summary["total_wall_s"] = round(time.time() - t0, 2)
    text = raw_log.read_text(errors="replace")
    lines = [ln for ln in text.splitlines() if not NOISE.search(ln)]
    (sc_dir / "server.log").write_text("\n".join(lines) + "\n")
    (sc_dir / "startup_lines.log").write_text(
        "\n".join(ln for ln in lines if KEEP.search(ln)) + "\n"
    )
    raw_log.unlink()
    summary["startup"] = parse_startup(text)
    (sc_dir / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    log(lane, f"{name}: startup {summary['startup']}")
    done = ROOT / "done"
    done.mkdir(exist_ok=True)
    tmp = done / f".{sc_dir.name}.tar.gz"
    with tarfile.open(tmp, "w:gz") as tar:
        tar.add(sc_dir, arcname=sc_dir.name)
    tmp.rename(done / f"{sc_dir.name}.tar.gz")
    time.sleep(3)  # let the GPU's memory come back before the next engine profiles it


def main(argv: list[str]) -> int:
    if argv[1] == "--prepare":  # once, before lanes start: both lanes share model dirs
        for lane_list in json.loads(Path(argv[2]).read_text())["lanes"]:
            for sc in lane_list:
                prepare_model(sc)
        return 0
    scen_file, lane, gpu, port = argv[1], int(argv[2]), argv[3], int(argv[4])
    lanes = json.loads(Path(scen_file).read_text())["lanes"]
    only = os.environ.get("H200_ONLY")
    for idx, sc in enumerate(lanes[lane]):
        if only and sc["name"] not in only.split(","):
            continue
        if (ROOT / f"stop-{lane}").exists():
            log(lane, "stop file found; lane ends")
            break
        run_scenario(lane, idx, sc, gpu, port)
    (ROOT / f"lane-{lane}.finished").write_text(time.strftime("%H:%M:%S") + "\n")
    log(lane, "lane finished")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
