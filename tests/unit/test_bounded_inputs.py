"""Readers that cannot hang or blow up memory (issue 21, items 2-3, part): a plan file
must be a regular file of bounded size and sane JSON, and `diagnose` refuses scrape
schedules it could never finish. Each case failed before (a FIFO blocked forever,
/dev/zero grew to 3 GiB, deep JSON was "an internal error", --interval 0.000001ms
planned 3,000,000,001 scrapes)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llmpod.cli.main import main

URL = "http://127.0.0.1:1"


def _verify_plan(plan: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["verify", "--plan", plan, URL])
    return code, capsys.readouterr().err


def test_a_fifo_as_plan_is_refused_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "plan.json"
    os.mkfifo(fifo)  # reading it would block until a writer comes: none will
    code, err = _verify_plan(str(fifo), capsys)
    assert code == 1 and "is not a regular file" in err and str(fifo) in err


def test_dev_zero_as_plan_is_refused_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _verify_plan("/dev/zero", capsys)
    assert code == 1 and "is not a regular file" in err


def test_a_huge_plan_file_is_refused_without_reading_it_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "plan.json"
    with big.open("wb") as out:
        out.truncate(64 << 20)  # sparse: 64 MiB on paper, nothing on disk
    code, err = _verify_plan(str(big), capsys)
    assert code == 1 and "larger than 4 MiB" in err


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
        ('{"kv_cache_tokens": ' + "9" * 5000 + "}", "is not a plan's JSON"),
    ],
)
def test_hostile_json_in_a_plan_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, says: str
) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(content)
    code, err = _verify_plan(str(plan), capsys)
    assert code == 1 and says in err and "internal error" not in err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--interval", "0.000001ms"], "shorter than the 0.1s floor"),
        (["--window", "1h", "--interval", "0.5s"], "more than 3600 scrapes"),
    ],
)
def test_diagnose_refuses_schedules_it_could_not_finish(
    capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    assert main(["diagnose", URL, *args]) == 1
    assert says in capsys.readouterr().err


def _diagnose_file(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["diagnose", "--from-file", str(path)])
    return code, capsys.readouterr().err


def test_a_gzip_bomb_recording_is_refused_without_inflating_it_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import gzip

    from llmpod.diagnose import recording

    # The real cap is 256 MiB; a 1 MiB cap shows the same path in milliseconds.
    monkeypatch.setattr(recording, "MAX_RECORDING_BYTES", 1 << 20)
    bomb = tmp_path / "rec.jsonl.gz"
    bomb.write_bytes(gzip.compress(b"{" + b" " * (8 << 20)))  # 8 MiB inflated, ~8 KiB on disk
    code, err = _diagnose_file(bomb, capsys)
    assert code == 1 and "holds more than 1 MiB of text once inflated" in err


def test_a_fifo_recording_is_refused_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "rec.jsonl"
    os.mkfifo(fifo)
    code, err = _diagnose_file(fifo, capsys)
    assert code == 1 and "is not a regular file" in err


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ('{"timestamp": NaN, "text": ""}', "not a Unix time"),
        ('{"timestamp": Infinity, "text": ""}', "not a Unix time"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"timestamp": ' + "9" * 5000 + ', "text": ""}', "not usable JSON"),
    ],
)
def test_hostile_lines_in_a_recording_are_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, says: str
) -> None:
    rec = tmp_path / "rec.jsonl"
    good = '{"timestamp": 1718000000, "text": "vllm:num_requests_running 0\\n"}'
    rec.write_text(f"{good}\n{line}\n")
    code, err = _diagnose_file(rec, capsys)
    assert code == 1 and says in err and "internal error" not in err
