"""In headless Chromium: what goes wrong with a single entry is caught early, explained, and recoverable."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import Page, expect

from sandbox.launcher import RunningSandbox
from submitportal.models import ExtraFile
from tests.browser_helpers import s3_object
from tests.test_browser_entry import accept_terms_and_submit, fill_required, open_form, status, write

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_names_loculus_would_refuse_are_refused_before_upload_and_dot_files_skipped(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path
) -> None:
    spaced = write(tmp_path / "my reads.fastq", b"@r\nA\n+\nI\n")
    colon = write(tmp_path / "run:1.fastq", b"@r\nA\n+\nI\n")
    empty = write(tmp_path / "empty.fastq", b"")
    hidden = write(tmp_path / ".DS_Store", b"junk")
    fine = write(tmp_path / "fine.fastq", b"@r\nA\n+\nI\n")
    open_form(page, live_server, "ebola-sudan")
    page.get_by_label("Add files to Raw reads").set_input_files([spaced, colon, empty, hidden, fine])
    expect(status(page, "rawReads", "fine.fastq")).to_have_text("✓")
    for name, rule in [
        ("my reads.fastq", "File names may not contain spaces or other whitespace."),
        ("run:1.fastq", 'File names may not contain any of these characters: < > : " / \\ | ? *'),
        ("empty.fastq", "This file is empty (0 bytes)."),
    ]:
        expect(status(page, "rawReads", name)).to_have_text("✗")
        expect(page.locator("tr", has=status(page, "rawReads", name)).locator(".reason")).to_contain_text(rule)
    expect(page.locator("tr[data-path='.DS_Store']")).to_have_count(0)
    refused = ExtraFile.objects.filter(status="refused")
    assert sorted(refused.values_list("path", flat=True)) == ["empty.fastq", "my reads.fastq", "run:1.fastq"]
    assert all(not f.file_id for f in refused)  # no upload URL was even asked for
    # Refused files block the submission until they are removed.
    fill_required(page, "ebola-sudan", "s-names")
    page.get_by_label("Nucleotide sequence", exact=True).fill("ACGT")
    accept_terms_and_submit(page)
    expect(page.locator("#problem")).to_contain_text("3 extra file(s) are not uploaded yet")
    assert loculus.submissions() == []


def test_a_folder_with_subfolders_is_refused_in_the_form(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path
) -> None:
    write(tmp_path / "run" / "lane1" / "a.fastq", b"@r\nA\n+\nI\n")
    write(tmp_path / "run" / "b.fastq", b"@r\nA\n+\nI\n")
    write(tmp_path / "flat" / "c.fastq", b"@r\nC\n+\nI\n")
    write(tmp_path / "flat" / "d.fastq", b"@r\nD\n+\nI\n")
    open_form(page, live_server, "ebola-sudan")
    page.get_by_label("Upload folder for Raw reads").set_input_files(tmp_path / "run")
    expect(page.locator("[data-upload-message]")).to_have_text(
        "Subdirectories are not supported for individual submissions. Please choose a folder that contains only files."
    )
    expect(page.locator("[data-file-row]")).to_have_count(0)
    page.get_by_label("Upload folder for Raw reads").set_input_files(tmp_path / "flat")
    expect(status(page, "rawReads", "c.fastq")).to_have_text("✓")
    expect(status(page, "rawReads", "d.fastq")).to_have_text("✓")
    expect(page.locator("[data-upload-message]")).to_have_text("")


def test_a_failed_upload_shows_the_reason_and_retry_gets_fresh_urls_once_they_expired(
    page: Page, live_server: Any, loculus_strict: RunningSandbox, tmp_path: Path
) -> None:
    reads = write(tmp_path / "reads.fastq", b"@r1\nACGT\n+\nIIII\n" * 100)
    # Every attempt the browser makes by itself fails (S3 answers 500 four times, without CORS
    # headers, so the browser sees only a failed connection).
    loculus_strict.add_s3_faults({"method": "PUT", "status": 500, "times": 4})
    open_form(page, live_server, "ebola-sudan")
    page.get_by_label("Add files to Raw reads").set_input_files(reads)
    expect(status(page, "rawReads", "reads.fastq")).to_have_text("✗", timeout=20_000)
    expect(page.locator(".reason")).to_have_text("The upload failed: the connection to the storage failed")
    first_id = ExtraFile.objects.get().file_id
    # Backdated, as if the upload URL's lifetime had passed (strict S3 would refuse it by then).
    ExtraFile.objects.update(urls_expire_at=timezone.now() - timedelta(seconds=1))
    page.get_by_role("button", name="Retry reads.fastq").click()
    expect(status(page, "rawReads", "reads.fastq")).to_have_text("✓", timeout=20_000)
    upload = ExtraFile.objects.get()
    assert upload.file_id != first_id
    assert s3_object(loculus_strict, upload.file_id) == reads.read_bytes()


def test_passing_storage_failures_are_retried_without_the_user_noticing(
    page: Page, live_server: Any, loculus_strict: RunningSandbox, tmp_path: Path
) -> None:
    small = write(tmp_path / "small.fastq", b"@r1\nACGT\n+\nIIII\n" * 100)
    big = write(tmp_path / "big.bam", b"\x01big" * (3 * 1024 * 1024))  # 12 MiB: two parts
    loculus_strict.add_s3_faults(
        {"method": "PUT", "status": 503, "times": 2}, {"method": "PUT", "drop": True, "times": 1}
    )
    open_form(page, live_server, "ebola-sudan")
    page.get_by_label("Add files to Raw reads").set_input_files([small, big])
    expect(status(page, "rawReads", "small.fastq")).to_have_text("✓", timeout=30_000)
    expect(status(page, "rawReads", "big.bam")).to_have_text("✓", timeout=30_000)
    for upload in ExtraFile.objects.all():
        assert s3_object(loculus_strict, upload.file_id) == (tmp_path / upload.path).read_bytes()


def test_changing_the_group_asks_for_the_files_again(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path
) -> None:
    reads = write(tmp_path / "reads.fastq", b"@r1\nACGT\n+\nIIII\n")
    open_form(page, live_server, "ebola-sudan")
    page.get_by_label("Add files to Raw reads").set_input_files(reads)
    expect(status(page, "rawReads", "reads.fastq")).to_have_text("✓")
    page.get_by_label("Submitting group", exact=True).select_option("2")
    expect(page.get_by_role("status").filter(has_text="Saved: you submit")).to_have_text(
        "Saved: you submit as Sandbox Lab Kampala. 1 extra file must be uploaded again for this group."
    )
    expect(status(page, "rawReads", "reads.fastq")).to_have_text("✗")
    expect(page.locator(".reason")).to_contain_text("uploaded for another submitting group")
    page.get_by_role("button", name="Retry reads.fastq").click()
    expect(status(page, "rawReads", "reads.fastq")).to_have_text("✓")
    assert ExtraFile.objects.get().group_id == 2


def test_a_backend_error_is_shown_and_nothing_is_lost(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path
) -> None:
    reads = write(tmp_path / "reads.fastq", b"@r1\nACGT\n+\nIIII\n")
    open_form(page, live_server, "ebola-sudan")
    fill_required(page, "ebola-sudan", "s-err")
    page.get_by_label("Nucleotide sequence", exact=True).fill("ACGTACGT")
    page.get_by_label("Add files to Raw reads").set_input_files(reads)
    expect(status(page, "rawReads", "reads.fastq")).to_have_text("✓")
    loculus.add_faults({"path": "/ebola-sudan/submit", "method": "POST", "status": 503, "times": 1})
    accept_terms_and_submit(page)
    alert = page.locator("#problem")
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_contain_text("Loculus had a problem with this submission (503 Service Unavailable)")
    expect(page.get_by_label("ID", exact=True)).to_have_value("s-err")
    expect(page.get_by_label("Nucleotide sequence", exact=True)).to_have_value("ACGTACGT")
    expect(status(page, "rawReads", "reads.fastq")).to_have_text("✓")
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()
    # The fault is used up: the same form goes through now.
    accept_terms_and_submit(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your submission reached Loculus sandbox")
    (record,) = loculus.submissions()
    assert [link["name"] for link in record["entries"][0]["files"]["rawReads"]] == ["reads.fastq"]


def test_the_form_with_uploaded_rows_and_field_errors_is_accessible(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path
) -> None:
    reads = write(tmp_path / "reads.fastq", b"@r1\nACGT\n+\nIIII\n")
    bad = write(tmp_path / "bad name.fastq", b"@r1\nACGT\n+\nIIII\n")
    open_form(page, live_server, "cchf")
    page.get_by_label("Add files to Raw reads").set_input_files([reads, bad])
    expect(status(page, "rawReads", "reads.fastq")).to_have_text("✓")
    expect(status(page, "rawReads", "bad name.fastq")).to_have_text("✗")
    page.get_by_role("button", name="Upload and proceed to Approval").click()
    expect(page.locator("#error-summary")).to_be_visible()
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], results.generate_report()


def test_an_expired_upload_url_is_replaced_without_the_user_noticing(
    page: Page, live_server: Any, loculus_strict: RunningSandbox, tmp_path: Path
) -> None:
    reads = write(tmp_path / "late.fastq", b"@r1\nACGT\n+\nIIII\n" * 50)
    loculus_strict.configure(url_expiry_seconds=2)
    # The first PUT is held until its URL has expired: strict S3 answers 403, and the browser asks
    # the portal for a fresh URL and uploads again by itself.
    loculus_strict.add_s3_faults({"method": "PUT", "delay_ms": 3500, "times": 1})
    open_form(page, live_server, "ebola-sudan")
    page.get_by_label("Add files to Raw reads").set_input_files(reads)
    expect(status(page, "rawReads", "late.fastq")).to_have_text("✓", timeout=30_000)
    statuses = [r["status"] for r in loculus_strict.s3_log() if r["method"] == "PUT"]
    assert statuses == [403, 200]
    upload = ExtraFile.objects.get()
    assert s3_object(loculus_strict, upload.file_id) == reads.read_bytes()


def test_cancel_all_stops_every_upload_under_way_and_retry_starts_it_again(
    page: Page, live_server: Any, loculus_strict: RunningSandbox, tmp_path: Path
) -> None:
    first = write(tmp_path / "first.fastq", b"@r1\nACGT\n+\nIIII\n" * 50)
    second = write(tmp_path / "second.fastq", b"@r2\nACGT\n+\nIIII\n" * 50)
    # Both PUTs are held long enough to be cancelled while under way.
    loculus_strict.add_s3_faults({"method": "PUT", "delay_ms": 5000, "times": 2})
    open_form(page, live_server, "ebola-sudan")
    page.get_by_label("Add files to Raw reads").set_input_files([first, second])
    cancel = page.get_by_role("button", name="Cancel all uploads")
    cancel.click()
    for name in ["first.fastq", "second.fastq"]:
        expect(status(page, "rawReads", name)).to_have_text("✗")
    expect(page.locator(".reason")).to_have_text(["Cancelled. Retry starts the upload again."] * 2)
    expect(cancel).to_be_hidden()
    page.get_by_role("button", name="Retry first.fastq").click()
    expect(status(page, "rawReads", "first.fastq")).to_have_text("✓", timeout=20_000)
    expect(status(page, "rawReads", "second.fastq")).to_have_text("✗")
    upload = ExtraFile.objects.get(path="first.fastq")
    assert s3_object(loculus_strict, upload.file_id) == first.read_bytes()
