"""`llmpod render`: the real Pulumi program under the mock engine, written as files."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from llmpod.cli.main import main
from llmpod.render.api import render_stack

STACKS = ["dev", "staging", "production"]


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_two_renders_are_byte_identical(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["render", "production", "--out", str(tmp_path / "a")]) == 0
    assert main(["render", "production", "--out", str(tmp_path / "b")]) == 0
    first, second = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert first == second and len(first) > 10
    out = capsys.readouterr().out
    assert "deepseek-v3: kubernetes, TP 8 × PP 2 (16 GPUs over 2 nodes) on H100" in out
    assert "$110.08/h" in out  # 16 H100 × $6.88 (catalog price, p5.48xlarge ÷ 8)


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_renders_one_file_per_object(stack: str) -> None:
    result = render_stack(stack)
    for path, text in result.files.items():
        service, name = path.split("/")
        # Stack-level objects (the Namespaces a stack creates) have a folder of their own.
        assert service in {s.name for s in result.services} | {"namespaces"}
        if name.endswith("-resources.json") or name.startswith("user-data"):
            continue  # another provider's resources (AWS backend), checked below
        kind = text.split("\nkind: ", 1)[1].split("\n", 1)[0]
        assert name.startswith(kind.lower() + "-")
    for svc in result.services:
        if svc.backend == "aws":  # generic capture of non-Kubernetes resources
            assert f"{svc.name}/aws-resources.json" in result.files
            assert result.files[f"{svc.name}/user-data.yaml"].startswith("#cloud-config")


def test_render_writes_the_objects_the_program_registered() -> None:
    files = render_stack("production").files
    dep = files["llama-70b/deployment-llama-70b.yaml"]
    assert "nvidia.com/gpu: '2'" in dep  # TP 2 on H200, from the plan
    assert "replicas:" not in dep.split("template:")[0]  # autoscaled: KEDA owns the count
    assert "leaderworkerset.x-k8s.io/v1" in files["deepseek-v3/leaderworkerset-deepseek-v3.yaml"]
    assert "size: 2" in files["deepseek-v3/leaderworkerset-deepseek-v3.yaml"]


def test_render_replaces_the_output_directory_atomically(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / ".llmpod-render").write_text("a previous render\n")  # ours to replace
    (out / "stale.yaml").write_text("old")
    assert main(["render", "dev", "--out", str(out)]) == 0
    assert not (out / "stale.yaml").exists()
    assert (out / "qwen-7b" / "deployment-qwen-7b.yaml").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


DEV = Path(__file__).resolve().parents[2] / "stacks" / "Pulumi.dev.yaml"


def _bad_stack(tmp_path: Path, old: str, new: str) -> Path:
    text = DEV.read_text()
    assert old in text
    (tmp_path / "Pulumi.bad.yaml").write_text(text.replace(old, new))
    return tmp_path


@pytest.mark.parametrize(
    ("old", "new", "code", "message"),
    [
        (
            "      targets:",
            "      tagets:",
            1,
            r"services\[0\]\.tagets: unknown key 'tagets'.*"
            r"Did you mean 'targets'",
        ),
        (
            "        storage_class: standard-rwx",
            "        size_gib: -5",
            1,
            r"services\[0\]\.weights\.size_gib: Input should be greater than 0 \(got -5\)",
        ),
        (
            "      max_model_len: 16384",
            "      max_model_len: 16384\n      dtype: float32\n      model_unused: 1",
            1,
            "unknown key 'model_unused'",
        ),
        (
            "model: Qwen/Qwen2.5-7B-Instruct",
            "model: meta-llama/Llama-3.1-405B-Instruct",
            2,
            "service 'qwen-7b': meta-llama/Llama-3.1-405B-Instruct does not fit",
        ),
    ],
)
def test_bad_stack_fails_with_the_spec_error_and_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, code: int, message: str
) -> None:
    stacks = _bad_stack(tmp_path, old, new)
    out = tmp_path / "rendered"
    rc = main(["render", "bad", "--stacks-dir", str(stacks), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == code
    assert err.startswith("error: ") and "Traceback" not in err
    assert re.search(message, err), err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Pulumi.bad.yaml"]


def test_unknown_stack_names_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "prod"]) == 1
    assert "Did you mean 'production'" in capsys.readouterr().err


def test_infeasible_plan_is_rejected_before_any_resource_is_registered(tmp_path: Path) -> None:
    from llmpod.errors import LlmpodError
    from llmpod.program import run_program
    from llmpod.render.mock_engine import run_under_mocks

    config = {
        "llmpod:environment": "dev",
        "llmpod:services": [
            {
                "name": "huge",
                "model": "meta-llama/Llama-3.1-405B-Instruct",
                "gpus": {"types": ["L4"], "max_per_replica": 1, "max_nodes": 1},
            }
        ],
    }
    seen: list[object] = []

    def program() -> object:
        try:
            return run_program()
        finally:
            seen.append(True)

    with pytest.raises(LlmpodError, match="does not fit"):
        run_under_mocks(program, config, project="llmpod", stack="bad")
    assert seen  # the program did run...
    # ...and a following good render in the same process still works and sees
    # only its own resources (the mock runtime's global state was reset).
    good = {
        "llmpod:environment": "dev",
        "llmpod:services": [
            {
                "name": "ok",
                "model": "Qwen/Qwen2.5-7B-Instruct",
                "max_model_len": 4096,
                "gpus": {"types": ["L4"]},
            }
        ],
    }
    plans, regs = run_under_mocks(run_program, good, project="llmpod", stack="good")
    assert [p.name for p in plans] == ["ok"]
    assert {r.name for r in regs if r.type == "llmpod:kubernetes:VllmService"} == {"ok"}
