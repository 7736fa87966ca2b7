"""In headless Chromium: no group is no dead end; the restricted date shows when needed; results say what happened."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from sandbox.launcher import RunningSandbox
from submitportal.models import Draft
from tests.browser_helpers import log_in_on_keycloak
from tests.test_browser_entry import accept_terms_and_submit, fill_required, open_form, write

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def membership(sandbox: RunningSandbox, method: str, group_id: int, username: str = "testuser") -> None:
    """Take a user out of a group or put them back, as a group administrator does on the Loculus website."""
    token = sandbox.password_token("superuser", "superuser")["access_token"]
    response = requests.request(
        method,
        f"{sandbox.backend}/groups/{group_id}/users/{username}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 204, response.text


def test_a_user_who_left_every_group_is_told_what_to_do_and_keeps_what_they_typed(
    page: Page, live_server: Any, loculus: RunningSandbox
) -> None:
    open_form(page, live_server, "ebola-sudan")
    fill_required(page, "ebola-sudan", "kept-without-group")
    page.get_by_label("I confirm that I have the legal right to submit this data").check()
    page.get_by_label("I confirm I have not and will not submit this data independently to INSDC").check()
    form_url = page.url
    for group_id in (1, 2):
        membership(loculus, "DELETE", group_id)

    page.get_by_role("button", name="Upload and proceed to Approval").click()
    expect(page.get_by_role("heading", name="You need a submitting group")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(
        "Nothing was submitted: you are not in any submitting group. What you entered is kept."
    )
    expect(page.get_by_role("link", name="create a submitting group")).to_have_attribute(
        "href", re.compile(r"/user/createGroup\?continueSubmissionOrganism=ebola-sudan$")
    )
    expect(page.get_by_text("This draft is kept, with what it holds (entry “kept-without-group”")).to_be_visible()
    assert Draft.objects.get().status == Draft.Status.OPEN

    # Opening a new form, or the draft itself, says the same; nothing silently resumes or breaks.
    page.goto(f"{live_server.url}/ebola-sudan/submission/form/")
    expect(page.get_by_role("heading", name="You need a submitting group")).to_be_visible()
    page.goto(form_url)
    expect(page.get_by_role("heading", name="You need a submitting group")).to_be_visible()
    expect(page.get_by_role("button", name="Upload and proceed to Approval")).to_have_count(0)

    membership(loculus, "PUT", 1)
    page.goto(form_url)
    expect(page.get_by_label("ID", exact=True)).to_have_value("kept-without-group")
    expect(page.get_by_label("I confirm that I have the legal right to submit this data")).to_be_checked()
    expect(
        page.get_by_label("I confirm I have not and will not submit this data independently to INSDC")
    ).to_be_checked()


def test_the_restricted_date_shows_only_for_restricted_use(
    page: Page, live_server: Any, loculus: RunningSandbox
) -> None:
    open_form(page, live_server, "ebola-sudan")
    date = page.get_by_label("Restricted until", exact=True)
    expect(page.get_by_label("Open", exact=True)).to_be_checked()
    expect(date).to_be_hidden()
    page.get_by_label("Restricted use", exact=True).check()
    expect(date).to_be_visible()
    page.get_by_label("Open", exact=True).check()
    expect(date).to_be_hidden()


def test_the_result_of_one_entry_speaks_of_one_and_shows_it_being_processed_until_it_has_passed(
    page: Page, live_server: Any, loculus: RunningSandbox
) -> None:
    open_form(page, live_server, "ebola-sudan")
    fill_required(page, "ebola-sudan", "reviewed-1")
    page.get_by_label("Nucleotide sequence", exact=True).fill("ACGT" * 50)
    accept_terms_and_submit(page)
    expect(page.locator(".success-box")).to_have_text(
        "Loculus accepted 1 entry. It is now being processed; approve it below to release it."
    )
    expect(page.get_by_role("link", name="Submit another entry")).to_be_visible()
    expect(page.get_by_role("heading", name="Review this submission")).to_be_visible()
    card = page.get_by_role("listitem", name=re.compile(r"LOC_\w+\.1 reviewed-1"))
    expect(card).to_contain_text(re.compile("Awaiting processing|In processing"))
    # The sandbox processes it after 3 s; the page shows it without being reloaded.
    page.evaluate("window.notReloaded = true")
    expect(card).to_contain_text("Passed QC", timeout=15_000)
    expect(page.get_by_role("status").filter(has_text="sequences processed")).to_have_text(
        "1 of 1 sequences processed in this submission"
    )
    assert page.evaluate("window.notReloaded") is True


def test_the_bulk_result_speaks_of_entries_and_offers_another_bulk_upload(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path
) -> None:
    metadata = write(
        tmp_path / "m.tsv",
        b"id\tsampleCollectionDate\tgeoLocCountry\nb1\t2024-01-05\tUganda\nb2\t2024-01-06\tKenya\n",
    )
    sequences = write(tmp_path / "s.fasta", b">b1\nACGT\n>b2\nGGCC\n")
    page.goto(f"{live_server.url}/ebola-sudan/submission/")
    log_in_on_keycloak(page, "testuser")
    page.get_by_role("link", name="Upload bulk sequences").click()
    page.wait_for_load_state("load")
    page.get_by_label("Metadata file", exact=True).set_input_files(metadata)
    page.get_by_label("Sequence file", exact=True).set_input_files(sequences)
    expect(page.get_by_text("2 entries and 2 sequences checked: no problems found.")).to_be_visible()
    accept_terms_and_submit(page)
    expect(page.locator(".success-box")).to_have_text(
        "Loculus accepted 2 entries. They are now being processed; approve them below to release them."
    )
    expect(page.get_by_role("link", name="Submit another entry")).to_have_count(0)
    page.get_by_role("link", name="Upload more bulk sequences").click()
    expect(page).to_have_url(re.compile(r"/ebola-sudan/submission/bulk/[0-9a-f-]+/$"))
    expect(page.get_by_role("heading", name="Sequences and metadata")).to_be_visible()
    expect(page.get_by_text("no problems found")).to_have_count(0)  # a new, empty submission
