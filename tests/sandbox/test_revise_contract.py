"""Released entries and their versions: revise, revoke, get-submitted-data.

Contract §4.2, §4.4 (rows 5e, 7b, 12-12d, 13j), §4.6, §5.6, §5.7 and the assertions of §8.9, with
Loculus's RevokeEndpointTest and GetSubmittedDataEndpointTest where the contract is silent.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.sandbox.helpers import TIMEOUT, Backend, assert_problem, fasta, tsv

HEADER = ["id", "sampleCollectionDate", "geoLocCountry"]
REVISION_HEADER = ["accession", *HEADER]
SEQUENCE = "ACGT" * 10


@pytest.fixture
def at_once(backend: Backend) -> Backend:
    """Both generations; entries are processed as soon as anything reads them."""
    backend.sandbox.configure(processing_delay_seconds=0)
    return backend


@pytest.fixture
def now(current: Backend) -> Backend:
    """The current generation only (for checks that do not depend on files), processed at once."""
    current.sandbox.configure(processing_delay_seconds=0)
    return current


def send(backend: Backend, path: str, body: Any, username: str | None = "testuser") -> requests.Response:
    return requests.post(backend.url + path, json=body, headers=backend.headers(username), timeout=TIMEOUT)


def submit(
    backend: Backend,
    ids: list[str],
    *,
    organism: str = "ebola-sudan",
    group_id: int = 1,
    username: str = "testuser",
    **kwargs: Any,
) -> list[str]:
    metadata = tsv(HEADER, *[[sid, "2024-03-18", "Uganda"] for sid in ids])
    response = backend.submit(
        organism, metadata, fasta(*[(sid, SEQUENCE) for sid in ids]), group_id=group_id, username=username, **kwargs
    )
    assert response.status_code == 200, response.text
    return [item["accession"] for item in response.json()]


def approve(
    backend: Backend, accessions: list[str], version: int = 1, organism: str = "ebola-sudan", username: str = "testuser"
) -> None:
    body = {"scope": "ALL", "accessionVersionsFilter": [{"accession": a, "version": version} for a in accessions]}
    response = send(backend, f"/{organism}/approve-processed-data", body, username)
    assert response.status_code == 200, response.text
    assert len(response.json()) == len(accessions)


def released(backend: Backend, ids: list[str], *, username: str = "testuser", **kwargs: Any) -> list[str]:
    accessions = submit(backend, ids, username=username, **kwargs)
    approve(backend, accessions, username=username)
    return accessions


def revision(*rows: tuple[str, str, str]) -> str:
    """Revision metadata from (accession, id, date) rows."""
    return tsv(REVISION_HEADER, *[[accession, sid, date, "Uganda"] for accession, sid, date in rows])


def sequences_for(*ids: str) -> str:
    return fasta(*[(sid, SEQUENCE) for sid in ids])


def versions(backend: Backend, organism: str = "ebola-sudan", username: str = "testuser") -> dict[str, Any]:
    response = backend.get(f"/{organism}/get-sequences", username)
    assert response.status_code == 200, response.text
    return {f"{e['accession']}.{e['version']}": e for e in response.json()["sequenceEntries"]}


def edit_data(backend: Backend, accession: str, version: int) -> dict[str, Any]:
    response = backend.get(f"/ebola-sudan/get-data-to-edit/{accession}/{version}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def download(backend: Backend, body: dict[str, Any], organism: str = "ebola-sudan") -> dict[str, str]:
    response = send(backend, f"/{organism}/get-submitted-data", body)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/zip"
    assert re.fullmatch(
        rf'attachment; filename="{organism}_submitted_data_[0-9]{{8}}T[0-9]{{6}}Z\.zip"',
        response.headers["Content-Disposition"],
    )
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


# --- /revise ---------------------------------------------------------------------------------------


def test_a_released_entry_is_revised_into_version_2_that_keeps_its_group_and_terms(at_once: Backend) -> None:
    until = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)).isoformat()
    (accession,) = released(at_once, ["s1"], terms="RESTRICTED", restricted_until=until)

    response = at_once.revise("ebola-sudan", revision((accession, "s1", "2024-03-19")), sequences_for("s1"))

    assert response.status_code == 200, response.text
    assert response.json() == [{"accession": accession, "version": 2, "submissionId": "s1"}]
    listed = versions(at_once)
    assert set(listed) == {f"{accession}.1", f"{accession}.2"}  # get-sequences lists every version
    assert listed[f"{accession}.1"]["status"] == "APPROVED_FOR_RELEASE"
    revised = listed[f"{accession}.2"]
    assert (revised["status"], revised["processingResult"], revised["isRevocation"]) == (
        "PROCESSED",
        "NO_ISSUES",
        False,
    )
    assert (revised["groupId"], revised["submitter"], revised["submissionId"]) == (1, "testuser", "s1")
    assert revised["dataUseTerms"] == {"type": "RESTRICTED", "restrictedUntil": until}
    assert edit_data(at_once, accession, 2)["submittedData"]["metadata"] == {
        "sampleCollectionDate": "2024-03-19",
        "geoLocCountry": "Uganda",
    }
    first = edit_data(at_once, accession, 1)  # a released version can still be read for editing
    assert first["status"] == "APPROVED_FOR_RELEASE"
    assert first["submittedData"]["metadata"]["sampleCollectionDate"] == "2024-03-18"

    approve(at_once, [accession], version=2)
    again = at_once.revise("ebola-sudan", revision((accession, "s1", "2024-03-20")), sequences_for("s1"))
    assert again.status_code == 200, again.text
    assert again.json() == [{"accession": accession, "version": 3, "submissionId": "s1"}]


def test_a_revision_starts_received_and_is_processed_like_any_entry(current: Backend) -> None:
    current.sandbox.configure(processing_delay_seconds=0)
    (accession,) = released(current, ["s1"])
    current.sandbox.configure(processing_delay_seconds=30)
    response = current.revise("ebola-sudan", revision((accession, "s1", "18.03.2024")), sequences_for("s1"))
    assert response.status_code == 200, response.text
    assert versions(current)[f"{accession}.2"]["status"] == "RECEIVED"
    current.sandbox.configure(processing_delay_seconds=0)
    assert versions(current)[f"{accession}.2"]["processingResult"] == "HAS_ERRORS"


def test_a_superuser_revises_another_groups_entry_and_is_the_submitter_of_the_revision(now: Backend) -> None:
    (accession,) = released(now, ["s1"], group_id=3, username="otheruser")
    response = now.revise(
        "ebola-sudan", revision((accession, "s1", "2024-03-19")), sequences_for("s1"), username="superuser"
    )
    assert response.status_code == 200, response.text
    revised = versions(now, username="superuser")[f"{accession}.2"]
    assert (revised["groupId"], revised["submitter"]) == (3, "superuser")


def test_a_multi_segment_entry_is_revised(now: Backend) -> None:
    metadata = tsv([*HEADER, "fastaIds"], ["c1", "2024-03-18", "Uganda", "c1_L c1_S"])
    response = now.submit("cchf", metadata, fasta(("c1_L", SEQUENCE), ("c1_S", SEQUENCE)))
    assert response.status_code == 200, response.text
    (accession,) = [item["accession"] for item in response.json()]
    approve(now, [accession], organism="cchf")
    revised = tsv(["accession", *HEADER, "fastaIds"], [accession, "c1", "2024-03-19", "Uganda", "c1_L c1_M"])
    response = now.revise("cchf", revised, fasta(("c1_L", SEQUENCE), ("c1_M", "ACGT")))
    assert response.status_code == 200, response.text
    assert response.json() == [{"accession": accession, "version": 2, "submissionId": "c1"}]


def test_an_organism_without_consensus_sequences_is_revised_from_metadata_alone(now: Backend) -> None:
    header = [*HEADER, "samplingSite"]
    response = now.submit("wastewater", tsv(header, ["w1", "2024-03-18", "Uganda", "Plant A"]))
    assert response.status_code == 200, response.text
    (accession,) = [item["accession"] for item in response.json()]
    approve(now, [accession], organism="wastewater")
    revised = tsv(["accession", *header], [accession, "w1", "2024-03-19", "Uganda", "Plant B"])
    assert_problem(
        now.revise("wastewater", revised, sequences_for("w1")),
        400,
        "Bad Request",
        "Sequence uploads are not allowed for organism wastewater.",
    )
    response = now.revise("wastewater", revised)
    assert response.status_code == 200, response.text
    assert response.json() == [{"accession": accession, "version": 2, "submissionId": "w1"}]


def test_revise_refuses_accessions_that_are_unknown_named_twice_or_not_released(now: Backend) -> None:
    first, second = released(now, ["s1", "s2"])
    (unreleased,) = submit(now, ["s3"])
    assert_problem(
        now.revise("ebola-sudan", revision(("123", "s1", "2024-03-19")), sequences_for("s1")),
        422,
        "Unprocessable Entity",
        "Accessions 123 do not exist",
    )
    assert_problem(
        now.revise(
            "ebola-sudan", revision((first, "s1", "2024-03-19"), (first, "s2", "2024-03-19")), sequences_for("s1", "s2")
        ),
        422,
        "Unprocessable Entity",
        f"Duplicate accession found in metadata file: {first}",
    )
    assert_problem(
        now.revise(
            "ebola-sudan", revision((first, "s1", "2024-03-19"), (second, "s1", "2024-03-19")), sequences_for("s1")
        ),
        422,
        "Unprocessable Entity",
        "Duplicate submission_id found in metadata file: s1",
    )
    assert_problem(
        now.revise(
            "ebola-sudan",
            revision((first, "s1", "2024-03-19"), (unreleased, "s3", "2024-03-19")),
            sequences_for("s1", "s3"),
        ),
        422,
        "Unprocessable Entity",
        f"Accession versions are not in one of the states [APPROVED_FOR_RELEASE]: {unreleased}.1 - PROCESSED",
    )
    # A revision waiting for approval is the latest version: the entry cannot be revised again yet.
    assert now.revise("ebola-sudan", revision((first, "s1", "2024-03-19")), sequences_for("s1")).status_code == 200
    assert_problem(
        now.revise("ebola-sudan", revision((first, "s1", "2024-03-20")), sequences_for("s1")),
        422,
        "Unprocessable Entity",
        f"Accession versions are not in one of the states [APPROVED_FOR_RELEASE]: {first}.2 - PROCESSED",
    )
    assert set(versions(now)) == {f"{first}.1", f"{first}.2", f"{second}.1", f"{unreleased}.1"}


def test_revise_refuses_another_groups_entry_and_another_organisms_entry(now: Backend) -> None:
    (accession,) = released(now, ["s1"])
    assert_problem(
        now.revise("ebola-sudan", revision((accession, "s1", "2024-03-19")), sequences_for("s1"), username="otheruser"),
        403,
        "Forbidden",
        "User otheruser is not a member of group(s) 1. Action not allowed. "
        f"Affected AccessionVersions: [{accession}.1]",
    )
    assert_problem(
        now.revise("nofiles", revision((accession, "s1", "2024-03-19")), sequences_for("s1")),
        422,
        "Unprocessable Entity",
        f"The following accession versions are not of organism nofiles: organism ebola-sudan: {accession}.1",
    )


@pytest.mark.parametrize(
    ("metadata", "sequences", "status", "detail"),
    [
        (None, "s1", 400, "Required part 'metadataFile' is not present."),
        (
            revision(("ACC", "s1", "2024-03-19")),
            None,
            400,
            "Submissions for organism ebola-sudan require a sequence file.",
        ),
        (
            tsv(HEADER, ["s1", "2024-03-19", "Uganda"]),
            "s1",
            422,
            "The revised metadata file does not contain the header 'accession'",
        ),
        (
            revision(("", "s1", "2024-03-19")),
            "s1",
            422,
            "Record #1 in the metadata file contains no value for 'accession'. Row: ['', 's1', '2024-03-19', 'Uganda']",
        ),
        (
            revision(("A B", "s1", "2024-03-19")),
            "s1",
            422,
            "Record #1 in the metadata file: the value for 'accession' contains whitespace: 'A B'",
        ),
        (
            revision(("ACC", "s1", "2024-03-19"), ("ACC2", "notInSequences", "2024-03-19")),
            "s1",
            422,
            "Metadata file contains 1 FASTA ids that are not present in the sequence file: 'notInSequences'. ",
        ),
        (
            revision(("ACC", "s1", "2024-03-19")),
            "s1 notInMetadata notInMetadata2",
            422,
            "Sequence file contains 2 FASTA ids that are not present in the metadata file: "
            "'notInMetadata', 'notInMetadata2'",
        ),
    ],
)
def test_revise_checks_the_upload_before_the_accessions(
    now: Backend, metadata: str | None, sequences: str | None, status: int, detail: str
) -> None:
    """The accessions ACC and ACC2 do not exist: each upload fails on an earlier check first."""
    fasta_text = sequences_for(*sequences.split()) if sequences is not None else None
    response = now.revise("ebola-sudan", metadata, fasta_text)
    assert_problem(response, status, "Bad Request" if status == 400 else "Unprocessable Entity", detail)


def test_revise_needs_a_token(now: Backend) -> None:
    response = now.revise("ebola-sudan", revision(("ACC", "s1", "2024-03-19")), sequences_for("s1"), username=None)
    assert response.status_code == 403
    response = requests.post(
        f"{now.url}/ebola-sudan/revise", headers={"Authorization": "Bearer nonsense"}, timeout=TIMEOUT
    )
    assert response.status_code == 401


# --- /revise with extra files, in both generations ----------------------------------------------------


def test_a_revision_keeps_files_by_name_and_id_and_adds_new_ones(at_once: Backend) -> None:
    kept, added = at_once.uploaded_file(), at_once.uploaded_file()
    (accession,) = released(at_once, ["s1"], files={"s1": {"rawReads": [("reads.fq", kept)]}})
    files = {"s1": {"rawReads": [("reads.fq", kept), ("more.fq", added)]}}
    response = at_once.revise(
        "ebola-sudan", revision((accession, "s1", "2024-03-19")), sequences_for("s1"), files=files
    )
    assert response.status_code == 200, response.text
    assert edit_data(at_once, accession, 2)["submittedData"]["files"] == {
        "rawReads": [{"fileId": kept, "name": "reads.fq"}, {"fileId": added, "name": "more.fq"}]
    }
    record = at_once.sandbox.submissions()[-1]
    assert (record["type"], record["generation"], record["groupId"]) == ("revision", at_once.generation, None)


def test_a_revision_without_files_drops_the_entrys_files(at_once: Backend) -> None:
    file_id = at_once.uploaded_file()
    (accession,) = released(at_once, ["s1"], files={"s1": {"rawReads": [("reads.fq", file_id)]}})
    response = at_once.revise("ebola-sudan", revision((accession, "s1", "2024-03-19")), sequences_for("s1"))
    assert response.status_code == 200, response.text
    assert edit_data(at_once, accession, 2)["submittedData"]["files"] is None


def test_revise_checks_files_after_the_accessions_and_against_the_entrys_group(at_once: Backend) -> None:
    (accession,) = released(at_once, ["s1"])
    foreign = at_once.uploaded_file(group_id=2)
    never_uploaded = at_once.requested_file()
    metadata = revision((accession, "s1", "2024-03-19"))

    def revise_with(files: dict[str, dict[str, list[tuple[str, str]]]], text: str = metadata) -> requests.Response:
        return at_once.revise("ebola-sudan", text, sequences_for("s1"), files=files)

    assert_problem(
        revise_with({"s1": {"rawReads": [("reads.fq", foreign)]}}),
        400,
        "Bad Request",
        f"File {foreign} does not belong to group 1.",
    )
    assert_problem(
        revise_with({"s1": {"rawReads": [("reads.fq", never_uploaded)]}}),
        422,
        "Unprocessable Entity",
        f"No file uploaded for file IDs: {never_uploaded}",
    )
    multipart, item = at_once.uncompleted_multipart_file()
    upload_id = parse_qs(urlparse(item["urls"][0]).query)["uploadId"][0]
    assert_problem(
        revise_with({"s1": {"rawReads": [("reads.fq", multipart)]}}),
        422,
        "Unprocessable Entity",
        f"The following multipart uploads have not been completed: ({multipart}, {upload_id})",
    )
    assert_problem(
        revise_with({"s1": {"unknown": [("reads.fq", never_uploaded)]}}),
        422,
        "Unprocessable Entity",
        "The category unknown is not part of the configured submission categories for ebola-sudan. "
        "Allowed categories are: rawReads.",
    )
    if at_once.generation == "current":
        assert_problem(
            revise_with({"s1": {"rawReads": [("foo.txt", foreign), ("foo.txt", never_uploaded)]}}),
            422,
            "Unprocessable Entity",
            "In metadata file: record #1 with id 's1': found duplicate file names in column 'files.rawReads': foo.txt",
        )
        # The accession checks come before the file checks, which run after parsing.
        assert_problem(
            revise_with({"s1": {"rawReads": [("reads.fq", foreign)]}}, revision(("123", "s1", "2024-03-19"))),
            422,
            "Unprocessable Entity",
            "Accessions 123 do not exist",
        )
    else:
        assert_problem(
            revise_with({"s1": {"rawReads": [("foo.txt", foreign), ("foo.txt", never_uploaded)]}}),
            422,
            "Unprocessable Entity",
            "The files in category rawReads contain duplicate file names: foo.txt",
        )
        # A legacy fileMapping was checked before the metadata was read at all.
        assert_problem(
            revise_with({"s1": {"unknown": [("reads.fq", foreign)]}}, revision(("123", "s1", "2024-03-19"))),
            422,
            "Unprocessable Entity",
            "The category unknown is not part of the configured submission categories for ebola-sudan. "
            "Allowed categories are: rawReads.",
        )
        assert_problem(
            revise_with({"nope": {"rawReads": [("reads.fq", at_once.uploaded_file())]}}),
            422,
            "Unprocessable Entity",
            "File upload contains 1 submissionIds that are not present in the metadata file: 'nope'",
        )


def test_a_files_column_is_plain_metadata_on_a_legacy_backend(legacy: Backend) -> None:
    legacy.sandbox.configure(processing_delay_seconds=0)
    (accession,) = released(legacy, ["s1"])
    metadata = tsv([*REVISION_HEADER, "files.rawReads"], [accession, "s1", "2024-03-19", "Uganda", "reads.fq"])
    response = legacy.revise("ebola-sudan", metadata, sequences_for("s1"))
    assert response.status_code == 200, response.text
    submitted = edit_data(legacy, accession, 2)["submittedData"]
    assert submitted["metadata"]["files.rawReads"] == "reads.fq"
    assert submitted["files"] is None


# --- /revoke ---------------------------------------------------------------------------------------


def test_revoking_creates_processed_revocations_that_approval_releases(now: Backend) -> None:
    first, second = released(now, ["s1", "s2"])
    response = send(now, "/ebola-sudan/revoke", {"accessions": [second, first], "versionComment": "wrong host"})
    assert response.status_code == 200, response.text
    assert response.json() == [
        {"accession": first, "version": 2, "submissionId": "s1"},
        {"accession": second, "version": 2, "submissionId": "s2"},
    ]
    revocation = versions(now)[f"{first}.2"]
    assert (revocation["status"], revocation["processingResult"], revocation["isRevocation"]) == (
        "PROCESSED",
        "NO_ISSUES",
        True,
    )
    assert (revocation["groupId"], revocation["submitter"], revocation["submissionId"]) == (1, "testuser", "s1")
    assert_problem(
        now.get(f"/ebola-sudan/get-data-to-edit/{first}/2"),
        422,
        "Unprocessable Entity",
        f"Accession version {first}.2 is a revocation.",
    )
    assert_problem(
        send(now, "/ebola-sudan/revoke", {"accessions": [first], "versionComment": None}),
        422,
        "Unprocessable Entity",
        f"Accession versions are not in one of the states [APPROVED_FOR_RELEASE]: {first}.2 - PROCESSED",
    )
    approve(now, [first, second], version=2)
    assert versions(now)[f"{first}.2"]["status"] == "APPROVED_FOR_RELEASE"
    assert versions(now)[f"{first}.1"]["status"] == "APPROVED_FOR_RELEASE"


def test_a_revocation_can_be_discarded_before_approval(now: Backend) -> None:
    (accession,) = released(now, ["s1"])
    assert send(now, "/ebola-sudan/revoke", {"accessions": [accession]}).status_code == 200
    body = {"scope": "ALL", "accessionVersionsFilter": [{"accession": accession, "version": 2}]}
    deleted = requests.delete(
        f"{now.url}/ebola-sudan/delete-sequence-entry-versions", json=body, headers=now.headers(), timeout=TIMEOUT
    )
    assert deleted.json() == [{"accession": accession, "version": 2}]
    assert set(versions(now)) == {f"{accession}.1"}


def test_revoke_refuses_unknown_foreign_unreleased_and_other_organisms_entries(now: Backend) -> None:
    (accession,) = released(now, ["s1"])
    (unreleased,) = submit(now, ["s2"])
    cases = [
        ({"accessions": ["123"]}, "testuser", "ebola-sudan", 422, "Accessions 123 do not exist"),
        (
            {"accessions": [accession]},
            "otheruser",
            "ebola-sudan",
            403,
            f"User otheruser is not a member of group(s) 1. Action not allowed. "
            f"Affected AccessionVersions: [{accession}.1]",
        ),
        (
            {"accessions": [unreleased, accession]},
            "testuser",
            "ebola-sudan",
            422,
            f"Accession versions are not in one of the states [APPROVED_FOR_RELEASE]: {unreleased}.1 - PROCESSED",
        ),
        (
            {"accessions": [accession]},
            "testuser",
            "nofiles",
            422,
            f"The following accession versions are not of organism nofiles: organism ebola-sudan: {accession}.1",
        ),
        (
            {"versionComment": "x"},
            "testuser",
            "ebola-sudan",
            400,
            "Instantiation of [simple type, class org.loculus.backend.api.AccessionsToRevokeWithComment] value "
            "failed for JSON property accessions due to missing (therefore NULL) value for creator parameter "
            "accessions which is a non-nullable type",
        ),
    ]
    for body, username, organism, status, detail in cases:
        title = {400: "Bad Request", 403: "Forbidden", 422: "Unprocessable Entity"}[status]
        assert_problem(send(now, f"/{organism}/revoke", body, username), status, title, detail)
    assert set(versions(now)) == {f"{accession}.1", f"{unreleased}.1"}  # nothing was revoked


def test_a_superuser_revokes_another_groups_entry_and_is_the_submitter_of_the_revocation(now: Backend) -> None:
    (accession,) = released(now, ["s1"], group_id=3, username="otheruser")
    response = send(now, "/ebola-sudan/revoke", {"accessions": [accession]}, "superuser")
    assert response.json() == [{"accession": accession, "version": 2, "submissionId": "s1"}]
    revocation = versions(now, username="superuser")[f"{accession}.2"]
    assert (revocation["groupId"], revocation["submitter"], revocation["isRevocation"]) == (3, "superuser", True)


def test_a_released_revocation_can_be_revised_as_the_backend_checks_only_the_status(now: Backend) -> None:
    """Loculus's backend has no revocation check on /revise; a portal that forbids it must check itself."""
    (accession,) = released(now, ["s1"])
    send(now, "/ebola-sudan/revoke", {"accessions": [accession]})
    approve(now, [accession], version=2)
    response = now.revise("ebola-sudan", revision((accession, "s1", "2024-03-19")), sequences_for("s1"))
    assert response.status_code == 200, response.text
    assert response.json() == [{"accession": accession, "version": 3, "submissionId": "s1"}]


# --- /get-submitted-data ----------------------------------------------------------------------------


def test_the_download_holds_the_latest_released_unrevoked_versions_only(at_once: Backend) -> None:
    file_id = at_once.uploaded_file()
    first, second, revoked, pending = released(
        at_once, ["s1", "s2", "s3", "s4"], files={"s1": {"rawReads": [("reads.fq", file_id)]}}
    )
    submit(at_once, ["s5"])  # processed, never approved
    send(at_once, "/ebola-sudan/revoke", {"accessions": [revoked]})
    approve(at_once, [revoked], version=2)
    assert (
        at_once.revise("ebola-sudan", revision((pending, "s4", "2024-03-19")), sequences_for("s4")).status_code == 200
    )

    files = download(at_once, {"groupId": 1, "accessionsFilter": None})

    assert sorted(files) == ["metadata.tsv", "sequences.fasta"]
    if at_once.generation == "current":
        assert files["metadata.tsv"] == (
            "id\taccession\tgeoLocCountry\tsampleCollectionDate\tfiles.rawReads\r\n"
            f"s1\t{first}\tUganda\t2024-03-18\treads.fq:{file_id}\r\n"
            f"s2\t{second}\tUganda\t2024-03-18\t\r\n"
        )
    else:  # legacy backends did not put files into the download
        assert files["metadata.tsv"] == (
            "id\taccession\tgeoLocCountry\tsampleCollectionDate\r\n"
            f"s1\t{first}\tUganda\t2024-03-18\r\n"
            f"s2\t{second}\tUganda\t2024-03-18\r\n"
        )
    assert files["sequences.fasta"] == f">s1\n{SEQUENCE}\n>s2\n{SEQUENCE}\n"


def test_the_download_is_accepted_unchanged_as_a_revision(at_once: Backend) -> None:
    file_id = at_once.uploaded_file()
    accessions = released(at_once, ["s1", "s2"], files={"s1": {"rawReads": [("reads.fq", file_id)]}})
    files = download(at_once, {"groupId": 1, "accessionsFilter": accessions})

    response = at_once.revise("ebola-sudan", files["metadata.tsv"], files["sequences.fasta"])

    assert response.status_code == 200, response.text
    assert response.json() == [
        {"accession": accessions[0], "version": 2, "submissionId": "s1"},
        {"accession": accessions[1], "version": 2, "submissionId": "s2"},
    ]
    for accession in accessions:
        before = edit_data(at_once, accession, 1)["submittedData"]
        after = edit_data(at_once, accession, 2)["submittedData"]
        if at_once.generation == "legacy":
            before["files"] = None  # a legacy download carries no files; they go in a fileMapping
        assert after == before


def test_a_multi_segment_download_lists_fasta_ids_and_round_trips(now: Backend) -> None:
    metadata = tsv([*HEADER, "fastaIds"], ["c1", "2024-03-18", "Uganda", "c1_S_long c1_L"])
    response = now.submit("cchf", metadata, fasta(("c1_S_long", "GGCC"), ("c1_L", "ACGT")))
    (accession,) = [item["accession"] for item in response.json()]
    approve(now, [accession], organism="cchf")
    files = download(now, {"groupId": 1}, organism="cchf")
    # FASTA IDs come back in jsonb key order (shorter first), as the backend stores them.
    assert files["metadata.tsv"] == (
        "id\taccession\tfastaIds\tgeoLocCountry\tsampleCollectionDate\tfiles.rawReads\r\n"
        f"c1\t{accession}\tc1_L c1_S_long\tUganda\t2024-03-18\t\r\n"
    )
    assert files["sequences.fasta"] == ">c1_L\nACGT\n>c1_S_long\nGGCC\n"
    response = now.revise("cchf", files["metadata.tsv"], files["sequences.fasta"])
    assert response.json() == [{"accession": accession, "version": 2, "submissionId": "c1"}]


def test_duplicate_ids_are_made_unique_without_new_clashes(now: Backend) -> None:
    released(now, ["sample"])
    released(now, ["sample", "sample_1"])
    released(now, ["sample"])
    files = download(now, {"groupId": 1})
    ids = [line.split("\t")[0] for line in files["metadata.tsv"].splitlines()[1:]]
    assert ids == ["sample", "sample_2", "sample_1", "sample_3"]
    headers = [line[1:] for line in files["sequences.fasta"].splitlines() if line.startswith(">")]
    assert headers == ids
    response = now.revise("ebola-sudan", files["metadata.tsv"], files["sequences.fasta"])
    assert response.status_code == 200, response.text


def test_values_that_need_quotes_are_quoted_as_commons_csv_does_and_still_round_trip(now: Backend) -> None:
    metadata = tsv([*HEADER, "notes"], ["s1", "2024-03-18", "Uganda", '#1 "big" sample'])
    response = now.submit("ebola-sudan", metadata, fasta(("s1", SEQUENCE)))
    (accession,) = [item["accession"] for item in response.json()]
    approve(now, [accession])
    files = download(now, {"groupId": 1})
    assert files["metadata.tsv"].splitlines()[1] == f's1\t{accession}\tUganda\t"#1 ""big"" sample"\t2024-03-18\t'
    assert now.revise("ebola-sudan", files["metadata.tsv"], files["sequences.fasta"]).status_code == 200
    assert edit_data(now, accession, 2)["submittedData"]["metadata"]["notes"] == '#1 "big" sample'


def test_an_empty_download_has_a_header_and_no_sequences_and_the_filter_narrows(now: Backend) -> None:
    first, _ = released(now, ["s1", "s2"])
    files = download(now, {"groupId": 2})
    assert files == {"metadata.tsv": "id\taccession\tfiles.rawReads\r\n", "sequences.fasta": ""}
    narrowed = download(now, {"groupId": 1, "accessionsFilter": [first, "LOC_NOPE"]})
    assert [line.split("\t")[1] for line in narrowed["metadata.tsv"].splitlines()[1:]] == [first]


def test_an_organism_without_consensus_sequences_downloads_metadata_only(now: Backend) -> None:
    header = [*HEADER, "samplingSite"]
    response = now.submit("wastewater", tsv(header, ["w1", "2024-03-18", "Uganda", "Plant A"]))
    (accession,) = [item["accession"] for item in response.json()]
    approve(now, [accession], organism="wastewater")
    files = download(now, {"groupId": 1}, organism="wastewater")
    assert files == {
        "metadata.tsv": "id\taccession\tgeoLocCountry\tsampleCollectionDate\tsamplingSite\tfiles.rawReads"
        f"\tfiles.qcReports\r\nw1\t{accession}\tUganda\t2024-03-18\tPlant A\t\t\r\n"
    }


def test_get_submitted_data_checks_the_group_and_the_body(now: Backend) -> None:
    cases = [
        ({"groupId": 999}, "testuser", 404, "Group(s) 999 do(es) not exist."),
        ({"groupId": 3}, "testuser", 403, "User testuser is not a member of group(s) 3. Action not allowed."),
        (
            {"accessionsFilter": None},
            "testuser",
            400,
            "Instantiation of [simple type, class org.loculus.backend.api.GetSubmittedDataRequest] value failed "
            "for JSON property groupId due to missing (therefore NULL) value for creator parameter groupId which "
            "is a non-nullable type",
        ),
    ]
    for body, username, status, detail in cases:
        title = {400: "Bad Request", 403: "Forbidden", 404: "Not Found"}[status]
        assert_problem(send(now, "/ebola-sudan/get-submitted-data", body, username), status, title, detail)
    assert download(now, {"groupId": 1}) == {
        "metadata.tsv": "id\taccession\tfiles.rawReads\r\n",
        "sequences.fasta": "",
    }
    assert send(now, "/ebola-sudan/get-submitted-data", {"groupId": 3}, "superuser").status_code == 200
    assert send(now, "/ebola-sudan/get-submitted-data", {"groupId": 1}, None).status_code == 403


def test_a_download_of_more_than_500_entries_is_refused(now: Backend) -> None:
    ids = [f"s{number}" for number in range(501)]
    metadata = tsv(HEADER, *[[sid, "2024-03-18", "Uganda"] for sid in ids])
    response = now.submit("ebola-sudan", metadata, sequences_for(*ids))
    accessions = [item["accession"] for item in response.json()]
    assert len(send(now, "/ebola-sudan/approve-processed-data", {"scope": "ALL"}).json()) == 501
    assert_problem(
        send(now, "/ebola-sudan/get-submitted-data", {"groupId": 1}),
        422,
        "Unprocessable Entity",
        "Download is limited to 500 entries. Requested download would include 501 entries. "
        "Please filter fewer sequences.",
    )
    narrowed = download(now, {"groupId": 1, "accessionsFilter": accessions[:500]})
    assert len(narrowed["metadata.tsv"].splitlines()) == 1 + 500
