"""Packaging glue pyproject.toml cannot express: the package lives under ``infra/``
(the project's layout: ``infra/llmpod``) and the top-level ``templates/`` directory
ships inside the wheel as ``llmpod/templates``. Everything else is declared in
pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(where="infra", include=["llmpod", "llmpod.*"]), "llmpod.templates"],
    package_dir={"": "infra", "llmpod.templates": "templates"},
    package_data={"llmpod.templates": ["*.j2"]},
)
