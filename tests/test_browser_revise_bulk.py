"""In headless Chromium: a bulk revision from the organism page's Revise card to the batch's review view."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from sandbox.launcher import RunningSandbox
from tests.browser_helpers import log_in_on_keycloak
from tests.sandbox.helpers import Backend
from tests.test_browser_bulk import choose_data_files, tsv
from tests.test_browser_entry import write
from tests.test_released_views import released

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_bulk_revision_goes_from_the_revise_card_to_the_new_versions_in_review(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path
) -> None:
    loculus.configure(processing_delay_seconds=0)
    first, second = released(
        Backend(loculus, "current"), [("r1", "2024-03-18", "Uganda"), ("r2", "2024-03-18", "Kenya")]
    )
    header = ["accession", "id", "sampleCollectionDate", "geoLocCountry"]
    rows = [[first, "r1", "2024-03-19", "Uganda"], [second, "r2", "2024-03-19", "Kenya"]]
    metadata = write(tmp_path / "revision.tsv", tsv(header, rows).encode())
    fasta = write(tmp_path / "sequences.fasta", b">r1\nACGTACGTAA\n>r2\nGGCCGGCCAA\n")

    page.goto(f"{live_server.url}/ebola-sudan/submission/")
    log_in_on_keycloak(page, "testuser")
    page.get_by_role("link", name="Revise Upload revisions for existing sequences.").click()
    expect(page).to_have_url(re.compile(r"/ebola-sudan/submission/bulk/[0-9a-f-]+/$"))
    page.wait_for_load_state("load")  # the page's modules send the chosen files
    expect(page.get_by_role("heading", level=1)).to_have_text("Revise sequences")
    expect(page.get_by_role("link", name="Revise individual sequence entry using a form")).to_be_visible()
    expect(page.get_by_text("Data use terms", exact=True)).to_have_count(0)
    choose_data_files(page, metadata, fasta)
    expect(page.locator("#file-checks")).to_contain_text("2 entries and 2 sequences checked: no problems found.")

    page.get_by_label("I confirm that I have the legal right to submit this data").check()
    page.get_by_label("I confirm I have not and will not submit this data independently to INSDC").check()
    page.get_by_role("button", name="Upload and proceed to Approval").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your revision reached Loculus sandbox")
    expect(page).to_have_url(re.compile(r"/ebola-sudan/submission/bulk/[0-9a-f-]+/result$"))
    for accession in (first, second):
        expect(page.locator("#review-live h3 code").filter(has_text=f"{accession}.2")).to_have_count(1)
    (record,) = [r for r in loculus.submissions() if r.get("type") == "revision"]
    assert {(e["accession"], e["version"]) for e in record["entries"]} == {(first, 2), (second, 2)}
