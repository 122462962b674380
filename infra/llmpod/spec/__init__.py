"""The serving spec: the typed, validated user input (pydantic v2) and its grammars.

Data only. It imports nothing that is built on it (planner, planning, backends,
deploy, render, CLI, project; tests/unit/test_import_graph.py holds that): planning a
service is infra/llmpod/planning/, what backends hand the container is
infra/llmpod/backends/runtime.py, reading stack files is
infra/llmpod/environments/stack_files.py.
"""
