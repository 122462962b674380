"""`llmpod upgrade-check STACK --to VERSION` (issue 23): findings, fixes, exit codes, JSON.

The legacy fixture stack (tests/fixtures/stacks/Pulumi.legacy.yaml) runs vLLM
0.10.0; moving it to 0.17.0 must meet the two breakages the field hit in
2025-26: ``--disable-log-requests`` removed (0.17.0) and
``vllm:gpu_cache_usage_perc`` renamed ``vllm:kv_cache_usage_perc``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmpod.cli.main import main
from llmpod.releases.facts import ReleaseFacts, facts_for
from llmpod.upgrade.findings import Finding
from llmpod.upgrade.flag_check import flag_findings

ROOT = Path(__file__).resolve().parents[2]
LEGACY = ROOT / "tests" / "fixtures" / "stacks" / "Pulumi.legacy.yaml"
STACKS = ROOT / "stacks"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["upgrade-check", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def _by_subject(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (service,) = doc["services"]
    return {f["subject"]: f for f in service["findings"]}


def test_legacy_stack_moved_to_0_17_meets_both_known_breakages(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, doc = _run(capsys, str(LEGACY), "--to", "0.17.0")
    found = _by_subject(doc)
    flag = found["--disable-log-requests"]
    assert flag["status"] == "dropped" and "--enable-log-requests" in flag["fix"]
    metric = found["vllm:gpu_cache_usage_perc"]
    assert metric["status"] == "renamed" and "vllm:kv_cache_usage_perc" in metric["fix"]
    # llmpod's own render for 0.17.0 follows both: the KEDA query and the dashboard
    # use names 0.17.0 exports, and the argument list leaves the flag out.
    assert found["vllm:kv_cache_usage_perc"]["status"] == "present"
    assert found["vllm:num_requests_waiting"]["detail"].count("KEDA") == 1
    assert code == 0 and doc["ok"] is True
    assert doc["services"][0]["needs_rerender"] is True


def test_strict_fails_on_what_only_a_rerender_fixes(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _run(capsys, str(LEGACY), "--to", "0.17.0", "--strict")
    assert code == 3 and doc["ok"] is False


def test_plan_is_recomputed_under_the_target_rules(capsys: pytest.CaptureFixture[str]) -> None:
    _code, doc = _run(capsys, str(LEGACY), "--to", "0.17.0")
    plan = doc["services"][0]["plan"]
    # 0.17 samples with ~14.9 B per logit, 0.10 with ~38.3 B (planner/versions.py):
    # the activation peak shrinks, so the KV cache grows.
    assert plan["to"]["kv_cache_tokens"] > plan["from"]["kv_cache_tokens"] > 0


def test_release_llmpod_cannot_plan_breaks_with_fix(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _run(capsys, "dev", "--to", "0.9.2", "--stacks-dir", str(STACKS))
    assert code == 3
    plan = _by_subject(doc)["plan"]
    assert plan["breaks"] and plan["status"] == "unsupported" and plan["fix"]


def test_same_release_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _run(capsys, "dev", "--to", "0.32.0", "--stacks-dir", str(STACKS))
    assert code == 0
    assert {f["status"] for f in doc["services"][0]["findings"]} <= {"fine", "present"}


def test_unknown_release_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _run(capsys, "dev", "--to", "0.99.0", "--stacks-dir", str(STACKS))
    assert code == 1 and doc["error"]["code"] == "unknown_vllm_release"


def test_text_output_names_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["upgrade-check", str(LEGACY), "--to", "0.17.0"]) == 0
    out = capsys.readouterr().out
    assert "--disable-log-requests: dropped" in out and "fix: drop it" in out


def _facts(version: str, flags: dict[str, dict[str, Any]]) -> ReleaseFacts:
    return ReleaseFacts(version=version, flags=flags, metrics={})


def test_a_rendered_flag_the_target_rejects_breaks() -> None:
    old = _facts("1.0.0", {"--old-knob": {"kind": "int", "deprecated": True,
                                          "see": ["--new-knob"]}})  # fmt: skip
    new = _facts("2.0.0", {"--new-knob": {"kind": "int"}})
    (finding,) = flag_findings(["m", "--old-knob", "3"], ["m", "--old-knob", "3"], old, new)
    assert finding == Finding(
        "flag",
        "--old-knob",
        "removed",
        True,
        "vLLM 2.0.0's parser rejects it: every pod would exit at start",
        "use --new-knob",
    )


def test_deprecated_and_default_changes_are_named_not_breaking() -> None:
    old = _facts("1.0.0", {"--a": {"kind": "int", "default": 1}, "--b": {"kind": "bool"}})
    new = _facts(
        "2.0.0",
        {"--a": {"kind": "int", "default": 2}, "--b": {"kind": "bool", "deprecated": True}},
    )
    found = {f.subject: f for f in flag_findings([], ["m", "--a", "5", "--b"], old, new)}
    assert found["--a"].status == "default_changed" and not found["--a"].breaks
    assert found["--b"].status == "deprecated" and not found["--b"].breaks


def test_diff_runs_the_gate_when_a_service_changes_release(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    newer = tmp_path / "Pulumi.legacy17.yaml"
    newer.write_text(LEGACY.read_text().replace("vllm_version: 0.10.0", "vllm_version: 0.17.0"))
    # `diff A B` as the PR preview runs it (source, destination): B moves to A's release.
    assert main(["diff", str(newer), str(LEGACY), "--markdown"]) == 0
    out = capsys.readouterr().out
    section = out[out.index("### vLLM upgrade check") :]
    assert "`qwen-7b`: vLLM 0.10.0 → 0.17.0: ok" in section
    assert "flag `--disable-log-requests`: dropped" in section
    assert "metric `vllm:gpu_cache_usage_perc`: renamed" in section
    assert main(["diff", str(LEGACY), str(LEGACY)]) == 0
    assert "vLLM upgrade check" not in capsys.readouterr().out


def test_a_flag_newer_than_the_target_breaks_and_names_the_first_release() -> None:
    # The CPU plans hand vLLM its KV budget with --kv-cache-memory-bytes, which
    # vLLM added in 0.10.2 (its wheel's vllm/engine/arg_utils.py adds the option to
    # the cache group; 0.10.1.1's has no such option): 0.10.1's parser rejects it.
    argv = ["/models/m", "--kv-cache-memory-bytes", "1048576"]
    (finding,) = flag_findings(argv, argv, facts_for("0.32.0"), facts_for("0.10.1"))
    assert finding.status == "removed" and finding.breaks
    assert finding.fix == (
        "--kv-cache-memory-bytes first appears in vLLM 0.10.2: move to 0.10.2 or newer"
    )


def test_a_value_outside_the_target_choices_breaks() -> None:
    # 0.10.0's vllm/config.py: CacheDType = Literal["auto", "fp8", "fp8_e4m3",
    # "fp8_e5m2", "fp8_inc"]; fp8_ds_mla came later (the e2e test holds 0.32.0's
    # list to the real parser's choices).
    argv = ["/models/m", "--kv-cache-dtype", "fp8_ds_mla", "--max-model-len", "4096"]
    found = {
        f.subject: f for f in flag_findings(argv, argv, facts_for("0.32.0"), facts_for("0.10.0"))
    }
    assert found["--kv-cache-dtype"].status == "value_rejected" and found["--kv-cache-dtype"].breaks
    assert "fp8_e5m2" in found["--kv-cache-dtype"].detail
    assert found["--max-model-len"].status == "fine"
