"""A group's released sequences against the sandbox: the View card, revoking with a reason (the revocation
then waits on the review page), and the download of what was submitted (contract §5.6, §5.7)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from sandbox.launcher import RunningSandbox
from submitportal.models import Draft
from tests.sandbox.helpers import Backend
from tests.test_review_views import submit, text

pytestmark = pytest.mark.django_db

RELEASED = "/ebola-sudan/submission/1/released/"
REVOKE = RELEASED + "revoke"
DOWNLOAD = RELEASED + "download"


def released(backend: Backend, rows: list[tuple[str, str, str]]) -> list[str]:
    """Submit, process and approve: released accessions."""
    accessions = submit(backend, rows)
    backend.get("/ebola-sudan/get-sequences")  # processed on reading (delay 0)
    approved = backend.post("/ebola-sudan/approve-processed-data", json={"groupIdsFilter": [1], "scope": "ALL"}).json()
    assert {item["accession"] for item in approved} == set(accessions)
    return accessions


def latest(backend: Backend) -> dict[str, dict[str, Any]]:
    """accession -> its latest version's get-sequences item."""
    newest: dict[str, dict[str, Any]] = {}
    for entry in backend.get("/ebola-sudan/get-sequences").json()["sequenceEntries"]:
        if entry["version"] >= newest.get(entry["accession"], {"version": 0})["version"]:
            newest[entry["accession"]] = entry
    return newest


def test_the_view_card_leads_to_the_groups_released_versions(portal: Client, backend: Backend) -> None:
    first, second = released(backend, [("r1", "2024-03-18", "Uganda"), ("r2", "2024-03-18", "Kenya")])
    submit(backend, [("pending", "2024-03-18", "Uganda")])
    assert "View View your group's released sequences." in text(portal.get("/ebola-sudan/submission/"))
    assert portal.get("/ebola-sudan/submission/released/")["Location"] == RELEASED
    page = text(portal.get(RELEASED))
    assert "Released sequences" in page and "2 released versions" in page
    assert f"{first}.1 r1 Released Open" in page and f"{second}.1 r2 Released Open" in page
    assert "pending" not in page


def test_revoking_with_a_reason_makes_revocations_that_wait_on_the_review_page(
    portal: Client, backend: Backend
) -> None:
    first, second = released(backend, [("r1", "2024-03-18", "Uganda"), ("r2", "2024-03-18", "Kenya")])
    done = portal.post(REVOKE, {"accession": [first], "versionComment": "wrong sample", "confirmed": "1"})
    batch = Draft.objects.get(kind=Draft.Kind.REVOCATION)  # the revocations are a batch of their own
    assert done["Location"] == f"/ebola-sudan/submission/revocation/{batch.pk}/"
    assert (batch.status, batch.group_id, batch.values) == ("submitted", 1, {"versionComment": "wrong sample"})
    assert batch.result["entries"] == [{"submissionId": "r1", "accession": first, "version": 2}]
    now = latest(backend)
    assert (now[first]["version"], now[first]["isRevocation"], now[first]["status"]) == (2, True, "PROCESSED")
    assert now[second]["version"] == 1
    review = text(portal.get(done["Location"]))
    assert f"1 revocation version(s) created: {first}.2. They are released once you approve them here." in review
    assert f"{first}.2 r1 Revocation entry · Passed QC" in review
    assert "Your revocation reached" in review and "(reason: “wrong sample”)" in review
    assert f"{second}.1" not in review  # the batch: only what was revoked
    drafts = text(portal.get("/drafts/"))
    assert f"Revocation {first}.2 (1 entry)" in drafts
    assert "This is a revocation entry, which will create a new version that revokes this accession" in review
    answer = text(
        portal.post(
            "/ebola-sudan/submission/1/review/action",
            {"action": "approve", "what": "entry", "entry": f"{first}.2", "confirmed": "1"},
            HTTP_HX_REQUEST="true",
        )
    )
    assert "Sequence approved." in answer
    assert f"{first}.2 r1 Revoked" in text(portal.get(RELEASED))


def test_revoking_is_confirmed_first_and_refusals_are_said(portal: Client, backend: Backend) -> None:
    (first,) = released(backend, [("r1", "2024-03-18", "Uganda")])
    asked = portal.post(REVOKE, {"accession": [first], "versionComment": "why"})
    assert f"Are you sure you want to revoke the selected sequences? ({first})" in text(asked)
    assert latest(backend)[first]["version"] == 1
    nothing = portal.post(REVOKE, {"confirmed": "1"}, follow=True)
    assert "Please choose the sequences to revoke (tick them in the list)." in text(nothing)
    assert portal.post(REVOKE, {"accession": [first], "confirmed": "1"}).status_code == 302
    again = portal.post(REVOKE, {"accession": [first], "confirmed": "1"}, follow=True)  # its latest is the revocation
    assert "Failed to revoke sequence entry: " in text(again)
    assert latest(backend)[first]["version"] == 2


def test_a_revoke_sent_by_the_pages_script_lands_by_htmx_redirect(portal: Client, backend: Backend) -> None:
    (first,) = released(backend, [("r1", "2024-03-18", "Uganda")])
    done = portal.post(REVOKE, {"accession": [first], "confirmed": "1"}, HTTP_HX_REQUEST="true")
    batch = Draft.objects.get(kind=Draft.Kind.REVOCATION)
    assert (done.status_code, done["HX-Redirect"]) == (204, f"/ebola-sudan/submission/revocation/{batch.pk}/")


def test_the_originally_submitted_data_download_as_a_zip(portal: Client, backend: Backend) -> None:
    first, second = released(backend, [("r1", "2024-03-18", "Uganda"), ("r2", "2024-03-18", "Kenya")])
    response = portal.post(DOWNLOAD, {"accession": [second]})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="ebola-sudan_submitted_data_')
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    metadata = archive.read("metadata.tsv").decode()
    header, *rows = metadata.splitlines()
    assert header.split("\t")[:2] == ["id", "accession"]
    assert [row.split("\t")[:2] for row in rows] == [["r2", second]]
    everything = zipfile.ZipFile(io.BytesIO(b"".join(portal.post(DOWNLOAD).streaming_content)))
    assert {row.split("\t")[1] for row in everything.read("metadata.tsv").decode().splitlines()[1:]} == {first, second}


def test_another_groups_released_page_is_not_found(portal: Client, loculus: RunningSandbox) -> None:
    assert portal.get("/ebola-sudan/submission/999/released/").status_code == 404
    assert portal.post("/ebola-sudan/submission/999/released/revoke", {"accession": ["X"]}).status_code == 404


def test_a_batch_downloads_as_submitted_what_of_it_is_released(portal: Client, backend: Backend) -> None:
    other, first = released(backend, [("other", "2024-03-18", "Kenya"), ("b1", "2024-03-18", "Uganda")])
    batch = Draft.objects.create(
        user=get_user_model().objects.get(),
        organism="ebola-sudan",
        kind=Draft.Kind.BULK,
        group_id=1,
        status=Draft.Status.SUBMITTED,
        result={"entries": [{"submissionId": "b1", "accession": first, "version": 1}], "groupId": 1},
    )
    page = text(portal.get(f"/ebola-sudan/submission/bulk/{batch.pk}/result"))
    assert "Download originally submitted data" in page
    response = portal.post(DOWNLOAD, {"batch": str(batch.pk)})
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    rows = archive.read("metadata.tsv").decode().splitlines()[1:]
    assert [row.split("\t")[:2] for row in rows] == [["b1", first]]  # not the group's other entry
    assert portal.post(DOWNLOAD, {"batch": "not-a-uuid"}).status_code == 404
    someone_else = Draft.objects.create(
        user=get_user_model().objects.create(username="someone"),
        organism="ebola-sudan",
        kind=Draft.Kind.BULK,
        status=Draft.Status.SUBMITTED,
        result={"entries": [{"submissionId": "other", "accession": other, "version": 1}]},
    )
    assert portal.post(DOWNLOAD, {"batch": str(someone_else.pk)}).status_code == 404
