"""The client's review calls against the sandbox: get-sequences filters, processed details, approve, delete."""

from __future__ import annotations

import datetime as dt

import pytest

from sandbox.launcher import RunningSandbox
from submitportal.loculus import client
from tests.sandbox.helpers import Backend, fasta, tsv

NEXT_YEAR = str(dt.datetime.now(dt.UTC).year + 1)


@pytest.fixture
def entries(loculus: RunningSandbox) -> dict[str, str]:
    """submission ID -> accession of three processed entries: ok, with a warning, with an error."""
    loculus.configure(processing_delay_seconds=0)
    rows = [["ok", "2024-03-18", "Uganda"], ["warned", "2024-03", "Kenya"], ["wrong", f"{NEXT_YEAR}-01-02", "Kenya"]]
    response = Backend(loculus, "current").submit(
        "ebola-sudan",
        tsv(["id", "sampleCollectionDate", "geoLocCountry"], *rows),
        fasta(*[(row[0], "ACGT" * 5) for row in rows]),
    )
    assert response.status_code == 200, response.text
    return {item["submissionId"]: item["accession"] for item in response.json()}


def test_get_sequences_narrows_by_processing_result_and_counts_everything(
    testuser_token: str, entries: dict[str, str]
) -> None:
    page = client.get_sequences(
        testuser_token, "ebola-sudan", group_ids=[1], statuses=["PROCESSED"], processing_results=["HAS_ERRORS"]
    )
    assert [e.submission_id for e in page.entries] == ["wrong"]
    assert page.processing_result_counts == {"NO_ISSUES": 1, "HAS_WARNINGS": 1, "HAS_ERRORS": 1}
    assert page.status_counts["PROCESSED"] == 3


def test_review_details_read_the_processed_metadata_and_annotations(
    testuser_token: str, entries: dict[str, str]
) -> None:
    details = client.review_details(testuser_token, "ebola-sudan", entries["wrong"], 1)
    assert details.metadata["geoLocCountry"] == "Kenya"
    (error,) = details.errors
    assert error.processed_fields == ("sampleCollectionDate",)
    assert error.unprocessed_fields == ("sampleCollectionDate",)
    assert NEXT_YEAR in error.message
    assert details.warnings == ()
    assert client.review_details(testuser_token, "ebola-sudan", entries["warned"], 1).warnings[0].processed_fields == (
        "sampleCollectionDate",
    )


def test_approving_names_the_approved_versions_and_refuses_one_with_errors(
    testuser_token: str, entries: dict[str, str]
) -> None:
    with pytest.raises(client.Rejected) as refused:
        client.approve_processed_data(
            testuser_token, "ebola-sudan", accession_versions=[(entries["ok"], 1), (entries["wrong"], 1)]
        )
    assert refused.value.status == 422
    assert refused.value.detail == f"Accession versions have errors: {entries['wrong']}.1"
    approved = client.approve_processed_data(testuser_token, "ebola-sudan", group_ids=[1], scope="WITHOUT_WARNINGS")
    assert approved == [(entries["ok"], 1)]


def test_deleting_by_scope_names_the_deleted_versions(testuser_token: str, entries: dict[str, str]) -> None:
    deleted = client.delete_sequence_entry_versions(
        testuser_token, "ebola-sudan", group_ids=[1], scope="PROCESSED_WITH_ERRORS"
    )
    assert deleted == [(entries["wrong"], 1)]
    with pytest.raises(client.Rejected) as gone:
        client.delete_sequence_entry_versions(testuser_token, "ebola-sudan", accession_versions=[(entries["wrong"], 1)])
    assert gone.value.detail == f"Accession versions {entries['wrong']}.1 do not exist"


def test_another_users_group_is_forbidden(loculus: RunningSandbox, entries: dict[str, str]) -> None:
    other = str(loculus.password_token("newuser", "newuser")["access_token"])
    with pytest.raises(client.Forbidden):
        client.approve_processed_data(other, "ebola-sudan", accession_versions=[(entries["ok"], 1)])
