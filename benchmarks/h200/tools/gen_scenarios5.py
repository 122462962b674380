"""Build the fifth H200 set (issues 24 and 27): LoRA, speculative decoding, eager runs.

Runs on the CPU machine, from the repository root (stdlib only):
    python benchmarks/h200/tools/gen_scenarios5.py KIT_DIR
Writes KIT_DIR/scenarios.json (copied to benchmarks/h200/scenarios5.json) and
KIT_DIR/models/<slug>/config.json from the catalog.

Every server starts from the arguments of a baseline run already recorded in
benchmarks/h200/runs/<baseline>/plan_file.json (planner's arguments + --load-format
dummy) and adds only the flags under test, so the KV difference is the flags' alone.
No loads and no throughput: startup, KV sizing and one warmup request are what count.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
RUNS = ROOT / "benchmarks" / "h200" / "runs"
CATALOG = ROOT / "infra" / "llmpod" / "models" / "catalog"
#: One prompt of 128 tokens, then one batch of a single 128-token prompt: enough to
#: show the server answers, short enough to keep device time for more starts.
WARMUP = {
    "enabled": True,
    "prompt_tokens": [128],
    "near_max_context": False,
    "concurrency": 1,
    "batch_prompt_tokens": 128,
    "max_tokens": 8,
}
DRAFT = "meta-llama/Llama-3.2-1B-Instruct"
SLUGS = {
    "meta-llama/Llama-3.1-8B-Instruct": "llama31-8b",
    DRAFT: "llama32-1b",
    "Qwen/Qwen3-8B": "qwen3-8b",
    "Qwen/Qwen3-30B-A3B": "qwen3-30b-a3b",
}
LORA_SMALL = ("--enable-lora", "--max-loras", "4", "--max-lora-rank", "16")
LORA_LARGE = ("--enable-lora", "--max-loras", "8", "--max-lora-rank", "64")
NGRAM = json.dumps({"method": "ngram", "num_speculative_tokens": 4, "prompt_lookup_max": 4})
DRAFT_SPEC = json.dumps({"model": f"/models/{DRAFT}", "num_speculative_tokens": 4})


def catalog_config(name: str) -> dict:
    for f in sorted(CATALOG.glob("*.json")):
        for entry in json.loads(f.read_text())["models"]:
            if entry["name"] == name:
                return dict(entry["config"])
    raise SystemExit(f"{name} is not in {CATALOG}")


def baseline_args(run: str) -> list[str]:
    return list(json.loads((RUNS / run / "plan_file.json").read_text())["vllm_args"])


def scenario(name: str, baseline: str, extra: tuple[str, ...], notes: str, **kw: object) -> dict:
    args = baseline_args(baseline)
    model = args[args.index("--served-model-name") + 1]
    doc: dict = {
        "name": name,
        "baseline": baseline,
        "launch_args": [*args, *extra],
        "added_flags": list(extra),
        "model_dir": args[0],
        "config_src": f"models/{SLUGS[model]}/config.json",
        "cache_root": f"/tmp/vc/{SLUGS[model]}",
        "served_name": model,
        "warmup": WARMUP,
        "startup_timeout_s": 240,
        "notes": notes,
        **kw,
    }
    if not extra:  # a baseline again: held to the same plan
        doc["plan"] = json.loads((RUNS / baseline / "plan.json").read_text())
    return doc


def main(out_dir: str) -> int:
    kit = Path(out_dir)
    for model, slug in SLUGS.items():
        d = kit / "models" / slug
        d.mkdir(parents=True, exist_ok=True)
        (d / "config.json").write_text(json.dumps(catalog_config(model), indent=1) + "\n")
    draft = {"model_dir": f"/models/{DRAFT}", "config_src": f"models/{SLUGS[DRAFT]}/config.json"}
    l8, q8, q30 = "llama8b-bf16", "qwen3-8b-bf16", "qwen3-30b-a3b"
    lane = [  # in order of priority: the device time may end the lane early
        scenario("llama8b-base5", l8, (), "baseline again on this machine, same arguments"),
        scenario("llama8b-lora4-r16", l8, LORA_SMALL, "LoRA buffers, no adapter loaded"),
        scenario("llama8b-lora8-r64", l8, LORA_LARGE, "LoRA buffers, no adapter loaded"),
        scenario("llama8b-spec-ngram", l8, ("--speculative-config", NGRAM), "n-gram proposer"),
        scenario(
            "llama8b-spec-draft1b",
            l8,
            ("--speculative-config", DRAFT_SPEC),
            "draft model Llama-3.2-1B (dummy weights) for Llama-3.1-8B",
            extra_models=[draft],
        ),
        scenario("llama8b-eager", l8, ("--enforce-eager",), "issue 27: no graphs, no compile"),
        scenario("qwen3-30b-a3b-eager", q30, ("--enforce-eager",), "issue 27: MoE eager"),
        scenario("qwen3-8b-lora8-r64", q8, LORA_LARGE, "LoRA on a model class not fitted on"),
        scenario("qwen3-8b-base5", q8, (), "baseline again on this machine"),
        scenario("qwen3-30b-a3b-base5", q30, (), "baseline again on this machine"),
    ]
    doc = {"lanes": [lane, []]}
    text = json.dumps(doc, indent=1) + "\n"
    (kit / "scenarios.json").write_text(text)
    (ROOT / "benchmarks" / "h200" / "scenarios5.json").write_text(text)
    for sc in lane:
        print(sc["name"], " ".join(sc["launch_args"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
