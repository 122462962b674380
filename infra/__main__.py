"""Pulumi entry point of this repository (Pulumi.yaml `main: infra/`).

The code is the ``llmpod`` package in ``infra/llmpod``; this file only runs its
program (``llmpod/__main__.py``). Pulumi runs it as a script, which puts this
directory first on ``sys.path``, so ``llmpod`` imports from the checkout even
when it is not installed into Pulumi's interpreter.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
runpy.run_module("llmpod", run_name="__main__", alter_sys=True)
