"""Files llmpod ships beside its code: the jinja2 templates.

The repository keeps them at the top level (``templates/``, the project's
layout rule); the wheel installs that directory as ``llmpod/templates``
(setup.py maps it). Every jinja2 environment loads through ``template_loader``
so an installed wheel, an editable install and a source checkout all find the
same files, and a missing one is reported, not a jinja2 traceback.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

from llmpod.errors import LlmpodError

_PACKAGE = Path(__file__).resolve().parent
#: Installed from a wheel (package data) first, then a source tree / editable install.
_CANDIDATES = (_PACKAGE / "templates", _PACKAGE.parents[1] / "templates")


@cache
def templates_dir() -> Path:
    for candidate in _CANDIDATES:
        if (candidate / "weights-wait.sh.j2").is_file():
            return candidate
    raise LlmpodError(
        code="broken_install",
        message=f"llmpod's templates are missing: looked in "
        f"{', '.join(str(c) for c in _CANDIDATES)}. The installation is incomplete.",
        suggestions=["reinstall llmpod from its wheel or git URL (README: In your own repository)"],
    )


def template_loader() -> jinja2.BaseLoader:
    return jinja2.FileSystemLoader(str(templates_dir()))
