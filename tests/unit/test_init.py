"""`llmpod init DIR`: a project that renders at once, written whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmpod.cli.main import main
from llmpod.errors import LlmpodError
from llmpod.scaffold.install import InstallSource
from llmpod.scaffold.project import project_name, scaffold_files

FILES = {
    "Pulumi.yaml",
    "program/__main__.py",
    "stacks/Pulumi.dev.yaml",
    "stacks/Pulumi.staging.yaml",
    "stacks/Pulumi.production.yaml",
    ".github/workflows/llmpod-pr.yml",
    ".github/workflows/llmpod-promote.yml",
    ".llmpod/requirements.txt",
}


def _tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_init_writes_a_project_that_renders_and_passes_the_promotion_guard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "team-llm"
    assert main(["init", str(project)]) == 0
    assert _tree(project) == FILES
    pulumi_yaml = (project / "Pulumi.yaml").read_text()
    assert "name: team-llm\n" in pulumi_yaml and "stackConfigDir: stacks\n" in pulumi_yaml
    assert "@" not in pulumi_yaml.replace("@LLMPOD", "")  # placeholders filled
    for workflow in ("llmpod-pr.yml", "llmpod-promote.yml"):
        text = (project / ".github/workflows" / workflow).read_text()
        assert "python -m pip install -r .llmpod/requirements.txt\n" in text
    for stack in ("dev", "staging", "production"):
        assert main(["-C", str(project), "render", stack]) == 0
    dev_report = json.loads((project / "build/dev/policy-report.json").read_text())
    assert dev_report == {"violations": []}
    # production was promoted from staging once, so the CI guard passes at once.
    assert main(["-C", str(project), "promote", "staging", "production", "--check"]) == 0


def test_init_refuses_to_overwrite_and_lists_what_exists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text("mine\n")
    (tmp_path / "Pulumi.yaml").write_text("name: mine\n")
    assert main(["init", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "2 path(s) are in the way: Pulumi.yaml exists; stacks/Pulumi.dev.yaml exists" in err
    assert "Nothing was written" in err
    assert (tmp_path / "stacks" / "Pulumi.dev.yaml").read_text() == "mine\n"
    assert _tree(tmp_path) == {"Pulumi.yaml", "stacks/Pulumi.dev.yaml"}


def test_init_into_an_existing_repository_keeps_its_files(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("ours\n")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    assert main(["init", str(tmp_path), "--name", "svc.llm"]) == 0
    assert (tmp_path / "README.md").read_text() == "ours\n"
    assert (tmp_path / ".github" / "workflows" / "ci.yml").is_file()
    assert "name: svc.llm\n" in (tmp_path / "Pulumi.yaml").read_text()


def test_project_names_follow_pulumis_rule(tmp_path: Path) -> None:
    assert project_name(tmp_path / "My Repo!") == "My-Repo"
    with pytest.raises(LlmpodError, match=r"--name 'a b' is not a Pulumi project name"):
        project_name(tmp_path, "a b")


def test_scaffolded_program_runs_llmpods_program() -> None:
    files = scaffold_files("x", "0.1.0", InstallSource("llmpod @ git+https://x/llmpod@abc1234"))
    assert isinstance(files["program/__main__.py"], str)
    assert 'runpy.run_module("llmpod", run_name="__main__")' in files["program/__main__.py"]
    compile(files["program/__main__.py"], "program/__main__.py", "exec")


def test_missing_templates_are_a_broken_install_not_a_jinja_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llmpod.package_data as data

    monkeypatch.setattr(data, "_CANDIDATES", (tmp_path / "a", tmp_path / "b"))
    data.templates_dir.cache_clear()
    try:
        with pytest.raises(LlmpodError, match=r"llmpod's templates are missing: looked in "):
            data.templates_dir()
    finally:
        data.templates_dir.cache_clear()


@pytest.mark.parametrize(
    ("case", "says"),
    [
        ("dangling symlink", "stacks/Pulumi.staging.yaml exists"),
        ("a file named stacks", "stacks is not a folder"),
        ("a file named .github", ".github is not a folder"),
        ("a symlink loop", "stacks is not a folder"),
    ],
)
def test_init_writes_nothing_when_anything_is_in_the_way(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, says: str
) -> None:
    # Before: each of these wrote 6 files and then said "Nothing else was changed"
    # (or, for the loop, "internal error").
    target = tmp_path / "p"
    target.mkdir()
    if case == "dangling symlink":
        (target / "stacks").mkdir()
        (target / "stacks" / "Pulumi.staging.yaml").symlink_to(tmp_path / "gone")
    elif case == "a file named stacks":
        (target / "stacks").write_text("not a folder\n")
    elif case == "a file named .github":
        (target / ".github").write_text("not a folder\n")
    else:
        (target / "stacks").symlink_to(target / "stacks")
    before = (
        {p.relative_to(target) for p in target.rglob("*")} if case != "a symlink loop" else None
    )
    assert main(["init", str(target)]) == 1
    err = capsys.readouterr().err
    assert says in err and "Nothing was written" in err and "internal error" not in err
    assert not (target / "Pulumi.yaml").exists()
    if before is not None:
        assert {p.relative_to(target) for p in target.rglob("*")} == before


def test_init_undoes_what_it_began_when_a_write_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    if os.geteuid() == 0:
        # root writes into read-only folders: make a write fail the way a full disk would.
        from unittest import mock

        real_open = open
        calls = {"n": 0}

        def failing_open(file: object, mode: str = "r", *args: object, **kwargs: object) -> object:
            if mode == "xb":
                calls["n"] += 1
                if calls["n"] == 4:
                    raise OSError(28, "No space left on device", str(file))
            return real_open(file, mode, *args, **kwargs)  # type: ignore[call-overload]

        with mock.patch("builtins.open", failing_open):
            assert main(["init", str(tmp_path / "p")]) == 1
    else:
        (tmp_path / "p" / "stacks").mkdir(parents=True)
        (tmp_path / "p" / "stacks").chmod(0o555)
        assert main(["init", str(tmp_path / "p")]) == 1
    err = capsys.readouterr().err
    assert "Nothing was written" in err
    left = [p for p in (tmp_path / "p").rglob("*") if p.is_file()]
    assert left == []
