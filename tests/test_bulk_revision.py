"""Bulk revision against the sandbox: the Revise card and page, the accession checks (each message), the
revision templates, the send to /revise (no group, no terms), drafts that never mix with submissions, and
the round trip of the originally submitted data in both generations of Loculus (contract §4.2, §4.6, §5.7)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from sandbox.launcher import RunningSandbox
from submitportal.models import BulkCheck, Draft
from tests.sandbox.helpers import Backend, fasta, tsv
from tests.test_bad_input import send
from tests.test_bulk_state import text as page_text
from tests.test_released_views import DOWNLOAD, latest, released
from tests.test_review_views import submit, text

pytestmark = pytest.mark.django_db

REVISE = "/ebola-sudan/submission/revise/"
ACKNOWLEDGED = {"confirmation-no-pii": "on", "confirmation-INSDC-upload-terms": "on"}
HEADER = ["accession", "id", "sampleCollectionDate", "geoLocCountry"]


def revise_draft(portal: Client) -> Draft:
    """A new bulk revision draft, through the Revise card's address."""
    answer = portal.get(REVISE)
    assert answer.status_code == 302, answer.content[:300]
    draft = Draft.objects.get(pk=answer["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert (draft.kind, draft.revise) == (Draft.Kind.BULK, True)
    return draft


def rows_tsv(*rows: list[str], header: list[str] = HEADER) -> bytes:
    return tsv(header, *rows).encode()


def checked(portal: Client, draft: Draft, metadata: bytes, ids: list[str]) -> str:
    """Send a FASTA for these IDs and the metadata; the text of the check the page shows."""
    send(portal, draft, "sequences", "s.fasta", fasta(*[(i, "ACGT" * 10) for i in ids]).encode())
    return page_text(send(portal, draft, "metadata", "revision.tsv", metadata))


def test_the_revise_card_leads_to_a_revision_page_as_on_loculus(portal: Client, backend: Backend) -> None:
    page = text(portal.get("/ebola-sudan/submission/"))
    assert "Revise Upload revisions for existing sequences." in page
    assert f'href="{REVISE}"' in portal.get("/ebola-sudan/submission/").content.decode()
    draft = revise_draft(portal)
    html = portal.get(f"/ebola-sudan/submission/bulk/{draft.pk}/").content.decode()
    shown = text(portal.get(f"/ebola-sudan/submission/bulk/{draft.pk}/"))
    assert "Revise sequences" in shown and "Submit sequences" not in shown
    assert "Upload bulk sequences Revise individual sequence entry using a form" in shown
    assert (
        'For revisions, your metadata file must contain an "accession" column, containing for each row the '
        "accession already in the database." in shown
    )
    assert "/ebola-sudan/submission/template.xlsx?format=revise" in html
    assert "/ebola-sudan/submission/template.tsv?format=revise" in html
    assert 'href="/ebola-sudan/submission/revise/form/"' in html
    assert "Data use terms" not in shown and 'name="data_use_terms"' not in html
    assert "Acknowledgement" in shown and 'name="confirmation-no-pii"' in html
    assert "Upload and proceed to Approval" in shown
    form_tab = text(portal.get("/ebola-sudan/submission/revise/form/"))
    assert "Accession of sequence to revise" in form_tab and "Upload bulk sequences" in form_tab


def test_revision_templates_put_the_accession_column_first(portal: Client, loculus: RunningSandbox) -> None:
    answer = portal.get("/ebola-sudan/submission/template.tsv?format=revise")
    assert answer["Content-Disposition"] == 'attachment; filename="Ebola_Sudan_metadata_revision_template.tsv"'
    assert answer.content.decode().split("\n")[0].split("\t")[:2] == ["accession", "id"]
    plain = portal.get("/ebola-sudan/submission/template.tsv")
    assert plain.content.decode().split("\t")[0] == "id"
    workbook = portal.get("/ebola-sudan/submission/template.xlsx?format=revise")
    assert "Ebola_Sudan_metadata_revision_template.xlsx" in workbook["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(workbook.streaming_content)))["Data"]
    assert [sheet.cell(1, 1).value, sheet.cell(1, 2).value] == ["accession", "id"]


def test_drafts_of_revisions_and_of_submissions_never_mix(portal: Client, backend: Backend) -> None:
    portal.get("/ebola-sudan/submission/bulk/")
    submitting = Draft.objects.get(revise=False)
    send(portal, submitting, "metadata", "new.tsv", rows_tsv(["", "n1", "2024-01-01", "Uganda"]))
    revising = revise_draft(portal)  # the unfinished submission is not offered
    assert revising.pk != submitting.pk
    send(portal, revising, "metadata", "fix.tsv", rows_tsv(["LOC_1", "n1", "2024-01-01", "Uganda"]))
    offered = text(portal.get(REVISE))
    assert "You have an unfinished bulk revision of Ebola Sudan for Sandbox Lab Berlin." in offered
    assert "Start a new revision" in offered and "fix.tsv" in offered and "new.tsv" not in offered
    again = text(portal.get("/ebola-sudan/submission/bulk/"))
    assert "unfinished bulk upload" in again and "new.tsv" in again and "fix.tsv" not in again
    started = portal.post(REVISE)
    assert Draft.objects.get(pk=started["Location"].rstrip("/").rsplit("/", 1)[-1]).revise
    listed = text(portal.get("/drafts/"))
    assert "Bulk revision fix.tsv" in listed and "Bulk upload new.tsv" in listed


def test_the_accession_column_must_be_there(portal: Client, backend: Backend) -> None:
    draft = revise_draft(portal)
    shown = checked(portal, draft, rows_tsv(["s1", "2024-01-01", "Uganda"], header=HEADER[1:]), ["s1"])
    assert (
        "The revised metadata file does not contain the header 'accession'. Please add a column named "
        "“accession” holding, for each row, the accession of the released entry it revises" in shown
    )
    assert BulkCheck.objects.get(draft=draft).summary["errors"] == 1


def test_each_accession_is_checked_in_the_file(portal: Client, backend: Backend) -> None:
    (first,) = released(backend, [("r1", "2024-03-18", "Uganda")])
    draft = revise_draft(portal)
    rows = [
        ["", "e1", "2024-01-01", "Uganda"],
        [f"{first}.1", "e2", "2024-01-01", "Uganda"],
        ["LOC-1/x", "e3", "2024-01-01", "Uganda"],
        [first, "e4", "2024-01-01", "Uganda"],
        [first, "e5", "2024-01-01", "Uganda"],
    ]
    shown = checked(portal, draft, rows_tsv(*rows), ["e1", "e2", "e3", "e4", "e5"])
    assert "4 errors and 0 warnings in 5 entries." in shown
    assert "Row 1 (ID “e1”): the accession (column “accession”) is empty." in shown
    assert (
        f"Row 2 (ID “e2”): “{first}.1” is an accession with a version. Please give the accession without the "
        f"version: {first} (the revision becomes its next version)." in shown
    )
    assert "Row 3 (ID “e3”): “LOC-1/x” is not an accession. Accessions consist of letters, digits and underscores" in (
        shown
    )
    assert f"Row 5 (ID “e5”): Duplicate accession found in metadata file: {first} (also in row 4)." in shown
    assert "Row 4" not in shown  # the first of the two rows is fine
    assert BulkCheck.objects.get(draft=draft).accessions["rows"] == ["", "", "", first, ""]


def test_each_accession_is_checked_against_loculus(portal: Client, backend: Backend) -> None:
    fine, revoked, pending_revision = released(
        backend, [("r1", "2024-03-18", "Uganda"), ("r2", "2024-03-18", "Kenya"), ("r3", "2024-03-18", "Kenya")]
    )
    assert backend.post("/ebola-sudan/revoke", json={"accessions": [revoked], "versionComment": None}).ok
    backend.get("/ebola-sudan/get-sequences")
    assert backend.post("/ebola-sudan/approve-processed-data", json={"groupIdsFilter": [1], "scope": "ALL"}).ok
    revision = tsv(HEADER, [pending_revision, "r3", "2024-03-18", "Kenya"])
    assert backend.revise("ebola-sudan", revision, fasta(("r3", "ACGT" * 10))).status_code == 200
    (unreleased,) = submit(backend, [("u1", "2024-03-18", "Uganda")])
    (kampala,) = submit(backend, [("k1", "2024-03-18", "Uganda")], group_id=2)
    answer = backend.submit(
        "ebola-sudan",
        tsv(["id", "geoLocCountry"], ["o1", "Uganda"]),
        fasta(("o1", "ACGT")),
        group_id=3,
        username="otheruser",
    )
    assert answer.status_code == 200, answer.text
    others = answer.json()[0]["accession"]  # another group's, which testuser cannot see
    draft = revise_draft(portal)
    rows = [
        [fine, "a", "2024-01-01", "Uganda"],
        [others, "b", "2024-01-01", "Uganda"],
        [kampala, "c", "2024-01-01", "Uganda"],
        [unreleased, "d", "2024-01-01", "Uganda"],
        [pending_revision, "e", "2024-01-01", "Uganda"],
        [revoked, "f", "2024-01-01", "Uganda"],
    ]
    shown = checked(portal, draft, rows_tsv(*rows), list("abcdef"))
    assert "4 errors and 1 warning in 6 entries." in shown
    assert f"Row 2 (ID “b”): the accession {others} is not among the Ebola Sudan sequences of your groups." in shown
    assert (
        f"Row 3 (ID “c”): the accession {kampala} belongs to your group Sandbox Lab Kampala, and this revision is "
        "for Sandbox Lab Berlin. Please revise it separately as Sandbox Lab Kampala, or delete the row." in shown
    )
    assert f"Row 4 (ID “d”): the accession {unreleased} has a version awaiting review ({unreleased}.1," in shown
    assert (
        f"Row 5 (ID “e”): the accession {pending_revision} has a version awaiting review ({pending_revision}.2, "
        in (shown)
    )
    assert (
        f"Loculus only takes a revision of a released version: please approve or discard {pending_revision}.2 on the "
        "review page first, or delete the row." in shown
    )
    assert (
        f"Row 6 (ID “f”): the accession {revoked} is revoked (its latest version {revoked}.2 is a revocation). "
        "Loculus accepts the revision: version 3 makes the sequence available again." in shown
    )
    assert "Row 1 " not in shown
    check = BulkCheck.objects.get(draft=draft)
    assert (check.accessions["group"], check.accessions["unchecked"]) == (1, "")


def test_the_check_asks_loculus_once_per_file_and_again_for_another_group(
    portal: Client, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from submitportal.loculus import client

    (first,) = released(backend, [("r1", "2024-03-18", "Uganda")])
    asked: list[str] = []
    real = client.get_sequences

    def counted(*args: Any, **kwargs: Any) -> Any:
        asked.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(client, "get_sequences", counted)
    draft = revise_draft(portal)
    shown = checked(portal, draft, rows_tsv([first, "r1", "2024-01-01", "Uganda"]), ["r1"])
    assert "checked: no problems found" in shown
    assert len(asked) == 1
    for _ in range(3):
        portal.get(f"/ebola-sudan/submission/bulk/{draft.pk}/")
    assert len(asked) == 1  # pages show the stored check
    changed = portal.post(f"/drafts/{draft.pk}/group", {"group": "2"}, HTTP_HX_REQUEST="true")
    assert changed["HX-Refresh"] == "true"  # the page reloads and shows the check for the new group
    page = text(portal.get(f"/ebola-sudan/submission/bulk/{draft.pk}/"))
    assert len(asked) == 2
    assert (
        f"the accession {first} belongs to your group Sandbox Lab Berlin, and this revision is for Sandbox Lab "
        "Kampala." in page
    )


def test_when_loculus_cannot_be_asked_nothing_is_sent_and_the_next_page_asks_again(
    portal: Client, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from submitportal.loculus import client

    (first,) = released(backend, [("r1", "2024-03-18", "Uganda")])
    real = client.get_sequences

    def down(*args: Any, **kwargs: Any) -> Any:
        raise client.BackendUnreachable(status=None, title="Unreachable", detail="Loculus could not be reached.")

    monkeypatch.setattr(client, "get_sequences", down)
    draft = revise_draft(portal)
    shown = checked(portal, draft, rows_tsv([first, "r1", "2024-01-01", "Uganda"]), ["r1"])
    assert "The accessions could not be checked against Loculus (Loculus could not be reached.)." in shown
    refused = portal.post(f"/ebola-sudan/submission/bulk/{draft.pk}/", ACKNOWLEDGED)
    assert refused.status_code == 409 and latest(backend)[first]["version"] == 1
    monkeypatch.setattr(client, "get_sequences", real)
    assert "checked: no problems found" in text(portal.get(f"/ebola-sudan/submission/bulk/{draft.pk}/"))


def test_a_submission_keeps_its_accession_column_as_an_ignored_column(portal: Client, backend: Backend) -> None:
    portal.get("/ebola-sudan/submission/bulk/")
    draft = Draft.objects.get(revise=False)
    shown = checked(portal, draft, rows_tsv(["LOC_1", "s1", "2024-01-01", "Uganda"]), ["s1"])
    assert "Column “accession” is not part of the Ebola Sudan metadata; Loculus will ignore it" in shown
    assert "0 errors and 1 warning" in shown


def test_a_revision_goes_to_revise_without_group_or_terms_and_lands_on_its_batch(
    portal: Client, backend: Backend, loculus: RunningSandbox
) -> None:
    first, second = released(backend, [("r1", "2024-03-18", "Uganda"), ("r2", "2024-03-18", "Kenya")])
    draft = revise_draft(portal)
    metadata = rows_tsv([second, "r2", "2024-03-19", "Kenya"], [first, "r1", "2024-03-19", "Uganda"])
    assert "checked: no problems found" in checked(portal, draft, metadata, ["r1", "r2"])
    missing = portal.post(f"/ebola-sudan/submission/bulk/{draft.pk}/", {})
    assert missing.status_code == 400 and "Please confirm the data you submitted" in text(missing)
    done = portal.post(f"/ebola-sudan/submission/bulk/{draft.pk}/", ACKNOWLEDGED)  # no terms, no Open dialog
    assert done.status_code == 302 and done["Location"] == f"/ebola-sudan/submission/bulk/{draft.pk}/result"
    now = latest(backend)
    assert (now[first]["version"], now[second]["version"]) == (2, 2)
    record = loculus.admin("GET", "submissions")[-1]
    assert (record["type"], record["groupId"], record["dataUseTerms"]) == ("revision", None, None)
    assert {(e["accession"], e["submissionId"]) for e in record["entries"]} == {(first, "r1"), (second, "r2")}
    result = text(portal.get(done["Location"]))
    assert "Your revision reached" in result and "Loculus accepted 2 revised entries." in result
    assert f"{first}.2" in result and f"{second}.2" in result


def files_of(loculus: RunningSandbox, accession: str, version: int) -> dict[str, list[tuple[str, str]]]:
    """What the sandbox recorded for one version: category -> [(name, fileId)]."""
    for record in loculus.admin("GET", "submissions"):
        for entry in record["entries"]:
            if (entry["accession"], entry["version"]) == (accession, version):
                files = entry["files"] or {}
                if not files and record.get("fileMapping"):
                    files = json.loads(record["fileMapping"]).get(entry["submissionId"], {})
                return {cat: sorted((f["name"], f["fileId"]) for f in refs) for cat, refs in files.items()}
    raise AssertionError(f"{accession}.{version} was never submitted")


def test_the_originally_submitted_data_comes_back_unchanged_as_a_revision(
    portal: Client, loculus_any: RunningSandbox
) -> None:
    generation = str(loculus_any.admin("GET", "config")["generation"])
    backend = Backend(loculus_any, generation)
    reads = backend.uploaded_file()
    metadata = tsv(
        ["id", "sampleCollectionDate", "geoLocCountry"], ["r1", "2024-03-18", "Uganda"], ["r2", "2024-03-18", "Kenya"]
    )
    answer = backend.submit(
        "ebola-sudan",
        metadata,
        fasta(("r1", "ACGT" * 10), ("r2", "GGCC" * 10)),
        group_id=1,
        files={"r1": {"rawReads": [("reads.fq", reads)]}},
    )
    assert answer.status_code == 200, answer.text
    accessions = {item["submissionId"]: item["accession"] for item in answer.json()}
    backend.get("/ebola-sudan/get-sequences")
    assert backend.post("/ebola-sudan/approve-processed-data", json={"groupIdsFilter": [1], "scope": "ALL"}).ok
    assert files_of(loculus_any, accessions["r1"], 1) == {"rawReads": [("reads.fq", reads)]}

    download = portal.post(DOWNLOAD)
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    draft = revise_draft(portal)
    send(portal, draft, "metadata", "metadata.tsv", archive.read("metadata.tsv"))
    shown = page_text(send(portal, draft, "sequences", "sequences.fasta", archive.read("sequences.fasta")))
    assert "2 entries and 2 sequences checked: no problems found." in shown
    notice = "Extra files: a revision has only the files its metadata lists"
    # Said on the older generation only, whose download of submitted data lists no files.
    assert (notice in text(portal.get(f"/ebola-sudan/submission/bulk/{draft.pk}/"))) is (generation == "legacy")
    done = portal.post(f"/ebola-sudan/submission/bulk/{draft.pk}/", ACKNOWLEDGED)
    assert done.status_code == 302, text(done)
    now = latest(backend)
    assert {now[a]["version"] for a in accessions.values()} == {2}
    if generation == "current":
        # The download names the file as name:fileId: the new version keeps the very same file.
        assert files_of(loculus_any, accessions["r1"], 2) == {"rawReads": [("reads.fq", reads)]}
    else:
        # The older generation's download has no files.* columns, so nothing names the file to keep.
        assert files_of(loculus_any, accessions["r1"], 2) == {}
    assert files_of(loculus_any, accessions["r2"], 2) == {}


def test_files_kept_by_file_id_go_in_the_file_mapping_of_the_older_generation(
    portal: Client, loculus_any: RunningSandbox
) -> None:
    generation = str(loculus_any.admin("GET", "config")["generation"])
    backend = Backend(loculus_any, generation)
    kept, other = backend.uploaded_file(), backend.uploaded_file()
    (first, second) = released(backend, [("r1", "2024-03-18", "Uganda"), ("r2", "2024-03-18", "Kenya")])
    draft = revise_draft(portal)
    # Rows in another order than in Loculus: each file goes with its own row's accession.
    metadata = rows_tsv(
        [second, "r2", "2024-03-19", "Kenya", f"b.fq:{other}"],
        [first, "r1", "2024-03-19", "Uganda", f"a.fq:{kept}"],
        header=[*HEADER, "files.rawReads"],
    )
    assert "checked: no problems found" in checked(portal, draft, metadata, ["r1", "r2"])
    done = portal.post(f"/ebola-sudan/submission/bulk/{draft.pk}/", ACKNOWLEDGED)
    assert done.status_code == 302, text(done)
    assert files_of(loculus_any, first, 2) == {"rawReads": [("a.fq", kept)]}
    assert files_of(loculus_any, second, 2) == {"rawReads": [("b.fq", other)]}
    record = loculus_any.admin("GET", "submissions")[-1]
    assert (record["fileMapping"] is not None) == (generation == "legacy")
