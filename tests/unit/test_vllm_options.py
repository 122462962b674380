"""VllmOptions is the one definition of the engine options: spec, CLI and argv agree."""

from __future__ import annotations

import json
import re

import pytest

from llmpod.cli.main import main
from llmpod.planner.vllm_args import VllmArgs
from llmpod.planning.service import plan_service
from llmpod.spec.service import ServingSpec
from llmpod.spec.vllm_options import EngineFlags, VllmOptions


def cli_plan(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    assert (
        main(
            [
                "plan",
                "--model",
                "llama-3.1-8b",
                "--gpu",
                "H100",
                "--max-model-len",
                "8192",
                *argv,
                "--json",
            ]
        )
        == 0
    )
    args: list[str] = json.loads(capsys.readouterr().out)["vllm_args"]
    return args


@pytest.mark.parametrize("name", sorted(VllmOptions.model_fields))
def test_every_option_is_documented_and_a_plan_flag(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert VllmOptions.model_fields[name].description  # the flag's help and the schema text
    with pytest.raises(SystemExit):
        main(["plan", "--help"])
    # A list takes one value per repetition, under its singular: --adapter A --adapter B.
    flag = "--adapter" if name == "adapters" else "--" + name.replace("_", "-")
    assert re.search(re.escape(flag) + r"[\s\]]", capsys.readouterr().out)


@pytest.mark.parametrize(
    "options, expected",
    [
        # bool: a switch, absent when off.
        ({"enforce_eager": True}, ["--enforce-eager"]),
        ({"trust_remote_code": True}, ["--trust-remote-code"]),
        # bool | None: vLLM's BooleanOptionalAction, so "off" has to be said.
        ({"enable_prefix_caching": False}, ["--no-enable-prefix-caching"]),
        ({"enable_prefix_caching": True}, ["--enable-prefix-caching"]),
        ({"block_size": 32}, ["--block-size", "32"]),
    ],
)
def test_flag_shape_follows_the_type(options: dict[str, object], expected: list[str]) -> None:
    assert VllmArgs.model_validate({"model": "/m", **options}).build_args() == [
        "/m",
        "--tensor-parallel-size",
        "1",
        *expected,
    ]


def test_pass_through_options_reach_the_command_line_from_cli_and_spec(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # trust_remote_code and enable_prefix_caching were spec-only before; now the
    # CLI has them too, and both paths give the same argv.
    flags = cli_plan(capsys, "--trust-remote-code", "--no-enable-prefix-caching")
    assert flags[-2:] == ["--no-enable-prefix-caching", "--trust-remote-code"]
    spec = ServingSpec.model_validate(
        {
            "name": "chat",
            "model": "llama-3.1-8b",
            "max_model_len": 8192,
            "gpus": {"types": ["H100"]},
            "vllm": {"trust_remote_code": True, "enable_prefix_caching": False},
        }
    )
    assert list(plan_service(spec, "dev").plan.vllm_args) == flags


def test_every_engine_flag_is_inherited_by_the_command_line() -> None:
    assert set(EngineFlags.model_fields) <= set(VllmArgs.model_fields)


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--gpu-memory-utilization", "1.5"],
            r"--gpu-memory-utilization '1\.5': Input should be less than or equal to 1",
        ),
        (
            ["--max-num-seqs", "0"],
            r"--max-num-seqs '0': Input should be greater than or equal to 1",
        ),
    ],
)
def test_out_of_range_options_name_the_flag_and_exit_1(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "--model", "llama-3.1-8b", "--gpu", "H100", *argv]) == 1
    assert re.search(message, capsys.readouterr().err)


def test_an_int_option_is_parsed_as_a_whole_number(capsys: pytest.CaptureFixture[str]) -> None:
    code: int | str | None
    try:
        code = main(["plan", "--model", "llama-3.1-8b", "--gpu", "H100", "--block-size", "lots"])
    except SystemExit as exc:  # argparse's usage error; its exit code is the CLI's business
        code = exc.code
    assert code not in (0, None)
    assert "argument --block-size: 'lots' is not a whole number" in capsys.readouterr().err
