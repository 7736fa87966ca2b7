"""In headless Chromium: bulk submissions — metadata, FASTA and a folder of extra files, checked before upload."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import openpyxl
import pytest
import zstandard
from playwright.sync_api import Page, expect

from sandbox.launcher import RunningSandbox
from submitportal.models import ExtraFile
from tests.browser_helpers import log_in_on_keycloak, s3_object
from tests.test_browser_entry import status, write

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = ["id", "sampleCollectionDate", "geoLocCountry"]
ROWS = [["s1", "2024-01-05", "Uganda"], ["s2", "2024-01-06", "Kenya"], ["s3", "2024-01-07", "Uganda"]]
FASTA = ">s1\nACGTACGT\n>s2\nGGGGCCCC\n>s3\nTTTTAAAA\n"


def tsv(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join("\t".join(line) for line in [header, *rows]) + "\n"


def open_bulk(page: Page, live_server: Any, organism: str) -> None:
    page.goto(f"{live_server.url}/{organism}/submission/")
    log_in_on_keycloak(page, "testuser")
    page.get_by_role("link", name="Upload bulk sequences").click()
    expect(page).to_have_url(re.compile(rf"/{organism}/submission/bulk/[0-9a-f-]+/$"))
    page.wait_for_load_state("load")


def choose_data_files(page: Page, metadata: Path, fasta: Path | None) -> None:
    """Choose the files as a user does; the page sends each as the raw request body, its name in a header."""
    for kind, label, path in [("sequences", "Sequence file", fasta), ("metadata", "Metadata file", metadata)]:
        if path is None:
            continue
        with page.expect_request(lambda request, kind=kind: request.url.endswith(f"/bulk/{kind}")) as sent:
            page.get_by_label(label, exact=True).set_input_files(path)
        headers = sent.value.all_headers()
        assert headers["content-type"] == "application/octet-stream"
        assert headers["x-file-name"] == quote(path.name)
        expect(page.locator(f"#chosen-{kind}")).to_contain_text(path.name)


def submit(page: Page) -> None:
    page.get_by_label("I confirm that I have the legal right to submit this data").check()
    page.get_by_label("I confirm I have not and will not submit this data independently to INSDC").check()
    page.get_by_role("button", name="Upload and proceed to Approval").click()
    page.get_by_role("button", name="Continue under Open terms").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your submission reached Loculus sandbox")


def links_of(record: dict[str, Any]) -> dict[str, list[str]]:
    return {e["submissionId"]: sorted(f["name"] for f in e["files"].get("rawReads", [])) for e in record["entries"]}


def test_a_folder_with_one_subfolder_per_id_is_linked_and_submitted(
    page: Page, live_server: Any, loculus_any: RunningSandbox, tmp_path: Path
) -> None:
    metadata = write(tmp_path / "metadata.tsv", tsv(HEADER, ROWS).encode())
    fasta = write(tmp_path / "sequences.fasta", FASTA.encode())
    for entry_id, names in {"s1": ["r1.fq", "r2.fq"], "s2": ["r1.fq"], "s3": []}.items():
        (tmp_path / "reads" / entry_id).mkdir(parents=True, exist_ok=True)
        for name in names:
            write(tmp_path / "reads" / entry_id / name, f"@{entry_id}-{name}\nACGT\n+\nIIII\n".encode())
    open_bulk(page, live_server, "ebola-sudan")
    choose_data_files(page, metadata, fasta)
    expect(page.locator("#file-checks")).to_contain_text("3 entries and 3 sequences checked: no problems found.")
    page.get_by_label("Upload folder for Raw reads").set_input_files(tmp_path / "reads")
    for path in ["s1/r1.fq", "s1/r2.fq", "s2/r1.fq"]:
        expect(status(page, "rawReads", path)).to_have_text("✓")
    expect(page.locator("#links-rawReads")).to_contain_text("✓ 3 files uploaded and linked to metadata!")
    submit(page)
    (record,) = loculus_any.submissions()
    assert links_of(record) == {"s1": ["r1.fq", "r2.fq"], "s2": ["r1.fq"], "s3": []}
    for upload in ExtraFile.objects.all():
        assert s3_object(loculus_any, upload.file_id) == (tmp_path / "reads" / upload.path).read_bytes()
    sent = Path(record["metadataFile"]["path"]).read_text().splitlines()
    if record["generation"] == "legacy":
        assert record["fileMapping"] is not None
        assert sent[0] == "id\tsampleCollectionDate\tgeoLocCountry"
    else:
        assert sent[0] == "id\tsampleCollectionDate\tgeoLocCountry\tfiles.rawReads"


def test_a_files_column_with_name_and_path_decides_the_links(
    page: Page, live_server: Any, loculus_any: RunningSandbox, tmp_path: Path
) -> None:
    rows = [
        [*ROWS[0], "reads.fq::lane1/s1.fq qc.txt"],
        [*ROWS[1], "reads.fq::lane2/s2.fq"],
        [*ROWS[2], ""],
    ]
    metadata = write(tmp_path / "metadata.tsv", tsv([*HEADER, "files.rawReads"], rows).encode())
    fasta = write(tmp_path / "sequences.fasta", FASTA.encode())
    write(tmp_path / "run" / "lane1" / "s1.fq", b"@a\nA\n+\nI\n")
    write(tmp_path / "run" / "lane2" / "s2.fq", b"@b\nC\n+\nI\n")
    write(tmp_path / "run" / "qc.txt", b"all good")
    open_bulk(page, live_server, "ebola-sudan")
    choose_data_files(page, metadata, fasta)
    expect(page.locator("#file-checks")).to_contain_text("no problems found")
    page.get_by_label("Upload folder for Raw reads").set_input_files(tmp_path / "run")
    for path in ["lane1/s1.fq", "lane2/s2.fq", "qc.txt"]:
        expect(status(page, "rawReads", path)).to_have_text("✓")
    submit(page)
    (record,) = loculus_any.submissions()
    assert links_of(record) == {"s1": ["qc.txt", "reads.fq"], "s2": ["reads.fq"], "s3": []}


def test_compressed_metadata_and_fasta_are_accepted(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path
) -> None:
    metadata = write(tmp_path / "metadata.tsv.zst", zstandard.ZstdCompressor().compress(tsv(HEADER, ROWS).encode()))
    fasta = write(tmp_path / "sequences.fasta.gz", gzip.compress(FASTA.encode()))
    open_bulk(page, live_server, "ebola-sudan")
    choose_data_files(page, metadata, fasta)
    expect(page.locator("#file-checks")).to_contain_text("3 entries and 3 sequences checked: no problems found.")
    submit(page)
    (record,) = loculus.submissions()
    assert [e["submissionId"] for e in record["entries"]] == ["s1", "s2", "s3"]


def test_xlsx_metadata_is_accepted(page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    sheet = book.create_sheet("Data")
    for line in [HEADER, *ROWS]:
        sheet.append(line)
    book.save(tmp_path / "metadata.xlsx")
    fasta = write(tmp_path / "sequences.fasta", FASTA.encode())
    open_bulk(page, live_server, "ebola-sudan")
    choose_data_files(page, tmp_path / "metadata.xlsx", fasta)
    # As on the Loculus website: the sheet "Data" is read, and the other sheet is named in a warning.
    checks = page.locator("#file-checks")
    expect(checks).to_contain_text("0 errors and 1 warning")
    expect(checks).to_contain_text("“metadata.xlsx” contains 2 sheets, only the “Data” sheet (3 rows) was processed.")
    submit(page)
    (record,) = loculus.submissions()
    header, first, *_ = Path(record["metadataFile"]["path"]).read_text().splitlines()
    assert header == "id\tsampleCollectionDate\tgeoLocCountry\tfiles.rawReads"
    assert first == "s1\t2024-01-05\tUganda\t"  # no files for this entry


@pytest.mark.parametrize(
    ("problem", "shown"),
    [
        (
            "subfolder",
            "No entry has the ID of these folders, so their files belong to no entry: “s9”. "
            "Remove them, or add those IDs to the metadata.",
        ),
        ("missing fasta id", "s3"),
        ("duplicate id", "s1"),
    ],
)
def test_problems_are_shown_before_upload_and_nothing_is_submitted(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path, problem: str, shown: str
) -> None:
    rows = [*ROWS, ROWS[0]] if problem == "duplicate id" else ROWS
    fasta_text = FASTA if problem != "missing fasta id" else ">s1\nACGT\n>s2\nGGCC\n"
    metadata = write(tmp_path / "metadata.tsv", tsv(HEADER, rows).encode())
    fasta = write(tmp_path / "sequences.fasta", fasta_text.encode())
    open_bulk(page, live_server, "ebola-sudan")
    choose_data_files(page, metadata, fasta)
    if problem == "subfolder":
        write(tmp_path / "reads" / "s1" / "a.fq", b"@a\nA\n+\nI\n")
        write(tmp_path / "reads" / "s9" / "b.fq", b"@b\nA\n+\nI\n")
        page.get_by_label("Upload folder for Raw reads").set_input_files(tmp_path / "reads")
        expect(page.locator("[data-upload-message]")).to_have_text(shown)
        expect(status(page, "rawReads", "s1/a.fq")).to_have_text("✓")
        expect(status(page, "rawReads", "s9/b.fq")).to_have_text("✓")  # uploaded, but linked to no entry:
        stray = page.locator("tr", has=status(page, "rawReads", "s9/b.fq")).locator("td.file-link")
        expect(stray).to_have_text("⚠ Not linked: The folder “s9” matches no ID in the metadata.")
    else:
        checks = page.locator("#file-checks")
        expect(checks).to_contain_text("1 error")
        expect(checks.get_by_role("cell").filter(has_text=shown).first).to_be_visible()
    page.get_by_label("I confirm that I have the legal right to submit this data").check()
    page.get_by_label("I confirm I have not and will not submit this data independently to INSDC").check()
    page.get_by_role("button", name="Upload and proceed to Approval").click()
    page.get_by_role("button", name="Continue under Open terms").click()
    expect(page.locator("#problem")).to_be_visible()
    if problem == "subfolder":
        expect(page.locator("#problem")).to_contain_text(
            "The following rawReads files were uploaded but not referenced in metadata: s9/b.fq."
        )
    assert loculus.submissions() == []


def test_a_thousand_small_files_upload_in_parallel_and_all_are_linked(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path
) -> None:
    ids = [f"s{n}" for n in range(1, 11)]
    names = {entry: [f"{entry}_{k:03d}.txt" for k in range(100)] for entry in ids}
    rows = [[entry, "2024-01-05", "Uganda", " ".join(names[entry])] for entry in ids]
    metadata = write(tmp_path / "metadata.tsv", tsv([*HEADER, "files.rawReads"], rows).encode())
    fasta = write(tmp_path / "sequences.fasta", "".join(f">{entry}\nACGT\n" for entry in ids).encode())
    for entry in ids:
        for name in names[entry]:
            write(tmp_path / "many" / name, f"{name}\n".encode() * 20)
    open_bulk(page, live_server, "ebola-sudan")
    choose_data_files(page, metadata, fasta)
    expect(page.locator("#file-checks")).to_contain_text("10 entries and 10 sequences checked: no problems found.")
    loculus.admin("DELETE", "s3-log")
    reports: list[str] = []
    page.on("request", lambda r: reports.append(r.url) if r.url.endswith("/files/done") else None)
    page.get_by_label("Upload folder for Raw reads").set_input_files(tmp_path / "many")
    expect(page.locator("[data-summary-text]")).to_contain_text("1000 of 1000 files uploaded", timeout=180_000)
    expect(page.get_by_role("img", name="Uploaded")).to_have_count(1000)
    # Files finishing together are reported together, not in a thousand requests.
    assert 0 < len(reports) < 250, f"{len(reports)} requests reported the finished files"
    puts = sorted((r["start"], r["end"]) for r in loculus.s3_log() if r["method"] == "PUT")
    assert len(puts) == 1000
    in_flight = max(sum(1 for s, e in puts if s <= start < e) for start, _ in puts)
    assert in_flight >= 3, f"at most {in_flight} uploads were in flight at once"
    submit(page)
    (record,) = loculus.submissions()
    assert {e["submissionId"]: len(e["files"]["rawReads"]) for e in record["entries"]} == dict.fromkeys(ids, 100)


def test_files_dropped_on_the_area_are_uploaded(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path
) -> None:
    metadata = write(tmp_path / "metadata.tsv", tsv([*HEADER, "files.rawReads"], [[*ROWS[0], "a.txt b.txt"]]).encode())
    fasta = write(tmp_path / "sequences.fasta", b">s1\nACGT\n")
    open_bulk(page, live_server, "ebola-sudan")
    choose_data_files(page, metadata, fasta)
    expect(page.locator("#file-checks")).to_contain_text("no problems found")
    # Playwright cannot drag a folder from the desktop; it can drop files made in the page.
    page.evaluate(
        """() => {
            const transfer = new DataTransfer();
            transfer.items.add(new File(["first"], "a.txt"));
            transfer.items.add(new File(["second"], "b.txt"));
            const zone = document.querySelector('[data-upload-category="rawReads"]');
            zone.dispatchEvent(new DragEvent("dragover", {bubbles: true, dataTransfer: transfer}));
            zone.dispatchEvent(new DragEvent("drop", {bubbles: true, dataTransfer: transfer}));
        }"""
    )
    expect(status(page, "rawReads", "a.txt")).to_have_text("✓")
    expect(status(page, "rawReads", "b.txt")).to_have_text("✓")
    assert {f.path: s3_object(loculus, f.file_id) for f in ExtraFile.objects.all()} == {
        "a.txt": b"first",
        "b.txt": b"second",
    }


def scripts_fetched(page: Page) -> set[str]:
    """The paths of the scripts the page fetched, including those imported by its modules."""
    return set(
        page.evaluate(
            """() => performance.getEntriesByType("resource")
                .map((entry) => new URL(entry.name).pathname)
                .filter((path) => path.endsWith(".js"))"""
        )
    )


def test_a_metadata_file_dropped_on_its_area_is_sent_and_only_the_bulk_page_loads_the_bulk_module(
    page: Page, live_server: Any, loculus: RunningSandbox
) -> None:
    open_bulk(page, live_server, "ebola-sudan")
    assert {
        "/static/js/extra_file_uploads.js",
        "/static/js/bulk_files.js",
        "/static/js/drop_zone.js",
    } <= scripts_fetched(page)
    area = page.locator('[data-drop-input="file-metadata"]')
    # A file made in the page, dragged over the metadata area and dropped there (as in the test above).
    drag = """([type, text]) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([text], "dropped.tsv"));
        const event = new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: transfer});
        document.querySelector('[data-drop-input="file-metadata"]').dispatchEvent(event);
    }"""
    text = tsv(["id", "geoLocCountry"], [["s1", "Uganda"]])
    page.evaluate(drag, ["dragover", text])
    expect(area).to_have_class(re.compile(r"\bdragging\b"))
    with page.expect_request(lambda request: request.url.endswith("/bulk/metadata")) as sent:
        page.evaluate(drag, ["drop", text])
    assert sent.value.headers["content-type"] == "application/octet-stream"
    assert sent.value.headers["x-file-name"] == "dropped.tsv"
    # The portal got the file's bytes (Playwright does not show a request body made from a File).
    expect(page.locator("#chosen-metadata")).to_have_text(f"dropped.tsv ({len(text)} bytes)")
    expect(page.locator("#file-checks")).to_contain_text("in 1 entry.")

    page.get_by_role("link", name="Submit individual sequence entry using a form").click()
    expect(page).to_have_url(re.compile(r"/ebola-sudan/submission/form/[0-9a-f-]+/$"))
    page.wait_for_load_state("load")
    fetched = scripts_fetched(page)
    assert {"/static/js/extra_file_uploads.js", "/static/js/drop_zone.js"} <= fetched
    assert "/static/js/bulk_files.js" not in fetched


# Run in a tab: what the user chose is applied at one instant (`at`, ms since the epoch) in every tab,
# so that the tabs' requests really overlap (Playwright's own steps are milliseconds apart).
CHOOSE_AT = """([at, changes]) => new Promise((resolve) => setTimeout(() => {
  for (const [selector, value] of changes) {
    const element = document.querySelector(selector);
    if (element.type === "file") element.files = document.querySelector(value).files;
    else if (element.type === "checkbox") element.checked = value;
    else element.value = value;
    element.dispatchEvent(new Event("change", { bubbles: true }));
  }
  resolve();
}, at - Date.now()))"""


def stage_file(tab: Page, path: Path) -> str:
    """A file chosen in a hidden input of the tab, to be moved into the page's own input later."""
    tab.evaluate("""() => { const i = document.createElement("input"); i.type = "file"; i.id = "staged";
                    i.hidden = true; document.body.append(i); }""")
    tab.locator("#staged").set_input_files(path)
    return "#staged"


def test_two_tabs_on_one_draft_keep_everything_each_of_them_sent(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path
) -> None:
    metadata = write(tmp_path / "metadata.tsv", tsv(HEADER, ROWS).encode())
    fasta = write(tmp_path / "sequences.fasta", FASTA.encode())
    for folder, entry_id, name in [("reads", "s1", "r1.fq"), ("more", "s2", "r2.fq"), ("more", "s3", "r3.fq")]:
        write(tmp_path / folder / entry_id / name, f"@{entry_id}\nACGT\n+\nIIII\n".encode())
    open_bulk(page, live_server, "ebola-sudan")
    other = page.context.new_page()
    other.goto(page.url)
    other.wait_for_load_state("load")
    legal = "I confirm that I have the legal right to submit this data"

    # At one instant: this tab chooses the metadata and ticks a confirmation (autosaved), the other
    # tab chooses the FASTA and another submitting group.
    at = page.evaluate("Date.now()") + 500
    mine = [["#file-metadata", stage_file(page, metadata)], ["#field-confirmation-no-pii", True]]
    theirs = [["#file-sequences", stage_file(other, fasta)], ["#group-select", "2"]]
    with (
        page.expect_response(lambda r: r.url.endswith("/bulk/metadata")) as metadata_sent,
        page.expect_response(lambda r: r.url.endswith("/save")) as autosaved,
        other.expect_response(lambda r: r.url.endswith("/bulk/sequences")) as fasta_sent,
        other.expect_response(lambda r: r.url.endswith("/group")) as regrouped,
    ):
        page.evaluate(f"() => {{ window.chosen = ({CHOOSE_AT})({json.dumps([at, mine])}); }}")
        other.evaluate(CHOOSE_AT, [at, theirs])
    assert [r.value.status for r in (metadata_sent, autosaved, fasta_sent, regrouped)] == [200, 204, 200, 200]
    for tab in (page, other):
        tab.reload()
        expect(tab.locator("#chosen-metadata")).to_contain_text("metadata.tsv")
        expect(tab.locator("#chosen-sequences")).to_contain_text("sequences.fasta")
        expect(tab.locator("#file-checks")).to_contain_text("3 entries and 3 sequences checked: no problems found.")
        expect(tab.get_by_label(legal)).to_be_checked()
        expect(tab.get_by_label("Submitting group")).to_have_value("2")

    # Both tabs upload extra files at once, each its own folder.
    for tab, folder in [(page, "reads"), (other, "more")]:
        tab.bring_to_front()  # a folder is set only on the tab in front (seen with Playwright and Chromium)
        tab.get_by_label("Upload folder for Raw reads").set_input_files(tmp_path / folder)
    expect(status(page, "rawReads", "s1/r1.fq")).to_have_text("✓")
    for path in ["s2/r2.fq", "s3/r3.fq"]:
        expect(status(other, "rawReads", path)).to_have_text("✓")
    for tab in (page, other):
        tab.reload()
        for path in ["s1/r1.fq", "s2/r2.fq", "s3/r3.fq"]:
            expect(status(tab, "rawReads", path)).to_have_text("✓")
        expect(tab.locator("#links-rawReads")).to_contain_text("✓ 3 files uploaded and linked to metadata!")

    # One tab submits; the other, still showing the form, is taken to the same result.
    submit(other)
    page.get_by_label("I confirm I have not and will not submit this data independently to INSDC").check()
    page.get_by_role("button", name="Upload and proceed to Approval").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your submission reached Loculus sandbox")
    (record,) = loculus.submissions()
    assert links_of(record) == {"s1": ["r1.fq"], "s2": ["r2.fq"], "s3": ["r3.fq"]}
    assert record["groupId"] == 2
