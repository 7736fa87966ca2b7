"""In headless Chromium: signing in with the sandbox's Keycloak, choosing a group, signing out."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from sandbox.launcher import RunningSandbox
from submitportal.models import GroupChoice, TokenSet
from tests.browser_helpers import log_in_on_keycloak

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seen(page: Page) -> Iterator[dict[str, list[str]]]:
    """Every URL the browser requested and every page it showed."""
    record: dict[str, list[str]] = {"urls": [], "pages": []}
    page.on("request", lambda request: record["urls"].append(request.url))
    page.on("load", lambda loaded: record["pages"].append(loaded.content()))
    yield record


def test_a_signed_out_visitor_signs_in_and_lands_on_the_page_they_asked_for(
    page: Page, live_server: Any, loculus: RunningSandbox, seen: dict[str, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    page.goto(f"{live_server.url}/ebola-sudan/submission/")
    expect(page).to_have_url(re.compile(re.escape(loculus.keycloak)))
    log_in_on_keycloak(page, "testuser")
    expect(page).to_have_url(f"{live_server.url}/ebola-sudan/submission/")
    expect(page.get_by_text("Signed in as")).to_contain_text("testuser")
    select = page.get_by_label("Submitting group", exact=True)
    expect(select.locator("option")).to_have_text(
        ["Sandbox Lab Berlin (Sandbox Institute of Virology)", "Sandbox Lab Kampala (Sandbox Virus Research Unit)"]
    )
    # No token anywhere the browser or the logs can see.
    tokens = TokenSet.objects.get()
    secrets = [tokens.access_token, tokens.refresh_token, tokens.id_token]
    seen["pages"].append(page.content())
    for secret in filter(None, secrets):
        assert not any(secret in url for url in seen["urls"])
        assert not any(secret in html for html in seen["pages"])
        assert secret not in caplog.text
    assert not any(cookie["value"] in secrets for cookie in page.context.cookies())


def test_the_group_choice_is_kept_per_user_and_organism(page: Page, live_server: Any, loculus: RunningSandbox) -> None:
    page.goto(f"{live_server.url}/cchf/submission/")
    log_in_on_keycloak(page, "testuser")
    select = page.get_by_label("Submitting group", exact=True)
    select.select_option(label="Sandbox Lab Kampala (Sandbox Virus Research Unit)")
    expect(page.get_by_role("status")).to_have_text("Saved: you submit as Sandbox Lab Kampala.")
    assert GroupChoice.objects.get(user__username="testuser", organism="cchf").group_id == 2
    page.reload()
    expect(page.get_by_label("Submitting group", exact=True)).to_have_value("2")
    page.goto(f"{live_server.url}/ebola-sudan/submission/")
    expect(page.get_by_label("Submitting group", exact=True)).to_have_value("1")


def test_a_user_without_a_group_is_told_how_to_get_one(page: Page, live_server: Any, loculus: RunningSandbox) -> None:
    page.goto(f"{live_server.url}/wastewater/submission/")
    log_in_on_keycloak(page, "newuser")
    expect(
        page.get_by_text("Sequences can only be submitted to the database by users who are part of a submitting group.")
    ).to_be_visible()
    link = page.get_by_role("link", name="create a submitting group")
    expect(link).to_have_attribute("href", f"{loculus.website}/user/createGroup?continueSubmissionOrganism=wastewater")
    expect(page.get_by_label("Submitting group", exact=True)).to_have_count(0)
    expect(page.locator("form[action$='/wastewater/submission/']")).to_have_count(0)
    link.click()
    expect(page.get_by_role("heading", name="Create a new submitting group")).to_be_visible()


def test_a_backend_401_signs_the_user_in_again_and_keeps_what_they_chose(
    page: Page, live_server: Any, loculus: RunningSandbox
) -> None:
    page.goto(f"{live_server.url}/cchf/submission/")
    log_in_on_keycloak(page, "testuser")
    first_sign_in = TokenSet.objects.get().signed_in_at
    # The backend refuses the next call, as it would a token it no longer accepts.
    loculus.add_faults({"path": "/user/groups", "method": "GET", "status": 401, "times": 1})
    # Keycloak's session is still open, so the browser comes straight back, signed in anew, and the
    # choice the user made (which the refused request could not save) is offered again.
    with page.expect_navigation(url=f"{live_server.url}/cchf/submission/", timeout=15000):
        page.get_by_label("Submitting group", exact=True).select_option("2")
    expect(page.get_by_label("Submitting group", exact=True)).to_have_value("2")
    assert TokenSet.objects.get().signed_in_at > first_sign_in
    assert not GroupChoice.objects.exists()


def test_signing_out_ends_the_portal_and_keycloak_sessions(
    page: Page, live_server: Any, loculus: RunningSandbox
) -> None:
    page.goto(f"{live_server.url}/ebola-sudan/submission/")
    log_in_on_keycloak(page, "testuser")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    logout_calls = [url for url in requested if "/protocol/openid-connect/logout" in url]
    assert len(logout_calls) == 1
    assert "client_id=backend-client" in logout_calls[0]
    assert "post_logout_redirect_uri=" in logout_calls[0]
    assert "id_token_hint" not in logout_calls[0]
    assert not TokenSet.objects.exists()
    # Keycloak's session has ended too: the login form is asked for again.
    page.goto(f"{live_server.url}/ebola-sudan/submission/")
    expect(page.get_by_label("Username or email")).to_be_visible()
