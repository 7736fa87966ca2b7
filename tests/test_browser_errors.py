"""In headless Chromium: when an htmx request fails, the page says so at the top, with the reference."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.error_urls import REFUSAL

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_failed_htmx_request_shows_the_reference_at_the_top(page: Page, live_server: Any, settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.error_urls"  # the portal's URLs plus views that fail on purpose
    settings.LOCULUS_URL = ""
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{live_server}/test-errors/page")
    alert = page.locator("#portal-alert")

    # The portal's own 500: its message, with the reference that its log record carries.
    with page.expect_response("**/test-errors/fails") as failed:
        page.get_by_role("button", name="Fail").click()
    reference = failed.value.headers["x-request-id"]
    expect(alert.get_by_role("alert")).to_contain_text("Something went wrong on the portal's side.")
    expect(alert.get_by_role("alert")).to_contain_text(
        f"Please try again. If it keeps happening, give the portal's operators this reference: {reference}."
    )
    expect(page.locator("#result")).to_be_empty()

    # An error answer without a message of its own: a sentence, with the reference from the header.
    with page.expect_response("**/test-errors/unavailable") as unavailable:
        page.get_by_role("button", name="Unavailable").click()
    reference = unavailable.value.headers["x-request-id"]
    expect(alert.get_by_role("alert")).to_have_text(
        "The portal answered 503. Please try again. If it keeps happening, give the portal's operators "
        f"this reference: {reference}."
    )
    # A refusal in words (plain text) is shown as it is, as text: what it quotes is never markup.
    with page.expect_response("**/test-errors/refuses"):
        page.get_by_role("button", name="Refuse").click()
    expect(alert.get_by_role("alert")).to_contain_text(REFUSAL)
    expect(alert.locator("img")).to_have_count(0)
    # The console has the failed requests (the browser's and htmx's lines), and nothing refused by the CSP.
    assert not [message for message in console_errors if "Content Security Policy" in message]
