"""Draft files through Django's storage API: on local disk by default, or in an S3 bucket shared by machines."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.core.files.storage import default_storage
from django.test import Client

from sandbox.launcher import RunningSandbox
from submitportal.loculus import client
from submitportal.models import BulkCheck, BulkFile, Draft

pytestmark = pytest.mark.django_db

METADATA = b"id\tsampleCollectionDate\tgeoLocCountry\ns1\t2024-01-05\tUganda\n"
FASTA = b">s1\nACGTACGT\n"


@pytest.fixture
def s3_storage(settings: Any, loculus: RunningSandbox) -> Any:
    """The storage setting DRAFT_STORAGE=s3 produces, pointed at the sandbox's S3 server."""
    bucket = "portal-drafts"
    s3 = boto3.client(
        "s3",
        endpoint_url=loculus.s3_direct,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": loculus.s3_direct,
                "region_name": "us-east-1",
                "access_key": "test",
                "secret_key": "test",
                "location": "submitportal",
                "file_overwrite": False,
            },
        },
    }
    return s3, bucket


def upload(signed_in: Client, draft: Draft, kind: str, name: str, data: bytes) -> str:
    stream = io.BytesIO(data)
    stream.name = name
    return signed_in.post(f"/drafts/{draft.pk}/bulk/{kind}", {"file": stream}, HTTP_HX_REQUEST="true").content.decode()


def test_bulk_files_are_kept_checked_and_submitted_from_an_s3_bucket(
    signed_in: Client, s3_storage: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3, bucket = s3_storage
    signed_in.get("/ebola-sudan/submission/bulk/")
    draft = Draft.objects.get()
    upload(signed_in, draft, "sequences", "sequences.fasta", FASTA)
    page = upload(signed_in, draft, "metadata", "metadata.tsv", METADATA)
    assert "1 entry and 1 sequence checked: no problems found." in page
    keys = sorted(
        o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"submitportal/drafts/{draft.pk}/")["Contents"]
    )
    check = BulkCheck.objects.get(draft=draft)
    files = {f.kind: f for f in BulkFile.objects.filter(draft=draft)}
    # The two files, what the check needs from the FASTA (read once: here after arrival, as a multipart
    # upload is not followed) and what the submit sends, prepared at the check; each under a name of its own.
    names = [check.backend_metadata, files["sequences"].summary, *(f.stored for f in files.values())]
    assert keys == sorted(f"submitportal/{name}" for name in names)
    assert files["metadata"].stored.endswith("-metadata.tsv") and files["sequences"].stored.endswith("-sequences.fasta")
    sent: dict[str, bytes] = {}

    def accept(token: str, organism: str, **kwargs: Any) -> list[client.SubmittedEntry]:
        sent["metadata"] = kwargs["metadata"].stream.read()
        sent["sequences"] = kwargs["sequences"].stream.read()
        return [client.SubmittedEntry("LOC_000001Y", 1, "s1")]

    monkeypatch.setattr(client, "submit", accept)
    response = signed_in.post(
        f"/ebola-sudan/submission/bulk/{draft.pk}/",
        {
            "data_use_terms": "OPEN",
            "confirmation-no-pii": "on",
            "confirmation-INSDC-upload-terms": "on",
            "confirm_open": "yes",
        },
    )
    assert response.status_code == 302
    assert sent["sequences"] == FASTA
    assert sent["metadata"].splitlines()[1] == b"s1\t2024-01-05\tUganda\t"
    # Deleting the draft removes its files from the bucket too.
    signed_in.post(f"/drafts/{draft.pk}/delete")
    remaining = s3.list_objects_v2(Bucket=bucket, Prefix=f"submitportal/drafts/{draft.pk}/").get("Contents", [])
    assert remaining == []


def submit_capturing(signed_in: Client, draft: Draft, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """Submit the bulk draft with the client faked at its seam; return the metadata it was given."""
    sent: dict[str, bytes] = {}

    def accept(token: str, organism: str, **kwargs: Any) -> list[client.SubmittedEntry]:
        sent["metadata"] = kwargs["metadata"].stream.read()
        return [client.SubmittedEntry("LOC_000001Y", 1, "s1")]

    monkeypatch.setattr(client, "submit", accept)
    form = {"data_use_terms": "OPEN", "confirmation-no-pii": "on", "confirmation-INSDC-upload-terms": "on"}
    response = signed_in.post(f"/ebola-sudan/submission/bulk/{draft.pk}/", {**form, "confirm_open": "yes"})
    assert response.status_code == 302, response.content[:2000]
    return sent["metadata"]


QUIRKY = (
    b'id\tsampleCollectionDate\tgeoLocCountry\tfiles.rawReads\r\n"s1"\t2024-01-05\t  Uganda \t\r\n'
    b's2\t2024-01-06\t"Kenya ""East"""\t\t\t\n'
)
TWO = b">s1\nACGT\n>s2\nGGCC\n"


@pytest.mark.parametrize("protocol", ["metadataColumns", "fileMapping"])
def test_the_metadata_prepared_at_the_check_is_what_the_submit_would_write(
    signed_in: Client, loculus_info: dict[str, Any], settings: Any, monkeypatch: pytest.MonkeyPatch, protocol: str
) -> None:
    settings.LOCULUS_FILES_PROTOCOL = protocol
    signed_in.get("/ebola-sudan/submission/bulk/")
    draft = Draft.objects.get()
    upload(signed_in, draft, "sequences", "s.fasta", TWO)
    page = upload(signed_in, draft, "metadata", "m.tsv", QUIRKY)
    assert "<strong>0 errors</strong> and 1 warning in 2 entries." in page  # "Kenya ""East""": not a listed country
    assert BulkCheck.objects.get(draft=draft).backend_metadata
    prepared = submit_capturing(signed_in, draft, monkeypatch)

    # The same draft once more, with nothing prepared: the submit writes the TSV itself.
    Draft.objects.all().delete()
    signed_in.get("/ebola-sudan/submission/bulk/")
    again = Draft.objects.get()
    upload(signed_in, again, "sequences", "s.fasta", TWO)
    upload(signed_in, again, "metadata", "m.tsv", QUIRKY)
    BulkCheck.objects.filter(draft=again).update(backend_metadata="")
    assert submit_capturing(signed_in, again, monkeypatch) == prepared
    lines = prepared.decode().splitlines()
    base = "id\tsampleCollectionDate\tgeoLocCountry"
    if protocol == "metadataColumns":
        assert lines[0].startswith(base + "\tfiles.")
    else:
        assert lines[0] == base
    assert lines[1].startswith("s1\t2024-01-05\tUganda")
    assert lines[2].startswith('s2\t2024-01-06\t"Kenya ""East"""')


def test_prepared_metadata_is_not_used_once_it_no_longer_fits(
    signed_in: Client, loculus_info: dict[str, Any], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.LOCULUS_FILES_PROTOCOL = "metadataColumns"
    signed_in.get("/ebola-sudan/submission/bulk/")
    draft = Draft.objects.get()
    upload(signed_in, draft, "sequences", "s.fasta", FASTA)
    upload(signed_in, draft, "metadata", "m.tsv", METADATA)
    # The backend's generation changed between the check and the submit: no files.* columns now.
    settings.LOCULUS_FILES_PROTOCOL = "fileMapping"
    assert submit_capturing(signed_in, draft, monkeypatch).splitlines()[0] == b"id\tsampleCollectionDate\tgeoLocCountry"

    # A replaced metadata file is prepared afresh; discarding it removes what was prepared.
    Draft.objects.all().delete()
    signed_in.get("/ebola-sudan/submission/bulk/")
    draft = Draft.objects.get()
    upload(signed_in, draft, "sequences", "s.fasta", FASTA)
    upload(signed_in, draft, "metadata", "m.tsv", METADATA)
    upload(signed_in, draft, "metadata", "m.tsv", METADATA.replace(b"Uganda", b"Kenya"))
    assert submit_capturing(signed_in, draft, monkeypatch).splitlines()[1].startswith(b"s1\t2024-01-05\tKenya")
    signed_in.get("/ebola-sudan/submission/bulk/")
    third = Draft.objects.exclude(pk=draft.pk).get()
    upload(signed_in, third, "sequences", "s.fasta", FASTA)
    upload(signed_in, third, "metadata", "m.tsv", METADATA)
    prepared = BulkCheck.objects.get(draft=third).backend_metadata
    assert default_storage.exists(prepared)
    signed_in.post(f"/drafts/{third.pk}/bulk/metadata/discard", HTTP_HX_REQUEST="true")
    assert not BulkCheck.objects.filter(draft=third).exists()
    assert not default_storage.exists(prepared)


def test_xls_metadata_is_checked_and_sent_to_loculus_as_tsv(
    signed_in: Client, loculus_info: dict[str, Any], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.LOCULUS_FILES_PROTOCOL = "metadataColumns"
    signed_in.get("/ebola-sudan/submission/bulk/")
    draft = Draft.objects.get()
    upload(signed_in, draft, "sequences", "sequences.fasta", FASTA)
    xls = (Path(__file__).parent / "bulkfiles" / "fixtures" / "one_entry.xls").read_bytes()
    page = upload(signed_in, draft, "metadata", "metadata.xls", xls)
    assert "1 entry and 1 sequence checked: no problems found." in page
    assert submit_capturing(signed_in, draft, monkeypatch).decode().splitlines() == [
        "id\tsampleCollectionDate\tgeoLocCountry\tfiles.rawReads",
        "s1\t2024-01-05\tUganda\t",
    ]
