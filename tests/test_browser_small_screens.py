"""In headless Chromium, 360 px wide: every page fits the screen, and the CSP refuses nothing on it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from sandbox.launcher import RunningSandbox
from submitportal.file_names import path_order
from submitportal.models import ExtraFile
from tests.browser_helpers import log_in_on_keycloak
from tests.test_browser_bulk import FASTA, HEADER, ROWS, choose_data_files, open_bulk, submit, tsv
from tests.test_browser_entry import accept_terms_and_submit, fill_required, status, write

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 360
LONG_NAME = "Kampala_2024_run_0042_barcode07_trimmed_and_filtered_against_the_human_reference_R1.fastq.gz"
LONG_ID = "kampala-2024-sample-with-a-rather-long-identifier-000123"
# What stands out of the page, for the failure message.
WIDEST = """(width) => [...document.querySelectorAll("body *")]
  .filter((element) => element.getBoundingClientRect().right > width + 0.5)
  .slice(-8)
  .map((element) => `${element.tagName.toLowerCase()}${element.id ? "#" + element.id : ""}`
    + ` (${Math.round(element.getBoundingClientRect().right)} px)`)"""


class Console:
    """Every console message and uncaught error of the page, across navigations."""

    def __init__(self, page: Page) -> None:
        self.messages: list[str] = []
        page.on("console", lambda message: self.messages.append(message.text))
        page.on("pageerror", lambda error: self.messages.append(str(error)))

    def refusals(self) -> list[str]:
        return [message for message in self.messages if "Content Security Policy" in message]


@pytest.fixture
def console(page: Page) -> Iterator[Console]:
    page.set_viewport_size({"width": WIDTH, "height": 740})
    seen = Console(page)
    yield seen
    # Whatever else a test checks: nothing was refused on any page it showed.
    assert seen.refusals() == []


def fits(page: Page, console: Console, what: str) -> None:
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{what} is {width} px wide on a {WIDTH} px screen: {page.evaluate(WIDEST, WIDTH)}"
    assert console.refusals() == [], f"the Content Security Policy refused something on {what}"


def rows_in_page(page: Page, category: str = "rawReads") -> list[str]:
    return page.locator(f"#files-{category} [data-file-row]").evaluate_all("rows => rows.map(r => r.dataset.path)")


def test_pages_without_sign_in_fit(page: Page, live_server: Any, loculus: RunningSandbox, console: Console) -> None:
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Submit sequences to Loculus sandbox")
    fits(page, console, "the home page")
    page.get_by_role("link", name="About this portal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("About this portal")
    fits(page, console, "the About page")
    page.goto(f"{live_server.url}/no-such-page/{LONG_ID}{LONG_ID}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    fits(page, console, "the page for an unknown address")


def test_the_page_for_an_unset_loculus_url_fits(page: Page, live_server: Any, settings: Any, console: Console) -> None:
    settings.LOCULUS_URL = ""
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("The portal cannot reach its Loculus instance")
    fits(page, console, "the page saying Loculus is not configured")


def test_the_organism_page_the_form_its_result_and_my_drafts_fit(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path, console: Console
) -> None:
    page.goto(f"{live_server.url}/ebola-sudan/submission/")
    log_in_on_keycloak(page, "testuser")
    expect(page.get_by_label("Submitting group", exact=True)).to_be_visible()  # two groups, long names
    fits(page, console, "the organism page")

    page.get_by_role("link", name="Submit individual sequence entry using a form").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Submit sequences")
    page.wait_for_load_state("load")  # the upload module listens before files are chosen
    fits(page, console, "the single-entry form")
    page.get_by_role("button", name="Upload and proceed to Approval").click()
    expect(page.locator("#error-summary")).to_be_visible()
    fits(page, console, "the single-entry form with its errors")

    fill_required(page, "ebola-sudan", LONG_ID)
    page.get_by_label("Nucleotide sequence", exact=True).fill("ACGT" * 200)
    reads = [write(tmp_path / name, b"@r\nACGT\n+\nIIII\n") for name in (LONG_NAME, "b.fq", "a.fq")]
    page.get_by_label("Add files to Raw reads").set_input_files(reads)
    for path in (LONG_NAME, "a.fq", "b.fq"):
        expect(status(page, "rawReads", path)).to_have_text("✓")
    assert rows_in_page(page) == ["a.fq", "b.fq", LONG_NAME]
    fits(page, console, "the single-entry form with long file names")
    accept_terms_and_submit(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your submission reached Loculus sandbox")
    expect(page.get_by_text(LONG_NAME)).to_be_visible()
    fits(page, console, "the result of a single entry")
    card = page.get_by_role("listitem", name=re.compile(rf"^LOC_\w+\.1 {LONG_ID}$"))
    expect(card).to_contain_text("Passed QC", timeout=15_000)  # processed: its metadata and files shown
    expect(card).to_contain_text(LONG_NAME)
    fits(page, console, "the result with its processed entry")
    page.get_by_role("link", name="Review all pending submissions of Sandbox Lab Berlin").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review pending submissions")
    fits(page, console, "the review page")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My drafts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My drafts")
    expect(page.get_by_role("table", name="Submitted").get_by_text(re.compile(r"^LOC_\w+\.1$"))).to_be_visible()
    fits(page, console, "My drafts")


def test_the_bulk_page_with_problems_and_long_file_names_fits_and_lists_files_by_path(
    page: Page, live_server: Any, loculus: RunningSandbox, tmp_path: Path, settings: Any, console: Console
) -> None:
    settings.DEBUG = True  # as `make demo` runs it
    ids = ["s1", "s2", "s10", LONG_ID]
    rows = [*ROWS[:2], ["s10", "18/03/2024", "Ugnda"], [LONG_ID, "2024-01-07", "Uganda"]]
    metadata = write(tmp_path / f"metadata_{LONG_NAME}.tsv", tsv(HEADER, rows).encode())
    fasta = write(tmp_path / "sequences.fasta", (FASTA + ">unknown_sequence_without_metadata\nACGT\n").encode())
    for entry_id in ids:  # written out of order: the page lists them by path all the same
        write(tmp_path / "reads" / entry_id / LONG_NAME, b"@x\nACGT\n+\nIIII\n")
        write(tmp_path / "reads" / entry_id / "B.fq", b"@x\nACGT\n+\nIIII\n")
    write(tmp_path / "more" / "s2" / "a.fq", b"@x\nACGT\n+\nIIII\n")
    write(tmp_path / "more" / "s1" / "c.fq", b"@x\nACGT\n+\nIIII\n")

    open_bulk(page, live_server, "ebola-sudan")
    fits(page, console, "the bulk page")
    choose_data_files(page, metadata, fasta)
    expect(page.locator("#file-checks")).to_contain_text("error")
    fits(page, console, "the bulk page with a report of problems")

    page.get_by_label("Upload folder for Raw reads").set_input_files(tmp_path / "reads")
    expected = sorted((f"{entry_id}/{name}" for entry_id in ids for name in (LONG_NAME, "B.fq")), key=path_order)
    for path in expected:
        expect(status(page, "rawReads", path)).to_have_text("✓")
    assert list(dict.fromkeys(path.split("/")[0] for path in expected)) == [LONG_ID, "s1", "s2", "s10"]
    assert rows_in_page(page) == expected  # the first choice
    fits(page, console, "the bulk page with long file names")
    page.get_by_label("Upload folder for Raw reads").set_input_files(tmp_path / "more")
    for path in ("s1/c.fq", "s2/a.fq"):
        expect(status(page, "rawReads", path)).to_have_text("✓")
    expected = sorted([*expected, "s1/c.fq", "s2/a.fq"], key=path_order)
    assert rows_in_page(page) == expected  # a later choice: new rows in their place
    page.reload()
    assert rows_in_page(page) == expected
    fits(page, console, "the bulk page, reloaded")

    # A request the portal refuses (this file was removed in another tab): with DEBUG on, the page
    # still says so itself instead of showing Django's error page with its inline styles.
    gone = ExtraFile.objects.get(path="s1/c.fq")
    gone.delete()
    page.get_by_test_id("discard_rawReads_s1/c.fq").click()
    expect(page.locator("#portal-alert")).to_contain_text("The portal answered 404")
    fits(page, console, "the bulk page after a refused request")

    # Corrected files: the submission goes through, and its result lists the long IDs.
    good = [*ROWS[:2], ["s10", "2024-03-18", "Uganda"], [LONG_ID, "2024-01-07", "Uganda"]]
    write(metadata, tsv(HEADER, good).encode())
    fasta_text = ">s1\nACGT\n>s2\nACGT\n>s10\nACGT\n" + f">{LONG_ID}\nACGT\n"
    write(fasta, fasta_text.encode())
    choose_data_files(page, metadata, fasta)
    expect(page.locator("#file-checks")).to_contain_text("no problems found")
    submit(page)
    expect(page.get_by_role("cell", name=LONG_ID)).to_be_visible()
    fits(page, console, "the result of a bulk submission")


def test_the_pages_for_problems_with_loculus_fit(
    page: Page, live_server: Any, loculus: RunningSandbox, console: Console
) -> None:
    page.goto(f"{live_server.url}/cchf/submission/")
    log_in_on_keycloak(page, "testuser")
    loculus.add_faults({"path": "/user/groups", "method": "GET", "status": 503, "times": 3})
    page.reload()
    expect(page.get_by_role("alert")).to_contain_text("Loculus answered 503 Service Unavailable")
    fits(page, console, "the page saying Loculus is not answering")

    # Refused right after a new sign-in: the backend does not trust this issuer.
    loculus.clear_faults()
    loculus.add_faults({"path": "/user/groups", "method": "GET", "status": 401, "times": 2})
    page.goto(f"{live_server.url}/cchf/submission/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Loculus did not accept your sign-in")
    fits(page, console, "the page saying Loculus refused the sign-in")
