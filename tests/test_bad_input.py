"""A catalogue of bad input: each case is answered with a message the user can act on, never a 500.

Files go through the portal's real endpoints (the bulk page's file upload, the extra-file selection,
the forms); the backend is faked only where a case needs a backend answer.
"""

from __future__ import annotations

import bz2
import gzip
import html
import io
import json
import shutil
import tempfile
import uuid
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import openpyxl
import pytest
from django.test import Client

from submitportal.models import BulkCheck, BulkFile, Draft, ExtraFile
from tests.bulkfiles.test_bounds import LAUGHS, WORKBOOK, hostile_workbook, sheet_xml

pytestmark = pytest.mark.django_db

HEADER = "id\tsampleCollectionDate\tgeoLocCountry"
GOOD = f"{HEADER}\ns1\t2024-01-05\tUganda\ns2\t2024-01-06\tKenya\n"
FASTA = ">s1\nACGT\n>s2\nGGCC\n"


def xlsx(rows: list[list[str]], sheet: str = "Data") -> bytes:
    book = openpyxl.Workbook()
    book.active.title = sheet
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zipped(name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, data)
    return out.getvalue()


@pytest.fixture
def bulk_draft(signed_in: Client, loculus_info: dict[str, Any]) -> Draft:
    response = signed_in.get("/ebola-sudan/submission/bulk/")
    assert response.status_code == 302
    return Draft.objects.get(kind=Draft.Kind.BULK)


def post_raw(client: Client, draft: Draft, kind: str, data: bytes = b"", **extra: Any) -> Any:
    """POST a bulk file as the page's script does: the body is the file (headers and environ in `extra`)."""
    return client.post(f"/drafts/{draft.pk}/bulk/{kind}", data, content_type="application/octet-stream", **extra)


def send(signed_in: Client, draft: Draft, kind: str, name: str, data: bytes, *, raw: bool = False) -> str:
    """Upload one bulk file with htmx and return the text the user sees.

    `raw`: as the page's script sends it (the body is the file, its name in X-File-Name); else as
    the multipart form a browser without script posts.
    """
    if raw:
        response = post_raw(signed_in, draft, kind, data, HTTP_HX_REQUEST="true", HTTP_X_FILE_NAME=quote(name))
    else:
        upload = io.BytesIO(data)
        upload.name = name
        response = signed_in.post(f"/drafts/{draft.pk}/bulk/{kind}", {"file": upload}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200, response.content[:500]
    return html.unescape(response.content.decode())


# Each case: the file(s) sent, then a phrase the user must see.
FILE_CASES: list[tuple[str, list[tuple[str, str, bytes]], str]] = [
    (
        "BOM and CRLF are fine",
        [
            ("metadata", "m.tsv", ("\ufeff" + GOOD).replace("\n", "\r\n").encode()),
            ("sequences", "s.fasta", FASTA.encode()),
        ],
        "2 entries and 2 sequences checked: no problems found.",
    ),
    (
        "binary data named .tsv",
        [("metadata", "m.tsv", bytes(range(256)) * 40)],
        "“m.tsv” does not look like a text table: it contains binary data.",
    ),
    (
        ".gz that is not gzip",
        [("metadata", "m.tsv.gz", GOOD.encode())],
        "“m.tsv.gz” is named .gz but is not gzip-compressed (its content is not compressed that way).",
    ),
    ("unknown compression .rar", [("metadata", "m.tsv.rar", b"Rar!\x1a\x07\x00")], "cannot be read here"),
    (
        "wrong compression (bzip2 named .gz)",
        [("metadata", "m.tsv.gz", bz2.compress(GOOD.encode()))],
        "“m.tsv.gz” is named .gz but is not gzip-compressed (it looks bzip2-compressed).",
    ),
    (
        "empty zip",
        [("metadata", "m.tsv.zip", zipped("empty/", b""))],
        "The ZIP archive “m.tsv.zip” contains no file.",
    ),
    ("header only", [("metadata", "m.tsv", (HEADER + "\n").encode())], "has a header but no entries"),
    ("empty file", [("metadata", "m.tsv", b"")], "Please choose a file (it must not be empty)."),
    (
        "a field longer than 1 MiB",
        [("metadata", "m.tsv", (HEADER + "\ns1\t" + "x" * (1024 * 1024 + 10) + "\tUganda\n").encode())],
        "Line 2 of “m.tsv” is longer than 1 MiB.",
    ),
    (
        "no id column",
        [("metadata", "m.tsv", b"name\tsampleCollectionDate\ns1\t2024-01-01\n")],
        "The metadata has no ID column.",
    ),
    (
        "both id and submissionId",
        [("metadata", "m.tsv", b"id\tsubmissionId\tsampleCollectionDate\ns1\ts1\t2024\n")],
        "The metadata has both an “id” and a “submissionId” column, but Loculus allows only one.",
    ),
    (
        "duplicate ids",
        [("metadata", "m.tsv", f"{HEADER}\ns1\t2024-01-05\tUganda\ns1\t2024-01-06\tKenya\n".encode())],
        "is already used in row 1",
    ),
    (
        "empty id",
        [("metadata", "m.tsv", f"{HEADER}\n\t2024-01-05\tUganda\n".encode())],
        "Row 1: the ID (column “id”) is empty.",
    ),
    (
        "id with whitespace",
        [("metadata", "m.tsv", f"{HEADER}\ns 1\t2024-01-05\tUganda\n".encode())],
        "contains a space",
    ),
    ("required value empty", [("metadata", "m.tsv", f"{HEADER}\ns1\t\tUganda\n".encode())], "could never release it"),
    (
        "value outside the options (warning)",
        [("metadata", "m.tsv", f"{HEADER}\ns1\t2024-01-05\tuganda\n".encode())],
        "is not one of the listed values",
    ),
    (
        "duplicate column names",
        [("metadata", "m.tsv", b"id\tgeoLocCountry\tgeoLocCountry\ns1\tUganda\tKenya\n")],
        "The column “geoLocCountry” appears twice in the header (columns 2 and 3).",
    ),
    (
        "more values than columns",
        [("metadata", "m.tsv", f"{HEADER}\ns1\t2024-01-05\tUganda\textra\n".encode())],
        "Row 1 has 4 values but the header names only 3 columns.",
    ),
    (
        "invalid UTF-8",
        [("metadata", "m.tsv", f"{HEADER}\ns1\t2024-01-05\tUg".encode() + b"\xff\xfe" + b"\n")],
        "Line 2 of “m.tsv” (row 1, byte 17 of the line) is not valid UTF-8 text.",
    ),
    (
        "malformed CSV quoting",
        [("metadata", "m.csv", b'id,sampleCollectionDate,geoLocCountry\ns1,"2024-01-05,Uganda\n')],
        "A quoted value that starts on line 2 of “m.csv” is never closed",
    ),
    (
        "corrupt XLSX",
        [("metadata", "m.xlsx", b"PK\x03\x04 this is not really a workbook")],
        "“m.xlsx” could not be read as an Excel workbook: it is not a ZIP archive",
    ),
    (
        "XLSX without rows",
        [("metadata", "m.xlsx", xlsx([["id", "sampleCollectionDate"]]))],
        "“m.xlsx” has a header but no entries.",
    ),
    (
        "unknown files.* category",
        [("metadata", "m.tsv", f"{HEADER}\tfiles.photos\ns1\t2024-01-05\tUganda\tp.jpg\n".encode())],
        "The column “files.photos” is not one of Ebola Sudan's file categories.",
    ),
    (
        "a path with ..",
        [("metadata", "m.tsv", f"{HEADER}\tfiles.rawReads\ns1\t2024-01-05\tUganda\ta.fq::../secret/a.fq\n".encode())],
        "the path “../secret/a.fq” in “a.fq::../secret/a.fq” contains “..”.",
    ),
    (
        "an absolute path",
        [("metadata", "m.tsv", f"{HEADER}\tfiles.rawReads\ns1\t2024-01-05\tUganda\ta.fq::/etc/a.fq\n".encode())],
        "the path “/etc/a.fq” in “a.fq::/etc/a.fq” is absolute.",
    ),
    (
        "a file name Loculus refuses",
        [("metadata", "m.tsv", f"{HEADER}\tfiles.rawReads\ns1\t2024-01-05\tUganda\ta<b.fq\n".encode())],
        "Loculus would refuse the file name “a<b.fq”: File names may not contain any of these characters",
    ),
    (
        "a malformed file ID",
        [("metadata", "m.tsv", f"{HEADER}\tfiles.rawReads\ns1\t2024-01-05\tUganda\ta.fq:not-a-uuid\n".encode())],
        "the part after the colon, “not-a-uuid”, is not a Loculus file ID",
    ),
    (
        "FASTA text before the first header",
        [("metadata", "m.tsv", GOOD.encode()), ("sequences", "s.fasta", ("ACGT\n" + FASTA).encode())],
        "Line 1 of “s.fasta” comes before the first header line",
    ),
    (
        "FASTA empty sequence",
        [("metadata", "m.tsv", GOOD.encode()), ("sequences", "s.fasta", b">s1\n>s2\nGGCC\n")],
        "Line 1 of “s.fasta”: the sequence “s1” is empty (its header is followed by no sequence).",
    ),
    (
        "FASTA duplicate ids",
        [("metadata", "m.tsv", GOOD.encode()), ("sequences", "s.fasta", (FASTA + ">s2\nAAAA\n").encode())],
        "Line 5 of “s.fasta”: the FASTA ID “s2” is used again (first on line 3).",
    ),
    (
        "FASTA id not in metadata",
        [("metadata", "m.tsv", GOOD.encode()), ("sequences", "s.fasta", (FASTA + ">s9\nAAAA\n").encode())],
        "Line 5 of “s.fasta”: the sequence “s9” belongs to no entry",
    ),
    (
        "metadata id not in FASTA",
        [("metadata", "m.tsv", GOOD.encode()), ("sequences", "s.fasta", b">s1\nACGT\n")],
        "Row 2 (ID “s2”): “s.fasta” has no sequence with the FASTA ID “s2”",
    ),
    (
        "FASTA header without id",
        [("metadata", "m.tsv", GOOD.encode()), ("sequences", "s.fasta", ("> s1\nACGT\n" + ">s2\nGG\n").encode())],
        "Line 1 of “s.fasta”: the header has no ID.",
    ),
    ("sequences with the wrong extension", [("sequences", "s.txt", FASTA.encode())], "does not look like a FASTA file"),
    (
        "metadata with an unsupported format",
        [("metadata", "m.json", b'{"id": "s1"}')],
        "is not a metadata table this portal reads",
    ),
    (
        "HTML in a metadata value is shown as text",
        [("metadata", "m.tsv", f"{HEADER}\n<b>bold</b>\t\tUganda\n".encode())],
        "“<b>bold</b>”",
    ),
]


@pytest.mark.parametrize("raw", [True, False], ids=["raw body", "multipart"])
@pytest.mark.parametrize(("case", "files", "shown"), FILE_CASES, ids=[case for case, _, _ in FILE_CASES])
def test_each_bad_bulk_file_is_explained(
    signed_in: Client, bulk_draft: Draft, case: str, files: list[tuple[str, str, bytes]], shown: str, raw: bool
) -> None:
    page = ""
    for kind, name, data in files:
        page = send(signed_in, bulk_draft, kind, name, data, raw=raw)
    assert shown in page, f"{case}: expected {shown!r} in\n{page[:3000]}"
    if "<b>" in shown:  # unescaped above; the markup itself must have been escaped
        content = signed_in.get(f"/ebola-sudan/submission/bulk/{bulk_draft.pk}/").content
        assert b"&lt;b&gt;bold&lt;/b&gt;" in content
        assert b"<b>bold</b>" not in content


def test_a_decompression_bomb_is_stopped_at_the_limit(signed_in: Client, bulk_draft: Draft, settings: Any) -> None:
    settings.MAX_DECOMPRESSED_SIZE = 10 * 1024 * 1024
    # Blank lines are skipped by the reader, so it keeps unpacking until the limit stops it.
    bomb = gzip.compress(GOOD.encode() + b"\n" * (60 * 1024 * 1024))
    assert len(bomb) < 200_000
    page = send(signed_in, bulk_draft, "metadata", "m.tsv.gz", bomb)
    assert "unpacks to more than 10 MiB" in page


def workbook(**parts: str) -> bytes:
    """A hand-written workbook with some parts replaced (tests/bulkfiles/test_bounds.py writes them)."""
    folder = Path(tempfile.mkdtemp())
    try:
        return hostile_workbook(folder, **parts).read_bytes()
    finally:
        shutil.rmtree(folder)


LAUGHING_SHEET = sheet_xml(prolog=LAUGHS)
EXTERNAL_ENTITY = WORKBOOK.replace("?>", '?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>', 1)
# 70 MiB of blank lines in ~70 KiB: past the 64 MiB from which the ratio is judged.
BLANK_LINE_BOMB = gzip.compress(GOOD.encode() + b"\n" * (70 * 1024 * 1024))
MANY_ROWS = (HEADER + "\n" + "".join(f"s{n}\t2024-01-05\tUganda\n" for n in range(1, 12))).encode()
LONG_VALUE = f"{HEADER}\ns1\t2024-01-05\t{'U' * 5000}\n".encode()
MANY_RECORDS = "".join(f">s{n}\nACGT\n" for n in range(1, 12)).encode()

# Each case: kind, name, data, a phrase the user must see, settings for the case.
UNREADABLE: list[tuple[str, str, bytes, str, dict[str, int]]] = [
    ("metadata", "broken.tsv.gz", b"not gzip at all", "is named .gz but is not gzip-compressed", {}),
    ("metadata", "binary.tsv", bytes(range(256)) * 40, "does not look like a text table: it contains binary data", {}),
    (
        "metadata",
        "broken.xlsx",
        b"PK\x03\x04 this is no workbook",
        "could not be read as an Excel workbook: it is not a ZIP archive",
        {},
    ),
    ("metadata", "laughs.xlsx", workbook(sheet=LAUGHING_SHEET), "declares XML entities or a document type", {}),
    ("metadata", "entity.xlsx", workbook(workbook=EXTERNAL_ENTITY), "declares XML entities or a document type", {}),
    ("metadata", "malformed.xlsx", workbook(workbook="<workbook><sheets>"), "part of its XML is malformed", {}),
    ("metadata", "bomb.tsv.gz", BLANK_LINE_BOMB, "unpacks to more than 500 times its compressed size", {}),
    ("metadata", "rows.tsv", MANY_ROWS, "more than 10 entries", {"MAX_METADATA_ROWS": 10}),
    (
        "metadata",
        "long.tsv",
        LONG_VALUE,
        "column “geoLocCountry”: the value is longer than 1 KiB",
        {"MAX_METADATA_VALUE_SIZE": 1024},
    ),
    ("sequences", "binary.fasta", bytes(range(256)) * 40, "is not a FASTA text file (binary data)", {}),
    ("sequences", "broken.fasta.gz", b"not gzip at all", "is named .gz but is not gzip-compressed", {}),
    ("sequences", "records.fasta", MANY_RECORDS, "more than 10 sequences", {"MAX_FASTA_RECORDS": 10}),
]


@pytest.mark.parametrize(("kind", "name", "data", "shown", "limits"), UNREADABLE, ids=[c[1] for c in UNREADABLE])
def test_a_file_that_cannot_be_read_never_replaces_the_good_one(
    signed_in: Client,
    bulk_draft: Draft,
    caplog: pytest.LogCaptureFixture,
    settings: Any,
    kind: str,
    name: str,
    data: bytes,
    shown: str,
    limits: dict[str, int],
) -> None:
    for setting, value in limits.items():
        setattr(settings, setting, value)
    send(signed_in, bulk_draft, "sequences", "good.fasta", FASTA.encode(), raw=True)
    send(signed_in, bulk_draft, "metadata", "good.tsv", GOOD.encode(), raw=True)
    before = {f.kind: (f.name, f.stored, f.summary) for f in BulkFile.objects.filter(draft=bulk_draft)}
    check = BulkCheck.objects.get(draft=bulk_draft)
    page = send(signed_in, bulk_draft, kind, name, data, raw=True)
    good = "good.tsv" if kind == "metadata" else "good.fasta"
    assert f"The file was not kept: the draft still has “{good}”." in page
    assert shown in page
    assert "2 entries and 2 sequences checked: no problems found." in page  # the check of the good files
    assert {f.kind: (f.name, f.stored, f.summary) for f in BulkFile.objects.filter(draft=bulk_draft)} == before
    assert BulkCheck.objects.get(draft=bulk_draft).summary == check.summary
    assert any(f"“{name}” refused" in record.getMessage() for record in caplog.records)  # the operator sees it


def test_a_raw_upload_keeps_its_name_and_is_checked(signed_in: Client, bulk_draft: Draft) -> None:
    send(signed_in, bulk_draft, "sequences", "Proben März.fasta", FASTA.encode(), raw=True)
    page = send(signed_in, bulk_draft, "metadata", "m.tsv", GOOD.encode(), raw=True)
    assert "Proben März.fasta" in page
    sequences = BulkFile.objects.get(draft=bulk_draft, kind="sequences")
    assert (sequences.name, sequences.size) == ("Proben März.fasta", len(FASTA.encode()))
    assert BulkCheck.objects.get(draft=bulk_draft).summary["ok"] is True


@pytest.mark.parametrize(
    ("headers", "shown"),
    [
        ({}, "The upload did not say the file's name. Please choose the file again."),
        ({"HTTP_X_FILE_NAME": "%ff%fe.tsv"}, "The upload did not say the file's name."),
        ({"HTTP_X_FILE_NAME": "%2F"}, "The upload did not say the file's name."),
    ],
)
def test_a_raw_upload_without_a_usable_name_is_refused(
    signed_in: Client, bulk_draft: Draft, headers: dict[str, str], shown: str
) -> None:
    response = post_raw(signed_in, bulk_draft, "metadata", GOOD.encode(), HTTP_HX_REQUEST="true", **headers)
    assert response.status_code == 200
    assert shown in html.unescape(response.content.decode())
    assert not BulkFile.objects.filter(draft=bulk_draft).exists()


def test_a_raw_upload_cut_short_is_not_kept(signed_in: Client, bulk_draft: Draft, settings: Any) -> None:
    """The browser gave up halfway: fewer bytes than Content-Length. Nothing half is kept, the old file stays."""
    send(signed_in, bulk_draft, "metadata", "first.tsv", GOOD.encode(), raw=True)
    before = set(Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir())
    data = (GOOD.encode() * 1000)[: 30 * 1024]
    response = post_raw(
        signed_in,
        bulk_draft,
        "metadata",
        HTTP_HX_REQUEST="true",
        HTTP_X_FILE_NAME="second.tsv",
        CONTENT_TYPE="application/octet-stream",  # the test client sets it only for a body it sends itself
        CONTENT_LENGTH=str(len(data)),
        **{"wsgi.input": io.BytesIO(data[: 10 * 1024])},
    )
    assert response.status_code == 200
    page = html.unescape(response.content.decode()).replace("\xa0", " ")  # sizes keep their unit on the line
    assert "The upload of “second.tsv” stopped after 10.0 KB of 30.0 KB, so the file was not kept." in page
    assert BulkFile.objects.get(draft=bulk_draft, kind="metadata").name == "first.tsv"
    assert set(Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir()) == before


def test_sequences_are_refused_for_an_organism_without_consensus_sequences(
    signed_in: Client, loculus_info: dict[str, Any]
) -> None:
    signed_in.get("/wastewater/submission/bulk/")
    draft = Draft.objects.get(organism="wastewater")
    page = send(signed_in, draft, "sequences", "s.fasta", FASTA.encode())
    assert "Wastewater metagenomics takes no consensus sequences" in page


# --- Extra files chosen in the browser: only names and sizes reach the portal ----------------------


@pytest.fixture
def form_draft(signed_in: Client, loculus_info: dict[str, Any]) -> Draft:
    signed_in.get("/ebola-sudan/submission/form/")
    return Draft.objects.get(kind=Draft.Kind.FORM)


def choose(signed_in: Client, draft: Draft, files: list[dict[str, Any]], category: str = "rawReads") -> Any:
    return signed_in.post(f"/drafts/{draft.pk}/files/{category}/", {"files": json.dumps(files)}, HTTP_HX_REQUEST="true")


NAME_CASES = [
    ("../outside.fq", 10, "File paths must stay inside the chosen folder"),
    ("/etc/passwd", 10, "File paths must stay inside the chosen folder"),
    ("run:1.fq", 10, 'File names may not contain any of these characters: < > : " / \\ | ? *'),
    ("tab\tname.fq", 10, "File names may not contain control characters."),
    ("my reads.fq", 10, "File names may not contain spaces or other whitespace."),
    ("empty.fq", 0, "This file is empty (0 bytes)."),
    ("x" * 256 + ".fq", 10, "File names may not be longer than 255 characters"),
    ("<img src=x onerror=alert(1)>.fq", 10, "File names may not contain any of these characters"),
]


@pytest.mark.parametrize(("path", "size", "shown"), NAME_CASES, ids=[c[2][:40] + " " + c[0][:12] for c in NAME_CASES])
def test_each_file_loculus_would_refuse_is_refused_before_upload(
    signed_in: Client, form_draft: Draft, path: str, size: int, shown: str
) -> None:
    response = choose(signed_in, form_draft, [{"path": path, "size": size}])
    assert response.status_code == 200
    page = response.content.decode()
    assert shown in html.unescape(page)
    assert "<img src=x" not in page  # shown as text, never as markup
    upload = ExtraFile.objects.get()
    assert (upload.status, upload.file_id) == ("refused", "")


def test_a_file_over_the_size_limit_is_refused(signed_in: Client, form_draft: Draft, settings: Any) -> None:
    settings.UPLOAD_MAX_FILE_SIZE = 1024**3
    response = choose(signed_in, form_draft, [{"path": "huge.bam", "size": 2 * 1024**3}])
    assert "This file is larger than this portal accepts (1 GiB)." in html.unescape(response.content.decode())


DEEP = "[" * 100_000
# (endpoint, form field, value, what the 400 says): what the upload script sends, broken or hostile.
JSON_CASES = [
    ("files/rawReads/", "files", "[{'path': oops", "The list of files could not be read (it is not JSON"),
    ("files/rawReads/", "files", DEEP, "The list of files could not be read (it is not JSON"),
    ("files/rawReads/", "files", '[{"path": "a.fq", "size": 1e999}]', "The size of “a.fq” must be a whole number"),
    ("files/rawReads/", "files", f'[{{"path": "a.fq", "size": {10**30}}}]', "The size of “a.fq” must be a whole"),
    ("files/rawReads/", "files", '[{"path": "a.fq", "size": "12"}]', "The size of “a.fq” must be a whole number"),
    ("files/rawReads/", "files", '[{"path": "a.fq", "size": true}]', "The size of “a.fq” must be a whole number"),
    ("files/rawReads/", "files", json.dumps([{"path": "a" * 2000, "size": 1}]), "The path of file 1 must be text"),
    ("files/rawReads/", "files", '{"path": "a.fq"}', "The list of files must be a list."),
    ("files/rawReads/", "files", json.dumps([{"path": "a", "size": 1}] * 10_001), "has 10,001 items; the portal"),
    ("files/prepare", "files", DEEP, "The list of files could not be read (it is not JSON"),
    ("files/prepare", "files", f"[{10**30}]", "A file's number must be a whole number from 1"),
    ("files/prepare", "files", "[1.5]", "A file's number must be a whole number from 1"),
    ("files/done", "reports", DEEP, "The list of finished uploads could not be read (it is not JSON"),
    ("files/done", "reports", f'[{{"pk": {10**30}, "etags": []}}]', "A file's number must be a whole number"),
    ("files/done", "reports", '[{"pk": 1, "etags": [[[]]]}]', "A part's ETag must be text"),
    ("files/done", "reports", '[{"pk": 1, "etags": [], "fileId": "../../x"}]', "must be a Loculus file ID (a UUID"),
    ("files/done", "reports", '["x"]', "An item of the list of finished uploads is not a file's report."),
]


@pytest.mark.parametrize(("endpoint", "field", "value", "shown"), JSON_CASES, ids=[c[3][:30] for c in JSON_CASES])
def test_each_unreadable_or_unbounded_json_body_is_a_clear_400(
    signed_in: Client,
    form_draft: Draft,
    caplog: pytest.LogCaptureFixture,
    endpoint: str,
    field: str,
    value: str,
    shown: str,
) -> None:
    (upload,) = [ExtraFile.objects.create(draft=form_draft, category="rawReads", path="kept.fq", size=5)]
    response = signed_in.post(f"/drafts/{form_draft.pk}/{endpoint}", {field: value}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    text = response.json()["error"] if endpoint == "files/prepare" else response.content.decode()
    assert shown in text
    if endpoint != "files/prepare":
        assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert list(ExtraFile.objects.values_list("pk", "status")) == [(upload.pk, "pending")]  # nothing changed
    assert any(shown[:25] in record.getMessage() for record in caplog.records)  # the operator sees why


@pytest.mark.parametrize(
    ("etags", "shown"),
    [
        (DEEP, "The list of parts could not be read (it is not JSON the portal understands)."),
        ("[1e999]", "A part's ETag must be text of at most 200 characters."),
        ('"not a list"', "The list of parts must be a list."),
    ],
)
def test_one_finished_upload_with_an_unreadable_report_is_a_clear_400(
    signed_in: Client, form_draft: Draft, etags: str, shown: str
) -> None:
    upload = ExtraFile.objects.create(draft=form_draft, category="rawReads", path="kept.fq", size=5)
    response = signed_in.post(f"/drafts/{form_draft.pk}/file/{upload.pk}/done", {"etags": etags})
    assert response.status_code == 400
    assert response.content.decode() == shown
    upload.refresh_from_db()
    assert upload.status == "pending"


def test_a_file_number_too_large_for_the_database_is_not_found(signed_in: Client, form_draft: Draft) -> None:
    for action in ("", "done", "failed", "retry", "remove"):
        url = f"/drafts/{form_draft.pk}/file/{10**30}/{action}"
        response = signed_in.post(url) if action else signed_in.get(url)
        assert response.status_code == 404, url


def test_an_unknown_file_category_is_a_clear_400_in_plain_text(signed_in: Client, form_draft: Draft) -> None:
    response = choose(signed_in, form_draft, [{"path": "a.fq", "size": 1}], category="photos")
    assert response.status_code == 400
    assert response.content.decode() == "Ebola Sudan has no file category called “photos”."
    hostile = quote("<img src=x onerror=alert(1)>", safe="")
    response = signed_in.post(f"/drafts/{form_draft.pk}/files/{hostile}/", {"files": "[]"})
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"  # never read as HTML, whatever it holds


def test_bulk_files_chosen_before_the_metadata_upload_and_wait_for_it(signed_in: Client, bulk_draft: Draft) -> None:
    """The order is the user's: files first is fine; their rows say what they wait for, nothing is refused."""
    response = choose(signed_in, bulk_draft, [{"path": "s1/a.fq", "size": 1}])
    assert response.status_code == 200
    page = response.content.decode()
    assert "HX-Trigger" not in response.headers
    assert "Waiting for valid metadata" in page
    assert ExtraFile.objects.get(draft=bulk_draft).status == "pending"  # to be uploaded, not refused


# --- Forged requests ----------------------------------------------------------------------------


def test_a_post_without_csrf_token_is_refused_with_a_way_forward(
    loculus_info: dict[str, Any], signed_in: Client
) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = signed_in.cookies
    signed_in.get("/ebola-sudan/submission/form/")
    draft = Draft.objects.get()
    response = strict.post(f"/drafts/{draft.pk}/save", {"id": "x"})
    assert response.status_code == 403
    assert "Please reload the page and try again" in response.content.decode()
    assert Draft.objects.get().values.get("id") != "x"
    signed_in.get("/ebola-sudan/submission/bulk/")
    bulk = Draft.objects.get(kind=Draft.Kind.BULK)
    raw = post_raw(strict, bulk, "metadata", GOOD.encode(), HTTP_X_FILE_NAME="m.tsv")
    assert raw.status_code == 403
    assert not BulkFile.objects.filter(draft=bulk).exists()


def test_a_forged_draft_id_is_not_found(signed_in: Client, loculus_info: dict[str, Any]) -> None:
    forged = uuid.uuid4()
    assert signed_in.get(f"/ebola-sudan/submission/form/{forged}/").status_code == 404
    assert signed_in.post(f"/drafts/{forged}/save", {"id": "x"}).status_code == 404
    assert signed_in.post(f"/drafts/{forged}/bulk/metadata").status_code == 404


def test_another_users_file_is_not_found(signed_in: Client, form_draft: Draft) -> None:
    from django.contrib.auth import get_user_model

    other = get_user_model().objects.create(username="otheruser")
    theirs = Draft.objects.create(user=other, organism="ebola-sudan", kind=Draft.Kind.FORM)
    their_file = ExtraFile.objects.create(draft=theirs, category="rawReads", path="a.fq", size=1)
    assert signed_in.post(f"/drafts/{form_draft.pk}/file/{their_file.pk}/done").status_code == 404
    assert signed_in.post(f"/drafts/{theirs.pk}/file/{their_file.pk}/remove").status_code == 404
    assert ExtraFile.objects.filter(pk=their_file.pk).exists()


def test_an_unknown_organism_is_not_found_in_words(signed_in: Client, loculus_info: dict[str, Any]) -> None:
    response = signed_in.get("/rabies/submission/form/")
    assert response.status_code == 404
    assert "This Loculus instance has no organism called &#x27;rabies&#x27;." in response.content.decode()


def test_a_group_the_user_is_not_in_cannot_be_chosen(signed_in: Client, loculus_info: dict[str, Any]) -> None:
    response = signed_in.post("/ebola-sudan/submission/", {"group": "3"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Please choose one of your submitting groups from the list." in response.content.decode()


@pytest.mark.parametrize(
    ("values", "shown"),
    [
        ({"id": "my sample"}, "The ID may not contain spaces or other whitespace."),
        ({"id": "s1", "sequence-main": "ACGT>x"}, "which is not a nucleotide code"),
        ({"id": "s1", "data_use_terms": "RESTRICTED", "restricted_until": "2001-01-01"}, "at most one year from today"),
        # Markup typed as the ID is given back in its field as text (the next assert: never as markup).
        ({"id": "<script>alert(1)</script>"}, 'name="id" value="<script>alert(1)</script>"'),
    ],
)
def test_bad_form_values_are_explained_next_to_the_field(
    signed_in: Client, form_draft: Draft, values: dict[str, str], shown: str
) -> None:
    response = signed_in.post(f"/ebola-sudan/submission/form/{form_draft.pk}/", values)
    assert response.status_code == 400
    page = response.content.decode()
    assert shown in html.unescape(page)
    assert "<script>alert(1)</script>" not in page
    assert Draft.objects.get().values["id"] == values["id"]  # kept, as typed


# --- What a signed-in user gets is never cached ----------------------------------------------------


def test_nothing_a_signed_in_user_gets_is_kept_in_a_cache(
    signed_in: Client, form_draft: Draft, monkeypatch: pytest.MonkeyPatch
) -> None:
    from submitportal.loculus import client

    upload = ExtraFile.objects.create(draft=form_draft, category="rawReads", path="a.fq", size=5)
    url = "https://s3.example.org/b/files/x?X-Amz-Date=20991231T000000Z&X-Amz-Expires=1800"
    target = client.UploadTarget("8d8ac610-566d-4ef0-9c22-186b2a5ed793", url)
    monkeypatch.setattr(client, "request_upload", lambda token, **kw: [target])
    answers = {
        "draft page": signed_in.get(f"/ebola-sudan/submission/form/{form_draft.pk}/"),
        "My drafts": signed_in.get("/drafts/"),
        "file row": signed_in.get(f"/drafts/{form_draft.pk}/file/{upload.pk}/", HTTP_HX_REQUEST="true"),
        "upload URLs": signed_in.post(f"/drafts/{form_draft.pk}/files/prepare", {"files": f"[{upload.pk}]"}),
    }
    for what, response in answers.items():
        assert response.status_code == 200, what
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"], what
    assert url in answers["upload URLs"].content.decode()  # the presigned URL is what must not be cached
