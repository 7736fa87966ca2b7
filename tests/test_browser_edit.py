"""In headless Chromium: an entry with a processing error edited through the portal, files changed, sent back."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from sandbox.launcher import RunningSandbox
from submitportal.loculus import client
from tests.browser_helpers import log_in_on_keycloak, s3_object

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FUTURE = f"{dt.datetime.now(dt.UTC).year + 1}-03-04"


def uploaded_file(token: str, content: bytes) -> str:
    (target,) = client.request_upload(token, group_id=1, number_files=1)
    assert requests.put(target.url, data=content, headers=dict(target.headers), timeout=10).status_code == 200
    return target.file_id


def entry_with_an_error_and_two_files(token: str) -> tuple[str, str]:
    """A processed entry whose date is in the future, with reads.fq and old.fq attached; (accession, reads' ID)."""
    metadata = f"id\tsampleCollectionDate\tgeoLocCountry\nsample1\t{FUTURE}\tUganda\n"
    (entry,) = client.submit(
        token,
        "ebola-sudan",
        group_id=1,
        metadata=client.UploadPart("metadata.tsv", io.BytesIO(metadata.encode())),
        sequences=client.UploadPart("sequences.fasta", io.BytesIO(b">sample1\nACGTACGT\n")),
        data_use_terms=client.DataUseTerms("OPEN"),
    )
    client.get_sequences(token, "ebola-sudan")  # processed (delay 0)
    reads, old = uploaded_file(token, b"@r1\nACGT\n+\nIIII\n"), uploaded_file(token, b"old notes")
    submitted = {"sampleCollectionDate": FUTURE, "geoLocCountry": "Uganda"}
    files = {"rawReads": [(reads, "reads.fq"), (old, "old.fq")]}
    client.submit_edited_data(token, "ebola-sudan", entry.accession, 1, submitted, {"sample1": "ACGTACGT"}, files)
    assert client.get_data_to_edit(token, "ebola-sudan", entry.accession, 1).errors  # processed again, the error too
    return entry.accession, reads


def test_an_entry_is_fixed_its_files_changed_and_sent_back_to_processing(
    page: Page, live_server: Any, loculus_any: RunningSandbox, tmp_path: Path
) -> None:
    loculus_any.configure(processing_delay_seconds=0)
    token = str(loculus_any.password_token("testuser", "testuser")["access_token"])
    accession, reads = entry_with_an_error_and_two_files(token)
    new_file = tmp_path / "new_reads.fq"
    new_file.write_bytes(b"@r2\nTTGA\n+\nIIII\n" * 100)

    page.goto(f"{live_server.url}/ebola-sudan/submission/review/")
    log_in_on_keycloak(page, "testuser")
    card = page.get_by_role("listitem", name=f"{accession}.1 sample1")
    expect(card).to_contain_text(f"Collection date: Metadata field sampleCollectionDate:'{FUTURE}' is in the future.")
    card.get_by_role("link", name="Edit this sequence entry").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Edit {accession}.1")
    page.wait_for_load_state("load")  # the upload module must be listening before files change
    expect(page.get_by_test_id("processing-sampleCollectionDate")).to_have_text(
        f"Processing error: Metadata field sampleCollectionDate:'{FUTURE}' is in the future."
    )
    expect(page.get_by_role("row", name="ID: sample1")).to_be_visible()
    expect(page.get_by_label("Collection date", exact=False).first).to_have_value(FUTURE)
    page.locator("#field-sampleCollectionDate").fill("2024-03-04")
    page.get_by_test_id("discard_rawReads_old.fq").click()
    expect(page.get_by_test_id("status_rawReads_old.fq")).to_have_count(0)
    page.get_by_label("Add files to Raw reads").set_input_files(new_file)
    expect(page.get_by_test_id("status_rawReads_new_reads.fq")).to_have_text("✓")
    expect(page.get_by_test_id("status_rawReads_reads.fq")).to_have_text("✓")
    # The files the entry had are no part of the upload's progress.
    expect(page.locator("[data-summary-text]")).to_have_text(re.compile(r"^1 of 1 file uploaded · "))

    loculus_any.configure(processing_delay_seconds=60)  # it stays RECEIVED while the test looks
    page.get_by_role("button", name="Submit edits and proceed to Approval").click()
    expect(page).to_have_url(re.compile(re.escape("/ebola-sudan/submission/1/review/") + "$"))
    (entry,) = client.get_sequences(token, "ebola-sudan").entries
    assert entry.status == "RECEIVED"
    expect(page.get_by_role("listitem", name=f"{accession}.1 sample1")).to_contain_text("Awaiting processing")

    loculus_any.configure(processing_delay_seconds=0)
    data = client.get_data_to_edit(token, "ebola-sudan", accession, 1)
    assert data.metadata == {"sampleCollectionDate": "2024-03-04", "geoLocCountry": "Uganda"}
    assert data.sequences == {"sample1": "ACGTACGT"}
    assert data.errors == ()
    files = dict(data.files["rawReads"])
    assert sorted(files.values()) == ["new_reads.fq", "reads.fq"]
    assert files[reads] == "reads.fq"
    (new_id,) = [file_id for file_id, name in files.items() if name == "new_reads.fq"]
    assert s3_object(loculus_any, new_id) == new_file.read_bytes()
