"""How the CI `llmpod init` writes installs llmpod (issue 20, item 2).

Before: README, both workflows and Pulumi.yaml said `pip install llmpod==0.1.0`,
and no such release exists. Now CI installs from `.llmpod/requirements.txt`: the git
URL and commit this llmpod came from, or its wheel copied into the project. The
wheel path end to end (build, install, init, install again from the project) is
tests/unit/test_wheel_install.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from llmpod.cli.main import main, version
from llmpod.errors import LlmpodError
from llmpod.scaffold import install
from llmpod.scaffold.install import detect_source, explicit_source

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _installed_as(monkeypatch: pytest.MonkeyPatch, direct_url: dict[str, object] | None) -> None:
    # PEP 610's direct_url.json as pip writes it for each kind of install.
    monkeypatch.setattr(install, "_direct_url", lambda: direct_url)


def test_a_git_install_is_repeated_at_its_commit_without_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _installed_as(
        monkeypatch,
        {
            "url": "https://user:token@github.com/acme/llmpod.git",
            "vcs_info": {"vcs": "git", "commit_id": COMMIT, "requested_revision": "main"},
        },
    )
    source = detect_source("0.1.0")
    assert source.requirement == f"llmpod @ git+https://github.com/acme/llmpod.git@{COMMIT}"
    assert source.wheel is None and source.note is None


def test_a_wheel_install_copies_the_wheel_into_the_project(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = tmp_path / "dist" / "llmpod-0.1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    wheel.write_bytes(b"PK\x03\x04 stand-in bytes, copied verbatim")
    _installed_as(
        monkeypatch, {"url": wheel.as_uri(), "archive_info": {"hashes": {"sha256": "0" * 64}}}
    )
    project = tmp_path / "proj"
    assert main(["init", str(project)]) == 0
    assert "CI installs llmpod from .llmpod/requirements.txt" in capsys.readouterr().err
    copied = project / ".llmpod" / wheel.name
    assert copied.read_bytes() == wheel.read_bytes()
    lines = (project / ".llmpod" / "requirements.txt").read_text().splitlines()
    assert [ln for ln in lines if not ln.startswith("#")] == [f"./.llmpod/{wheel.name}"]


def test_an_editable_install_says_where_ci_needs_the_wheel(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _installed_as(monkeypatch, {"url": "file:///src/llmpod", "dir_info": {"editable": True}})
    assert main(["init", str(tmp_path / "p")]) == 0
    err = capsys.readouterr().err
    assert "note: this llmpod was not installed from a wheel file or a git URL" in err
    assert "python -m pip wheel --no-deps -w dist ." in err
    requirement = f"./.llmpod/llmpod-{version()}-py3-none-any.whl"
    assert (tmp_path / "p/.llmpod/requirements.txt").read_text().endswith(requirement + "\n")
    assert "put the wheel (`python -m pip wheel --no-deps -w dist .` in" in err


def test_install_flag_is_one_requirement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = f"llmpod @ git+https://git.example.com/me/llmpod@{COMMIT}"
    assert main(["init", str(tmp_path / "p"), "--install", spec]) == 0
    assert (tmp_path / "p/.llmpod/requirements.txt").read_text().endswith(spec + "\n")
    for bad in ("--index-url=https://evil.example/simple", "llmpod\n--pre", ""):
        with pytest.raises(LlmpodError, match="is not one pip requirement"):
            explicit_source(bad)


def test_no_generated_file_names_an_unpublished_release(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path / "p")]) == 0
    for path in (tmp_path / "p").rglob("*"):
        if path.is_file() and path.suffix != ".whl":
            text = path.read_text()
            assert "llmpod==" not in text and "pypi.org/project/llmpod" not in text, path
    # README documents the same two ways, and never a release that does not exist.
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert "pip install llmpod " not in readme and "llmpod==" not in readme
    assert "python -m pip wheel --no-deps -w dist ." in readme
    assert "git+https://" in readme
