"""In headless Chromium: drafts survive reloads, time and faults; nothing the user did is lost or sent twice."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from sandbox.launcher import RunningSandbox
from submitportal.models import Draft, ExtraFile, TokenSet
from tests.signin_helpers import expire_access_tokens
from tests.test_browser_entry import accept_terms_and_submit, fill_required, open_form, status, write

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_saved(page: Page) -> None:
    expect(page.locator("[data-autosave-status]")).to_contain_text("Draft saved at", timeout=10_000)


def test_a_reload_restores_the_values_and_the_uploaded_files(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path
) -> None:
    reads = write(tmp_path / "reads.fq", b"@r\nACGT\n+\nIIII\n")
    open_form(page, live_server, "ebola-sudan")
    fill_required(page, "ebola-sudan", "kept-1")
    page.get_by_label("Nucleotide sequence", exact=True).fill("ACGTTT")
    page.get_by_label("Add files to Raw reads").set_input_files(reads)
    expect(status(page, "rawReads", "reads.fq")).to_have_text("✓")
    wait_saved(page)
    file_id = ExtraFile.objects.get().file_id
    page.reload()
    expect(page.get_by_label("ID", exact=True)).to_have_value("kept-1")
    expect(page.get_by_label("Nucleotide sequence", exact=True)).to_have_value("ACGTTT")
    expect(status(page, "rawReads", "reads.fq")).to_have_text("✓")
    assert ExtraFile.objects.get().file_id == file_id


def test_an_unfinished_upload_is_listed_for_choosing_again(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path
) -> None:
    reads = write(tmp_path / "slow.fq", b"@r\nACGT\n+\nIIII\n")
    loculus.add_s3_faults({"method": "PUT", "delay_ms": 4000, "times": 1})
    open_form(page, live_server, "ebola-sudan")
    page.get_by_label("Add files to Raw reads").set_input_files(reads)
    expect(page.locator("[data-waiting]")).to_have_text("Uploading…")
    page.once("dialog", lambda dialog: dialog.accept())  # "leave the page while uploading?"
    page.reload()
    expect(page.locator("[data-waiting]")).to_have_text("Not uploaded: choose this file again to upload it.")
    page.once("dialog", lambda dialog: dialog.accept())  # replace the row
    page.get_by_label("Add files to Raw reads").set_input_files(reads)
    expect(status(page, "rawReads", "slow.fq")).to_have_text("✓", timeout=15_000)


def test_my_drafts_lists_reopens_and_deletes(page: Page, live_server: Any, loculus: RunningSandbox) -> None:
    open_form(page, live_server, "cchf")
    page.get_by_label("ID", exact=True).fill("iso-42")
    wait_saved(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My drafts").click()
    row = page.get_by_role("row").filter(has_text="iso-42")
    expect(row).to_contain_text("Crimean-Congo Hemorrhagic Fever Virus")
    row.get_by_role("link", name="Continue").click()
    expect(page.get_by_label("ID", exact=True)).to_have_value("iso-42")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My drafts").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("row").filter(has_text="iso-42").get_by_role("button", name="Delete this draft").click()
    expect(page.get_by_text("You have no drafts.")).to_be_visible()
    assert not Draft.objects.exists()


def test_an_old_draft_says_its_files_must_be_uploaded_again(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path
) -> None:
    reads = write(tmp_path / "old.fq", b"@r\nACGT\n+\nIIII\n")
    open_form(page, live_server, "ebola-sudan")
    page.get_by_label("Add files to Raw reads").set_input_files(reads)
    expect(status(page, "rawReads", "old.fq")).to_have_text("✓")
    ExtraFile.objects.update(uploaded_at=timezone.now() - dt.timedelta(days=8))
    page.reload()
    expect(
        page.get_by_text("Loculus discards uploaded files that no submission uses after 7 days.").first
    ).to_be_visible()
    expect(status(page, "rawReads", "old.fq")).to_have_text("✗")
    page.get_by_role("button", name="Retry old.fq").click()
    expect(page.locator("[data-waiting]")).to_have_text("Not uploaded: choose this file again to upload it.")


def test_a_backend_that_is_down_gets_a_message_and_a_retry(
    page: Page, live_server: Any, loculus: RunningSandbox
) -> None:
    open_form(page, live_server, "ebola-sudan")
    page.get_by_label("ID", exact=True).fill("while-down")
    wait_saved(page)
    loculus.add_faults({"path": "/user/groups", "method": "GET", "status": 503, "times": 3})
    page.reload()
    expect(page.get_by_role("alert")).to_contain_text("Loculus answered 503 Service Unavailable")
    expect(page.get_by_role("alert")).to_contain_text("Nothing you entered is lost")
    page.get_by_role("link", name="Try again").click()
    expect(page.get_by_label("ID", exact=True)).to_have_value("while-down")


def test_a_submit_that_times_out_is_not_sent_twice(
    page: Page, live_server: Any, loculus: RunningSandbox, settings: Any
) -> None:
    settings.LOCULUS_SUBMIT_TIMEOUT = 1
    loculus.add_faults({"path": "/ebola-sudan/submit", "method": "POST", "delay_ms": 2500, "times": 1})
    open_form(page, live_server, "ebola-sudan")
    fill_required(page, "ebola-sudan", "slow-1")
    page.get_by_label("Nucleotide sequence", exact=True).fill("ACGT")
    accept_terms_and_submit(page)
    expect(page.locator("#problem")).to_contain_text("It may still have received the submission")
    deadline = time.monotonic() + 15
    while not loculus.submissions() and time.monotonic() < deadline:  # the slow backend got it after all
        time.sleep(0.2)
    assert len(loculus.submissions()) == 1
    accept_terms_and_submit(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your submission reached Loculus sandbox")
    expect(page.get_by_text("Nothing was submitted twice.")).to_be_visible()
    assert len(loculus.submissions()) == 1


def test_a_token_that_expires_during_a_long_upload_is_refreshed(
    page: Page, live_server: Any, loculus: RunningSandbox, settings: Any, tmp_path: Path
) -> None:
    loculus.configure(token_lifetime=3)
    settings.OIDC_REFRESH_LEEWAY_SECONDS = 1
    files = [write(tmp_path / f"r{n}.fq", f"@r{n}\nACGT\n+\nIIII\n".encode()) for n in range(8)]
    loculus.add_s3_faults({"method": "PUT", "delay_ms": 1500})
    open_form(page, live_server, "ebola-sudan")
    page.get_by_label("Add files to Raw reads").set_input_files(files)
    for n in range(8):
        expect(status(page, "rawReads", f"r{n}.fq")).to_have_text("✓", timeout=30_000)
    assert TokenSet.objects.get().generation >= 1


def test_a_failed_refresh_signs_in_again_and_returns_to_the_draft(
    page: Page, live_server: Any, loculus: RunningSandbox
) -> None:
    open_form(page, live_server, "ebola-sudan")
    draft_url = page.url
    page.get_by_label("ID", exact=True).fill("after-refresh")
    wait_saved(page)
    TokenSet.objects.update(refresh_token="revoked-by-the-test")
    expire_access_tokens()
    page.reload()  # Keycloak's session is still open: the browser comes straight back
    expect(page).to_have_url(draft_url)
    expect(page.get_by_label("ID", exact=True)).to_have_value("after-refresh")
    assert TokenSet.objects.get().refresh_token != "revoked-by-the-test"
