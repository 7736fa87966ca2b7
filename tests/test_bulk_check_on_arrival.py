"""The bulk page's sequence file is checked as it arrives, its summary kept, and the FASTA never read again.

Through the portal's real endpoint (Django's test client: the raw body's non-gunicorn path; the
gunicorn splice path is in test_raw_body_gunicorn), against the sandbox.
"""

from __future__ import annotations

import html
import io
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from submitportal import bulk, bulk_data_files, submission_parts
from submitportal.bulkfiles import metadata as metadata_module
from submitportal.bulkfiles import rewrite as rewrite_module
from submitportal.bulkfiles import validate as validate_module
from submitportal.bulkfiles.fasta_summary import FastaSummary, summarize_fasta
from submitportal.bulkfiles.rewrite import write_backend_tsv
from submitportal.bulkfiles.validate import validate
from submitportal.loculus import instance
from submitportal.models import BulkCheck, BulkFile, Draft
from tests import test_bad_input as bad_input

pytestmark = pytest.mark.django_db

METADATA = b"id\tsampleCollectionDate\tgeoLocCountry\ns1\t2024-01-05\tUganda\ns2\t2024-01-06\tuganda\ns3\t\tKenya\n"
# A duplicate, an empty sequence, one without entry, and s3 missing.
FASTA = b">s1 first\nACGT\nAC\n>s2\n\n>s1\nGG\n>s9\nA\n"


@pytest.fixture
def draft(signed_in: Client, loculus_info: dict[str, Any]) -> Draft:
    assert signed_in.get("/ebola-sudan/submission/bulk/").status_code == 302
    return Draft.objects.get(kind=Draft.Kind.BULK)


def send(client: Client, draft: Draft, kind: str, name: str, data: bytes, *, raw: bool = True) -> str:
    """As the bulk page's script sends a file (the body is the file), or with `raw=False` as a browser
    without script does (multipart)."""
    return bad_input.send(client, draft, kind, name, data, raw=raw)


def kept_summary(draft: Draft) -> FastaSummary | None:
    data = bulk_data_files.summary_of(BulkFile.objects.get(draft=draft, kind="sequences"))
    return FastaSummary.from_bytes(data) if data is not None else None


def stored_path(draft: Draft, kind: str) -> Path:
    return Path(default_storage.path(BulkFile.objects.get(draft=draft, kind=kind).stored))


def report_of(draft: Draft) -> dict[str, Any]:
    return dict(BulkCheck.objects.get(draft=draft).summary)


def never_read_fasta(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> FastaSummary:
        raise AssertionError("the FASTA was read again")

    monkeypatch.setattr(bulk, "summarize_fasta", refuse)


def test_a_raw_fasta_is_summarized_as_it_arrives_and_the_check_does_not_read_it_again(
    signed_in: Client, draft: Draft, monkeypatch: pytest.MonkeyPatch
) -> None:
    send(signed_in, draft, "sequences", "Proben.fasta", FASTA)
    summary = kept_summary(draft)
    assert summary == summarize_fasta(stored_path(draft, "sequences"), "Proben.fasta")
    never_read_fasta(monkeypatch)
    send(signed_in, draft, "metadata", "m.tsv", METADATA)
    draft.refresh_from_db()
    expected = validate(
        instance.get_instance().organism("ebola-sudan"),  # type: ignore[arg-type]
        stored_path(draft, "metadata"),
        "m.tsv",
        stored_path(draft, "sequences"),
        "Proben.fasta",
    )
    report = report_of(draft)
    assert (report["errors"], report["warnings"], report["sequences"]) == (
        expected.counts.errors,
        expected.counts.warnings,
        expected.sequence_count,
    )
    assert [p["message"] for p in report["problems"]] == [p.message for p in expected.problems]
    assert report["errors"] == 5  # the FASTA's four problems and the empty date: the check really ran


@pytest.mark.parametrize("name", ["s.fasta", "s.fasta.zip"])
def test_a_fasta_not_followed_is_summarized_once_when_it_has_arrived(
    signed_in: Client, draft: Draft, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A multipart upload (a browser without script) or a ZIP archive: read once after arrival, then kept."""
    data = FASTA
    if name.endswith(".zip"):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("s.fasta", FASTA)
        data = out.getvalue()
    send(signed_in, draft, "sequences", name, data, raw=name.endswith(".zip"))
    assert kept_summary(draft) == summarize_fasta(stored_path(draft, "sequences"), name)
    never_read_fasta(monkeypatch)
    page = send(signed_in, draft, "metadata", "m.tsv", METADATA)
    assert f"Line 6 of “{name}”: the FASTA ID “s1” is used again" in page
    first = report_of(draft)
    send(signed_in, draft, "metadata", "m.tsv", METADATA)
    assert report_of(draft) == first


def test_raw_and_multipart_uploads_give_the_same_report(signed_in: Client, draft: Draft) -> None:
    reports = []
    for raw, to in (
        (True, draft),
        (False, Draft.objects.create(user=draft.user, organism=draft.organism, kind=draft.kind)),
    ):
        send(signed_in, to, "sequences", "s.fasta", FASTA, raw=raw)
        send(signed_in, to, "metadata", "m.tsv", METADATA, raw=raw)
        reports.append(report_of(to))
    assert reports[0] == reports[1]
    assert reports[0]["errors"] == 5


def test_a_summary_that_no_longer_applies_is_read_again_and_replaced(
    signed_in: Client, draft: Draft, settings: Any
) -> None:
    send(signed_in, draft, "sequences", "s.fasta", FASTA)
    assert kept_summary(draft).max_bytes == settings.MAX_DECOMPRESSED_SIZE  # type: ignore[union-attr]
    settings.MAX_DECOMPRESSED_SIZE = 10 * 1024 * 1024  # the operator changed the limit since
    send(signed_in, draft, "metadata", "m.tsv", METADATA)
    assert kept_summary(draft).max_bytes == 10 * 1024 * 1024  # type: ignore[union-attr]


def test_a_replaced_or_discarded_fasta_takes_its_summary_along(signed_in: Client, draft: Draft) -> None:
    send(signed_in, draft, "sequences", "a.fasta", FASTA)
    first = BulkFile.objects.get(draft=draft, kind="sequences").summary
    assert default_storage.exists(first)
    send(signed_in, draft, "sequences", "b.fasta", b">s1\nA\n")
    assert not default_storage.exists(first)
    assert kept_summary(draft).ids == ("s1",)  # type: ignore[union-attr]
    second = BulkFile.objects.get(draft=draft, kind="sequences").summary
    signed_in.post(f"/drafts/{draft.pk}/bulk/sequences/discard", HTTP_HX_REQUEST="true")
    assert not default_storage.exists(second)


def test_a_raw_fasta_cut_short_keeps_nothing_and_leaves_no_thread(signed_in: Client, draft: Draft) -> None:
    data = FASTA * 1000
    response = signed_in.post(
        f"/drafts/{draft.pk}/bulk/sequences",
        HTTP_HX_REQUEST="true",
        HTTP_X_FILE_NAME="s.fasta",
        CONTENT_TYPE="application/octet-stream",
        CONTENT_LENGTH=str(len(data)),
        **{"wsgi.input": io.BytesIO(data[: len(data) // 3])},
    )
    assert "stopped after" in html.unescape(response.content.decode())
    assert not BulkFile.objects.filter(draft=draft).exists()
    assert not [t for t in threading.enumerate() if t.name == "check-upload"]


def test_the_metadata_is_read_once_for_its_check_and_for_what_the_submit_sends(
    signed_in: Client, draft: Draft, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    good = b'id\tsampleCollectionDate\tgeoLocCountry\ns1\t2024-01-05\tUganda\ns2\t 2024-01-06 \t"Kenya"\n'
    send(signed_in, draft, "sequences", "s.fasta", b">s1\nACGT\n>s2\nGG\n")
    reads: list[str] = []
    original = metadata_module.open_metadata

    def counting(path: Any, name: str, **kwargs: Any) -> Any:
        reads.append(name)
        return original(path, name, **kwargs)

    monkeypatch.setattr(validate_module, "open_metadata", counting)
    monkeypatch.setattr(rewrite_module, "open_metadata", counting)
    send(signed_in, draft, "metadata", "m.tsv", good)
    assert reads == ["m.tsv"]
    check = BulkCheck.objects.get(draft=draft)
    assert check.summary["ok"] is True
    expected = tmp_path / "expected.tsv"
    monkeypatch.setattr(rewrite_module, "open_metadata", original)
    wire = submission_parts.wire_for(instance.get_instance().organism("ebola-sudan"), [])  # type: ignore[arg-type]
    write_backend_tsv(stored_path(draft, "metadata"), "m.tsv", expected, wire.columns, wire.cells)
    with default_storage.open(check.backend_metadata, "rb") as stream:
        assert stream.read() == expected.read_bytes()
