"""In headless Chromium: which extra file belongs to which entry, judged afresh as the metadata and files change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from sandbox.launcher import RunningSandbox
from submitportal.models import ExtraFile
from tests.test_browser_bulk import FASTA, HEADER, ROWS, choose_data_files, links_of, open_bulk, submit, tsv
from tests.test_browser_entry import status, write

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def link_of(page: Page, path: str) -> Any:
    """The "Linked to" cell of a file's row."""
    return page.locator("tr", has=status(page, "rawReads", path)).locator("td.file-link")


def reads(tmp_path: Path, layout: dict[str, list[str]]) -> Path:
    for folder, names in layout.items():
        for name in names:
            write(tmp_path / "reads" / folder / name, f"@{folder}-{name}\nACGT\n+\nIIII\n".encode())
    return tmp_path / "reads"


def test_the_templates_empty_files_column_still_takes_the_subfolders_and_each_entry_says_its_rule(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path
) -> None:
    """The downloaded template has an empty files.rawReads column; the subfolder layout the page suggests works."""
    rows = [[*ROWS[0], ""], [*ROWS[1], "named.fq::lane/s2.fq"], [*ROWS[2], ""]]
    metadata = write(tmp_path / "metadata.tsv", tsv([*HEADER, "files.rawReads"], rows).encode())
    fasta = write(tmp_path / "sequences.fasta", FASTA.encode())
    folder = reads(tmp_path, {"s1": ["r1.fq", "r2.fq"], "lane": ["s2.fq"]})
    open_bulk(page, live_server, "ebola-sudan")
    choose_data_files(page, metadata, fasta)
    expect(page.locator("#file-checks")).to_contain_text("no problems found")
    page.get_by_label("Upload folder for Raw reads").set_input_files(folder)
    for path in ["s1/r1.fq", "s1/r2.fq", "lane/s2.fq"]:
        expect(status(page, "rawReads", path)).to_have_text("✓")
    expect(link_of(page, "s1/r1.fq")).to_have_text("s1 (its subfolder)")
    expect(link_of(page, "lane/s2.fq")).to_have_text("s2 as named.fq (files.rawReads column)")
    summary = page.locator("#links-rawReads")
    expect(summary).to_contain_text("1 entry names its files in the metadata's files.rawReads column: s2.")
    expect(summary).to_contain_text(
        "1 entry takes its files from the subfolder named after its ID (the files.rawReads cell is empty): s1."
    )
    expect(summary).to_contain_text("1 entry has no files in this category: s3.")
    expect(summary).to_contain_text("✓ 3 files uploaded and linked to metadata!")
    expect(summary).not_to_contain_text("⚠")
    submit(page)
    (record,) = loculus.submissions()
    assert links_of(record) == {"s1": ["r1.fq", "r2.fq"], "s2": ["named.fq"], "s3": []}


def test_new_metadata_judges_every_row_again_in_place_and_after_a_reload(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path
) -> None:
    first = write(tmp_path / "first.tsv", tsv(HEADER, ROWS).encode())
    fasta = write(tmp_path / "sequences.fasta", FASTA.encode())
    folder = reads(tmp_path, {"s1": ["a.fq"], "s2": ["b.fq"], "s9": ["c.fq"]})
    open_bulk(page, live_server, "ebola-sudan")
    choose_data_files(page, first, fasta)
    expect(page.locator("#file-checks")).to_contain_text("no problems found")
    page.get_by_label("Upload folder for Raw reads").set_input_files(folder)
    expect(page.locator("[data-upload-message]")).to_have_text(
        "No entry has the ID of these folders, so their files belong to no entry: “s9”. "
        "Remove them, or add those IDs to the metadata."
    )
    for path in ["s1/a.fq", "s2/b.fq", "s9/c.fq"]:
        expect(status(page, "rawReads", path)).to_have_text("✓")  # uploaded: linking is judged, not frozen
    expect(link_of(page, "s9/c.fq")).to_have_text("⚠ Not linked: The folder “s9” matches no ID in the metadata.")
    summary = page.locator("#links-rawReads")
    expect(summary).to_contain_text("✓ 2 files uploaded and linked to metadata!")
    expect(summary).to_contain_text("⚠ 1 file not linked to any entry (each row says why): s9/c.fq.")
    c_row = page.locator("tr", has=status(page, "rawReads", "s9/c.fq"))
    row_id = c_row.get_attribute("id")

    # The third sample was s9, not s3: the corrected metadata replaces the first.
    second = write(tmp_path / "second.tsv", tsv(HEADER, [*ROWS[:2], ["s9", "2024-01-07", "Uganda"]]).encode())
    fasta_fixed = write(tmp_path / "fixed.fasta", FASTA.replace(">s3", ">s9").encode())
    choose_data_files(page, second, fasta_fixed)
    expect(page.locator("#file-checks")).to_contain_text("3 entries and 3 sequences checked: no problems found.")
    expect(link_of(page, "s9/c.fq")).to_have_text("s9 (its subfolder)")
    expect(summary).to_contain_text("✓ 3 files uploaded and linked to metadata!")
    expect(summary).not_to_contain_text("⚠")
    assert page.locator("tr", has=status(page, "rawReads", "s9/c.fq")).get_attribute("id") == row_id  # same row

    page.reload()
    expect(link_of(page, "s9/c.fq")).to_have_text("s9 (its subfolder)")
    expect(link_of(page, "s1/a.fq")).to_have_text("s1 (its subfolder)")

    # And back: the first metadata again, and s9's file belongs to no entry again.
    choose_data_files(page, first, fasta)
    expect(page.locator("#file-checks")).to_contain_text("3 entries and 3 sequences checked: no problems found.")
    expect(link_of(page, "s9/c.fq")).to_contain_text("⚠ Not linked")
    expect(summary).to_contain_text("⚠ 1 file not linked to any entry (each row says why): s9/c.fq.")
    page.get_by_role("button", name="Remove c.fq").click()
    expect(status(page, "rawReads", "s9/c.fq")).to_have_count(0)
    expect(summary).not_to_contain_text("⚠")
    submit(page)
    (record,) = loculus.submissions()
    assert links_of(record) == {"s1": ["a.fq"], "s2": ["b.fq"], "s3": []}


def test_a_file_still_uploading_is_counted_as_such_and_dropped_with_one_button(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path
) -> None:
    held: list[Route] = []

    def hold_uploads(route: Route) -> None:
        if route.request.method == "PUT":
            held.append(route)  # the storage never answers while the test looks
        else:
            route.continue_()

    metadata = write(tmp_path / "metadata.tsv", tsv(HEADER, ROWS).encode())
    fasta = write(tmp_path / "sequences.fasta", FASTA.encode())
    folder = reads(tmp_path, {"s1": ["a.fq"], "s2": ["b.fq"]})
    open_bulk(page, live_server, "ebola-sudan")
    choose_data_files(page, metadata, fasta)
    expect(page.locator("#file-checks")).to_contain_text("no problems found")
    page.route(f"{loculus.s3}/**", hold_uploads)
    try:
        page.get_by_label("Upload folder for Raw reads").set_input_files(folder)
        summary = page.locator("#links-rawReads")
        expect(summary).to_contain_text("2 files linked to metadata, still uploading.")
        expect(summary).not_to_contain_text("uploaded and linked")
        row = page.locator("tr", has=status(page, "rawReads", "s1/a.fq"))
        expect(row.get_by_role("button")).to_have_count(1)  # one way to drop it, not Cancel and Remove
        row.get_by_role("button", name="Cancel a.fq").click()
        expect(status(page, "rawReads", "s1/a.fq")).to_have_count(0)
        expect(summary).to_contain_text("1 file linked to metadata, still uploading.")
        assert list(ExtraFile.objects.values_list("path", flat=True)) == ["s2/b.fq"]
    finally:
        for route in held:
            route.abort()


@pytest.mark.parametrize("held", ["the answer", "the request"])
def test_two_data_files_sent_at_once_both_show_whichever_answers_first(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path, held: str
) -> None:
    """The metadata's answer arrives after the sequence file's. Holding "the answer": it was made before, and is
    older (it must not replace the newer one). Holding "the request": it was made after, and is newer, though its
    form was replaced meanwhile (it must still be shown)."""
    waiting: list[Route] = []
    metadata = write(tmp_path / "metadata.tsv", tsv(HEADER, ROWS).encode())
    fasta = write(tmp_path / "sequences.fasta", FASTA.encode())

    def hold(route: Route) -> None:
        if waiting:
            route.continue_()
        elif held == "the answer":
            waiting.append(route)
            # Playwright does not pass on a File body itself: the same bytes, sent the same way.
            route.answer = route.fetch(post_data=metadata.read_bytes())  # type: ignore[attr-defined]
        else:
            waiting.append(route)

    open_bulk(page, live_server, "ebola-sudan")
    page.route("**/bulk/metadata", hold)
    page.get_by_label("Metadata file", exact=True).set_input_files(metadata)
    for _ in range(100):
        if waiting:
            break
        page.wait_for_timeout(50)
    assert waiting, "the metadata was not sent"
    page.get_by_label("Sequence file", exact=True).set_input_files(fasta)
    expect(page.locator("#chosen-sequences")).to_contain_text("sequences.fasta")
    (route,) = waiting
    if held == "the answer":
        expect(page.locator("#file-checks")).to_contain_text("3 entries and 3 sequences checked: no problems found.")
        with page.expect_response("**/bulk/metadata"):
            route.fulfill(response=route.answer)  # type: ignore[attr-defined]
        page.wait_for_timeout(1000)  # an older answer, if swapped in, would be by now
    else:
        expect(page.locator("#file-checks")).to_contain_text("once you add the metadata file")
        with page.expect_response("**/bulk/metadata"):
            route.fulfill(response=route.fetch(post_data=metadata.read_bytes()))
    expect(page.locator("#chosen-metadata")).to_contain_text("metadata.tsv")
    expect(page.locator("#chosen-sequences")).to_contain_text("sequences.fasta")
    expect(page.locator("#file-checks")).to_contain_text("3 entries and 3 sequences checked: no problems found.")
