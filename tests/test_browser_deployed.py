"""In headless Chromium, against the portal as production runs it: gunicorn, DEBUG off, collected static files.

The other browser tests use Django's live server with DEBUG's static files. Here the page's scripts come
from whitenoise's manifest under their hashed names (and import each other by them), the Content
Security Policy is the production one, and a new user goes from sign-in to a submitted bulk draft with
extra files.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from sandbox.launcher import RunningSandbox, start_sandbox
from tests.browser_helpers import log_in_on_keycloak
from tests.deployed import Deployed, free_port, gunicorn_portal
from tests.test_browser_bulk import FASTA, HEADER, ROWS, links_of, tsv
from tests.test_browser_entry import status, write

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def production(
    tmp_path_factory: pytest.TempPathFactory, django_db_setup: None, django_db_blocker: Any
) -> Iterator[tuple[Deployed, RunningSandbox]]:
    port = free_port()
    with django_db_blocker.unblock(), start_sandbox(f"http://127.0.0.1:{port}") as sandbox:
        env = {"LOCULUS_URL": sandbox.website, "LOG_LEVEL": "INFO"}
        with gunicorn_portal(tmp_path_factory.mktemp("production"), env, workers=2, threads=4, port=port) as running:
            yield running, sandbox


def test_a_new_user_submits_a_bulk_draft_with_extra_files_on_the_production_setup(
    page: Page, production: tuple[Deployed, RunningSandbox], tmp_path: Path
) -> None:
    portal, sandbox = production
    refused: list[str] = []
    failed: list[str] = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    scripts: list[str] = []
    page.on("request", lambda request: scripts.append(request.url) if request.resource_type == "script" else None)

    metadata = write(tmp_path / "metadata.tsv", tsv(HEADER, ROWS).encode())
    fasta = write(tmp_path / "sequences.fasta", FASTA.encode())
    write(tmp_path / "reads" / "s1" / "r1.fq", b"@s1\nACGT\n+\nIIII\n")
    write(tmp_path / "reads" / "s2" / "r2.fq", b"@s2\nACGT\n+\nIIII\n")

    page.goto(f"{portal.url}/ebola-sudan/submission/")
    log_in_on_keycloak(page, "testuser")
    page.get_by_role("link", name="Upload bulk sequences").click()
    page.wait_for_load_state("load")
    page.get_by_label("Metadata file", exact=True).set_input_files(metadata)
    expect(page.locator("#chosen-metadata")).to_contain_text("metadata.tsv")
    page.get_by_label("Sequence file", exact=True).set_input_files(fasta)
    expect(page.locator("#file-checks")).to_contain_text("3 entries and 3 sequences checked: no problems found.")
    page.get_by_label("Upload folder for Raw reads").set_input_files(tmp_path / "reads")
    for path in ["s1/r1.fq", "s2/r2.fq"]:
        expect(status(page, "rawReads", path)).to_have_text("✓")
    expect(page.locator("#links-rawReads")).to_contain_text("✓ 2 files uploaded and linked to metadata!")
    page.get_by_label("I confirm that I have the legal right to submit this data").check()
    page.get_by_label("I confirm I have not and will not submit this data independently to INSDC").check()
    page.get_by_role("button", name="Upload and proceed to Approval").click()
    page.get_by_role("button", name="Continue under Open terms").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your submission reached Loculus sandbox")

    (record,) = [r for r in sandbox.submissions() if {e["submissionId"] for e in r["entries"]} == {"s1", "s2", "s3"}]
    assert links_of(record) == {"s1": ["r1.fq"], "s2": ["r2.fq"], "s3": []}

    # The batch's review refreshes itself until all three are processed (the sandbox takes 3 s), and its
    # approval goes through the page's own dialog.
    progress = page.get_by_role("status").filter(has_text="sequences processed")
    expect(progress).to_have_text("3 of 3 sequences processed in this submission", timeout=15_000)
    page.get_by_role("button", name="Approve 3 valid sequence(s)").click()
    page.get_by_role("dialog").get_by_role("button", name="Approve").click()
    expect(page.get_by_text("🎉 3 sequence(s) approved.")).to_be_visible()

    ours = [url for url in scripts if url.startswith(f"{portal.url}/static/js/")]
    # Every module the page loaded came by its hashed name, imports included (long-cached, never stale).
    assert {url.rsplit("/", 1)[1].split(".")[0] for url in ours} >= {
        "extra_file_uploads",
        "bulk_files",
        "drop_zone",
        "review",
    }
    assert all(len(url.rsplit("/", 1)[1].split(".")) == 3 for url in ours), ours
    assert refused == []
    assert failed == []
