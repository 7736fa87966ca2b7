"""The Loculus client against the sandbox: typed results, and every error class mapped."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.launcher import RunningSandbox
from submitportal.loculus import client
from tests.testenv import free_port

METADATA = "id\tsampleCollectionDate\tgeoLocCountry\nsample1\t2024-05-01\tUganda\n"
FASTA = ">sample1\nACGTACGTAC\n"


def open_terms() -> client.DataUseTerms:
    return client.DataUseTerms("OPEN")


def part(name: str, text: str) -> client.UploadPart:
    return client.UploadPart(name, io.BytesIO(text.encode()))


def test_it_lists_the_users_groups(testuser_token: str) -> None:
    groups = client.get_user_groups(testuser_token)
    assert [(g.group_id, g.group_name) for g in groups] == [(1, "Sandbox Lab Berlin"), (2, "Sandbox Lab Kampala")]


def test_a_bad_token_is_unauthorized(loculus: RunningSandbox) -> None:
    with pytest.raises(client.Unauthorized) as caught:
        client.get_user_groups("not-a-jwt")
    assert caught.value.status == 401
    assert "invalid_token" in caught.value.detail


def test_a_write_without_token_is_forbidden(loculus: RunningSandbox) -> None:
    with pytest.raises(client.Forbidden) as caught:
        client.request_upload("", group_id=1, number_files=1)
    assert caught.value.status == 403


def test_a_group_the_user_is_not_in_is_forbidden_with_the_backends_words(testuser_token: str) -> None:
    with pytest.raises(client.Forbidden) as caught:
        client.request_upload(testuser_token, group_id=3, number_files=1)
    assert caught.value.detail == "User testuser is not a member of group(s) 3. Action not allowed."
    assert caught.value.title == "Forbidden"
    assert caught.value.request_id


def test_an_unknown_group_is_not_found(testuser_token: str) -> None:
    with pytest.raises(client.NotFound) as caught:
        client.request_upload(testuser_token, group_id=999, number_files=1)
    assert caught.value.detail == "Group(s) 999 do(es) not exist."


def test_a_bad_request_is_rejected(testuser_token: str) -> None:
    with pytest.raises(client.Rejected) as caught:
        client.request_upload(testuser_token, group_id=1, number_files=0)
    assert (caught.value.status, caught.value.detail) == (400, "Number of files must be at least 1")


def test_request_upload_returns_urls_with_the_headers_to_send(testuser_token: str) -> None:
    targets = client.request_upload(testuser_token, group_id=1, number_files=2)
    assert len(targets) == 2
    assert all(t.headers == {"If-None-Match": "*"} for t in targets)
    assert len({t.file_id for t in targets}) == 2
    response = requests.put(targets[0].url, data=b"hello", headers=dict(targets[0].headers), timeout=10)
    assert response.status_code == 200


def test_a_multipart_upload_can_be_completed(testuser_token: str) -> None:
    (target,) = client.request_multipart_upload(testuser_token, group_id=1, number_files=1, number_parts=2)
    assert len(target.urls) == 2
    etags = []
    for index, url in enumerate(target.urls):
        size = 5 * 1024 * 1024 if index == 0 else 10
        response = requests.put(url, data=b"x" * size, timeout=30)
        assert response.status_code == 200
        etags.append(response.headers["ETag"])
    client.complete_multipart_upload(testuser_token, [client.CompletedUpload(target.file_id, tuple(etags))])
    with pytest.raises(client.Rejected) as caught:
        client.complete_multipart_upload(testuser_token, [client.CompletedUpload(target.file_id, tuple(etags))])
    assert caught.value.detail == f"The following files have already been completed: {target.file_id}"


def test_it_submits_an_entry_and_returns_its_accession(loculus: RunningSandbox, testuser_token: str) -> None:
    entries = client.submit(
        testuser_token,
        "ebola-sudan",
        group_id=1,
        metadata=part("metadata.tsv", METADATA),
        sequences=part("sequences.fasta", FASTA),
        data_use_terms=open_terms(),
    )
    assert len(entries) == 1
    assert entries[0].submission_id == "sample1"
    assert entries[0].accession.startswith("LOC_")
    assert entries[0].version == 1
    (record,) = loculus.submissions()
    assert record["organism"] == "ebola-sudan"
    assert record["groupId"] == 1
    page = client.get_sequences(testuser_token, "ebola-sudan", group_ids=[1])
    assert [(e.accession, e.submission_id, e.status) for e in page.entries] == [
        (entries[0].accession, "sample1", "RECEIVED")
    ]
    assert page.status_counts["RECEIVED"] == 1


def test_a_rejected_submission_carries_the_problem_detail(testuser_token: str) -> None:
    with pytest.raises(client.Rejected) as caught:
        client.submit(
            testuser_token,
            "ebola-sudan",
            group_id=1,
            metadata=part("metadata.tsv", METADATA),
            sequences=part("sequences.fasta", ">other\nACGT\n"),
            data_use_terms=open_terms(),
        )
    problem = caught.value
    assert problem.status == 422
    assert problem.title == "Unprocessable Entity"
    assert problem.detail.startswith(
        "Metadata file contains 1 FASTA ids that are not present in the sequence file: 'sample1'"
    )
    assert problem.instance_path == "/ebola-sudan/submit"
    assert problem.request_id


def test_an_unreachable_backend_is_reported_as_such(settings: Any, loculus: RunningSandbox) -> None:
    settings.LOCULUS_BACKEND_URL = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(client.BackendUnreachable) as caught:
        client.get_user_groups("token")
    assert caught.value.status is None
    assert settings.LOCULUS_BACKEND_URL in caught.value.detail


def test_a_server_error_is_a_backend_failure(loculus: RunningSandbox, testuser_token: str) -> None:
    loculus.add_faults({"path": "/files/request-upload", "method": "POST", "status": 500, "times": 1})
    with pytest.raises(client.BackendFailed) as caught:
        client.request_upload(testuser_token, group_id=1, number_files=1)
    assert caught.value.status == 500


def test_idempotent_calls_are_retried_after_a_503(loculus: RunningSandbox, testuser_token: str) -> None:
    loculus.add_faults({"path": "/user/groups", "method": "GET", "status": 503, "times": 2})
    assert len(client.get_user_groups(testuser_token)) == 2


def test_posts_are_never_retried(loculus: RunningSandbox, testuser_token: str) -> None:
    loculus.add_faults({"path": "/files/request-upload", "method": "POST", "status": 503, "times": 1})
    with pytest.raises(client.BackendFailed):
        client.request_upload(testuser_token, group_id=1, number_files=1)
    # The fault was used up by the single attempt; had the client retried, this call's answer
    # would have been consumed already.
    assert len(client.request_upload(testuser_token, group_id=1, number_files=1)) == 1


def test_a_slow_backend_times_out(settings: Any, loculus: RunningSandbox, testuser_token: str) -> None:
    settings.LOCULUS_READ_TIMEOUT = 1
    loculus.add_faults({"path": "/files/request-upload", "method": "POST", "delay_ms": 3000, "times": 1})
    with pytest.raises(client.BackendUnreachable, match="did not answer in time"):
        client.request_upload(testuser_token, group_id=1, number_files=1)


def test_the_submit_body_is_streamed_not_read_into_memory(
    loculus: RunningSandbox, testuser_token: str, tmp_path: Path
) -> None:
    # A FASTA of 96 MiB; the client may hold only small buffers of it at any time.
    fasta = tmp_path / "big.fasta"
    line = b"ACGT" * 30 + b"\n"
    with fasta.open("wb") as out:
        out.write(b">sample1\n")
        for _ in range(96 * 1024 * 1024 // len(line)):
            out.write(line)
    tracemalloc.start()
    try:
        with fasta.open("rb") as stream:
            entries = client.submit(
                testuser_token,
                "ebola-sudan",
                group_id=1,
                metadata=part("metadata.tsv", METADATA),
                sequences=client.UploadPart("sequences.fasta", stream),
                data_use_terms=open_terms(),
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert entries[0].submission_id == "sample1"
    assert peak < 8 * 1024 * 1024, f"the client held {peak / 2**20:.1f} MiB at its peak"
    (record,) = loculus.submissions()
    assert Path(record["sequenceFile"]["path"]).stat().st_size == fasta.stat().st_size
