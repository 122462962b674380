"""A name that says AWQ/GPTQ/FP8 with a config that does not: warn, and let the user say."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmpod.cli.main import main
from llmpod.planner.name_hints import quantization_hint

LLAMA_8B = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "num_hidden_layers": 32,
    "vocab_size": 128256,
    "max_position_embeddings": 131072,
    "torch_dtype": "bfloat16",
    "tie_word_embeddings": False,
    "rope_theta": 500000.0,
    "rms_norm_eps": 1e-5,
}


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("Meta-Llama-3.1-70B-Instruct-AWQ-INT4", "awq"),
        ("TheBloke/Llama-2-7B-GPTQ", "gptq"),
        ("RedHatAI/Llama-3.1-8B-Instruct-FP8-dynamic", "fp8"),
        ("neuralmagic/Meta-Llama-3.1-8B-Instruct-quantized.w8a8", "int8"),
        ("org/model-w4a16", "w4a16"),
        ("meta-llama/Llama-3.1-8B-Instruct", None),
        ("mistralai/Mixtral-8x7B", None),  # "8x7b" is not a quantization
    ],
)
def test_name_hints(name: str, hint: str) -> None:
    assert quantization_hint(name) == hint


def _config(tmp_path: Path, name: str) -> str:
    d = tmp_path / name
    d.mkdir()
    (d / "config.json").write_text(json.dumps(LLAMA_8B))
    return str(d / "config.json")


def _plan(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["plan", "--gpu", "L4", "--max-model-len", "8192", *argv, "--json"]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def test_unconfigured_awq_name_warns_and_is_sized_as_bf16(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _plan(capsys, "--model", _config(tmp_path, "Llama-3.1-8B-Instruct-AWQ"))
    [warning] = data["warnings"]
    assert (
        "the name suggests awq weights, but its config.json has no quantization_config" in warning
        and "--quantization awq" in warning
    )
    assert data["per_gpu"]["weights_gib"] > 14


@pytest.mark.parametrize(
    ("name", "flag", "method_arg"),
    [
        ("Llama-3.1-8B-Instruct-AWQ", "awq", "awq"),
        ("Llama-3.1-8B-Instruct-FP8", "compressed-tensors", "compressed-tensors"),
    ],
)
def test_quantization_overrides_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, flag: str, method_arg: str
) -> None:
    # The finding: --quantization compressed-tensors could not override the config.
    data = _plan(capsys, "--model", _config(tmp_path, name), "--quantization", flag)
    assert data["warnings"] == []
    assert data["per_gpu"]["weights_gib"] < 10
    assert data["checkpoint_gib"] < 10  # the checkpoint on disk is quantized too
    args = data["vllm_args"]
    assert args[args.index("--quantization") + 1] == method_arg


def test_no_override_without_a_name_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "plan",
                "--gpu",
                "L4",
                "--model",
                _config(tmp_path, "plain-8b"),
                "--quantization",
                "awq",
                "--json",
            ]
        )
        == 1
    )
    [err] = json.loads(capsys.readouterr().out)["errors"]
    assert err["code"] == "quantization_needs_checkpoint"
