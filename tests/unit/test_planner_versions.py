"""What changes with the vLLM version (vllm_rules.md §3)."""

from __future__ import annotations

import pytest

from llmpod.errors import LlmpodError
from llmpod.gpus.catalog import find_gpu
from llmpod.models.resolve import resolve_model
from llmpod.planner.api import make_plan
from llmpod.planner.plan import Plan
from llmpod.planner.request import PlanRequest
from llmpod.planner.versions import parse_version, profile_for


def plan(version: str) -> Plan:
    m = resolve_model("llama-3.1-8b")
    return make_plan(
        PlanRequest(
            model=m.facts,
            gpus=(find_gpu("H100"),),
            model_path=m.container_path,
            served_model_name=m.served_name,
            max_model_len=8192,
            vllm_version=version,
        )
    )


def test_utilization_default_and_cuda_graph_accounting_change_at_0_21() -> None:
    old, new = plan("0.20.0"), plan("0.21.0")
    assert old.evaluation and new.evaluation
    assert old.evaluation.settings.utilization == 0.9
    assert new.evaluation.settings.utilization == 0.92
    assert old.evaluation.limiting.cuda_graph_gib == 0
    assert new.evaluation.limiting.cuda_graph_gib > 0


def test_a100_batch_defaults_differ_from_h100() -> None:
    p = profile_for("0.32.0")
    assert p.batch_defaults(find_gpu("H100")) == (1024, 8192)
    assert p.batch_defaults(find_gpu("A100-80GB")) == (256, 2048)
    assert p.batch_defaults(find_gpu("B200")) == (1024, 16384)


@pytest.mark.parametrize("text", ["banana", "0.5.4"])
def test_bad_versions(text: str) -> None:
    with pytest.raises(LlmpodError, match="vLLM"):
        parse_version(text)


def test_version_strings() -> None:
    assert parse_version("v0.11.0") == (0, 11, 0)
    assert parse_version("0.32.0+cpu") == (0, 32, 0)
