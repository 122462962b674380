"""The real Pulumi engine for tests: toolchain build, isolated state, a driver call."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = REPO / "scripts" / "install_pulumi_toolchain.sh"
DRIVER = Path(__file__).with_name("drive_pulumi.py")
#: A fresh copy of the project: Pulumi.yaml, its stack files, and its `main:` (the CLI
#: checks that the directory exists, even for an inline program).
PROJECT_FILES = ("Pulumi.yaml", "stacks", "infra")
ENGINE_TOOLS = ("pulumi", "pulumi-resource-kubernetes")


def build_tools(tools: Sequence[str]) -> Path:
    """Run the toolchain script for ``tools``; the directory that holds them."""
    proc = subprocess.run(
        ["bash", str(INSTALL_SCRIPT), *tools],
        capture_output=True,
        text=True,
        # A cold build of everything is ~30 min on 2 cores; CI's limit is 90.
        timeout=3600,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"scripts/install_pulumi_toolchain.sh {' '.join(tools)} failed "
            f"(exit {proc.returncode}):\n{proc.stderr[-4000:]}"
        )
    bin_dir = Path(proc.stdout.strip().splitlines()[-1])
    for tool in tools:
        assert (bin_dir / tool).is_file(), f"{tool} missing from {bin_dir}"
    return bin_dir


@dataclass(frozen=True)
class Engine:
    """One isolated Pulumi installation state: its home, backend and environment."""

    bin_dir: Path
    env: dict[str, str]

    def drive(
        self,
        work_dir: Path,
        stack: str,
        *steps: str,
        python: str | Path = sys.executable,
        extra_env: dict[str, str] | None = None,
        timeout: float = 900,
    ) -> dict[str, Any]:
        """Run ``steps`` on ``stack`` in ``work_dir`` through drive_pulumi.py."""
        proc = subprocess.run(
            [
                str(python),
                str(DRIVER),
                "--work-dir",
                str(work_dir),
                "--stack",
                stack,
                "--pulumi-root",
                str(self.bin_dir.parent),
                *steps,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=work_dir,
            env={**self.env, **(extra_env or {})},
            check=False,
        )
        assert proc.returncode == 0, f"driver failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
        report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        return report


def engine_env(bin_dir: Path, state: Path, python: str | Path = sys.executable) -> dict[str, str]:
    home, backend = state / "pulumi-home", state / "backend"
    home.mkdir(parents=True, exist_ok=True)
    backend.mkdir(parents=True, exist_ok=True)
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "KUBE"))}
    return {
        **keep,
        "PATH": f"{bin_dir}{os.pathsep}{Path(python).parent}{os.pathsep}{keep.get('PATH', '')}",
        "PULUMI_HOME": str(home),
        "PULUMI_BACKEND_URL": f"file://{backend}",
        "PULUMI_CONFIG_PASSPHRASE": "llmpod-tests",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        # No cluster unless a test passes KUBECONFIG: the provider previews without one.
        # HOME too, so neither ~/.kube/config nor ~/.pulumi of the machine is read.
        "HOME": str(state),
        "LLMPOD_SKIP_AWS_PREFLIGHT": "1",
    }


def copy_project(dest: Path, source: Path = REPO) -> Path:
    """A fresh copy of a project's Pulumi.yaml and stacks/ (stack init writes an
    encryption salt into the stack file, so never run in the checkout itself)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        path = source / name
        if path.is_dir():
            shutil.copytree(path, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, dest / name)
    return dest


def step(report: dict[str, Any], name: str) -> dict[str, Any]:
    """The named step of a driver report, failing with the CLI's own error if it failed."""
    for entry in report["steps"]:
        if entry["step"] == name:
            assert entry["ok"], f"pulumi {name} failed:\n{entry.get('error', '')}"
            found: dict[str, Any] = entry
            return found
    done = [e["step"] for e in report["steps"]]
    failed = [e for e in report["steps"] if not e["ok"]]
    detail = failed[0].get("error", "") if failed else ""
    raise AssertionError(f"step {name!r} did not run (ran {done}):\n{detail}")
