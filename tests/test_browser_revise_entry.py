"""In headless Chromium: a released entry found on the Revise page by its accession, revised with a file
removed and a new one uploaded, sent to /revise; the user lands on the revision's batch (both generations)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from sandbox.launcher import RunningSandbox
from submitportal.loculus import client
from tests.browser_helpers import log_in_on_keycloak, s3_object
from tests.test_browser_edit import uploaded_file
from tests.test_revise_entry import released_one

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_released_entry_is_revised_with_its_files_changed(
    page: Page, live_server: Any, loculus_any: RunningSandbox, tmp_path: Path
) -> None:
    loculus_any.configure(processing_delay_seconds=0)
    token = str(loculus_any.password_token("testuser", "testuser")["access_token"])
    reads, old = uploaded_file(token, b"@r1\nACGT\n+\nIIII\n"), uploaded_file(token, b"old notes")
    accession = released_one(token, files={"rawReads": [(reads, "reads.fq"), (old, "old.fq")]})
    new_file = tmp_path / "more_reads.fq"
    new_file.write_bytes(b"@r2\nTTGA\n+\nIIII\n" * 100)

    page.goto(f"{live_server.url}/ebola-sudan/submission/revise/form/")
    log_in_on_keycloak(page, "testuser")
    expect(page.get_by_role("heading", level=1)).to_have_text("Revise sequences")
    search = page.get_by_role("textbox", name="Accession of sequence to revise")
    search.fill(f"{accession}.x")
    page.get_by_role("button", name="Find sequence entry").click()
    expect(page.get_by_role("alert")).to_contain_text("Please enter a valid accession format.")
    expect(search).to_have_value(f"{accession}.x")
    expect(search).to_have_attribute("aria-invalid", "true")
    search.fill(accession)
    page.get_by_role("button", name="Find sequence entry").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Create new revision from {accession}.1")
    page.wait_for_load_state("load")  # the upload module must be listening before files change
    expect(page.locator("#field-geoLocCountry")).to_have_value("Uganda")
    page.locator("#field-geoLocCountry").fill("Kenya")
    page.get_by_test_id("discard_rawReads_old.fq").click()
    expect(page.get_by_test_id("status_rawReads_old.fq")).to_have_count(0)
    page.get_by_label("Add files to Raw reads").set_input_files(new_file)
    expect(page.get_by_test_id("status_rawReads_more_reads.fq")).to_have_text("✓")
    expect(page.get_by_test_id("status_rawReads_reads.fq")).to_have_text("✓")
    page.get_by_role("button", name="Upload and proceed to Approval").click()

    expect(page).to_have_url(re.compile(r"/ebola-sudan/submission/form/[0-9a-f-]+/result$"))
    expect(page.get_by_role("listitem", name=f"{accession}.2 sample1")).to_contain_text("Passed QC")
    data = client.get_data_to_edit(token, "ebola-sudan", accession, 2)
    assert data.metadata == {"sampleCollectionDate": "2024-03-04", "geoLocCountry": "Kenya"}
    files = dict(data.files["rawReads"])
    assert sorted(files.values()) == ["more_reads.fq", "reads.fq"]
    assert files[reads] == "reads.fq"
    (new_id,) = [file_id for file_id, name in files.items() if name == "more_reads.fq"]
    assert s3_object(loculus_any, new_id) == new_file.read_bytes()
    assert client.get_sequences(token, "ebola-sudan").entries  # the released version 1 is still there
    released_v1 = client.get_data_to_edit(token, "ebola-sudan", accession, 1)
    assert released_v1.status == "APPROVED_FOR_RELEASE" and released_v1.metadata["geoLocCountry"] == "Uganda"
