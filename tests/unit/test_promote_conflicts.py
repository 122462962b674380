"""The conflict rule (infra/llmpod/environments/conflicts.py) and the promotion record.

Rule: with a record B of the last promotion, a leaf conflicts iff the target
value T differs from both B and the source value S.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from promote_fixtures import STAGING, write_stacks

from llmpod.cli.main import main
from llmpod.environments.conflicts import find_conflicts
from llmpod.environments.promotable import promotable_paths


@pytest.mark.parametrize(
    ("s", "t", "b", "conflict"),
    [
        (1, 1, 0, False),  # edit made on both sides
        (2, 1, 1, False),  # ordinary update: target untouched since the last promotion
        (1, 2, 1, True),  # hand edit, source unchanged: promotion would revert it
        (3, 2, 1, True),  # hand edit and a different new source value
    ],
)
def test_conflict_truth_table(s: int, t: int, b: int, conflict: bool) -> None:
    found = find_conflicts("svc", {"max_model_len": s}, {"max_model_len": t}, {"max_model_len": b})
    assert bool(found) is conflict


def test_no_record_means_no_conflict() -> None:
    assert find_conflicts("svc", {"model": "a"}, {"model": "b"}, None) == []


def test_local_fields_are_not_promotable_and_the_rest_are() -> None:
    paths = set(promotable_paths())
    local = {
        "weights.storage_class",
        "replicas.min",
        "replicas.max",
        "replicas.autoscale",
        "kubernetes.namespace",
        "domain",
        "labels",
        "aws.region",
        "aws.allowed_cidrs",
    }
    assert not paths & local
    assert {
        "model",
        "revision",
        "max_model_len",
        "image.vllm_version",
        "image.digest",
        "targets.concurrency",
        "gpus.types",
        "replicas.queue_target",
        "weights.source",
        "vllm.max_num_seqs",
    } <= paths


def _run(stacks: Path, *extra: str) -> int:
    return main(["promote", "staging", "production", "--stacks-dir", str(stacks), "--yes", *extra])


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def promoted(tmp_path: Path) -> Path:
    write_stacks(tmp_path)
    assert _run(tmp_path) == 0  # writes the record: chat max_model_len 16384
    return tmp_path


def test_record_is_written_outside_the_llmpod_namespace(promoted: Path) -> None:
    text = (promoted / "Pulumi.production.yaml").read_text()
    assert "llmpod-promotion:lastPromoted:" in text
    assert "max_model_len: 16384" in text.split("llmpod-promotion:lastPromoted:")[1]


def test_hand_edit_then_source_change_is_refused(
    promoted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = promoted / "Pulumi.production.yaml"
    _edit(target, "max_model_len: 16384", "max_model_len: 12288")
    _edit(promoted / "Pulumi.staging.yaml", "max_model_len: 16384", "max_model_len: 32768")
    before = target.read_bytes()
    assert _run(promoted) == 1
    err = capsys.readouterr().err
    assert "edited by hand since its last promotion" in err
    assert (
        "chat.max_model_len is 12288 in the target, but the last promotion wrote 16384 "
        "and the source now has 32768"
    ) in err
    assert target.read_bytes() == before


def test_hand_edit_with_unchanged_source_is_refused(
    promoted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = promoted / "Pulumi.production.yaml"
    _edit(target, "concurrency: 8", "concurrency: 4")
    before = target.read_bytes()
    assert _run(promoted) == 1
    assert "chat.targets.concurrency is 4 in the target" in capsys.readouterr().err
    assert target.read_bytes() == before


def test_overwrite_edits_flag_discards_the_hand_edit(promoted: Path) -> None:
    target = promoted / "Pulumi.production.yaml"
    _edit(target, "concurrency: 8", "concurrency: 4")
    assert _run(promoted, "--overwrite-edits") == 0
    assert "concurrency: 4" not in target.read_text()


def test_same_edit_on_both_sides_is_not_a_conflict(promoted: Path) -> None:
    _edit(promoted / "Pulumi.production.yaml", "concurrency: 8", "concurrency: 4")
    _edit(promoted / "Pulumi.staging.yaml", "concurrency: 8", "concurrency: 4")
    assert _run(promoted) == 0


def test_local_edits_are_never_conflicts_and_are_kept(promoted: Path) -> None:
    target = promoted / "Pulumi.production.yaml"
    _edit(target, "namespace: llm\n", "namespace: llm-blue\n")
    _edit(promoted / "Pulumi.staging.yaml", "concurrency: 8", "concurrency: 6")
    assert _run(promoted) == 0
    text = target.read_text()
    assert "namespace: llm-blue" in text and "concurrency: 6" in text


def test_spelling_the_spec_normalises_is_not_an_edit(promoted: Path) -> None:
    _edit(promoted / "Pulumi.production.yaml", "types: [L4, L40S]", "types: [l4, l40s]")
    before = (promoted / "Pulumi.production.yaml").read_bytes()
    assert _run(promoted) == 0
    assert (promoted / "Pulumi.production.yaml").read_bytes() == before


def test_source_default_removes_the_key_from_the_target(tmp_path: Path) -> None:
    # staging relies on the default concurrency (1): production's explicit 8 goes away.
    write_stacks(tmp_path, staging=STAGING.replace("      targets:\n        concurrency: 8\n", ""))
    assert _run(tmp_path) == 0
    chat = (tmp_path / "Pulumi.production.yaml").read_text().split("- name: legacy")[0]
    assert "concurrency" not in chat and "targets:" not in chat
