"""Fixtures shared by the unit and real-engine tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: What the sdist/wheel build reads; copied so the build never writes into the checkout.
SOURCES = ("pyproject.toml", "setup.py", "README.md", "infra", "templates")


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        argv, cwd=cwd, env=env, text=True, capture_output=True, check=False, timeout=300
    )
    assert result.returncode == 0, f"{argv}: {result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    src.mkdir()
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    # Neither this checkout nor its editable install may leak into the venv.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            ".",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(root / "dist"),
        ],
        src,
        env,
    )
    [wheel] = sorted((root / "dist").glob("llmpod-*.whl"))
    venv = root / "venv"
    _run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
        root,
        env,
    )
    python = venv / "bin" / "python"
    if sys.prefix != sys.base_prefix:
        # The tests run in a venv: --system-site-packages lends the base
        # interpreter's packages, not this venv's. List its site-packages after
        # the new venv's own (a path in a .pth is appended, and the .pth files in
        # it, such as the editable install's finder, are not run).
        own = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
            env=env,
        ).stdout.strip()
        lent = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
        (Path(own) / "test-environment.pth").write_text("".join(f"{p}\n" for p in lent))
    _run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        root,
        env,
    )
    return venv, env
