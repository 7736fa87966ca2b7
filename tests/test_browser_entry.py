"""In headless Chromium: one entry with extra files, uploaded to S3 by the browser, submitted through the portal."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from sandbox.launcher import RunningSandbox
from submitportal.loculus import instance
from submitportal.models import Draft, ExtraFile
from tests.browser_helpers import log_in_on_keycloak, s3_object

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MIB = 1024 * 1024


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def open_form(page: Page, live_server: Any, organism: str) -> None:
    page.goto(f"{live_server.url}/{organism}/submission/")
    log_in_on_keycloak(page, "testuser")
    page.get_by_role("link", name="Submit individual sequence entry using a form").click()
    expect(page).to_have_url(re.compile(rf"/{organism}/submission/form/[0-9a-f-]+/$"))
    page.wait_for_load_state("load")  # the upload module must be listening before files are chosen


def fill_required(page: Page, organism: str, submission_id: str) -> None:
    for field in instance.get_instance().organisms[organism].required_fields:
        # The field's example where it has one (a date must be a date), else its first option, else "x".
        value = submission_id if field.name == "id" else (field.example or (field.options[0] if field.options else "x"))
        page.locator(f"#field-{field.name}").fill(value)


def accept_terms_and_submit(page: Page) -> None:
    page.get_by_label("I confirm that I have the legal right to submit this data").check()
    page.get_by_label("I confirm I have not and will not submit this data independently to INSDC").check()
    page.get_by_role("button", name="Upload and proceed to Approval").click()
    page.get_by_role("button", name="Continue under Open terms").click()


def status(page: Page, category: str, path: str) -> Any:
    return page.get_by_test_id(f"status_{category}_{path}")


def submit_an_entry_with_two_files(page: Page, live_server: Any, sandbox: RunningSandbox, tmp_path: Path) -> None:
    reads_1 = write(tmp_path / "reads_R1.fastq", b"@r1\nACGT\n+\nIIII\n" * 1000)
    reads_2 = write(tmp_path / "reads_R2.fastq", b"@r2\nTTGA\n+\nIIII\n" * 700)
    open_form(page, live_server, "ebola-sudan")
    fill_required(page, "ebola-sudan", "sample1")
    page.get_by_label("Nucleotide sequence", exact=True).fill(">my own header\r\nacgtnACGT\r\n\r\nGGCC\r\n")
    page.get_by_label("Add files to Raw reads").set_input_files([reads_1, reads_2])
    expect(status(page, "rawReads", "reads_R1.fastq")).to_have_text("✓")
    expect(status(page, "rawReads", "reads_R2.fastq")).to_have_text("✓")
    accept_terms_and_submit(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your submission reached Loculus sandbox")

    (record,) = sandbox.submissions()
    (entry,) = record["entries"]
    assert entry["submissionId"] == "sample1"
    assert expect_links(entry) == {"reads_R1.fastq", "reads_R2.fastq"}
    assert record["dataUseTerms"]["type"] == "OPEN"
    files = {f.path: f for f in ExtraFile.objects.all()}
    for link in entry["files"]["rawReads"]:
        assert link["fileId"] == files[link["name"]].file_id
        assert s3_object(sandbox, link["fileId"]) == (tmp_path / link["name"]).read_bytes()
    fasta = Path(record["sequenceFile"]["path"]).read_text()
    assert fasta == ">sample1\nacgtnACGTGGCC\n"
    expect(page.get_by_role("cell", name=entry["accession"] + ".1")).to_be_visible()
    expect(page.get_by_role("link", name="Review all pending submissions of Sandbox Lab Berlin")).to_have_attribute(
        "href", "/ebola-sudan/submission/1/review/"
    )


def expect_links(entry: dict[str, Any]) -> set[str]:
    return {link["name"] for link in entry["files"]["rawReads"]}


def test_one_entry_with_two_files_is_submitted_with_both_files_linked(
    page: Page, live_server: Any, loculus_any: RunningSandbox, tmp_path: Path
) -> None:
    submit_an_entry_with_two_files(page, live_server, loculus_any, tmp_path)
    (record,) = loculus_any.submissions()
    assert record["generation"] == loculus_any.admin("GET", "config")["generation"]
    metadata = Path(record["metadataFile"]["path"]).read_text().splitlines()
    if record["generation"] == "legacy":
        assert record["fileMapping"] is not None
        assert not any(column.startswith("files.") for column in metadata[0].split("\t"))
    else:
        assert record["fileMapping"] is None
        assert "files.rawReads" in metadata[0].split("\t")


def test_a_large_file_is_uploaded_in_parts(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path
) -> None:
    big = write(tmp_path / "run1.bam", bytes(range(256)) * (21 * MIB // 256) + b"tail")
    open_form(page, live_server, "wastewater")
    fill_required(page, "wastewater", "ww-2024-01")
    page.get_by_label("Add files to Raw reads").set_input_files(big)
    expect(status(page, "rawReads", "run1.bam")).to_have_text("✓", timeout=60_000)
    upload = ExtraFile.objects.get()
    assert (upload.method, len(upload.urls)) == ("multipart", 3)
    assert s3_object(loculus, upload.file_id) == big.read_bytes()
    accept_terms_and_submit(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your submission reached Loculus sandbox")
    (record,) = loculus.submissions()
    assert record["sequenceFile"] is None
    assert record["entries"][0]["files"]["rawReads"] == [{"fileId": upload.file_id, "name": "run1.bam"}]


def test_a_file_can_be_removed_and_replaced_before_submitting(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path
) -> None:
    first = write(tmp_path / "first" / "notes.txt", b"first version")
    second = write(tmp_path / "second" / "notes.txt", b"second, better version")
    extra = write(tmp_path / "extra.txt", b"not wanted")
    open_form(page, live_server, "wastewater")
    fill_required(page, "wastewater", "ww-2")
    page.get_by_label("Add files to QC reports").set_input_files([first, extra])
    expect(status(page, "qcReports", "notes.txt")).to_have_text("✓")
    expect(status(page, "qcReports", "extra.txt")).to_have_text("✓")
    page.get_by_test_id("discard_qcReports_extra.txt").click()
    expect(status(page, "qcReports", "extra.txt")).to_have_count(0)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_label("Add files to QC reports").set_input_files(second)
    expect(status(page, "qcReports", "notes.txt")).to_have_text("✓")
    (kept,) = ExtraFile.objects.all()
    assert s3_object(loculus, kept.file_id) == b"second, better version"
    accept_terms_and_submit(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your submission reached Loculus sandbox")
    (record,) = loculus.submissions()
    assert record["entries"][0]["files"]["qcReports"] == [{"fileId": kept.file_id, "name": "notes.txt"}]


def test_a_multi_segment_entry_names_each_segment(page: Page, live_server: Any, loculus: RunningSandbox) -> None:
    open_form(page, live_server, "cchf")
    fill_required(page, "cchf", "iso1")
    page.get_by_label("Nucleotide sequence L", exact=True).fill("ACGTACGT")
    page.get_by_label("Nucleotide sequence S", exact=True).fill(">anything\nGGGAAA")
    accept_terms_and_submit(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your submission reached Loculus sandbox")
    (record,) = loculus.submissions()
    assert record["entries"][0]["fastaIds"] == ["iso1_L", "iso1_S"]
    assert Path(record["sequenceFile"]["path"]).read_text() == ">iso1_L\nACGTACGT\n>iso1_S\nGGGAAA\n"


def test_required_fields_are_checked_before_anything_is_sent(
    page: Page, live_server: Any, loculus: RunningSandbox
) -> None:
    open_form(page, live_server, "ebola-sudan")
    page.get_by_role("button", name="Upload and proceed to Approval").click()
    expect(page.get_by_role("alert").first).to_contain_text("before submitting")
    expect(page.locator("#error-id")).to_have_text(
        "Please enter an ID for this entry, e.g. the sample's name in your lab."
    )
    expect(page.locator("#error-sequence-main")).to_have_text("Please enter sequence data.")
    expect(page.get_by_label("ID", exact=True)).to_have_attribute("aria-invalid", "true")
    assert loculus.submissions() == []
    assert Draft.objects.get().status == Draft.Status.OPEN


@pytest.mark.parametrize("test", ["two files", "multipart"])
def test_uploads_work_against_strict_s3(
    page: Page, live_server: Any, loculus_strict: RunningSandbox, tmp_path: Path, test: str
) -> None:
    if test == "two files":
        submit_an_entry_with_two_files(page, live_server, loculus_strict, tmp_path)
        return
    big = write(tmp_path / "run2.bam", b"\x00\x01strict" * (3 * MIB))
    open_form(page, live_server, "wastewater")
    fill_required(page, "wastewater", "ww-strict")
    page.get_by_label("Add files to Raw reads").set_input_files(big)
    expect(status(page, "rawReads", "run2.bam")).to_have_text("✓", timeout=60_000)
    upload = ExtraFile.objects.get()
    assert (upload.method, len(upload.urls)) == ("multipart", 3)
    assert s3_object(loculus_strict, upload.file_id) == big.read_bytes()
