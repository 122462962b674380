"""`llmpod plan`: the JSON contract, exit codes and every bad-input message."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from llmpod.cli.main import main

CONTRACT_KEYS = {
    "feasible",
    "gpu",
    "tensor_parallel_size",
    "pipeline_parallel_size",
    "replicas",
    "gpus_per_replica",
    "per_gpu",
    "kv_cache_tokens",
    "max_concurrency",
    "vllm_args",
    "estimates",
    "reasons",
    "errors",
}
PER_GPU_KEYS = {
    "total_gib",
    "weights_gib",
    "activation_gib",
    "non_torch_gib",
    "cuda_graph_gib",
    "kv_cache_gib",
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    code = main(["plan", *argv])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip().startswith("{") else {}), err


def test_feasible_plan_honours_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = run(
        capsys, "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100", "--json"
    )
    assert code == 0 and data["feasible"] is True
    assert data.keys() >= CONTRACT_KEYS and data["per_gpu"].keys() >= PER_GPU_KEYS
    assert set(data["estimates"]["decode_tokens_per_s"]) == {"1", "8", "32", "128"}
    assert data["estimates"]["ttft_s_512"] > 0
    assert all(isinstance(a, str) for a in data["vllm_args"])
    # Budget identity: what the KV cache gets is what the other terms leave.
    g = data["per_gpu"]
    rest = (
        g["requested_gib"]
        - g["weights_gib"]
        - g["activation_gib"]
        - g["non_torch_gib"]
        - g["cuda_graph_gib"]
    )
    assert g["kv_cache_gib"] == pytest.approx(rest, abs=0.02)
    # Llama-3.1 derives 131072 tokens of context; vLLM 0.32 defaults util to 0.92.
    args = data["vllm_args"]
    assert args[args.index("--max-model-len") + 1] == "131072"
    assert args[args.index("--gpu-memory-utilization") + 1] == "0.92"


def test_gpu_names_are_case_insensitive(capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("h100", "H100", "a100-80gb", "rtx-4090", "mi300x", "H100-PCIE"):
        code, _data, _ = run(
            capsys, "--model", "llama-3.1-8b", "--gpu", name, "--json", "--max-model-len", "8192"
        )
        assert code == 0, name


def test_context_that_does_not_fit_exits_2_with_longest_len(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, data, _ = run(
        capsys,
        "--model",
        "meta-llama/Llama-3.1-70B-Instruct",
        "--gpu",
        "A100-80GB",
        "--tp",
        "2",
        "--json",
    )
    assert code == 2 and data["feasible"] is False
    err = data["errors"][0]
    assert err["code"] == "context_does_not_fit"
    tip = next(s for s in err["suggestions"] if "--max-model-len" in s)
    longest = int(tip.split("--max-model-len ")[1].split()[0])
    assert 0 < longest < 131072
    # Taking the suggestion really fits.
    code2, data2, _ = run(
        capsys,
        "--model",
        "meta-llama/Llama-3.1-70B-Instruct",
        "--gpu",
        "A100-80GB",
        "--tp",
        "2",
        "--max-model-len",
        str(longest),
        "--json",
    )
    assert code2 == 0 and data2["kv_cache_tokens"] >= longest


def test_model_too_big_for_the_gpu_suggests_ways_out(capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = run(
        capsys,
        "--model",
        "meta-llama/Llama-3.1-70B-Instruct",
        "--gpu",
        "L4",
        "--max-gpus",
        "1",
        "--max-model-len",
        "8192",
        "--json",
    )
    assert code == 2
    err = data["errors"][0]
    assert err["code"] == "weights_do_not_fit"
    joined = " ".join(err["suggestions"])
    # 131 GiB of bf16 weights: one B200 or MI300X holds them, as do 8 L4s; fp8 weights
    # (67 GiB) still do not fit one 22 GiB L4, so that way out is not offered.
    assert "larger GPUs" in joined and ("MI300X" in joined or "B200" in joined)
    assert "another node" in joined and "L4 (TP 8" in joined
    assert "fp8 weights" not in joined


def test_tp_vllm_would_reject(capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = run(
        capsys, "--model", "Qwen/Qwen2.5-7B-Instruct", "--gpu", "H100", "--tp", "8", "--json"
    )
    assert code == 1
    err = data["errors"][0]
    assert err["code"] == "invalid_tensor_parallel_size"
    assert "28 attention heads" in err["message"] and "--tensor-parallel-size 8" in err["message"]
    assert any("[1, 2, 4" in s for s in err["suggestions"])


def test_context_longer_than_the_model_supports(capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = run(
        capsys,
        "--model",
        "Qwen/Qwen2.5-7B-Instruct",
        "--gpu",
        "H100",
        "--max-model-len",
        "200000",
        "--json",
    )
    assert code == 1
    assert data["errors"][0]["code"] == "context_too_long"
    assert "32768" in data["errors"][0]["message"]


def test_gpu_typo(capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = run(capsys, "--model", "llama-3.1-8b", "--gpu", "H10O", "--json")
    assert code == 1 and "Did you mean 'H100'" in data["errors"][0]["message"]


def test_unknown_model(capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = run(
        capsys, "--model", "meta-llama/Llama-3.1-8B-Instruc", "--gpu", "H100", "--json"
    )
    assert code == 1
    assert data["errors"][0]["code"] == "unknown_model"
    assert "Llama-3.1-8B-Instruct" in data["errors"][0]["message"]


def test_malformed_config_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "config.json"
    bad.write_text('{"num_hidden_layers": 32,\n "hidden_size": }')
    code, data, _ = run(capsys, "--model", str(bad), "--gpu", "H100", "--json")
    assert code == 1 and data["errors"][0]["code"] == "model_config_invalid"
    assert "line 2" in data["errors"][0]["message"]


def test_config_missing_a_required_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "config.json"
    cfg.write_text(
        json.dumps(
            {
                "architectures": ["LlamaForCausalLM"],
                "hidden_size": 4096,
                "num_attention_heads": 32,
                "vocab_size": 32000,
            }
        )
    )
    code, data, _ = run(capsys, "--model", str(cfg), "--gpu", "H100", "--json")
    assert code == 1 and "num_hidden_layers" in data["errors"][0]["message"]


def test_human_output_has_no_traceback_on_bad_input() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "llmpod.cli.main",
            "plan",
            "--model",
            "llama-3.1-8b",
            "--gpu",
            "H10O",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "Unknown GPU 'H10O'" in proc.stderr


def test_human_output_renders(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["plan", "--model", "llama-3.1-8b", "--gpu", "L4", "--max-model-len", "8192"])
    out = capsys.readouterr().out
    assert code == 0 and "KV cache" in out and "vllm" in out.lower()


def test_plan_command_does_not_import_heavy_modules() -> None:
    # The CLI's cold start depends on this: pulumi, boto3 and rich are only
    # imported by the commands that need them.
    code = (
        "import sys; from llmpod.cli.main import main; import io, contextlib;"
        "buf = io.StringIO();\n"
        "with contextlib.redirect_stdout(buf): main(['plan','--model','llama-3.1-8b',"
        "'--gpu','H100','--json'])\n"
        "print(sorted(m for m in ('pulumi','boto3','rich','pulumi_kubernetes','pulumi_aws',"
        "'huggingface_hub') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
