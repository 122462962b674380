"""Fixtures for tests that run the real Pulumi engine (no mocks); see engine.py.

Session-wide: build (or find cached) the Pulumi CLI and the Kubernetes provider.
Per test: a file backend, a Pulumi home and a passphrase in the test's temp
directory, update checks and plugin downloads off, the provider found on PATH,
and no kubeconfig unless a test gives one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .engine import ENGINE_TOOLS, Engine, build_tools, copy_project, engine_env


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Everything here runs the real engine, whether or not a test remembered the marker.
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.realengine)
            # The first test of a clean machine pays for the Go builds in its fixtures
            # (about 17 minutes cold on 2 cores); every engine call has its own timeout.
            item.add_marker(pytest.mark.timeout(3600))


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    return build_tools(ENGINE_TOOLS)


@pytest.fixture
def engine(engine_bin: Path, tmp_path: Path) -> Engine:
    return Engine(engine_bin, engine_env(engine_bin, tmp_path / "engine-state"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh copy of this repository's Pulumi project (Pulumi.yaml and stacks/)."""
    return copy_project(tmp_path / "project")
