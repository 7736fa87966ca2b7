"""Draft files through Django's storage API: on local disk by default, or in an S3 bucket shared by machines."""

from __future__ import annotations

import io
from typing import Any

import boto3
import pytest
from django.test import Client

from sandbox.launcher import RunningSandbox
from submitportal.loculus import client
from submitportal.models import Draft

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
    assert keys == [
        f"submitportal/drafts/{draft.pk}/metadata/metadata.tsv",
        f"submitportal/drafts/{draft.pk}/report.json",
        f"submitportal/drafts/{draft.pk}/sequences/sequences.fasta",
    ]
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
