"""Kernel classes and GPU generations the throughput estimate distinguishes."""

from __future__ import annotations

import pytest

from llmpod.gpus.catalog import find_gpu
from llmpod.models.facts import QuantFacts
from llmpod.models.resolve import resolve_model
from llmpod.planner.kernels import generation, weight_class
from llmpod.planner.perf import expert_fraction


@pytest.mark.parametrize(
    ("gpu", "gen"),
    [
        ("H200", "hopper"),
        ("H100", "hopper"),
        ("A100-80GB", "ampere"),
        ("A10G", "ampere"),
        ("L40S", "ada"),
        ("L4", "ada"),
        ("B200", "blackwell"),
        ("MI300X", "amd"),
        ("CPU", "cpu"),
    ],
)
def test_generation_from_compute_capability(gpu: str, gen: str) -> None:
    assert generation(find_gpu(gpu)) == gen


@pytest.mark.parametrize(
    ("quant", "kernel"),
    [
        (None, "dense"),
        (QuantFacts("fp8", "fp8", 8, activations="fp8"), "fp8"),
        (QuantFacts("fp8-block", "fp8", 8, block=(128, 128), activations="fp8"), "fp8"),
        (QuantFacts("int8", "compressed-tensors", 8, activations="int8"), "int8"),
        (QuantFacts("awq", "awq_marlin", 4, group_size=128), "int4"),
        (QuantFacts("w4a16", "compressed-tensors", 4, group_size=128), "int4"),
        (QuantFacts("gptq", "gptq_marlin", 4, group_size=128), "int4"),
        # gpt-oss: only the experts are MXFP4; attention and the rest stay bf16.
        (QuantFacts("mxfp4", "mxfp4", 4, group_size=32, experts_only=True), "dense"),
    ],
)
def test_weight_class_follows_the_storage_format(quant: QuantFacts | None, kernel: str) -> None:
    assert weight_class(quant) == kernel


def test_expert_load_is_k_experts_at_batch_one_and_all_at_large_batch() -> None:
    m = resolve_model("qwen3-30b-a3b").facts
    assert m.moe is not None and (m.moe.num_experts, m.moe.experts_per_token) == (128, 8)
    assert expert_fraction(m, 1) == pytest.approx(8 / 128)
    # Two tokens: 8 + 8·(120/128) distinct experts expected.
    assert expert_fraction(m, 2) == pytest.approx((8 + 8 * 120 / 128) / 128)
    assert expert_fraction(m, 128) > 0.99
    mixtral = resolve_model("mixtral-8x7b").facts
    assert expert_fraction(mixtral, 1) == pytest.approx(2 / 8)
    assert expert_fraction(mixtral, 32) > 0.999
