"""Tokens stay on the server and are refreshed before they expire, once, even under concurrency."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from sandbox.launcher import RunningSandbox
from submitportal.models import TokenSet
from tests.signin_helpers import expire_access_tokens, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_signing_in_keeps_the_tokens_in_the_database_only(live_server: Any, loculus: RunningSandbox) -> None:
    session = sign_in(live_server.url, "testuser", next_path="/ebola-sudan/submission/")
    tokens = TokenSet.objects.get()
    assert tokens.user.username == "testuser"
    assert "sessionid" in session.cookies.keys()
    for cookie in session.cookies:
        assert tokens.access_token not in (cookie.value or "")
    page = session.get(f"{live_server.url}/ebola-sudan/submission/", timeout=30)
    assert "Sandbox Lab Berlin" in page.text
    assert tokens.access_token not in page.text
    assert tokens.refresh_token not in page.text


def test_an_expired_token_is_refreshed_before_the_backend_call(live_server: Any, loculus: RunningSandbox) -> None:
    session = sign_in(live_server.url, "testuser", next_path="/ebola-sudan/submission/")
    old = TokenSet.objects.get().access_token
    expire_access_tokens()
    page = session.get(f"{live_server.url}/ebola-sudan/submission/", allow_redirects=False, timeout=30)
    assert page.status_code == 200
    assert "Sandbox Lab Berlin" in page.text
    tokens = TokenSet.objects.get()
    assert tokens.generation == 1
    assert tokens.access_token != old


def test_two_requests_at_expiry_refresh_once_and_both_succeed(live_server: Any, loculus: RunningSandbox) -> None:
    # The sandbox rotates refresh tokens: a second refresh with the same token would be refused,
    # and that request would be sent to sign in again.
    session = sign_in(live_server.url, "testuser", next_path="/ebola-sudan/submission/")
    expire_access_tokens()
    results: list[requests.Response] = []
    start = threading.Barrier(2)

    def fetch() -> None:
        start.wait(timeout=10)
        results.append(session.get(f"{live_server.url}/ebola-sudan/submission/", allow_redirects=False, timeout=60))

    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert [r.status_code for r in results] == [200, 200]
    assert TokenSet.objects.get().generation == 1


def test_a_failed_refresh_sends_the_user_to_sign_in_and_back(live_server: Any, loculus: RunningSandbox) -> None:
    session = sign_in(live_server.url, "testuser", next_path="/cchf/submission/")
    TokenSet.objects.update(refresh_token="revoked-by-the-test")
    expire_access_tokens()
    page = session.get(f"{live_server.url}/cchf/submission/", allow_redirects=False, timeout=30)
    assert page.status_code == 302
    assert page.headers["Location"] == "/auth/signin?next=%2Fcchf%2Fsubmission%2F"
    assert not TokenSet.objects.exists()
