"""Pulumi entry point (Pulumi.yaml `main: program/`): llmpod's own program,
reading this project's stack config. Install llmpod @LLMPOD_VERSION@ into the Python
Pulumi uses as CI does: `python -m pip install -r .llmpod/requirements.txt`."""

import runpy

runpy.run_module("llmpod", run_name="__main__")
