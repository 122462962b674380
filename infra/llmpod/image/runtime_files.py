"""Which files make up the entrypoint inside the image: the ``runtime`` package.

Stdlib only. The vLLM image has no llmpod installed, so the entrypoint ships as
plain source files copied into ``/opt/llmpod/llmpod_image/`` and is run with
``python3 -m llmpod_image.entrypoint``. These modules may import only the standard
library and each other (relative imports); a unit test enforces it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

#: Package name of the entrypoint inside the image (and in the e2e tests' staging dir).
IMAGE_PACKAGE = "llmpod_image"

#: The package that ships: ``llmpod/image/runtime/``, every module in it.
SOURCE_DIR = Path(__file__).resolve().parent / "runtime"

#: Sorted; every module of the runtime package (its directory is the list).
RUNTIME_MODULES = tuple(sorted(p.name for p in SOURCE_DIR.glob("*.py")))


def stage_runtime(dest: Path) -> Path:
    """Copy the runtime modules to ``dest/llmpod_image/``; returns that package dir.

    Run ``python -m llmpod_image.entrypoint`` with ``dest`` on PYTHONPATH to get
    exactly what the image runs.
    """
    package = dest / IMAGE_PACKAGE
    package.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_MODULES:
        shutil.copyfile(SOURCE_DIR / name, package / name)
    return package
