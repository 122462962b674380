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
