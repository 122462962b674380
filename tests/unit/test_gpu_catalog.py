"""The GPU catalog: names, memory as CUDA reports it, and sourced prices."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from llmpod.errors import LlmpodError
from llmpod.gpus.catalog import all_gpus, find_gpu
from llmpod.gpus.nodes import instances_for

SHARED = Path(__file__).resolve().parents[3] / "shared"
OBSERVATIONS = SHARED / "benchmarks" / "vllm_kv_observations.csv"
REQUIRED = [
    "H100",
    "H100-PCIE",
    "H200",
    "B200",
    "A100-80GB",
    "A100-40GB",
    "L40S",
    "L4",
    "A10G",
    "RTX-4090",
    "RTX-3090",
    "MI300X",
]
#: Marketing capacities. GPU vendors' "GB" are binary-ish (an H100 80GB has
#: 81,920 MiB of HBM), so they are compared as GiB.
MARKETING_GB = {
    "H100": 80,
    "H100-PCIE": 80,
    "H200": 141,
    "B200": 180,
    "A100-80GB": 80,
    "A100-40GB": 40,
    "L40S": 48,
    "L4": 24,
    "A10G": 24,
    "RTX-4090": 24,
    "RTX-3090": 24,
    "MI300X": 192,
}


@pytest.mark.parametrize("key", REQUIRED)
def test_required_gpu_present_and_consistent(key: str) -> None:
    g = find_gpu(key)
    # What CUDA reports is below the marketing capacity (driver reserve; ECC on
    # L4/A10G takes ~1.5 GiB), but within 10% of it.
    marketing_gib = MARKETING_GB[key]
    assert 0.90 * marketing_gib < g.memory_gib <= marketing_gib
    assert g.hbm_bandwidth_gbs > 0 and g.bf16_tflops > 0
    assert g.price_per_gpu_hour > 0 and g.price_source and g.price_as_of
    assert g.k8s_product_labels and g.k8s_resource.endswith("/gpu")
    for inst in instances_for(g.key):
        # Per-GPU price is derived from the same instance list.
        assert inst.gpus >= 1 and inst.price_per_hour > 0


def test_memory_is_what_vllm_logged_for_that_gpu() -> None:
    # The observations hold the total memory vLLM reported on each run's GPU
    # (llm-d v0.19 logs and public docs); the catalog must agree with every one
    # of them, not with a number restated here.
    with OBSERVATIONS.open(newline="") as f:
        reported = [
            (row["gpu"], float(row["gpu_total_gib_reported"]))
            for row in csv.DictReader(f)
            if row["gpu_total_gib_reported"]
        ]
    assert len(reported) >= 30
    for gpu_name, total_gib in reported:
        catalog_name = gpu_name.split(" (")[0].replace(" 80GB", "")
        assert find_gpu(catalog_name).memory_gib == pytest.approx(total_gib, abs=0.011), gpu_name


def test_fp8_math_only_from_ada_hopper_on() -> None:
    assert not find_gpu("A100-80GB").has_fp8_compute and not find_gpu("RTX-3090").has_fp8_compute
    assert find_gpu("L40S").has_fp8_compute and find_gpu("H100").has_fp8_compute


def test_keys_unique_and_aliases_resolve() -> None:
    keys = [g.key for g in all_gpus()]
    assert len(keys) == len(set(keys))
    for g in all_gpus():
        for alias in g.aliases:
            assert find_gpu(alias) is g


def test_typo_suggests() -> None:
    with pytest.raises(LlmpodError, match=r"Unknown GPU 'L40'\. Did you mean 'L40S'"):
        find_gpu("L40")
