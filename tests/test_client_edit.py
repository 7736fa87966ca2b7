"""The client's edit endpoints against the sandbox: get-data-to-edit typed, submit-edited-data, and their errors."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from sandbox.launcher import RunningSandbox
from submitportal.loculus import client

NEXT_YEAR = dt.datetime.now(dt.UTC).year + 1


def submit_one(token: str, date: str = f"{NEXT_YEAR}-01-02", sequence: str = "ACGTACGTAC") -> str:
    metadata = f"id\tsampleCollectionDate\tgeoLocCountry\nsample1\t{date}\tUganda\n"
    (entry,) = client.submit(
        token,
        "ebola-sudan",
        group_id=1,
        metadata=client.UploadPart("metadata.tsv", io.BytesIO(metadata.encode())),
        sequences=client.UploadPart("sequences.fasta", io.BytesIO(f">sample1\n{sequence}\n".encode())),
        data_use_terms=client.DataUseTerms("OPEN"),
    )
    return entry.accession


@pytest.fixture
def at_once(loculus: RunningSandbox) -> RunningSandbox:
    loculus.configure(processing_delay_seconds=0)
    return loculus


def test_it_reads_the_submitted_data_and_what_processing_found(at_once: RunningSandbox, testuser_token: str) -> None:
    accession = submit_one(testuser_token)
    entry = client.get_data_to_edit(testuser_token, "ebola-sudan", accession, 1)
    assert (entry.accession, entry.version, entry.status) == (accession, 1, "PROCESSED")
    assert (entry.group_id, entry.submission_id) == (1, "sample1")
    assert entry.metadata == {"sampleCollectionDate": f"{NEXT_YEAR}-01-02", "geoLocCountry": "Uganda"}
    assert entry.sequences == {"sample1": "ACGTACGTAC"}
    assert entry.files == {}
    assert entry.errors == (
        client.Annotation(
            ("sampleCollectionDate",),
            ("sampleCollectionDate",),
            f"Metadata field sampleCollectionDate:'{NEXT_YEAR}-01-02' is in the future.",
        ),
    )
    assert entry.warnings == ()
    assert entry.processed_metadata["geoLocCountry"] == "Uganda"


def test_submitted_edits_replace_the_data_and_send_the_entry_back_to_processing(
    at_once: RunningSandbox, testuser_token: str
) -> None:
    accession = submit_one(testuser_token)
    assert client.get_data_to_edit(testuser_token, "ebola-sudan", accession, 1).errors  # processed now
    at_once.configure(processing_delay_seconds=60)  # the edited entry stays RECEIVED while the test looks
    result = client.submit_edited_data(
        testuser_token,
        "ebola-sudan",
        accession,
        1,
        {"sampleCollectionDate": "2024-01-02", "geoLocCountry": "Uganda"},
        {"sample1": "GGGG"},
        None,
    )
    assert result is None
    (listed,) = client.get_sequences(testuser_token, "ebola-sudan").entries
    assert (listed.accession, listed.status) == (accession, "RECEIVED")
    at_once.configure(processing_delay_seconds=0)
    entry = client.get_data_to_edit(testuser_token, "ebola-sudan", accession, 1)
    assert entry.metadata["sampleCollectionDate"] == "2024-01-02"
    assert entry.sequences == {"sample1": "GGGG"}
    assert entry.errors == ()


def test_another_groups_entry_is_forbidden(at_once: RunningSandbox, testuser_token: str) -> None:
    accession = submit_one(testuser_token)
    other = str(at_once.password_token("otheruser", "otheruser")["access_token"])
    with pytest.raises(client.Forbidden) as caught:
        client.get_data_to_edit(other, "ebola-sudan", accession, 1)
    assert "is not a member of group" in caught.value.detail
    with pytest.raises(client.Forbidden):
        client.submit_edited_data(other, "ebola-sudan", accession, 1, {}, {}, None)


def test_an_unknown_version_and_an_entry_still_awaiting_processing_are_rejected(
    loculus: RunningSandbox, testuser_token: str
) -> None:
    loculus.configure(processing_delay_seconds=60)
    accession = submit_one(testuser_token)
    with pytest.raises(client.Rejected) as caught:
        client.get_data_to_edit(testuser_token, "ebola-sudan", accession, 2)
    assert (caught.value.status, caught.value.detail) == (422, f"Accession versions {accession}.2 do not exist")
    with pytest.raises(client.Rejected) as caught:
        client.submit_edited_data(testuser_token, "ebola-sudan", accession, 1, {}, {"sample1": "ACGT"}, None)
    assert caught.value.status == 422
    assert caught.value.detail == (
        f"Accession versions are not in one of the states [PROCESSED]: {accession}.1 - RECEIVED"
    )
    # The backend has no processed data to give yet: it fails (contract §5.2).
    with pytest.raises(client.BackendFailed) as failed:
        client.get_data_to_edit(testuser_token, "ebola-sudan", accession, 1)
    assert failed.value.status == 500


def test_an_unknown_file_is_rejected_with_the_backends_words(at_once: RunningSandbox, testuser_token: str) -> None:
    accession = submit_one(testuser_token, date="2024-01-02")
    file_id = "0f2f4a4e-3c1b-4d59-9f0e-b6a0b0b0b0b0"
    with pytest.raises(client.Rejected) as caught:
        client.submit_edited_data(
            testuser_token,
            "ebola-sudan",
            accession,
            1,
            {"sampleCollectionDate": "2024-01-02"},
            {"sample1": "ACGT"},
            {"rawReads": [(file_id, "reads.fq")]},
        )
    assert caught.value.status == 422
    assert file_id in caught.value.detail
