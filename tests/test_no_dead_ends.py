"""No group is no dead end, backend messages come in plain words, and pages speak of what the organism takes."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
import requests
from django.test import Client

from sandbox.launcher import RunningSandbox
from submitportal.loculus import client, plain_words
from submitportal.models import Draft, ExtraFile
from tests.test_bad_input import GOOD, send

pytestmark = pytest.mark.django_db


def text(response: Any) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def no_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client, "get_user_groups", lambda token: [])


# --- Plain words -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("detail", "said"),
    [
        ("Required parameter 'groupId' is not present.", plain_words.NO_GROUP),
        ("Failed to convert 'groupId' with value: 'abc'", plain_words.NO_GROUP),
        ("Group(s) 7 do(es) not exist.", "The submitting group (number 7) no longer exists in Loculus."),
        ("Group 7 does not exist.", "The submitting group (number 7) no longer exists in Loculus."),
        (
            "User testuser is not a member of group(s) 3. Action not allowed.",
            "You are not (or no longer) a member of the submitting group (number 3).",
        ),
        (
            "The date 'restrictedUntil' must be a valid date in the format YYYY-MM-DD: 2025-13-01.",
            "The date until which the data are restricted must be from today to one year ahead.",
        ),
        (
            "NoSuchKey: The referenced file does not exist in storage. Uploaded files that are not referenced "
            "by a submission for too long are cleaned up automatically.",
            "Loculus no longer has an uploaded file",
        ),
        ("No file uploaded for file IDs: 5f0c…", "Loculus no longer has an uploaded file"),
        ("File 5f0c does not belong to group 2.", "A file was uploaded for another submitting group"),
        (
            "The following multipart uploads have not been completed: 5f0c",
            "Some files have not finished uploading. Please wait until every file shows ✓, then submit.",
        ),
    ],
)
def test_a_backend_message_a_user_can_cause_is_said_in_plain_words(detail: str, said: str) -> None:
    plain = plain_words.plain(detail)
    assert plain is not None and plain.startswith(said)
    assert "groupId" not in plain and "do(es)" not in plain and "restrictedUntil" not in plain


def test_a_message_already_written_for_users_is_left_as_loculus_wrote_it() -> None:
    assert (
        plain_words.plain("Metadata file contains 1 FASTA ids that are not present in the sequence file: 'x'") is None
    )


def test_explaining_logs_the_original_with_the_request_id(caplog: pytest.LogCaptureFixture) -> None:
    exc = client.Rejected(status=400, title="Bad Request", detail="Required parameter 'groupId' is not present.")
    exc.request_id = "rq-9"
    assert plain_words.explain(exc, doing="upload addresses") == plain_words.NO_GROUP
    (record,) = [r for r in caplog.records if r.name == "submitportal.loculus"]
    assert record.levelname == "WARNING"
    assert record.getMessage() == (
        "Loculus answered upload addresses with 400 Bad Request: Required parameter 'groupId' is not present. "
        "(x-request-id rq-9) — shown to the user in plain words"
    )


def test_a_refusal_of_upload_addresses_is_shown_on_the_file_in_plain_words(
    signed_in: Client, loculus_info: dict[str, Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    draft = Draft.objects.get(pk=signed_in.get("/ebola-sudan/submission/form/")["Location"].rstrip("/").split("/")[-1])
    upload = ExtraFile.objects.create(draft=draft, category="rawReads", path="a.fq", size=10)

    def refuse(token: str, *, group_id: int, number_files: int) -> list[client.UploadTarget]:
        raise client.Forbidden(
            status=403, title="Forbidden", detail="User testuser is not a member of group(s) 1. Action not allowed."
        )

    monkeypatch.setattr(client, "request_upload", refuse)
    answer = signed_in.post(f"/drafts/{draft.pk}/files/prepare", {"files": json.dumps([upload.pk])}).json()
    assert answer["files"] == [{"pk": upload.pk, "state": "failed"}]
    upload.refresh_from_db()
    assert upload.error.startswith("You are not (or no longer) a member of the submitting group (number 1).")
    assert any("is not a member of group(s) 1" in r.getMessage() for r in caplog.records)


# --- No group ------------------------------------------------------------------------------------


def test_a_draft_without_a_group_never_asks_loculus_without_one(
    signed_in: Client, loculus_info: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    draft = Draft.objects.create(user=Draft._meta.get_field("user").related_model.objects.get(), organism="ebola-sudan")
    upload = ExtraFile.objects.create(draft=draft, category="rawReads", path="a.fq", size=10)
    no_groups(monkeypatch)

    def must_not_be_asked(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("asked Loculus for upload addresses without a group")

    monkeypatch.setattr(client, "request_upload", must_not_be_asked)
    signed_in.post(f"/drafts/{draft.pk}/files/prepare", {"files": json.dumps([upload.pk])})
    upload.refresh_from_db()
    assert (upload.status, upload.error) == (ExtraFile.Status.FAILED, plain_words.NO_GROUP)


@pytest.mark.parametrize("kind", ["form", "bulk"])
def test_each_submission_page_without_a_group_says_how_to_get_one(
    signed_in: Client, loculus_info: dict[str, Any], monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    url = signed_in.get(f"/ebola-sudan/submission/{kind}/")["Location"]
    no_groups(monkeypatch)
    assert signed_in.get(f"/ebola-sudan/submission/{kind}/")["Location"] == "/ebola-sudan/submission/"
    page = signed_in.get(url)
    assert page.status_code == 200
    shown = text(page)
    assert "You need a submitting group" in shown
    assert "This draft is kept: once you belong to a group, come back to this page" in shown
    assert "Upload and proceed to Approval" not in shown


def test_a_bulk_submit_without_a_group_keeps_the_ticks_and_says_nothing_was_sent(
    signed_in: Client, loculus_info: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = signed_in.get("/ebola-sudan/submission/bulk/")["Location"]
    draft = Draft.objects.get()
    send(signed_in, draft, "metadata", "m.tsv", GOOD.encode())
    no_groups(monkeypatch)
    ticks = {"data_use_terms": "OPEN", "confirmation-no-pii": "on", "confirmation-INSDC-upload-terms": "on"}
    response = signed_in.post(url, ticks)
    assert response.status_code == 409
    shown = text(response)
    assert "Nothing was submitted: you are not in any submitting group. What you entered is kept." in shown
    assert "This draft is kept, with what it holds (“m.tsv”, 2 entries)" in shown
    draft.refresh_from_db()
    assert draft.status == Draft.Status.OPEN
    assert {key: draft.values.get(key) for key in ticks} == ticks


# --- What the pages say --------------------------------------------------------------------------


def test_the_pages_of_an_organism_without_consensus_sequences_never_speak_of_fasta(
    signed_in: Client, loculus_info: dict[str, Any]
) -> None:
    pages = [signed_in.get("/wastewater/submission/")]
    for kind in ("form", "bulk"):
        pages.append(signed_in.get(f"/wastewater/submission/{kind}/", follow=True))
    draft = Draft.objects.get(kind=Draft.Kind.BULK)
    after_check = send(signed_in, draft, "metadata", "m.tsv", b"id\tsampleCollectionDate\ns1\t2024-01-05\n")
    for shown in [text(p) for p in pages] + [after_check]:
        assert "fasta" not in shown.lower()
        assert "sequence file" not in shown.lower()
    assert "Metadata may be TSV, CSV, XLSX or XLS. Files can optionally be compressed" in text(pages[2])


def test_the_sandbox_lets_a_member_take_a_user_out_of_a_group_and_back(loculus: RunningSandbox) -> None:
    def call(method: str, user: str, group: int, member: str) -> requests.Response:
        token = loculus.password_token(user, user)["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        return requests.request(method, f"{loculus.backend}/groups/{group}/users/{member}", headers=headers, timeout=10)

    assert call("DELETE", "testuser", 2, "testuser").status_code == 204
    refused = call("PUT", "testuser", 2, "testuser")  # no longer a member: cannot put themselves back
    assert (refused.status_code, refused.json()["detail"]) == (
        403,
        "User testuser is not a member of group(s) 2. Action not allowed.",
    )
    assert call("PUT", "superuser", 2, "testuser").status_code == 204
    again = call("PUT", "superuser", 2, "testuser")
    assert (again.status_code, again.json()["detail"]) == (409, "User testuser is already member of the group 2.")
    unknown = call("PUT", "superuser", 2, "nobody")
    assert (unknown.status_code, unknown.json()["detail"]) == (404, "User nobody does not exist.")
