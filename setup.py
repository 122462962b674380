"""Packaging glue pyproject.toml cannot express: ship the top-level ``templates/``
directory (kept there by the project's layout rule) inside the wheel as
``infra/templates``. Everything else is declared in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["infra", "infra.*"]), "infra.templates"],
    package_dir={"infra.templates": "templates"},
    package_data={"infra.templates": ["*.j2"]},
)
