"""In headless Chromium, with S3_ORIGINS empty: the portal learns where uploads go, and they work at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from sandbox.launcher import RunningSandbox
from submitportal import extra_file_uploads
from submitportal.models import ExtraFile
from tests.browser_helpers import s3_object
from tests.test_browser_entry import open_form, status, write

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def unconfigured(loculus: RunningSandbox, settings: Any, page: Page) -> list[str]:
    """No S3_ORIGINS; the console messages of the page, whatever it shows."""
    settings.S3_ORIGINS = []
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.on("pageerror", lambda error: messages.append(str(error)))
    return messages


def refusals(messages: list[str]) -> list[str]:
    return [message for message in messages if "Content Security Policy" in message]


def test_uploads_work_on_the_first_try_without_s3_origins(
    page: Page, live_server: Any, loculus: RunningSandbox, unconfigured: list[str], tmp_path: Path
) -> None:
    assert extra_file_uploads.learned_origins() is None
    reads = [write(tmp_path / name, f"@{name}\nACGT\n+\nIIII\n".encode()) for name in ("r1.fq", "r2.fq")]
    open_form(page, live_server, "ebola-sudan")
    page.get_by_label("Add files to Raw reads").set_input_files(reads)
    for name in ("r1.fq", "r2.fq"):
        expect(status(page, "rawReads", name)).to_have_text("✓")
    assert {f.path: s3_object(loculus, f.file_id) for f in ExtraFile.objects.all()} == {
        path.name: path.read_bytes() for path in reads
    }
    assert refusals(unconfigured) == []
    assert extra_file_uploads.learned_origins() == [loculus.s3]
    page.goto(f"{live_server.url}/about/")
    expect(page.locator("#upload-origins dd")).to_have_text(["none", loculus.s3])


def test_a_page_that_could_not_learn_the_origin_says_to_reload_and_then_uploads(
    page: Page, live_server: Any, loculus: RunningSandbox, unconfigured: list[str], tmp_path: Path
) -> None:
    # Loculus fails the question the page asks before it is sent, so the page goes without the origin.
    loculus.add_faults({"path": "/files/request-upload", "method": "POST", "status": 503, "times": 1})
    reads = write(tmp_path / "reads.fq", b"@r\nACGT\n+\nIIII\n")
    open_form(page, live_server, "ebola-sudan")
    page.get_by_label("Add files to Raw reads").set_input_files(reads)
    expect(status(page, "rawReads", "reads.fq")).to_have_text("✗")
    expect(page.get_by_text(f"Uploads now go to {loculus.s3}, which this page was not set up for.")).to_be_visible()
    assert refusals(unconfigured) == []  # no PUT was tried that the browser would refuse
    page.reload()
    page.get_by_role("button", name="Retry reads.fq").click()
    page.once("dialog", lambda dialog: dialog.accept())  # replace the row
    page.get_by_label("Add files to Raw reads").set_input_files(reads)
    expect(status(page, "rawReads", "reads.fq")).to_have_text("✓")
    assert refusals(unconfigured) == []
