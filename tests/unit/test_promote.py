"""`llmpod promote`: what it carries, what it keeps, and every refusal.

Each refusal asserts the target file is byte-for-byte what it was.
Expectations come from the fixture text in promote_fixtures.py.
"""

from __future__ import annotations

import difflib
import io
import sys
from pathlib import Path

import pytest
from promote_fixtures import PRODUCTION, STAGING, write_stacks

from llmpod.cli.main import main
from llmpod.environments.stack_files import load_stack


@pytest.fixture
def stacks(tmp_path: Path) -> Path:
    return write_stacks(tmp_path)


def _promote(stacks: Path, *extra: str) -> int:
    return main(["promote", "staging", "production", "--stacks-dir", str(stacks), *extra])


def _target(stacks: Path) -> bytes:
    return (stacks / "Pulumi.production.yaml").read_bytes()


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_promotion_carries_promotable_values_and_keeps_local_ones(
    stacks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _promote(stacks, "--yes") == 0
    out = capsys.readouterr().out
    assert "chat.max_model_len: 8192 → 16384" in out
    prod = load_stack("production", stacks)
    chat = {s.name: s for s in prod.services}["chat"]
    assert chat.max_model_len == 16384  # promoted from staging
    assert chat.replicas.min == 2 and chat.replicas.max == 4  # local, kept
    assert chat.weights.storage_class == "prod-rwx"
    assert chat.domain == "chat.example.com"
    assert chat.kubernetes.namespace == "llm"


def test_promotion_only_rewrites_the_changed_line_and_keeps_comments(stacks: Path) -> None:
    assert _promote(stacks, "--yes") == 0
    new = _target(stacks).decode()
    removed = [
        line[2:]
        for line in difflib.ndiff(PRODUCTION.splitlines(), new.splitlines())
        if line.startswith("- ")
    ]
    # The only original line that changes is the promoted value; every other line survives
    # byte for byte, and the changed line keeps its end-of-line comment.
    assert removed == ["      max_model_len: 8192   # shorter context until staging proves 16k"]
    assert "      max_model_len: 16384  # shorter context until staging proves 16k" in new
    for comment in (
        "# production: reached only through promotion.",
        "# The chat model, two replicas for drains.",
        "min: 2          # never one replica in production",
        "# Kept in production only.",
    ):
        assert comment in new


def test_new_service_is_added_without_local_values_and_missing_one_left_alone(
    stacks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _promote(stacks, "--yes") == 0
    out = capsys.readouterr().out
    assert "left alone: legacy (not in staging)" in out
    assert "new in production: small" in out
    prod = {s.name: s for s in load_stack("production", stacks).services}
    assert prod["legacy"].max_model_len == 4096
    # staging's namespace is local: the new entry takes the schema default, not llm-staging.
    assert prod["small"].kubernetes.namespace == "llm"
    assert "Added by `llmpod promote` from staging" in _target(stacks).decode()
    assert "llm-staging" not in _target(stacks).decode()


def test_second_promotion_is_a_no_op(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _promote(stacks, "--yes") == 0
    first = _target(stacks)
    assert _promote(stacks, "--yes") == 0
    assert "already up to date" in capsys.readouterr().err
    assert _target(stacks) == first
    assert _promote(stacks, "--check") == 0


def test_check_fails_before_promotion(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _target(stacks)
    assert _promote(stacks, "--check") == 3
    assert "does not hold staging's promotable spec" in capsys.readouterr().err
    assert _target(stacks) == before


def test_dry_run_writes_nothing(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _target(stacks)
    assert _promote(stacks, "--dry-run") == 0
    captured = capsys.readouterr()
    assert "Cost per hour" in captured.out and "dry run" in captured.err
    assert _target(stacks) == before


def test_refuses_without_yes_when_stdin_is_not_a_tty(
    stacks: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    before = _target(stacks)
    assert _promote(stacks) == 1
    assert "stdin is not a terminal" in capsys.readouterr().err
    assert _target(stacks) == before


@pytest.mark.parametrize(("answer", "rc", "written"), [("n", 1, False), ("y", 0, True)])
def test_tty_confirmation(
    stacks: Path, monkeypatch: pytest.MonkeyPatch, answer: str, rc: int, written: bool
) -> None:
    monkeypatch.setattr(sys, "stdin", _Tty())
    monkeypatch.setattr("builtins.input", lambda prompt: answer)
    before = _target(stacks)
    assert _promote(stacks) == rc
    assert (_target(stacks) != before) is written


def test_refuses_when_target_changes_while_waiting_for_confirmation(
    stacks: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    concurrent = PRODUCTION.replace("max: 4", "max: 6").encode()

    def edit_then_confirm(prompt: str) -> str:
        (stacks / "Pulumi.production.yaml").write_bytes(concurrent)
        return "y"

    monkeypatch.setattr(sys, "stdin", _Tty())
    monkeypatch.setattr("builtins.input", edit_then_confirm)
    assert _promote(stacks) == 1
    assert "changed while the promotion was being prepared" in capsys.readouterr().err
    assert _target(stacks) == concurrent
    assert [p.name for p in stacks.iterdir() if p.name.endswith(".tmp")] == []


def test_unknown_stack_name(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _target(stacks)
    assert main(["promote", "stagin", "production", "--stacks-dir", str(stacks)]) == 1
    assert re_search(r"No stack 'stagin'.*Did you mean 'staging'", capsys.readouterr().err)
    assert _target(stacks) == before


def re_search(pattern: str, text: str) -> bool:
    import re

    return re.search(pattern, text) is not None


@pytest.mark.parametrize("broken", ["staging", "production"])
def test_yaml_syntax_error_in_either_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], broken: str
) -> None:
    bad = "config:\n  llmpod:environment: x\n  llmpod:services: [\n"
    write_stacks(
        tmp_path,
        staging=bad if broken == "staging" else STAGING,
        production=bad if broken == "production" else PRODUCTION,
    )
    before = _target(tmp_path)
    assert _promote(tmp_path, "--yes") == 1
    err = capsys.readouterr().err
    assert re_search(rf"Pulumi\.{broken}\.yaml is not valid YAML at line \d+", err)
    assert _target(tmp_path) == before


def test_invalid_source_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_stacks(tmp_path, staging=STAGING.replace("max_model_len: 16384", "max_model_length: 1"))
    before = _target(tmp_path)
    assert _promote(tmp_path, "--yes") == 1
    err = capsys.readouterr().err
    assert "Refusing to promote staging → production" in err
    assert "unknown key 'max_model_length'" in err and "Did you mean 'max_model_len'" in err
    assert _target(tmp_path) == before


def test_infeasible_target_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A 70B model cannot fit one 24 GB L4: valid spec, impossible plan.
    staging = STAGING.replace(
        "model: Qwen/Qwen2.5-7B-Instruct", "model: meta-llama/Llama-3.1-70B-Instruct"
    ).replace("types: [L4, L40S]", "types: [L4]\n        max_per_replica: 1")
    write_stacks(tmp_path, staging=staging)
    before = _target(tmp_path)
    assert _promote(tmp_path, "--yes") == 2
    assert "Refusing to promote staging → production: service 'chat'" in capsys.readouterr().err
    assert _target(tmp_path) == before


def test_target_cost_cap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_stacks(
        tmp_path, production=PRODUCTION.replace("costCapPerHour: 100", "costCapPerHour: 1")
    )
    before = _target(tmp_path)
    assert _promote(tmp_path, "--yes") == 2
    assert "llmpod:costCapPerHour" in capsys.readouterr().err
    assert _target(tmp_path) == before


def test_promoted_result_must_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # backend is promotable, but the aws section is local: production has none.
    k8s_then_small = "      kubernetes:\n        namespace: llm-staging\n    - name: small"
    staging = STAGING.replace(
        k8s_then_small,
        "      backend: aws\n      aws:\n        region: eu-west-1\n    - name: small",
    )
    write_stacks(tmp_path, staging=staging)
    before = _target(tmp_path)
    assert _promote(tmp_path, "--yes") == 1
    assert "backend 'aws' needs an 'aws' section" in capsys.readouterr().err
    assert _target(tmp_path) == before


def test_same_stack_twice(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["promote", "staging", "staging", "--stacks-dir", str(stacks)]) == 1
    assert "Source and target are the same file" in capsys.readouterr().err


def test_the_record_comment_stays_above_the_record_when_a_service_is_appended(
    tmp_path: Path,
) -> None:
    # Before: a promotion that appended a service left "Written by `llmpod promote`…"
    # above the new service instead of above llmpod-promotion:lastPromoted.
    assert main(["init", str(tmp_path / "p")]) == 0
    project = tmp_path / "p"
    staging = project / "stacks" / "Pulumi.staging.yaml"
    staging.write_text(
        staging.read_text().rstrip("\n")
        + "\n    - name: extra\n      model: Qwen/Qwen2.5-7B-Instruct\n"
        + "      max_model_len: 8192\n      gpus:\n        types: [L4]\n"
    )
    args = ["-C", str(project), "promote", "staging", "production", "--yes"]
    assert main(args) == 0
    text = (project / "stacks" / "Pulumi.production.yaml").read_text()
    lines = text.splitlines()
    record = lines.index("  llmpod-promotion:lastPromoted:")
    assert lines[record - 2].lstrip().startswith("# Written by `llmpod promote`")
    assert text.count("Written by `llmpod promote`") == 1
    assert text.index("- name: extra") < text.index("# Written by `llmpod promote`")
