"""The Pulumi program as a module: ``python -m llmpod`` (what a project's
``Pulumi.yaml`` runs, through ``infra/__main__.py`` here or ``program/__main__.py``
in a project made by ``llmpod init``); see llmpod/program.py."""

from llmpod.program import main

main()
