"""In headless Chromium: after submit, watch processing, approve and discard, on both backend generations."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from sandbox.launcher import RunningSandbox
from tests.browser_helpers import log_in_on_keycloak
from tests.sandbox.helpers import Backend, fasta, tsv
from tests.test_browser_entry import accept_terms_and_submit, write

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEXT_YEAR = str(dt.datetime.now(dt.UTC).year + 1)


def statuses(backend: Backend) -> dict[str, str]:
    body = backend.get("/ebola-sudan/get-sequences").json()
    return {e["accession"]: e["status"] for e in body["sequenceEntries"]}


def confirm(page: Page, question: str, button: str) -> None:
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(question)
    dialog.get_by_role("button", name=button).click()
    expect(dialog).to_be_hidden()


def test_a_batch_of_200_with_mixed_outcomes_is_watched_approved_and_discarded(
    page: Page, live_server: Any, loculus_any: RunningSandbox, tmp_path: Path
) -> None:
    loculus_any.configure(processing_delay_seconds=2)
    # Every 10th entry has a letter that is no nucleotide (an error of processing, which the portal does not
    # check), every 10th+1 only a month for its date (a warning).
    rows = [[f"e{i:03}", "2024-03" if i % 10 == 1 else "2024-03-18", "Uganda"] for i in range(200)]
    metadata = write(tmp_path / "m.tsv", tsv(["id", "sampleCollectionDate", "geoLocCountry"], *rows).encode())
    sequences = write(
        tmp_path / "s.fasta",
        fasta(*[(row[0], ("ACGJ" if i % 10 == 0 else "ACGT") * 25) for i, row in enumerate(rows)]).encode(),
    )
    page.goto(f"{live_server.url}/ebola-sudan/submission/")
    log_in_on_keycloak(page, "testuser")
    page.get_by_role("link", name="Upload bulk sequences").click()
    page.wait_for_load_state("load")
    page.get_by_label("Metadata file", exact=True).set_input_files(metadata)
    page.get_by_label("Sequence file", exact=True).set_input_files(sequences)
    expect(page.get_by_text("20 warnings in 200 entries")).to_be_visible()
    accept_terms_and_submit(page)
    expect(page.get_by_role("heading", name="Review this submission")).to_be_visible()

    # Processing shows up by itself: no reload, the scroll position and the focus kept (only what changed
    # is swapped in).
    page.evaluate("window.notReloaded = true")
    page.get_by_label("Page size:").focus()
    page.mouse.wheel(0, 1500)
    progress = page.get_by_role("status").filter(has_text="sequences processed")
    expect(progress).to_have_text("200 of 200 sequences processed in this submission", timeout=20_000)
    assert page.evaluate("window.notReloaded") is True
    assert page.evaluate("window.scrollY") > 1000
    assert page.evaluate("document.activeElement.name") == "size"
    panel = page.get_by_test_id("review-page-control-panel")
    expect(panel).to_contain_text("0 awaiting processing 160 no issues 20 with warnings 20 with errors")
    first = page.get_by_role("listitem", name=re.compile(r"\.1 e000$"))
    expect(first).to_contain_text("Error detected")
    expect(first).to_contain_text("e000: Sequence e000 contains characters that are not IUPAC nucleotide codes: J.")
    expect(page.get_by_role("listitem", name=re.compile(r"\.1 e001$"))).to_contain_text("Passed QC with warnings")
    expect(page.get_by_role("navigation", name="Pages")).to_contain_text("Page 1 of 4")

    # Only the errors, by their filter.
    page.get_by_label("160 no issues").uncheck()
    page.get_by_label("20 with warnings").uncheck()
    expect(page.get_by_role("listitem").filter(has_text="Passed QC")).to_have_count(0)
    expect(page.get_by_role("listitem").filter(has_text="Error detected")).to_have_count(20)

    page.get_by_role("button", name="Approve 180 valid sequence(s)").click()
    confirm(page, "Are you sure you want to approve all valid sequences for release?", "Approve")
    expect(panel).to_contain_text("🎉 180 sequence(s) approved. They will appear on the website shortly.")
    page.get_by_role("button", name="Discard 20 sequence(s) with errors").click()
    confirm(page, "Are you sure you want to discard all sequences with errors?", "Discard")
    expect(panel).to_contain_text("20 sequence(s) with errors discarded.")
    expect(progress).to_have_text("0 of 0 sequences processed in this submission")

    backend = Backend(loculus_any, "current")
    assert sorted(statuses(backend).values()) == ["APPROVED_FOR_RELEASE"] * 180
    page.goto(page.url.split("?")[0])  # without the filters (which narrow to entries still pending)
    expect(page.get_by_role("listitem", name=re.compile(r"\.1 e002$"))).to_contain_text("Approved for release")
    expect(page.get_by_role("listitem", name=re.compile(r"\.1 e000$"))).to_contain_text("Discarded")


def test_one_entry_is_approved_from_a_dialog_that_stays_open_while_the_list_refreshes(
    page: Page, live_server: Any, loculus_any: RunningSandbox
) -> None:
    backend = Backend(loculus_any, loculus_any.configure()["generation"])
    loculus_any.configure(processing_delay_seconds=0)
    header = ["id", "sampleCollectionDate", "geoLocCountry"]

    def submit(*rows: list[str]) -> list[str]:
        response = backend.submit("ebola-sudan", tsv(header, *rows), fasta(*[(r[0], "ACGT" * 10) for r in rows]))
        assert response.status_code == 200, response.text
        return [item["accession"] for item in response.json()]

    good, wrong = submit(["good", "2024-03-18", "Uganda"], ["wrong", f"{NEXT_YEAR}-01-02", "Kenya"])
    assert statuses(backend) == {good: "PROCESSED", wrong: "PROCESSED"}
    loculus_any.configure(processing_delay_seconds=600)
    (waiting,) = submit(["waiting", "2024-03-18", "Uganda"])

    page.goto(f"{live_server.url}/ebola-sudan/submission/")
    log_in_on_keycloak(page, "testuser")
    page.get_by_role("link", name=re.compile(r"^Review .* 3 sequences awaiting review$")).click()
    expect(page.get_by_role("heading", name="Review pending submissions", level=1)).to_be_visible()
    waiting_card = page.get_by_role("listitem", name=f"{waiting}.1 waiting")
    expect(waiting_card).to_contain_text("Awaiting processing")
    expect(waiting_card.get_by_role("button", name="Approve this sequence entry")).to_be_disabled()
    expect(waiting_card).to_contain_text("Still awaiting preprocessing")
    expect(waiting_card).to_contain_text("Cannot discard. Wait for preprocessing.")
    wrong_card = page.get_by_role("listitem", name=f"{wrong}.1 wrong")
    expect(wrong_card.get_by_role("button", name="Approve this sequence entry")).to_be_disabled()
    expect(wrong_card).to_contain_text("You need to fix the errors before approving this sequence entry")
    expect(wrong_card).to_contain_text("Collection date: ")

    page.get_by_role("listitem", name=f"{good}.1 good").get_by_role(
        "button", name="Approve this sequence entry"
    ).click()
    expect(page.get_by_role("dialog")).to_contain_text(f"Are you sure you want to approve {good}.1?")
    loculus_any.configure(processing_delay_seconds=0)  # the list refreshes under the open dialog
    expect(waiting_card).to_contain_text("Passed QC", timeout=10_000)
    confirm(page, f"Are you sure you want to approve {good}.1?", "Approve")
    expect(page.get_by_text("Sequence approved. It will appear on the website shortly.")).to_be_visible()
    assert statuses(backend) == {good: "APPROVED_FOR_RELEASE", wrong: "PROCESSED", waiting: "PROCESSED"}

    # Another tab sends the waiting entry back to processing: approving it here fails, said at the entry.
    edited = backend.get(f"/ebola-sudan/get-data-to-edit/{waiting}/1").json()
    sent = backend.post(
        "/ebola-sudan/submit-edited-data",
        json={"accession": waiting, "version": 1, "data": edited["submittedData"]},
    )
    assert sent.status_code == 204, sent.text
    loculus_any.configure(processing_delay_seconds=600)
    waiting_card.get_by_role("button", name="Approve this sequence entry").click()
    confirm(page, f"Are you sure you want to approve {waiting}.1?", "Approve")
    expect(waiting_card.get_by_role("alert")).to_contain_text(
        f"Failed to approve processed sequence entries: Not processed yet: {waiting}.1 - RECEIVED."
    )
    expect(waiting_card).to_contain_text("Awaiting processing")

    wrong_card.get_by_role("button", name="Discard this sequence entry").click()
    confirm(page, f"Are you sure you want to discard {wrong}.1?", "Discard")
    expect(page.get_by_text(f"{wrong}.1 discarded.")).to_be_visible()
    expect(wrong_card).to_have_count(0)
    assert statuses(backend) == {good: "APPROVED_FOR_RELEASE", waiting: "RECEIVED"}


def test_a_released_entry_is_downloaded_as_submitted_and_revoked_with_a_reason(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path
) -> None:
    import io
    import zipfile

    backend = Backend(loculus, "current")
    loculus.configure(processing_delay_seconds=0)
    header = ["id", "sampleCollectionDate", "geoLocCountry"]
    rows = [["keep", "2024-03-18", "Uganda"], ["gone", "2024-03-18", "Kenya"]]
    response = backend.submit("ebola-sudan", tsv(header, *rows), fasta(*[(r[0], "ACGT" * 10) for r in rows]))
    kept, revoked = [item["accession"] for item in response.json()]
    backend.get("/ebola-sudan/get-sequences")
    assert backend.post("/ebola-sudan/approve-processed-data", json={"groupIdsFilter": [1], "scope": "ALL"}).ok

    page.goto(f"{live_server.url}/ebola-sudan/submission/")
    log_in_on_keycloak(page, "testuser")
    page.get_by_role("link", name="View View your group's released sequences.").click()
    expect(page.get_by_role("heading", name="Released sequences")).to_be_visible()
    page.get_by_label(f"Choose {kept}.1").check()
    with page.expect_download() as got:
        page.get_by_role("button", name="Download originally submitted data").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(got.value.path()).read_bytes()))
    lines = archive.read("metadata.tsv").decode().splitlines()
    assert [line.split("\t")[:2] for line in lines[1:]] == [["keep", kept]]

    page.get_by_label(f"Choose {kept}.1").uncheck()
    page.get_by_label(f"Choose {revoked}.1").check()
    page.get_by_label("Reason for revocation").fill("sample swap")
    page.get_by_role("button", name="Revoke the chosen sequences").click()
    confirm(page, "Are you sure you want to revoke the selected sequences?", "Confirm")
    expect(page.get_by_role("heading", name=re.compile("^Your revocation reached"), level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/ebola-sudan/submission/revocation/[0-9a-f-]+/$"))
    expect(page.get_by_text(f"1 revocation version(s) created: {revoked}.2.")).to_be_visible()
    expect(page.get_by_text("(reason: “sample swap”)")).to_be_visible()
    card = page.get_by_role("listitem", name=f"{revoked}.2 gone")
    expect(card).to_contain_text("Revocation entry")
    entries = backend.get("/ebola-sudan/get-sequences").json()["sequenceEntries"]
    assert {(e["accession"], e["version"], e["isRevocation"]) for e in entries} == {
        (kept, 1, False),
        (revoked, 1, False),
        (revoked, 2, True),
    }
