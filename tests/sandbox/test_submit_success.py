"""Accepted submissions: response shape and order, compression, both generations' file links, records on disk."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import zipfile
from pathlib import Path

import pytest
import zstandard

from tests.sandbox.helpers import Backend, fasta, tsv

HEADER = ["id", "sampleCollectionDate", "geoLocCountry"]


def rows(n: int) -> tuple[str, str]:
    metadata = tsv(HEADER, *[[f"custom{i}", "2024-03-18", "Uganda"] for i in range(n)])
    sequences = fasta(*[(f"custom{i}", "ACGT" * 10) for i in range(n)])
    return metadata, sequences


def test_a_valid_submission_returns_one_accession_per_row_in_row_order(backend: Backend) -> None:
    metadata, sequences = rows(3)
    response = backend.submit("ebola-sudan", metadata, sequences)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["submissionId"] for item in body] == ["custom0", "custom1", "custom2"]
    assert all(item["accession"].startswith("LOC_") and item["version"] == 1 for item in body)
    assert len({item["accession"] for item in body}) == 3


def test_parameters_may_come_in_the_query_string(backend: Backend) -> None:
    metadata, sequences = rows(1)
    assert backend.submit("ebola-sudan", metadata, sequences, params_in_query=True).status_code == 200


def test_the_old_submission_id_header_still_works(backend: Backend) -> None:
    metadata = tsv(["submissionId", "geoLocCountry"], ["custom0", "Uganda"])
    assert backend.submit("ebola-sudan", metadata, fasta(("custom0", "ACGT"))).status_code == 200


def test_a_superuser_may_submit_for_any_group(backend: Backend) -> None:
    metadata, sequences = rows(1)
    assert backend.submit("ebola-sudan", metadata, sequences, group_id=3, username="superuser").status_code == 200


def test_a_restricted_submission_stores_its_date(backend: Backend) -> None:
    import datetime as dt

    until = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)).isoformat()
    metadata, sequences = rows(1)
    response = backend.submit("ebola-sudan", metadata, sequences, terms="RESTRICTED", restricted_until=until)
    assert response.status_code == 200, response.text
    assert backend.sandbox.submissions()[0]["dataUseTerms"] == {"type": "RESTRICTED", "restrictedUntil": until}


def test_open_terms_ignore_a_null_restricted_until(backend: Backend) -> None:
    # The Loculus website sends restrictedUntil="null" for OPEN.
    metadata, sequences = rows(1)
    assert backend.submit("ebola-sudan", metadata, sequences, restricted_until="null").status_code == 200


def test_a_multi_segment_entry_lists_its_fasta_ids(backend: Backend) -> None:
    metadata = tsv(["id", "fastaIds", "geoLocCountry"], ["iso1", "iso1_L iso1_M iso1_S", "Uganda"])
    sequences = fasta(("iso1_L", "ACGT"), ("iso1_M", "ACGT"), ("iso1_S", "ACGT"))
    response = backend.submit("cchf", metadata, sequences)
    assert response.status_code == 200, response.text
    assert backend.sandbox.submissions()[0]["entries"][0]["fastaIds"] == ["iso1_L", "iso1_M", "iso1_S"]


def test_a_metadata_only_organism_accepts_files_in_both_categories(backend: Backend) -> None:
    reads, report = backend.uploaded_file(), backend.uploaded_file(content=b"<html></html>")
    files = {"w1": {"rawReads": [("r1.fq.gz", reads)], "qcReports": [("qc.html", report)]}}
    response = backend.submit("wastewater", tsv(["id", "samplingSite"], ["w1", "Zurich"]), files=files)
    assert response.status_code == 200, response.text
    [record] = backend.sandbox.submissions()
    assert record["entries"][0]["files"] == {
        "rawReads": [{"fileId": reads, "name": "r1.fq.gz"}],
        "qcReports": [{"fileId": report, "name": "qc.html"}],
    }


def compress(kind: str, data: bytes, inner: str) -> bytes:
    if kind == ".gz":
        return gzip.compress(data)
    if kind == ".bz2":
        return bz2.compress(data)
    if kind == ".xz":
        return lzma.compress(data, format=lzma.FORMAT_XZ)
    if kind == ".lzma":
        return lzma.compress(data, format=lzma.FORMAT_ALONE)
    if kind == ".zst":
        return zstandard.ZstdCompressor().compress(data)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(inner, data)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", [".gz", ".bz2", ".xz", ".lzma", ".zst", ".zip"])
def test_compressed_metadata_and_sequences_are_accepted(backend: Backend, kind: str) -> None:
    metadata, sequences = rows(2)
    response = backend.submit(
        "ebola-sudan",
        compress(kind, metadata.encode(), "metadata.tsv"),
        compress(kind, sequences.encode(), "sequences.fasta"),
        metadata_name=f"metadata.tsv{kind}",
        sequence_name=f"sequences.fasta{kind}",
    )
    assert response.status_code == 200, response.text
    assert len(response.json()) == 2


def test_a_compression_extension_on_uncompressed_content_is_a_server_error(backend: Backend) -> None:
    metadata, sequences = rows(1)
    response = backend.submit("ebola-sudan", metadata, sequences, metadata_name="metadata.tsv.gz")
    assert response.status_code == 500


def test_the_record_keeps_what_was_sent_on_disk(backend: Backend) -> None:
    file_id = backend.uploaded_file()
    metadata, sequences = rows(1)
    response = backend.submit(
        "ebola-sudan", metadata, sequences, files={"custom0": {"rawReads": [("reads.fq", file_id)]}}
    )
    assert response.status_code == 200, response.text
    [record] = backend.sandbox.submissions()
    assert record["organism"] == "ebola-sudan"
    assert record["groupId"] == 1
    assert record["submitter"] == "testuser"
    assert record["generation"] == backend.generation
    assert record["dataUseTerms"] == {"type": "OPEN"}
    assert record["response"] == response.json()
    assert record["entries"][0]["files"] == {"rawReads": [{"fileId": file_id, "name": "reads.fq"}]}
    assert Path(record["sequenceFile"]["path"]).read_text() == sequences
    sent_metadata = Path(record["metadataFile"]["path"]).read_text()
    assert sent_metadata.startswith("id\tsampleCollectionDate\tgeoLocCountry")
    on_disk = json.loads((Path(record["directory"]) / "record.json").read_text())
    assert on_disk["response"] == record["response"]


def test_in_legacy_files_columns_are_plain_metadata(legacy: Backend) -> None:
    metadata = tsv(["id", "geoLocCountry", "files.rawReads"], ["s1", "Uganda", "anything goes"])
    response = legacy.submit("ebola-sudan", metadata, fasta(("s1", "ACGT")))
    assert response.status_code == 200, response.text
    entry = legacy.sandbox.submissions()[0]["entries"][0]
    assert entry["metadata"]["files.rawReads"] == "anything goes"
    assert entry["files"] == {}


def test_in_legacy_file_names_may_contain_spaces(legacy: Backend) -> None:
    # Loculus refused whitespace in file names only from the files.<category> change (#6922) on.
    file_id = legacy.uploaded_file()
    response = legacy.submit("ebola-sudan", *rows(1), files={"custom0": {"rawReads": [("my reads.fq", file_id)]}})
    assert response.status_code == 200, response.text
    entry = legacy.sandbox.submissions()[0]["entries"][0]
    assert entry["files"] == {"rawReads": [{"fileId": file_id, "name": "my reads.fq"}]}


def test_in_current_a_file_mapping_part_is_ignored(current: Backend) -> None:
    response = current.submit("ebola-sudan", *rows(1), file_mapping="{not even json")
    assert response.status_code == 200, response.text
    assert current.sandbox.submissions()[0]["entries"][0]["files"] == {}


def test_get_sequences_lists_received_entries_with_every_count_key(backend: Backend) -> None:
    backend.submit("ebola-sudan", *rows(2))
    backend.submit("ebola-sudan", *rows(1), group_id=2)
    body = backend.get("/ebola-sudan/get-sequences").json()
    assert [e["status"] for e in body["sequenceEntries"]] == ["RECEIVED"] * 3
    assert body["statusCounts"] == {"RECEIVED": 3, "IN_PROCESSING": 0, "PROCESSED": 0, "APPROVED_FOR_RELEASE": 0}
    assert body["processingResultCounts"] == {"NO_ISSUES": 0, "HAS_WARNINGS": 0, "HAS_ERRORS": 0}
    entry = body["sequenceEntries"][0]
    assert entry["processingResult"] is None
    assert entry["dataUseTerms"] == {"type": "OPEN"}
    filtered = backend.get("/ebola-sudan/get-sequences?groupIdsFilter=2&page=0&size=0").json()
    assert filtered["sequenceEntries"] == []
    assert filtered["statusCounts"]["RECEIVED"] == 1
    assert backend.get("/cchf/get-sequences").json()["sequenceEntries"] == []


def test_get_sequences_checks_the_group_filter(backend: Backend) -> None:
    from tests.sandbox.helpers import assert_problem

    assert_problem(
        backend.get("/ebola-sudan/get-sequences?groupIdsFilter=1,999"),
        404,
        "Not Found",
        "Group(s) 999 do(es) not exist.",
    )
    assert_problem(
        backend.get("/ebola-sudan/get-sequences?groupIdsFilter=3"),
        403,
        "Forbidden",
        "User testuser is not a member of group(s) 3. Action not allowed.",
    )
    assert backend.get("/ebola-sudan/get-sequences?groupIdsFilter=3", "superuser").status_code == 200
    assert_problem(backend.get("/nope/get-sequences"), 400, "Bad Request", "Invalid organism: nope", exact=False)
