"""Fixtures for the sandbox's own tests: one sandbox per session, reset before each test.

These tests use no Django themselves (the top-level conftest's autouse fixtures still load
pytest-django); run them alone with ``.venv/bin/python -m pytest tests/sandbox``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.launcher import RunningSandbox, start_sandbox
from tests.sandbox.helpers import Backend

# No portal runs in these tests; the origin only has to be consistent (CORS, redirect URIs).
PORTAL_ORIGIN = "http://127.0.0.1:18000"


@pytest.fixture(scope="session", params=["moto", "ministack"])
def sandbox_process(request: pytest.FixtureRequest) -> Iterator[RunningSandbox]:
    """The contract holds against both S3 servers: moto, and ministack, which checks signatures and expiry."""
    running = start_sandbox(PORTAL_ORIGIN, s3=request.param, extra_args=["--s3-proxy"])
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def loculus_sandbox(sandbox_process: RunningSandbox) -> RunningSandbox:
    """The session's sandbox, reset: no submissions, no files, no faults, start-up settings."""
    sandbox_process.reset()
    return sandbox_process


@pytest.fixture(params=["current", "legacy"])
def generation(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def backend(loculus_sandbox: RunningSandbox, generation: str) -> Backend:
    """A client for the sandbox backend speaking the given files-protocol generation."""
    loculus_sandbox.configure(generation=generation)
    return Backend(loculus_sandbox, generation)


@pytest.fixture
def current(loculus_sandbox: RunningSandbox) -> Backend:
    """For rows that exist only in the current generation."""
    return Backend(loculus_sandbox, "current")


@pytest.fixture
def legacy(loculus_sandbox: RunningSandbox) -> Backend:
    """For rows that exist only in the legacy (fileMapping) generation."""
    loculus_sandbox.configure(generation="legacy")
    return Backend(loculus_sandbox, "legacy")
