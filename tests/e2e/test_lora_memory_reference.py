"""The planner's LoRA buffer bytes equal what vLLM's own LoRA model manager allocates (issue 24).

Runs benchmarks/lora_memory_reference.py's measurement (the table committed as
benchmarks/lora_memory_reference.md): vLLM 0.32.0's ``LRUCacheWorkerLoRAManager``
wraps each model built on the meta device, at TP 1 and TP 2 (two gloo processes),
and the bytes its LoRA layers hold are compared with
``llmpod.planner.lora.lora_bytes_per_gpu`` for the same config.json.

Tolerance: none (0 bytes). Both sides are sums of the same tensor shapes, so any
difference is a tensor one side has and the other lacks, never noise; the
smallest such tensor found so far (the int64 vocabulary map vLLM keeps above
TP 1) was 0.27% of the Llama-3.1-8B rank-64 row, which a percentage tolerance
would have let through.

Also checks that ``llmpod/planner/lora_architectures.py`` is what its generator
reads from the installed vLLM now (classes, embedding modules, packings).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import OFFLINE_ENV, REPO

pytestmark = pytest.mark.e2e

ARCH_GENERATOR = REPO / "benchmarks" / "vllm_lora_architectures.py"
ARCH_MODULE = REPO / "infra" / "llmpod" / "planner" / "lora_architectures.py"


def _benchmark() -> ModuleType:
    name = "lora_memory_reference_benchmark"
    spec = importlib.util.spec_from_file_location(
        name, REPO / "benchmarks" / "lora_memory_reference.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_planner_lora_bytes_equal_vllms_own_buffers(
    vllm_python: Path, tiny_model: Path, tmp_path: Path
) -> None:
    bench = _benchmark()
    rows = bench.measure(tmp_path, tiny_model, vllm_python)
    print(bench.table(rows))
    refused = {row.case.model for row in rows if row.vllm is None}
    # Only the fused-MoE models, which the CPU build cannot wrap, may go unmeasured
    # (their rows with the GPU-kernel check skipped are measured).
    assert refused == bench.CPU_UNBUILDABLE, [(r.case, r.error) for r in rows if r.vllm is None]
    assert all("Old-style modular kernel" in (r.error or "") for r in rows if r.vllm is None)
    measured = [row for row in rows if row.vllm is not None]
    assert len(measured) >= 50
    assert sum(bench.MOE_CHECK_SKIPPED.format("") in r.case.model for r in measured) == 6
    assert {row.case.tp for row in measured} == {1, 2}
    wrong = [(row.case, row.vllm, row.llmpod) for row in measured if row.llmpod != row.vllm]
    assert not wrong, wrong


def test_lora_architecture_facts_are_read_from_the_installed_vllm(vllm_python: Path) -> None:
    proc = subprocess.run(
        [str(vllm_python), str(ARCH_GENERATOR)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **OFFLINE_ENV},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stdout == ARCH_MODULE.read_text(), (
        "regenerate infra/llmpod/planner/lora_architectures.py (see its docstring)"
    )
