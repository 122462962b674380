"""Project resolution: the nearest Pulumi.yaml and its stackConfigDir, never the install."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmpod.cli.main import main
from llmpod.environments.stack_files import stack_file
from llmpod.errors import LlmpodError
from llmpod.project import find_project

REPO = Path(__file__).resolve().parents[2]
STACK = """config:
  llmpod:environment: {env}
  llmpod:services:
    - name: {name}
      model: Qwen/Qwen2.5-7B-Instruct
      max_model_len: 2048
      gpus:
        types: [L4]
"""


def _project(root: Path, *, config_dir: str | None = "stacks", name: str = "own") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    line = f"stackConfigDir: {config_dir}\n" if config_dir else ""
    (root / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n{line}")
    stacks = root / (config_dir or ".")
    stacks.mkdir(parents=True, exist_ok=True)
    (stacks / "Pulumi.dev.yaml").write_text(STACK.format(env="dev", name=f"{name}-svc"))
    return root


def test_nearest_pulumi_yaml_above_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path / "repo")
    (root / "deep" / "er").mkdir(parents=True)
    monkeypatch.chdir(root / "deep" / "er")
    project = find_project()
    assert project.file == root.resolve() / "Pulumi.yaml"
    assert project.stacks_dir == root.resolve() / "stacks"
    assert stack_file("dev") == root.resolve() / "stacks" / "Pulumi.dev.yaml"


def test_stack_config_dir_defaults_to_the_project_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path / "flat", config_dir=None)
    monkeypatch.chdir(root)
    assert find_project().stacks_dir == root.resolve()


def test_a_second_clone_reads_its_own_stacks_not_the_installed_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The finding: stacks came from Path(__file__).parents[2], i.e. the first clone.
    other = _project(tmp_path / "clone2", name="clone")
    monkeypatch.chdir(other)
    assert main(["render", "dev"]) == 0
    out = capsys.readouterr()
    assert f"stack: {other.resolve() / 'stacks' / 'Pulumi.dev.yaml'}" in out.err
    assert (other / "build" / "dev" / "clone-svc").is_dir()
    assert not (REPO / "build" / "dev" / "clone-svc").exists()


def test_dash_c_runs_in_another_directory_before_or_after_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = _project(tmp_path / "elsewhere", name="there")
    for argv in (["-C", str(other), "render", "dev"], ["render", "dev", "--cwd", str(other)]):
        assert main(argv) == 0
        assert str(other.resolve() / "stacks" / "Pulumi.dev.yaml") in capsys.readouterr().err
    assert (other / "build" / "dev" / "there-svc").is_dir()


def test_no_project_says_how_to_start_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    monkeypatch.chdir(bare)
    with pytest.raises(LlmpodError, match=r"No Pulumi\.yaml in .*bare or any directory above"):
        find_project()
    assert main(["render", "dev"]) == 1
    err = capsys.readouterr().err
    assert "llmpod init ." in err and "-C DIR" in err and "Traceback" not in err


def test_dash_c_to_a_missing_directory_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "-C",
                str(tmp_path / "nope"),
                "render",
                "dev",
            ]
        )
        == 1
    )
    assert "is not a directory" in capsys.readouterr().err


def test_bad_stack_config_dir_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: x\nstackConfigDir: [a, b]\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LlmpodError, match="stackConfigDir must be a path"):
        find_project()


def test_diff_and_promote_use_the_projects_stacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path / "p")
    text = (root / "stacks" / "Pulumi.dev.yaml").read_text()
    (root / "stacks" / "Pulumi.staging.yaml").write_text(
        text.replace("env: dev", "x").replace("environment: dev", "environment: staging")
    )
    monkeypatch.chdir(root)
    assert main(["diff", "dev", "staging"]) == 0
    assert main(["promote", "dev", "staging", "--dry-run"]) == 0
    err = capsys.readouterr().err
    assert str(root.resolve() / "stacks" / "Pulumi.staging.yaml") in err


def test_preflight_json_names_the_stack_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path / "p")
    monkeypatch.chdir(root)
    assert main(["preflight", "dev", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["stack_file"] == str(root.resolve() / "stacks" / "Pulumi.dev.yaml")


def test_a_broken_pulumi_yaml_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: [unclosed\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LlmpodError, match=r"Pulumi\.yaml is not valid YAML"):
        find_project()
