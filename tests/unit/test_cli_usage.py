"""Every bad argument is bad input: exit 1, and one JSON object under --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmpod.cli.main import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["plan", "--model", "llama-3.1-8b", "--gpu", "L4", "--max-model-len", "0"],
            r"argument --max-model-len: '0' must be at least 1",
        ),
        (
            # Bad input (exit 1), not "does not fit" (exit 2, as before).
            ["plan", "--model", "llama-3.1-8b", "--gpu", "L4", "--ttft-ms", "-5"],
            r"argument --ttft-ms: '-5' must be a positive number",
        ),
        (
            ["plan", "--model", "llama-3.1-8b", "--gpu", "L4", "--tp", "0"],
            r"argument --tp: '0' must be at least 1",
        ),
        (
            ["plan", "--model", "llama-3.1-8b", "--gpu", "L4", "--kv-cache-dtype", "int3"],
            r"argument --kv-cache-dtype: invalid choice: 'int3'",
        ),
        (["plan", "--gpu", "L4"], r"the following arguments are required: --model"),
    ],
)
def test_plan_rejections_exit_1_with_the_plan_json_contract(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The finding: argparse exits 2 ("does not fit" in the README) and prints usage.
    assert main([*argv, "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["feasible"] is False
    [err] = out["errors"]
    assert err["code"] == "bad_argument"
    import re

    assert re.search(message, err["message"]), err["message"]


def test_other_commands_reject_with_a_json_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "widgets", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["errors"]
    assert "invalid choice: 'widgets'" in out["errors"][0]["message"]


def test_without_json_the_rejection_is_usage_and_one_error_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["plan", "--model", "llama-3.1-8b", "--gpu", "L4", "--tp", "zero"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("usage: llmpod plan")
    assert "error: argument --tp: 'zero' is not a whole number" in err


def test_unknown_command_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plna"]) == 1
    assert "invalid choice: 'plna'" in capsys.readouterr().err


def test_stack_errors_are_json_under_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["preflight", "nope", "--json", "--stacks-dir", str(tmp_path)]) == 1
    [err] = json.loads(capsys.readouterr().out)["errors"]
    assert err["code"] == "unknown_stack"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("llmpod ")
