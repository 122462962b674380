"""The workflows `llmpod init` writes, run step by step (issue 20, item 4).

Before: docs/environments.md promised five workflows (PR preview, staging and
production deploys, promotion) and `init` wrote two, whose commands no test ran.
Now the docs describe the two that are written, and here every `run:` step of both
runs in bash (as GitHub runs it: `bash -e -o pipefail`) inside a real git
repository holding a project `init` made. The pip step is the one exception: it
installs from `.llmpod/requirements.txt`, which tests/unit/test_wheel_install.py
runs with a real wheel. `gh pr create` needs GitHub, so a recorder stands in for
`gh`; the `git push` before it goes to a local bare repository.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmpod.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "environments.md"
PIP_STEP = "python -m pip install -r .llmpod/requirements.txt"
GIT = shutil.which("git")
BASH = shutil.which("bash")


def _git(repo: Path, *args: str) -> str:
    assert GIT, "git is needed to run the generated workflows"
    result = subprocess.run(
        [GIT, "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def _project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    repo = tmp_path / "repo"
    assert main(["init", str(repo)]) == 0
    capsys.readouterr()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "init")
    return repo


def _steps(workflow: str) -> list[dict[str, Any]]:
    doc = YAML(typ="safe").load(
        (ROOT / "infra/llmpod/scaffold/files/github/workflows" / workflow).read_text()
    )
    [job] = doc["jobs"].values()
    steps: list[dict[str, Any]] = job["steps"]
    return steps


def _expr(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", lambda m: values[m.group(1)], text)


def _run_steps(
    workflow: str, repo: Path, values: dict[str, str], extra_path: Path | None = None
) -> list[subprocess.CompletedProcess[str]]:
    """Every run: step but the pip install, in order; stops at the first failure."""
    assert BASH, "bash is needed to run the generated workflows"
    env = {
        **os.environ,
        # The recorder (if any), then the test environment's llmpod (the checkout under test).
        "PATH": os.pathsep.join(
            [
                *([str(extra_path)] if extra_path else []),
                str(Path(sys.executable).parent),
                os.environ.get("PATH", ""),
            ]
        ),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    results = []
    for step in _steps(workflow):
        script = step.get("run")
        if script is None:
            continue
        if script.strip() == PIP_STEP:
            continue  # tests/unit/test_wheel_install.py runs it with a real wheel
        step_env = {k: _expr(str(v), values) for k, v in (step.get("env") or {}).items()}
        result = subprocess.run(
            [BASH, "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", _expr(script, values)],
            cwd=repo,
            env={**env, **step_env},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        results.append(result)
        if result.returncode != 0:
            break
    return results


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_docs_describe_the_workflows_init_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _project(tmp_path, capsys)
    written = sorted(p.name for p in (repo / ".github" / "workflows").iterdir())
    section = DOCS.read_text().split("## CI in your project", 1)[1].split("\n## ", 1)[0]
    documented = sorted(set(re.findall(r"^\| `([\w.-]+\.yml)` \|", section, re.M)))
    assert documented == written == ["llmpod-pr.yml", "llmpod-promote.yml"]
    for workflow in written:
        pip = [s["run"].strip() for s in _steps(workflow) if "pip install" in s.get("run", "")]
        assert pip == [PIP_STEP]


def test_pr_workflow_runs_and_its_guard_catches_a_hand_edit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _project(tmp_path, capsys)
    base = _git(repo, "rev-parse", "HEAD")
    summary = tmp_path / "summary.md"
    values = {"github.event.pull_request.base.sha": base}
    # A PR that changes staging and promotes it, as the docs say production changes.
    _edit(repo / "stacks/Pulumi.staging.yaml", "max_model_len: 16384", "max_model_len: 8192")
    assert main(["-C", str(repo), "promote", "staging", "production", "--yes"]) == 0
    _git(repo, "commit", "-q", "-am", "staging: 8k context, promoted")
    os.environ["GITHUB_STEP_SUMMARY"] = str(summary)
    try:
        results = _run_steps("llmpod-pr.yml", repo, values)
        assert [r.returncode for r in results] == [0, 0, 0], [r.stderr for r in results]
        for stack in ("dev", "staging", "production"):
            assert (repo / "build" / stack / "policy-report.json").is_file()
        assert "| " in summary.read_text()  # the markdown plan diff
        # A hand edit of production's promotable values: the guard fails the PR.
        _edit(repo / "stacks/Pulumi.production.yaml", "max_model_len: 8192", "max_model_len: 4096")
        _git(repo, "commit", "-q", "-am", "hand edit")
        results = _run_steps("llmpod-pr.yml", repo, values)
    finally:
        del os.environ["GITHUB_STEP_SUMMARY"]
    # promote --check refuses (exit 1) and names the hand edit: the check fails.
    assert [r.returncode for r in results] == [0, 0, 1], results[-1].stderr
    assert "was edited by hand since its last promotion" in results[-1].stderr
    assert "chat.max_model_len is 4096 in the target" in results[-1].stderr


def test_promote_workflow_pushes_a_branch_and_opens_a_pr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _project(tmp_path, capsys)
    origin = tmp_path / "origin.git"
    subprocess.run([GIT or "git", "init", "-q", "--bare", str(origin)], check=True, timeout=60)
    _git(repo, "remote", "add", "origin", str(origin))
    _git(repo, "push", "-q", "origin", "main")
    recorder = tmp_path / "bin"
    recorder.mkdir()
    calls = tmp_path / "gh-calls"
    gh = recorder / "gh"
    # Records the arguments and the PR body it was given; GitHub is not reachable here.
    gh.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$*" >> {calls}\n'
        f'[ -n "$GH_TOKEN" ] || exit 4\ncp promotion.md {tmp_path}/body.md\n'
    )
    gh.chmod(0o755)
    values = {"secrets.GITHUB_TOKEN": "test-token"}
    # Nothing to promote yet: the workflow says so and stops.
    [result] = _run_steps("llmpod-promote.yml", repo, values, recorder)
    assert result.returncode == 0 and "production already holds staging's spec" in result.stdout
    assert not calls.exists()
    _edit(repo / "stacks/Pulumi.staging.yaml", "max_model_len: 16384", "max_model_len: 8192")
    _git(repo, "commit", "-q", "-am", "staging: 8k context")
    [result] = _run_steps("llmpod-promote.yml", repo, values, recorder)
    assert result.returncode == 0, result.stderr
    branches = _git(origin, "branch", "--list", "promote-staging-*").split()
    assert len(branches) == 1
    pushed = _git(origin, "show", f"{branches[0]}:stacks/Pulumi.production.yaml")
    assert "max_model_len: 8192" in pushed
    assert calls.read_text().splitlines() == [
        "pr create --title Promote staging to production --body-file promotion.md"
    ]
    assert "max_model_len" in (tmp_path / "body.md").read_text()
