"""Build scenarios.json for driver.py: plans from `llmpod plan`, launch args, loads.

Runs on the CPU machine, from the repository root, with llmpod importable:
    PYTHONPATH=$PWD python .gpu/tools/gen_scenarios.py .gpu
Every server's arguments are the planner's (vLLM 0.26.0, H200) plus
``--load-format dummy``; a misconfiguration case changes exactly one of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

L8 = "meta-llama/Llama-3.1-8B-Instruct"
AWQ_DIR = "Meta-Llama-3.1-8B-Instruct-AWQ-INT4"
AWQ_DEVICE_PATH = f"/models/hugging-quants/{AWQ_DIR}"


def plan(model: str, *extra: str) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "llmpod.cli.main",
        "plan",
        "--model",
        model,
        "--gpu",
        "H200",
        "--vllm-version",
        "0.26.0",
        *extra,
        "--json",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    doc = json.loads(out.stdout)
    if out.returncode != 0 or not doc.get("feasible"):
        raise SystemExit(f"plan failed: {' '.join(cmd)}\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
    doc["_command"] = (
        "llmpod plan --model "
        + model
        + " --gpu H200 --vllm-version 0.26.0 "
        + " ".join(extra)
        + " --json"
    )
    return doc


def replace_flag(args: list[str], flag: str, value: str) -> list[str]:
    out = list(args)
    if flag in out:
        out[out.index(flag) + 1] = value
    else:
        out += [flag, value]
    return out


def launch(p: dict, *changes: tuple[str, str]) -> list[str]:
    args = list(p["vllm_args"])
    for flag, value in changes:
        args = replace_flag(args, flag, value)
    return [*args, "--load-format", "dummy"]


def closed(name: str, c: int, prompt: int, out: int, dur: float, seed: int) -> dict:
    return {
        "name": name,
        "kind": "closed",
        "concurrency": c,
        "prompt_tokens": prompt,
        "max_tokens": out,
        "duration_s": dur,
        "seed": seed,
    }


LOADS_8B = [
    {"name": "idle", "kind": "idle", "duration_s": 15},
    closed("one_stream", 1, 512, 256, 20, 1),
    closed("closed_c8", 8, 512, 256, 20, 2),
    closed("closed_c64", 64, 512, 256, 20, 3),
    closed("closed_c256_saturation", 256, 512, 256, 25, 4),
    closed("kv_exhaustion_c600_long", 600, 4000, 2000, 40, 5),
    closed("prefill_heavy", 32, 6000, 2, 20, 6),
    closed("decode_heavy", 128, 32, 1024, 25, 7),
    {
        "name": "burst_600_then_idle",
        "kind": "burst",
        "requests": 600,
        "prompt_tokens": 1024,
        "max_tokens": 128,
        "duration_s": 35,
        "seed": 8,
    },
]


def scenario(
    name: str, p: dict, args: list[str], model_dir: str, config_src: str, cache: str, **kw: object
) -> dict:
    served = args[args.index("--served-model-name") + 1]
    return {
        "name": name,
        "plan": p,
        "launch_args": args,
        "model_dir": model_dir,
        "config_src": config_src,
        "cache_root": cache,
        "served_name": served,
        **kw,
    }


def main(out_dir: str) -> int:
    root = Path(out_dir)
    base = plan(L8)
    l8dir, l8cfg = f"/models/{L8}", "models/llama31-8b/config.json"
    fp8w = plan(L8, "--quantization", "fp8")
    awq = plan(str(root / "models" / AWQ_DIR / "config.json"))
    # The plan was computed from the config here; on the device the same config sits
    # where a deployment mounts weights. Only the path differs.
    local = awq["vllm_args"][0]
    awq["vllm_args"] = [AWQ_DEVICE_PATH if a == local else a for a in awq["vllm_args"]]
    awq["model"] = AWQ_DEVICE_PATH
    qwen = plan("Qwen/Qwen3-30B-A3B", "--max-model-len", "16384")
    mixtral = plan("mistralai/Mixtral-8x7B-Instruct-v0.1", "--max-model-len", "16384")
    cache8 = "/tmp/vc/llama-3.1-8b"
    lane0 = [
        scenario(
            "llama8b-bf16",
            base,
            launch(base),
            l8dir,
            l8cfg,
            cache8,
            loads=LOADS_8B,
            throughput=True,
            notes="planner's arguments; cold compile cache; all loads; verify: correct",
        ),
        scenario(
            "llama8b-util080",
            base,
            launch(base, ("--gpu-memory-utilization", "0.80")),
            l8dir,
            l8cfg,
            cache8,
            notes="misconfiguration: utilization 0.80 vs planned 0.92; same compile cache"
            " as llama8b-bf16 (warm start)",
            plan_for_launch=plan(L8, "--gpu-memory-utilization", "0.80"),
        ),
        scenario(
            "llama8b-mml32k",
            base,
            launch(base, ("--max-model-len", "32768")),
            l8dir,
            l8cfg,
            cache8,
            notes="misconfiguration: max-model-len 32768 vs planned 131072",
            plan_for_launch=plan(L8, "--max-model-len", "32768"),
        ),
        scenario(
            "llama8b-kvfp8",
            base,
            launch(base, ("--kv-cache-dtype", "fp8")),
            l8dir,
            l8cfg,
            cache8,
            throughput=True,
            notes="misconfiguration: kv-cache-dtype fp8 vs planned auto; fp8-KV throughput",
            plan_for_launch=plan(L8, "--kv-cache-dtype", "fp8"),
        ),
    ]
    lane1 = [
        scenario(
            "llama8b-fp8w",
            fp8w,
            launch(fp8w),
            l8dir,
            l8cfg,
            "/tmp/vc/llama-3.1-8b-fp8",
            throughput=True,
            notes="fp8 weights (--quantization fp8 on the bf16 config)",
        ),
        scenario(
            "llama8b-awq-int4",
            awq,
            launch(awq),
            AWQ_DEVICE_PATH,
            f"models/{AWQ_DIR}/config.json",
            "/tmp/vc/llama-3.1-8b-awq",
            throughput=True,
            notes="int4 w4a16 AWQ group 128 (hugging-quants config)",
        ),
        scenario(
            "qwen3-30b-a3b",
            qwen,
            launch(qwen),
            "/models/Qwen/Qwen3-30B-A3B",
            "models/qwen3-30b-a3b/config.json",
            "/tmp/vc/qwen3-30b-a3b",
            throughput=True,
            notes="MoE 128 experts top-8, bf16",
        ),
        scenario(
            "qwen3-30b-a3b-warm",
            qwen,
            launch(qwen),
            "/models/Qwen/Qwen3-30B-A3B",
            "models/qwen3-30b-a3b/config.json",
            "/tmp/vc/qwen3-30b-a3b",
            notes="second start with the compile cache the previous start filled",
        ),
        scenario(
            "mixtral-8x7b",
            mixtral,
            launch(mixtral),
            "/models/mistralai/Mixtral-8x7B-Instruct-v0.1",
            "models/mixtral-8x7b/config.json",
            "/tmp/vc/mixtral-8x7b",
            throughput=True,
            notes="MoE 8 experts top-2, bf16",
        ),
    ]
    pairs = {"tp2_plan": plan(L8, "--tp", "2"), "qwen3_8b_plan": plan("Qwen/Qwen3-8B")}
    doc = {"lanes": [lane0, lane1], "pairings": pairs}
    (root / "scenarios.json").write_text(json.dumps(doc, indent=1) + "\n")
    for lane in doc["lanes"]:
        for sc in lane:
            print(sc["name"], " ".join(sc["launch_args"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
