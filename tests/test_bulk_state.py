"""A bulk draft's files and their check: kept only for the files it read, files replaced whole, nothing left over."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from submitportal import bulk
from submitportal.loculus import instance
from submitportal.models import BulkCheck, BulkFile, Draft
from tests.test_bad_input import send

pytestmark = pytest.mark.django_db

FASTA = b">s1\nACGT\n>s2\nGGCC\n>s3\nTTAA\n"


def metadata(entries: int) -> bytes:
    rows = [f"s{i}\t2024-01-0{i}\tUganda" for i in range(1, entries + 1)]
    return ("id\tsampleCollectionDate\tgeoLocCountry\n" + "\n".join(rows) + "\n").encode()


@pytest.fixture
def draft(signed_in: Client, loculus_info: dict[str, Any]) -> Draft:
    signed_in.get("/ebola-sudan/submission/bulk/")
    draft = Draft.objects.get(kind=Draft.Kind.BULK)
    send(signed_in, draft, "sequences", "s.fasta", FASTA)
    send(signed_in, draft, "metadata", "one.tsv", metadata(1))
    return draft


def text(page: str) -> str:
    """What the user reads: no tags, entities resolved, one space between words."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def stored_files(draft: Draft) -> set[str]:
    folder = Path(default_storage.path(f"drafts/{draft.pk}"))
    return {f"drafts/{draft.pk}/{path.name}" for path in folder.iterdir()}


def test_a_replaced_file_is_deleted_and_the_check_follows_the_new_one(signed_in: Client, draft: Draft) -> None:
    first = BulkFile.objects.get(draft=draft, kind="metadata").stored
    page = send(signed_in, draft, "metadata", "two.tsv", metadata(2))
    assert "1 error and 0 warnings in 2 entries." in text(page)  # the sequence s3 has no entry
    second = BulkFile.objects.get(draft=draft, kind="metadata")
    assert (second.name, second.stored != first) == ("two.tsv", True)
    check = BulkCheck.objects.get(draft=draft)
    assert (check.metadata, check.summary["entries"]) == (second.stored, 2)
    sequences = BulkFile.objects.get(draft=draft, kind="sequences")
    # Nothing prepared for the submit: the files have an error.
    assert stored_files(draft) == {second.stored, sequences.stored, sequences.summary}


@pytest.mark.parametrize("moment", ["vanishes while it is read", "is replaced after it was read"])
def test_a_check_of_files_replaced_while_it_ran_is_dropped(
    draft: Draft, monkeypatch: pytest.MonkeyPatch, moment: str
) -> None:
    """Another request replaces the metadata while this one checks the draft's files: the newer wins.

    "vanishes": a new FASTA makes the check read the stored metadata, which is replaced (and
    deleted) just before. "is replaced": a new metadata file's check is finished, about a file the
    draft no longer has.
    """
    organism = instance.get_instance().organism("ebola-sudan")
    hooked = "check_metadata" if moment.startswith("vanishes") else "combine"
    real = getattr(bulk, hooked)
    calls: list[int] = []

    def racing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        first = len(calls) == 1
        if first and hooked == "check_metadata":
            bulk.accept(draft, organism, "metadata", SimpleUploadedFile("three.tsv", metadata(3)))
        result = real(*args, **kwargs)
        if first and hooked == "combine":
            bulk.accept(draft, organism, "metadata", SimpleUploadedFile("three.tsv", metadata(3)))
        return result

    monkeypatch.setattr(bulk, hooked, racing)
    if hooked == "check_metadata":
        bulk.accept(draft, organism, "sequences", SimpleUploadedFile("s.fasta", FASTA))
    else:
        bulk.accept(draft, organism, "metadata", SimpleUploadedFile("two.tsv", metadata(2)))
    assert len(calls) >= 2  # the other request came in the middle of the first check
    current = BulkFile.objects.get(draft=draft, kind="metadata")
    check = BulkCheck.objects.get(draft=draft)
    assert (current.name, check.metadata, check.summary["entries"], check.summary["errors"]) == (
        "three.tsv",
        current.stored,
        3,
        0,
    )
    # Only the draft's files and the metadata prepared for the submit from three.tsv are left.
    sequences = BulkFile.objects.get(draft=draft, kind="sequences")
    assert check.backend_metadata
    assert stored_files(draft) == {current.stored, sequences.stored, sequences.summary, check.backend_metadata}


def test_a_page_without_a_check_of_the_current_files_checks_them(signed_in: Client, draft: Draft) -> None:
    BulkCheck.objects.filter(draft=draft).delete()  # as after a worker died between a change and its check
    page = signed_in.get(f"/ebola-sudan/submission/bulk/{draft.pk}/").content.decode()
    assert "2 errors and 0 warnings in 1 entry." in text(page)
    assert BulkCheck.objects.get(draft=draft).metadata == BulkFile.objects.get(draft=draft, kind="metadata").stored


@pytest.mark.parametrize("status", [Draft.Status.SUBMITTING, Draft.Status.SUBMITTED])
def test_a_submitted_draft_keeps_its_files(signed_in: Client, draft: Draft, status: str) -> None:
    Draft.objects.filter(pk=draft.pk).update(status=status)
    upload = SimpleUploadedFile("late.tsv", metadata(3))
    response = signed_in.post(f"/drafts/{draft.pk}/bulk/metadata", {"file": upload}, HTTP_HX_REQUEST="true")
    assert (response.status_code, response.content.decode()) == (
        409,
        "This draft has been submitted; it can no longer change.",
    )
    assert response["Content-Type"] == "text/plain; charset=utf-8"  # shown by the page's script, never as HTML
    without_script = signed_in.post(f"/drafts/{draft.pk}/bulk/metadata", {"file": SimpleUploadedFile("late.tsv", b"x")})
    assert without_script.status_code == 302  # back to the draft's page, which leads to its result
    assert BulkFile.objects.get(draft=draft, kind="metadata").name == "one.tsv"
    assert not any("late.tsv" in name for name in stored_files(draft))
