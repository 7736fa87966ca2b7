"""Extra files when another request changes the draft meanwhile: a group change, a removal, new URLs.

The portal asks Loculus for upload URLs and completes uploads without holding the draft's lock, so
another request can change the draft in between. These tests make that happen at the client seam
(the fake backend call changes the draft before it answers) and check that nothing the other request
did is undone, and that no file shows ✓ for bytes that went elsewhere.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from submitportal import extra_file_uploads
from submitportal.loculus import client
from submitportal.models import Draft, ExtraFile

pytestmark = pytest.mark.django_db

URL = "https://s3.example.org/bucket/files/{}?X-Amz-Date=20991231T000000Z&X-Amz-Expires=1800"


@pytest.fixture
def draft(signed_in: Client, loculus_info: dict[str, Any]) -> Draft:
    user = get_user_model().objects.get(username="testuser")
    return Draft.objects.create(user=user, organism="ebola-sudan", kind=Draft.Kind.FORM, group_id=1)


def add(draft: Draft, *paths: str) -> list[ExtraFile]:
    records = extra_file_uploads.add_files(draft, "rawReads", [extra_file_uploads.Selected(path, 10) for path in paths])
    assert records is not None
    return records


def file_id(name: str) -> str:
    """A Loculus file ID (a UUID) that says which batch it came from."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def targets(count: int, prefix: str = "id") -> list[client.UploadTarget]:
    return [client.UploadTarget(file_id(f"{prefix}-{n}"), URL.format(f"{prefix}-{n}")) for n in range(count)]


def prepare(signed_in: Client, draft: Draft, files: list[ExtraFile]) -> dict[int, dict[str, Any]]:
    response = signed_in.post(f"/drafts/{draft.pk}/files/prepare", {"files": json.dumps([f.pk for f in files])})
    assert response.status_code == 200
    return {target["pk"]: target for target in response.json()["files"]}


def change_group(signed_in: Client, draft: Draft, group: int) -> None:
    assert signed_in.post(f"/drafts/{draft.pk}/group", {"group": str(group)}).status_code == 302


@pytest.fixture(autouse=True)
def _no_origin_check(settings: Any) -> None:
    settings.S3_ORIGINS = ["https://s3.example.org"]


def test_urls_asked_for_a_group_the_draft_left_meanwhile_are_not_kept(
    signed_in: Client, draft: Draft, monkeypatch: pytest.MonkeyPatch
) -> None:
    (upload,) = add(draft, "r1.fq")

    def asked(token: str, *, group_id: int, number_files: int) -> list[client.UploadTarget]:
        change_group(signed_in, draft, 2)  # another tab, while Loculus answers
        return targets(number_files)

    monkeypatch.setattr(client, "request_upload", asked)
    answer = prepare(signed_in, draft, [upload])
    upload.refresh_from_db()
    assert answer[upload.pk]["state"] == "failed" and "urls" not in answer[upload.pk]
    assert (upload.status, upload.file_id, upload.urls) == ("failed", "", [])
    assert "another submitting group" in upload.error  # what the group change said stands


def test_a_file_removed_while_its_urls_were_asked_for_stays_removed(
    signed_in: Client, draft: Draft, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = add(draft, "r1.fq", "r2.fq")

    def asked(token: str, *, group_id: int, number_files: int) -> list[client.UploadTarget]:
        assert signed_in.post(f"/drafts/{draft.pk}/file/{first.pk}/remove").status_code == 200
        return targets(number_files)

    monkeypatch.setattr(client, "request_upload", asked)
    answer = prepare(signed_in, draft, [first, second])
    assert list(answer) == [second.pk]
    assert list(ExtraFile.objects.values_list("path", flat=True)) == ["r2.fq"]
    assert answer[second.pk]["state"] == "pending" and answer[second.pk]["fileId"] == file_id("id-1")


def test_a_report_of_bytes_sent_before_a_group_change_does_not_show_a_tick(
    signed_in: Client, draft: Draft, monkeypatch: pytest.MonkeyPatch
) -> None:
    (upload,) = add(draft, "r1.fq")
    monkeypatch.setattr(client, "request_upload", lambda token, **kw: targets(kw["number_files"], f"g{kw['group_id']}"))
    given = prepare(signed_in, draft, [upload])[upload.pk]
    change_group(signed_in, draft, 2)  # the browser's PUT to group 1's URL is under way
    reports = json.dumps([{"pk": upload.pk, "etags": [], "fileId": given["fileId"]}])
    assert signed_in.post(f"/drafts/{draft.pk}/files/done", {"reports": reports}).status_code == 200
    upload.refresh_from_db()
    assert upload.status == "failed" and "another submitting group" in upload.error

    # Retried: new URLs for group 2; a late report of the old upload is not taken for the new one.
    assert signed_in.post(f"/drafts/{draft.pk}/file/{upload.pk}/retry").status_code == 200
    again = prepare(signed_in, draft, [upload])[upload.pk]
    assert again["fileId"] == file_id("g2-0")
    late = json.dumps([{"pk": upload.pk, "etags": [], "fileId": given["fileId"]}])
    signed_in.post(f"/drafts/{draft.pk}/files/done", {"reports": late})
    upload.refresh_from_db()
    assert (upload.status, upload.error) == ("failed", extra_file_uploads.MOVED_ON)


def test_a_file_removed_while_its_upload_was_completed_stays_removed(
    signed_in: Client, draft: Draft, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.UPLOAD_MULTIPART_THRESHOLD = 5
    (upload,) = add(draft, "big.fq")
    multipart = client.MultipartTarget(file_id("big"), (URL.format("p1"),))
    monkeypatch.setattr(client, "request_multipart_upload", lambda token, **kw: [multipart])
    given = prepare(signed_in, draft, [upload])[upload.pk]

    def completed(token: str, done: list[client.CompletedUpload]) -> None:
        assert signed_in.post(f"/drafts/{draft.pk}/file/{upload.pk}/remove").status_code == 200

    monkeypatch.setattr(client, "complete_multipart_upload", completed)
    reports = json.dumps([{"pk": upload.pk, "etags": ['"e1"'], "fileId": given["fileId"]}])
    response = signed_in.post(f"/drafts/{draft.pk}/files/done", {"reports": reports})
    assert response.status_code == 200
    assert not ExtraFile.objects.exists()
