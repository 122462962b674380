"""Fixtures shared by unit tests."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs property tests derandomized (the same examples every run: a failure is
# reproducible and never flaky) and without hypothesis' per-example deadline,
# which a busy two-core runner would trip. HYPOTHESIS_PROFILE=explore searches
# afresh on a developer's machine.
settings.register_profile("ci", derandomize=True, deadline=None, database=None, print_blob=True)
settings.register_profile("explore", deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _in_the_reference_project(monkeypatch: pytest.MonkeyPatch) -> None:
    """llmpod finds its project from the working directory (like Pulumi); tests
    that name a stack ("staging") mean this repository's, wherever pytest starts."""
    monkeypatch.chdir(REPO)


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """moto's standalone server on 127.0.0.1: a real HTTP endpoint for boto3."""
    from moto.server import ThreadedMotoServer

    port = free_loopback_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
