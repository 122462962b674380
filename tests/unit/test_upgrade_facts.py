"""The committed per-release vLLM facts hold the breakages the field hit (issue 23).

Expected values come from the issue tracker reports, not from the data: vLLM 0.17
dropped ``--disable-log-requests`` (it broke Dynamo, KServe, llm-d-benchmark
and production-stack recipes); ``vllm:gpu_cache_usage_perc`` became
``vllm:kv_cache_usage_perc`` (deprecated, then hidden behind
``--show-hidden-metrics-for-version`` in 0.11, gone after: vllm-project/vllm#29330).
"""

from __future__ import annotations

import json

import pytest

from llmpod.errors import LlmpodError
from llmpod.releases.facts import FACTS_DIR, facts_for, facts_near, known_versions, version_key


def test_every_minor_release_from_0_8_to_0_34_is_covered() -> None:
    minors = {tuple(v.split(".")[:2]) for v in known_versions()}
    assert {("0", str(m)) for m in range(8, 35)} <= minors
    assert len(known_versions()) >= 50


def test_index_says_how_the_data_was_made() -> None:
    index = json.loads((FACTS_DIR / "index.json").read_text())
    assert index["command"].startswith("python scripts/gen_vllm_facts.py")
    assert index["generated"] and index["versions"] == sorted(index["versions"], key=version_key)


def test_disable_log_requests_deprecated_then_removed_in_0_17() -> None:
    assert "--disable-log-requests" in facts_for("0.10.0").flags
    assert facts_for("0.16.0").flags["--disable-log-requests"].get("deprecated")
    assert facts_for("0.17.0").flag_for("--disable-log-requests") is None
    assert "--enable-log-requests" in facts_for("0.17.0").flags


def test_kv_usage_metric_rename() -> None:
    assert facts_for("0.8.0").metric_state("vllm:gpu_cache_usage_perc") == "present"
    assert facts_for("0.8.0").metric_state("vllm:kv_cache_usage_perc") == "gone"
    assert facts_for("0.10.0").metrics["vllm:gpu_cache_usage_perc"].get("deprecated")
    assert facts_for("0.11.0").metric_state("vllm:gpu_cache_usage_perc") == "hidden"
    for version in ("0.12.0", "0.17.0", "0.34.0"):
        assert facts_for(version).metric_state("vllm:gpu_cache_usage_perc") == "gone"
        assert facts_for(version).metric_state("vllm:kv_cache_usage_perc") == "present"


def test_counters_are_families_without_total() -> None:
    # V0 named its counters "…_total", V1 lets prometheus_client add the suffix.
    for version in ("0.8.0", "0.32.0"):
        facts = facts_for(version)
        assert facts.metrics["vllm:prompt_tokens"]["kind"] == "counter"
        assert "vllm:prompt_tokens_total" not in facts.metrics


def test_negatable_flags_accept_no_form() -> None:
    facts = facts_for("0.32.0")
    assert facts.flag_for("--no-enable-prefix-caching") == (
        "--enable-prefix-caching",
        facts.flags["--enable-prefix-caching"],
    )
    assert facts.flag_for("-tp") is not None  # alias of --tensor-parallel-size


def test_unknown_release_is_bad_input() -> None:
    with pytest.raises(LlmpodError) as info:
        facts_for("0.99.0")
    assert info.value.code == "unknown_vllm_release" and info.value.exit_code == 1


def test_a_patch_without_facts_reads_its_predecessor() -> None:
    assert facts_near("0.32.7").version == "0.32.0"
    assert facts_near("9.0.0").version == known_versions()[-1]


def test_0_33_pairs_enable_with_disable_and_keeps_no_forms() -> None:
    # vllm/utils/argparse_utils.py EnableDisableAction first ships in the 0.33.0 wheel.
    for version in ("0.33.0", "0.34.0"):
        for option in ("--disable-prefix-caching", "--no-enable-prefix-caching"):
            assert facts_for(version).flag_for(option) is not None
    assert facts_for("0.32.0").flag_for("--disable-prefix-caching") is None
