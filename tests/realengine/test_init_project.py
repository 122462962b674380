"""The README's Pulumi steps in a project made by `llmpod init` from the built wheel,
in a directory outside this repository, with the wheel's llmpod (not the checkout's)
running the program on the real CLI and provider."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .engine import Engine, engine_env, step
from .manifests import objects_in_dir

pytestmark = pytest.mark.packaging


def test_a_project_made_by_llmpod_init_goes_up_and_down_on_the_real_engine(
    engine_bin: Path, installed_wheel: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    venv, wheel_env = installed_wheel
    python = venv / "bin" / "python"
    init = subprocess.run(
        [str(venv / "bin" / "llmpod"), "init", "my-llm"],
        cwd=tmp_path,
        env=wheel_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    project = tmp_path / "my-llm"
    # The wheel's environment (no checkout on PYTHONPATH), with the engine's settings.
    env = {**wheel_env, **engine_env(engine_bin, tmp_path / "engine-state", python)}
    engine = Engine(engine_bin, env)

    report = engine.drive(
        project, "dev", "select", "preview", "up", "preview-no-changes", python=python
    )
    assert report["llmpod"].startswith(str(venv)), report["llmpod"]  # the wheel's program
    assert step(report, "up")["changes"]["create"] == step(report, "preview")["changes"]["create"]
    step(report, "preview-no-changes")
    written = objects_in_dir(project / "build" / "dev-rendered")
    kinds = sorted({kind for _, kind, _, _ in written})
    assert "Deployment" in kinds and "Namespace" in kinds, kinds
    assert report["outputs"]["chat.endpoint"] == "http://chat.llm-dev.svc:80"

    step(engine.drive(project, "dev", "destroy", python=python), "destroy")
    assert objects_in_dir(project / "build" / "dev-rendered") == {}
