"""In headless Chromium: dates judged as Loculus's pipeline judges them, in the form and in bulk (issue 18, item 6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from sandbox.launcher import RunningSandbox
from tests.test_browser_bulk import FASTA, HEADER, ROWS, choose_data_files, open_bulk, tsv
from tests.test_browser_entry import fill_required, open_form, write

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOT_RECOGNIZED = (
    "Collection date (“sampleCollectionDate”) “18/03/2024”: the date format is not recognized. Loculus reads dates "
    "as YYYY-MM-DD (e.g. 2024-03-18), or YYYY-MM or YYYY when the day or month is not known. Did you mean 2024-03-18?"
)


def tick_terms_and_submit(page: Page) -> None:
    page.get_by_label("I confirm that I have the legal right to submit this data").check()
    page.get_by_label("I confirm I have not and will not submit this data independently to INSDC").check()
    page.get_by_role("button", name="Upload and proceed to Approval").click()


def date_field(page: Page) -> Any:
    return page.locator(".field").filter(has=page.locator("#field-sampleCollectionDate"))


def test_the_form_shows_a_date_error_beside_the_date_and_a_warning_before_sending(
    page: Page, live_server: Any, loculus: RunningSandbox
) -> None:
    open_form(page, live_server, "ebola-sudan")
    fill_required(page, "ebola-sudan", "sample-18")
    page.locator("#field-sampleCollectionDate").fill("18/03/2024")
    page.locator("#field-sequence-main").fill("ACGTACGT")
    tick_terms_and_submit(page)
    expect(date_field(page).locator(".field-error")).to_have_text(NOT_RECOGNIZED)
    expect(page.locator("#field-sampleCollectionDate")).to_have_value("18/03/2024")
    expect(page.locator("#field-sampleCollectionDate")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-summary")).to_contain_text(NOT_RECOGNIZED)
    assert loculus.submissions() == []

    # A month without its day is taken, but only once the user has seen the warning beside the field.
    page.locator("#field-sampleCollectionDate").fill("2024-03")
    tick_terms_and_submit(page)
    expect(date_field(page).locator(".field-warning")).to_contain_text(
        "“2024-03”: the day is missing. Loculus will assume the 1st (2024-03-01)"
    )
    expect(date_field(page).locator(".field-error")).to_have_count(0)
    expect(page.locator("#warning-summary")).to_contain_text("Please check 1 value")
    assert loculus.submissions() == []
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()
    tick_terms_and_submit(page)
    page.get_by_role("button", name="Continue under Open terms").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your submission reached Loculus sandbox")
    (record,) = loculus.submissions()
    header, row = Path(record["metadataFile"]["path"]).read_text().splitlines()
    assert dict(zip(header.split("\t"), row.split("\t"), strict=True))["sampleCollectionDate"] == "2024-03"


def test_the_bulk_page_lists_the_date_error_of_its_row(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path
) -> None:
    rows = [ROWS[0], ["s2", "18/03/2024", "Uganda"], ROWS[2]]
    metadata = write(tmp_path / "metadata.tsv", tsv(HEADER, rows).encode())
    fasta = write(tmp_path / "sequences.fasta", FASTA.encode())
    open_bulk(page, live_server, "ebola-sudan")
    choose_data_files(page, metadata, fasta)
    checks = page.locator("#file-checks")
    expect(checks).to_contain_text("1 error")
    row = checks.locator("tr.error").filter(has_text="18/03/2024")
    expect(row.get_by_role("cell").nth(2)).to_have_text("2")
    expect(row.get_by_role("cell").nth(3)).to_have_text(f"Row 2 (ID “s2”): {NOT_RECOGNIZED}")
