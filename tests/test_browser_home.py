"""In headless Chromium: the home page lists the sandbox's organisms and leads to each one."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from sandbox.launcher import RunningSandbox

pytestmark = pytest.mark.browser


def test_the_home_page_lists_the_sandbox_organisms(page: Page, live_server: object, loculus: RunningSandbox) -> None:
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{live_server}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Submit sequences to Loculus sandbox")
    for name in ["Ebola Sudan", "Crimean-Congo Hemorrhagic Fever Virus", "Wastewater metagenomics"]:
        expect(page.get_by_role("link", name=name)).to_be_visible()
    # htmx loads from our own static files, and the CSP blocks nothing the page needs.
    assert page.evaluate("typeof window.htmx") == "object"
    assert console_errors == []
    # Submitting needs an account: the organism's page asks the visitor to sign in first.
    page.get_by_role("link", name="Crimean-Congo Hemorrhagic Fever Virus").click()
    expect(page.get_by_label("Username or email")).to_be_visible()
