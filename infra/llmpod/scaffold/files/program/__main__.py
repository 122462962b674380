"""Pulumi entry point (Pulumi.yaml `main: program/`): llmpod's own program,
reading this project's stack config. Install llmpod into the Python Pulumi uses
(`pip install 'llmpod==@LLMPOD_VERSION@'`)."""

import runpy

runpy.run_module("llmpod", run_name="__main__")
