"""The Pulumi program as a module: ``python -m llmpod`` (what a project's
``Pulumi.yaml`` runs, through ``infra/__main__.py`` here or ``program/__main__.py``
in a project made by ``llmpod init``); see llmpod/program.py."""

from __future__ import annotations

from llmpod.errors import LlmpodError
from llmpod.program import run_program

try:
    run_program()
except LlmpodError as err:
    # One paragraph, not a traceback: pulumi.RunError is reported as a plain message.
    import pulumi

    raise pulumi.RunError(err.render()) from None
