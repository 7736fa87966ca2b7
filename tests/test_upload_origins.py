"""Where uploads go: the origins of the backend's upload URLs are learned once, shared, and allowed."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from django.core.cache.backends.db import DatabaseCache
from django.test import Client

from submitportal import extra_file_uploads
from submitportal.loculus import client

pytestmark = pytest.mark.django_db

BACKEND = "http://backend.test"
S3 = "https://s3.example.org"


def target(origin: str = S3) -> client.UploadTarget:
    return client.UploadTarget(
        "0c4c1d5e-0000-4000-8000-000000000000",
        f"{origin}/bucket/files/x?X-Amz-Date=20261128T000000Z&X-Amz-Expires=1800",
    )


@pytest.fixture
def backend(settings: Any) -> None:
    settings.LOCULUS_BACKEND_URL = BACKEND
    settings.S3_ORIGINS = []
    # The portal's own cache: the database, shared by every portal process.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "submitportal_cache"}
    }


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, int]]:
    """The upload URLs asked of the backend (faked at the client seam): (token, group, files)."""
    calls: list[tuple[str, int, int]] = []

    def request_upload(token: str, *, group_id: int, number_files: int) -> list[client.UploadTarget]:
        calls.append((token, group_id, number_files))
        return [target() for _ in range(number_files)]

    monkeypatch.setattr(client, "request_upload", request_upload)
    return calls


def test_an_origin_is_learned_from_upload_urls_and_kept_in_the_database_for_every_process(backend: None) -> None:
    assert extra_file_uploads.learned_origins() is None
    extra_file_uploads._learn_origins([target(), target()], when="prepare")
    assert extra_file_uploads.learned_origins() == [S3]
    # Another process has its own cache object: it reads the same table, without expiry.
    other = DatabaseCache("submitportal_cache", {})
    assert other.get(f"upload-origins:{BACKEND}") == [S3]
    assert extra_file_uploads.allowed_origins() == [S3]


def test_origins_are_learned_per_backend_and_listed_after_the_configured_ones(backend: None, settings: Any) -> None:
    settings.S3_ORIGINS = ["https://configured.example.org", S3]
    extra_file_uploads._learn_origins([target(), target("https://other.example.org")], when="prepare")
    assert extra_file_uploads.allowed_origins() == ["https://configured.example.org", S3, "https://other.example.org"]
    settings.LOCULUS_BACKEND_URL = "http://another-backend.test"
    assert extra_file_uploads.learned_origins() is None
    assert extra_file_uploads.allowed_origins() == ["https://configured.example.org", S3]


def test_the_first_page_with_uploads_asks_the_backend_once(
    backend: None, asked: list[tuple[str, int, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client, "get_user_groups", lambda token: [client.Group(7, "Lab", "Institute")])
    assert extra_file_uploads.upload_origins_for_page("token", None) == [S3]
    assert asked == [("token", 7, 1)]  # the user's first group, one file
    assert extra_file_uploads.upload_origins_for_page("token", 3) == [S3]
    assert asked == [("token", 7, 1)]  # known now: no second question


def test_a_page_goes_without_when_the_backend_cannot_say(
    backend: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    settings.S3_ORIGINS = ["https://configured.example.org"]

    def refuse(token: str, *, group_id: int, number_files: int) -> list[client.UploadTarget]:
        raise client.BackendFailed(status=503, title="Service Unavailable", detail="down", request_id="r")

    monkeypatch.setattr(client, "request_upload", refuse)
    caplog.set_level(logging.INFO, logger="submitportal.uploads")
    assert extra_file_uploads.upload_origins_for_page("token", 3) == ["https://configured.example.org"]
    assert extra_file_uploads.learned_origins() is None  # the next page asks again
    assert "Could not ask Loculus where uploads go (down)" in caplog.text


def test_only_an_origin_met_by_pages_already_open_is_a_warning(
    backend: None, caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    settings.S3_ORIGINS = ["https://configured.example.org"]
    caplog.set_level(logging.INFO, logger="submitportal.uploads")
    extra_file_uploads._learn_origins([target()], when="page")
    extra_file_uploads._learn_origins([target("https://configured.example.org")], when="prepare")
    assert [r.levelname for r in caplog.records] == ["INFO", "INFO"]
    extra_file_uploads._learn_origins([target("https://moved.example.org")], when="prepare")
    assert caplog.records[-1].levelname == "WARNING"
    assert "pages already open must be reloaded to upload there" in caplog.records[-1].getMessage()
    extra_file_uploads._learn_origins([target("https://moved.example.org")], when="prepare")
    assert len(caplog.records) == 3  # once per origin


def connect_src(response: Any) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    return re.search(r"connect-src ([^;]*)", policy).group(1).split()


def test_a_page_with_uploads_allows_and_lists_the_learned_origins_a_page_without_uploads_needs_none(
    signed_in: Client, loculus_info: dict[str, Any], settings: Any, asked: list[tuple[str, int, int]]
) -> None:
    settings.S3_ORIGINS = []
    settings.LOCULUS_FILES_PROTOCOL = "metadataColumns"
    form = signed_in.get("/ebola-sudan/submission/form/", follow=True)
    assert form.status_code == 200
    assert len(asked) == 1
    assert connect_src(form) == ["'self'", S3]
    assert f'data-upload-origins="[&quot;{S3}&quot;]"' in form.content.decode()
    about = signed_in.get("/about/")
    assert connect_src(about) == ["'self'"]
    assert f"<code>{S3}</code>" in about.content.decode()  # shown as learned
    assert len(asked) == 1
