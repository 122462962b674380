"""The entrypoint's files run inside the vLLM image, where only the stdlib exists."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from llmpod.image.runtime_files import IMAGE_PACKAGE, RUNTIME_MODULES, SOURCE_DIR, stage_runtime


def _imports(module: str) -> tuple[set[str], set[str]]:
    """(absolute top-level imports, relative sibling modules) of one runtime module."""
    tree = ast.parse((SOURCE_DIR / module).read_text(), filename=module)
    absolute: set[str] = set()
    relative: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            absolute |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                absolute.add((node.module or "").split(".")[0])
            elif node.module:
                relative.add(node.module.split(".")[0] + ".py")
            else:
                relative |= {alias.name + ".py" for alias in node.names}
    return absolute, relative


@pytest.mark.parametrize("module", RUNTIME_MODULES)
def test_runtime_module_imports_only_stdlib_and_siblings(module: str) -> None:
    absolute, relative = _imports(module)
    non_stdlib = sorted(
        a for a in absolute if a not in sys.stdlib_module_names and a != "__future__"
    )
    assert non_stdlib == [], f"{module} imports {non_stdlib}, which the vLLM image may not have"
    missing = sorted(relative - set(RUNTIME_MODULES))
    assert missing == [], f"{module} imports {missing}, which the Dockerfile does not copy"


def test_staged_package_imports_without_llmpod(tmp_path: Path) -> None:
    import subprocess

    stage_runtime(tmp_path)
    # -I: no site-packages, no PYTHONPATH, no cwd — only the staged files and the stdlib.
    code = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r});"
        f" import {IMAGE_PACKAGE}.entrypoint as e;"
        " assert 'llmpod' not in sys.modules; print(e.__name__)"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"{IMAGE_PACKAGE}.entrypoint"
