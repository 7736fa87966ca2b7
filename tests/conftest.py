"""Shared fixtures: the sandbox (a local Loculus), the portal wired to it, and headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache, caches

from sandbox.launcher import RunningSandbox, start_sandbox

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PORTAL_ORIGIN = f"http://{os.environ['DJANGO_LIVE_TEST_SERVER_ADDRESS']}"
LOCULUS_INFO = Path(__file__).parent / "fixtures" / "loculus-info.json"


@pytest.fixture(scope="session")
def portal_origin() -> str:
    """The origin the live portal serves on; the sandbox's CORS and redirect URIs allow only it."""
    return PORTAL_ORIGIN


def _running(portal_origin: str, **options: Any) -> Iterator[RunningSandbox]:
    running = start_sandbox(portal_origin, **options)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def sandbox(portal_origin: str) -> Iterator[RunningSandbox]:
    # S3 behind the sandbox's proxy, so tests can inject S3 faults and see every S3 request.
    yield from _running(portal_origin, extra_args=["--s3-proxy"])


@pytest.fixture(scope="session")
def strict_sandbox(portal_origin: str) -> Iterator[RunningSandbox]:
    """ministack (AUTH=true) checks signatures, signed headers and expiry; behind the fault-injecting S3 proxy."""
    # The first run installs ministack into .venv-s3, which can take a while.
    yield from _running(portal_origin, s3="ministack", extra_args=["--s3-proxy"], timeout=600)


@pytest.fixture(autouse=True)
def _fresh_cache_and_storage(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # Tests run without collectstatic: serve static files from the source folders. Draft files go
    # to a fresh folder per test.
    settings.STORAGES = {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path_factory.mktemp("drafts")},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # The portal's own cache lives in the database (tests/test_settings.py checks it); most tests
    # need no database, so they get a process-local one.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"},
        "review": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests-review"},
    }
    cache.clear()
    caches["review"].clear()
    yield
    cache.clear()
    if "review" in settings.CACHES:  # a test may have set CACHES of its own
        caches["review"].clear()


def point_portal_at(settings: Any, sandbox: RunningSandbox) -> RunningSandbox:
    """The portal pointed at this sandbox, reset to the current generation and no faults."""
    sandbox.reset()
    sandbox.configure(generation="current", token_lifetime=36000, url_expiry_seconds=1800)
    settings.LOCULUS_URL = sandbox.website
    settings.LOCULUS_BACKEND_URL = ""
    settings.OIDC_ISSUER = ""
    settings.LOCULUS_FILES_PROTOCOL = "auto"
    settings.S3_ORIGINS = [sandbox.s3]
    cache.clear()  # what the portal learnt about another sandbox
    caches["review"].clear()
    return sandbox


@pytest.fixture
def loculus(settings: Any, sandbox: RunningSandbox) -> RunningSandbox:
    """The portal pointed at the sandbox (S3 by moto, behind the proxy)."""
    return point_portal_at(settings, sandbox)


@pytest.fixture
def loculus_strict(settings: Any, strict_sandbox: RunningSandbox) -> RunningSandbox:
    """The portal pointed at the sandbox whose S3 checks signatures and expiry (and can be made to fail)."""
    return point_portal_at(settings, strict_sandbox)


@pytest.fixture(params=["current", "legacy"])
def loculus_any(request: pytest.FixtureRequest, loculus: RunningSandbox) -> RunningSandbox:
    """The sandbox in each generation of file linking; the portal detects which one it is."""
    loculus.configure(generation=request.param)
    return loculus


@pytest.fixture
def loculus_info(settings: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The sandbox's organisms from its saved /loculus-info, for view tests that need the schema and no backend.

    The file is what the sandbox serves (tests/sandbox/test_loculus_info_fixture.py checks it); its
    hosts name a closed port, so a view that does call Loculus finds it unreachable.
    """
    from submitportal.loculus import instance

    body: dict[str, Any] = json.loads(LOCULUS_INFO.read_text())
    settings.LOCULUS_URL = body["hosts"]["website"]
    settings.LOCULUS_BACKEND_URL = ""
    settings.OIDC_ISSUER = ""
    settings.LOCULUS_FILES_PROTOCOL = "metadataColumns"  # what the current generation's /api-docs says
    monkeypatch.setattr(instance, "fetch_instance", lambda: instance.parse_loculus_info(body, tried=f"{LOCULUS_INFO}"))
    return body


@pytest.fixture
def testuser_token(loculus: RunningSandbox) -> str:
    return str(loculus.password_token("testuser", "testuser")["access_token"])


@pytest.fixture
def signed_in(client: Any, db: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A Django test client signed in as testuser, with the backend faked at our client seam."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from submitportal.loculus import client as loculus_client
    from submitportal.models import TokenSet

    user = get_user_model().objects.create(username="testuser")
    client.force_login(user)
    TokenSet.objects.create(
        session_id=client.session.session_key,
        user=user,
        access_token="fake-access-token",
        access_expires_at=timezone.now() + timedelta(hours=1),
        refresh_token="fake-refresh-token",
    )
    groups = [
        loculus_client.Group(1, "Sandbox Lab Berlin", "Sandbox institute Berlin"),
        loculus_client.Group(2, "Sandbox Lab Kampala", "Sandbox institute Kampala"),
    ]
    monkeypatch.setattr(loculus_client, "get_user_groups", lambda token: groups)
    return client


@pytest.fixture
def portal(signed_in: Any, loculus: RunningSandbox, testuser_token: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """testuser signed in to the portal, which calls the sandbox with testuser's real token."""
    from submitportal import signin

    monkeypatch.setattr(signin, "access_token", lambda request: testuser_token)
    loculus.configure(processing_delay_seconds=0)
    return signed_in


@pytest.fixture
def backend(loculus: RunningSandbox) -> Any:
    """The sandbox's backend API as testuser and others (tests/sandbox/helpers.py), current generation."""
    from tests.sandbox.helpers import Backend

    return Backend(loculus, "current")


# --- Browser --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium, never a downloaded browser. Missing Chromium fails the test loudly."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}. Install it with `apt-get install -y chromium` "
            "(or set CHROMIUM_PATH); the browser tests must not be skipped."
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
        "args": [
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-gpu",
        ],
    }
