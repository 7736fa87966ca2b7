"""After submit: processing, get-sequences filters, approve, delete, get-data-to-edit, submit-edited-data.

Contract §5.1-5.5 and the assertions of §8.11 and §8.13; processing rules from Loculus's pipeline.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
import requests

from sandbox.s3 import BUCKET, s3_client
from tests.sandbox.helpers import TIMEOUT, Backend, assert_problem, fasta, tsv

HEADER = ["id", "sampleCollectionDate", "geoLocCountry"]
NEXT_YEAR = str(dt.datetime.now(dt.UTC).year + 1)


@pytest.fixture
def at_once(current: Backend) -> Backend:
    """Entries are processed as soon as anything reads them."""
    current.sandbox.configure(processing_delay_seconds=0)
    return current


def submit(backend: Backend, rows: list[list[str]], *, group_id: int = 1, username: str = "testuser") -> list[str]:
    """Submit ``[id, date, country, (sequence)]`` rows to ebola-sudan; return the accessions in row order."""
    metadata = tsv(HEADER, *[row[:3] for row in rows])
    sequences = fasta(*[(row[0], row[3] if len(row) > 3 else "ACGT" * 10) for row in rows])
    response = backend.submit("ebola-sudan", metadata, sequences, group_id=group_id, username=username)
    assert response.status_code == 200, response.text
    return [item["accession"] for item in response.json()]


def sequences_page(backend: Backend, query: str = "", username: str = "testuser") -> dict[str, Any]:
    response = backend.get(f"/ebola-sudan/get-sequences{query}", username)
    assert response.status_code == 200, response.text
    return dict(response.json())


def by_accession(page: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["accession"]: e for e in page["sequenceEntries"]}


def send(backend: Backend, method: str, path: str, body: Any, username: str = "testuser") -> requests.Response:
    return requests.request(method, backend.url + path, json=body, headers=backend.headers(username), timeout=TIMEOUT)


def versions(*accessions: str) -> list[dict[str, Any]]:
    return [{"accession": accession, "version": 1} for accession in accessions]


def edit_data(backend: Backend, accession: str, username: str = "testuser") -> requests.Response:
    return backend.get(f"/ebola-sudan/get-data-to-edit/{accession}/1", username)


# --- processing -----------------------------------------------------------------------------------


def test_entries_move_from_received_through_in_processing_to_processed(current: Backend) -> None:
    current.sandbox.configure(processing_delay_seconds=3)
    (accession,) = submit(current, [["s1", "2024-03-18", "Uganda"]])
    seen: list[str] = []
    deadline = time.monotonic() + 20  # bounded: 3 s of processing, watched every 0.1 s
    while time.monotonic() < deadline:
        entry = by_accession(sequences_page(current))[accession]
        if not seen or seen[-1] != entry["status"]:
            seen.append(entry["status"])
        if entry["status"] == "PROCESSED":
            break
        time.sleep(0.1)
    # IN_PROCESSING lasts from 1.5 s to 3 s: watched every 0.1 s, it cannot be missed.
    assert seen == ["RECEIVED", "IN_PROCESSING", "PROCESSED"]
    assert entry["processingResult"] == "NO_ISSUES"


def test_the_processing_delay_is_a_config_knob_that_reset_restores(current: Backend) -> None:
    assert current.sandbox.configure(processing_delay_seconds=0.5)["processing_delay_seconds"] == 0.5
    response = requests.post(f"{current.url}/_sandbox/config", json={"processing_delay_seconds": -1}, timeout=TIMEOUT)
    assert response.status_code == 400
    current.sandbox.reset()
    assert current.sandbox.configure()["processing_delay_seconds"] == 3.0


def test_processing_applies_the_pipeline_date_option_required_and_alphabet_rules(at_once: Backend) -> None:
    accessions = submit(
        at_once,
        [
            ["ok", "2024-03-18", "uganda"],
            ["month", "2024-03", "Uganda"],
            ["year", "2024", "Uganda"],
            ["future", f"{NEXT_YEAR}-01-01", "Uganda"],
            ["garbled", "18.03.2024", "Uganda"],
            ["option", "2024-03-18", "Atlantis"],
            ["missing", "2024-03-18", ""],
            ["letters", "2024-03-18", "Uganda", "ACGTXXJ"],
        ],
    )
    names = ["ok", "month", "year", "future", "garbled", "option", "missing", "letters"]
    entry = dict(zip(names, accessions, strict=True))
    results = {e["submissionId"]: e["processingResult"] for e in sequences_page(at_once)["sequenceEntries"]}
    assert results == {
        "ok": "NO_ISSUES",
        "month": "HAS_WARNINGS",
        "year": "HAS_WARNINGS",
        "future": "HAS_ERRORS",
        "garbled": "HAS_ERRORS",
        "option": "HAS_ERRORS",
        "missing": "HAS_ERRORS",
        "letters": "HAS_ERRORS",
    }

    def messages(name: str, kind: str) -> list[str]:
        return [a["message"] for a in edit_data(at_once, entry[name]).json()[kind]]

    ok = edit_data(at_once, entry["ok"]).json()
    assert ok["processedData"]["metadata"]["geoLocCountry"] == "Uganda"  # the option's own spelling
    assert ok["errors"] == [] and ok["warnings"] == []
    assert messages("month", "warnings") == [
        "Metadata field sampleCollectionDate:'2024-03' - Day is missing. Assuming the 1st."
    ]
    assert (
        edit_data(at_once, entry["month"]).json()["processedData"]["metadata"]["sampleCollectionDate"] == "2024-03-01"
    )
    assert messages("year", "warnings") == [
        "Metadata field sampleCollectionDate:'2024' - Month and day are missing. Assuming January 1st."
    ]
    assert messages("future", "errors") == [
        f"Metadata field sampleCollectionDate:'{NEXT_YEAR}-01-01' is in the future."
    ]
    assert messages("garbled", "errors") == ["Metadata field sampleCollectionDate: Date format is not recognized."]
    assert messages("option", "errors") == [
        "Metadata field geoLocCountry:'Atlantis' - not in list of accepted options."
    ]
    assert messages("missing", "errors") == ["Metadata field geoLocCountry is required."]
    letters = edit_data(at_once, entry["letters"]).json()["errors"]
    assert letters == [
        {
            "unprocessedFields": [{"name": "letters", "type": "NucleotideSequence"}],
            "processedFields": [{"name": "letters", "type": "NucleotideSequence"}],
            "message": "Sequence letters contains characters that are not IUPAC nucleotide codes: J, X.",
        }
    ]
    option = edit_data(at_once, entry["option"]).json()["errors"][0]
    assert option["unprocessedFields"] == [{"name": "geoLocCountry", "type": "Metadata"}]


# --- get-sequences ----------------------------------------------------------------------------------


def test_get_sequences_filters_by_status_and_result_while_the_counts_stay_totals(at_once: Backend) -> None:
    ok, warned, failed = submit(
        at_once, [["a", "2024-03-18", "Uganda"], ["b", "2024", "Uganda"], ["c", "bad", "Uganda"]]
    )
    sequences_page(at_once)  # processing happens when entries are read
    at_once.sandbox.configure(processing_delay_seconds=600)
    (waiting,) = submit(at_once, [["d", "2024-03-18", "Uganda"]])
    everything = sequences_page(at_once)
    assert everything["statusCounts"] == {"RECEIVED": 1, "IN_PROCESSING": 0, "PROCESSED": 3, "APPROVED_FOR_RELEASE": 0}
    assert everything["processingResultCounts"] == {"NO_ISSUES": 1, "HAS_WARNINGS": 1, "HAS_ERRORS": 1}
    assert by_accession(everything)[waiting]["processingResult"] is None

    errors_only = sequences_page(at_once, "?statusesFilter=PROCESSED&processingResultFilter=HAS_ERRORS")
    assert [e["accession"] for e in errors_only["sequenceEntries"]] == [failed]
    assert errors_only["processingResultCounts"] == everything["processingResultCounts"]
    # The result filter narrows only PROCESSED entries.
    with_received = sequences_page(at_once, "?processingResultFilter=NO_ISSUES,HAS_WARNINGS")
    assert sorted(by_accession(with_received)) == sorted([ok, warned, waiting])
    page = sequences_page(at_once, "?page=1&size=2")
    assert [e["accession"] for e in page["sequenceEntries"]] == sorted([ok, warned, failed, waiting])[2:]
    assert page["statusCounts"] == everything["statusCounts"]
    assert_problem(
        at_once.get("/ebola-sudan/get-sequences?processingResultFilter=FINE"),
        400,
        "Bad Request",
        "Failed to convert 'processingResultFilter' with value: 'FINE'",
    )


# --- approve ---------------------------------------------------------------------------------------


def test_approve_all_releases_valid_entries_and_skips_those_with_errors(at_once: Backend) -> None:
    ok, warned, failed = submit(
        at_once, [["a", "2024-03-18", "Uganda"], ["b", "2024", "Uganda"], ["c", "bad", "Uganda"]]
    )
    sequences_page(at_once)
    response = send(at_once, "POST", "/ebola-sudan/approve-processed-data", {"scope": "ALL"})
    assert response.status_code == 200, response.text
    assert response.json() == sorted(versions(ok, warned), key=lambda v: v["accession"])
    statuses = {a: e["status"] for a, e in by_accession(sequences_page(at_once)).items()}
    assert statuses == {ok: "APPROVED_FOR_RELEASE", warned: "APPROVED_FOR_RELEASE", failed: "PROCESSED"}


def test_approve_without_warnings_skips_entries_with_warnings(at_once: Backend) -> None:
    ok, warned = submit(at_once, [["a", "2024-03-18", "Uganda"], ["b", "2024", "Uganda"]])
    body = {"scope": "WITHOUT_WARNINGS", "accessionVersionsFilter": versions(ok, warned)}
    response = send(at_once, "POST", "/ebola-sudan/approve-processed-data", body)
    assert response.json() == versions(ok)
    assert by_accession(sequences_page(at_once))[warned]["status"] == "PROCESSED"


def test_approve_needs_a_scope(at_once: Backend) -> None:
    assert_problem(
        send(at_once, "POST", "/ebola-sudan/approve-processed-data", {"accessionVersionsFilter": None}),
        400,
        "Bad Request",
        "for creator parameter scope which is a non-nullable type",
        exact=False,
    )


def test_approve_refuses_unknown_unprocessed_erroneous_and_foreign_entries_and_approves_nothing(
    current: Backend,
) -> None:
    current.sandbox.configure(processing_delay_seconds=0)
    ok, failed = submit(current, [["a", "2024-03-18", "Uganda"], ["c", "bad", "Uganda"]])
    path = "/ebola-sudan/approve-processed-data"
    assert_problem(
        send(current, "POST", path, {"scope": "ALL", "accessionVersionsFilter": versions(ok, "LOC_NOPE")}),
        422,
        "Unprocessable Entity",
        "Accession versions LOC_NOPE.1 do not exist",
    )
    assert_problem(
        send(current, "POST", path, {"scope": "ALL", "accessionVersionsFilter": versions(ok, failed)}),
        422,
        "Unprocessable Entity",
        f"Accession versions have errors: {failed}.1",
    )
    assert_problem(
        send(
            current, "POST", "/cchf/approve-processed-data", {"scope": "ALL", "accessionVersionsFilter": versions(ok)}
        ),
        422,
        "Unprocessable Entity",
        f"The following accession versions are not of organism cchf: {ok}.1",
    )
    forbidden = send(current, "POST", path, {"scope": "ALL", "accessionVersionsFilter": versions(ok)}, "otheruser")
    assert_problem(forbidden, 403, "Forbidden", "is not a member of group", exact=False)
    assert f"Affected AccessionVersions: [{ok}.1]" in forbidden.json()["detail"]
    current.sandbox.configure(processing_delay_seconds=600)
    (waiting,) = submit(current, [["d", "2024-03-18", "Uganda"]])
    assert_problem(
        send(current, "POST", path, {"scope": "ALL", "accessionVersionsFilter": versions(ok, waiting)}),
        422,
        "Unprocessable Entity",
        f"Accession versions are not in one of the states [PROCESSED]: {waiting}.1 - RECEIVED",
    )
    assert sequences_page(current)["statusCounts"]["APPROVED_FOR_RELEASE"] == 0
    approved = send(current, "POST", path, {"scope": "ALL", "accessionVersionsFilter": versions(ok)}, "superuser")
    assert approved.json() == versions(ok)


# --- delete ----------------------------------------------------------------------------------------


def test_delete_honours_its_scopes(at_once: Backend) -> None:
    ok, warned, failed = submit(
        at_once, [["a", "2024-03-18", "Uganda"], ["b", "2024", "Uganda"], ["c", "bad", "Uganda"]]
    )
    path = "/ebola-sudan/delete-sequence-entry-versions"
    assert send(at_once, "DELETE", path, {"scope": "PROCESSED_WITH_ERRORS"}).json() == versions(failed)
    assert send(at_once, "DELETE", path, {"scope": "PROCESSED_WITH_WARNINGS"}).json() == versions(warned)
    assert sorted(by_accession(sequences_page(at_once))) == [ok]
    assert send(at_once, "DELETE", path, {"scope": "ALL"}).json() == versions(ok)
    assert sequences_page(at_once)["sequenceEntries"] == []


def test_delete_refuses_unknown_foreign_and_released_entries(at_once: Backend) -> None:
    ok, other = submit(at_once, [["a", "2024-03-18", "Uganda"], ["b", "2024-03-18", "Uganda"]])
    path = "/ebola-sudan/delete-sequence-entry-versions"
    unknown = [{"accession": "123", "version": 1}, {"accession": "1", "version": 123}]
    assert_problem(
        send(at_once, "DELETE", path, {"scope": "ALL", "accessionVersionsFilter": unknown}),
        422,
        "Unprocessable Entity",
        "Accession versions 1.123, 123.1 do not exist",
    )
    foreign = send(at_once, "DELETE", path, {"scope": "ALL", "accessionVersionsFilter": versions(ok)}, "otheruser")
    assert_problem(foreign, 403, "Forbidden", "is not a member of group", exact=False)
    send(
        at_once,
        "POST",
        "/ebola-sudan/approve-processed-data",
        {"scope": "ALL", "accessionVersionsFilter": versions(ok)},
    )
    assert_problem(
        send(at_once, "DELETE", path, {"scope": "ALL", "accessionVersionsFilter": versions(ok, other)}),
        422,
        "Unprocessable Entity",
        f"Accession versions are not in one of the states [RECEIVED, PROCESSED]: {ok}.1 - APPROVED_FOR_RELEASE",
    )
    assert_problem(
        send(at_once, "DELETE", path, {"scope": "EVERYTHING"}), 400, "Bad Request", "EVERYTHING", exact=False
    )
    assert len(sequences_page(at_once)["sequenceEntries"]) == 2


# --- get-data-to-edit and submit-edited-data -------------------------------------------------------------


def test_get_data_to_edit_returns_submitted_and_processed_data(at_once: Backend) -> None:
    (accession,) = submit(at_once, [["s1", "2024-03", "Uganda", "acgtN"]])
    response = edit_data(at_once, accession)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accession"], body["version"], body["status"], body["groupId"], body["submissionId"]) == (
        accession,
        1,
        "PROCESSED",
        1,
        "s1",
    )
    assert body["submittedData"]["metadata"] == {"sampleCollectionDate": "2024-03", "geoLocCountry": "Uganda"}
    assert body["submittedData"]["unalignedNucleotideSequences"] == {"s1": "acgtN"}
    assert body["processedData"]["unalignedNucleotideSequences"] == {"main": "ACGTN"}  # upper-cased
    assert body["processedData"]["sequenceNameToFastaId"] == {"main": "s1"}
    assert body["errors"] == []
    assert len(body["warnings"]) == 1


def test_get_data_to_edit_checks_existence_membership_and_organism(at_once: Backend) -> None:
    (accession,) = submit(at_once, [["s1", "2024-03-18", "Uganda"]])
    assert_problem(
        at_once.get(f"/ebola-sudan/get-data-to-edit/{accession}/2"),
        422,
        "Unprocessable Entity",
        f"Accession versions {accession}.2 do not exist",
    )
    assert_problem(
        edit_data(at_once, accession, "otheruser"), 403, "Forbidden", "is not a member of group", exact=False
    )
    assert edit_data(at_once, accession, "superuser").status_code == 200
    assert_problem(
        at_once.get(f"/cchf/get-data-to-edit/{accession}/1"),
        422,
        "Unprocessable Entity",
        f"The following accession versions are not of organism cchf: {accession}.1",
    )


def test_submitting_edited_data_replaces_it_and_sends_the_entry_back_to_received(at_once: Backend) -> None:
    (accession,) = submit(at_once, [["s1", "bad", "Uganda"]])
    assert by_accession(sequences_page(at_once))[accession]["processingResult"] == "HAS_ERRORS"
    at_once.sandbox.configure(processing_delay_seconds=600)
    data = {"metadata": {"sampleCollectionDate": "2024-03-18", "geoLocCountry": "Kenya"}}
    data["unalignedNucleotideSequences"] = {"s1": "ACGTACGT"}
    response = send(
        at_once, "POST", "/ebola-sudan/submit-edited-data", {"accession": accession, "version": 1, "data": data}
    )
    assert response.status_code == 204, response.text
    assert by_accession(sequences_page(at_once))[accession]["status"] == "RECEIVED"
    assert_problem(
        send(at_once, "POST", "/ebola-sudan/submit-edited-data", {"accession": accession, "version": 1, "data": data}),
        422,
        "Unprocessable Entity",
        f"Accession versions are not in one of the states [PROCESSED]: {accession}.1 - RECEIVED",
    )
    at_once.sandbox.configure(processing_delay_seconds=0)
    body = edit_data(at_once, accession).json()
    assert body["status"] == "PROCESSED"
    assert body["submittedData"]["metadata"] == data["metadata"]
    assert body["submittedData"]["unalignedNucleotideSequences"] == {"s1": "ACGTACGT"}
    assert body["errors"] == []


def test_submit_edited_data_checks_existence_membership_organism_and_files(at_once: Backend) -> None:
    (accession,) = submit(at_once, [["s1", "2024-03-18", "Uganda"]])
    sequences_page(at_once)
    path = "/ebola-sudan/submit-edited-data"

    def edited(files: Any = None, version: int = 1, target: str = accession) -> dict[str, Any]:
        return {"accession": target, "version": version, "data": {"metadata": {}, "files": files}}

    assert_problem(
        send(at_once, "POST", path, edited(target="nonExistingAccession")),
        422,
        "Unprocessable Entity",
        "Accession versions nonExistingAccession.1 do not exist",
    )
    assert_problem(
        send(at_once, "POST", path, edited(), "otheruser"), 403, "Forbidden", "is not a member of group", exact=False
    )
    assert_problem(
        send(at_once, "POST", "/cchf/submit-edited-data", edited()),
        422,
        "Unprocessable Entity",
        "The following accession versions are not of organism",
        exact=False,
    )
    assert_problem(
        send(at_once, "POST", path, edited({"unknownCategory": []})),
        422,
        "Unprocessable Entity",
        "unknownCategory is not part of the configured submission categories",
        exact=False,
    )
    missing_id = "2ea137d0-8773-4e0a-a9aa-5591de12ff23"
    nothing_there = send(at_once, "POST", path, edited({"rawReads": [{"fileId": missing_id, "name": "r.fq"}]}))
    assert_problem(nothing_there, 422, "Unprocessable Entity", "not exist", exact=False)
    assert missing_id in nothing_there.json()["detail"]
    never_uploaded = at_once.requested_file()
    assert_problem(
        send(at_once, "POST", path, edited({"rawReads": [{"fileId": never_uploaded, "name": "r.fq"}]})),
        422,
        "Unprocessable Entity",
        "No file uploaded for file ID",
        exact=False,
    )
    assert_problem(
        send(at_once, "POST", path, edited({"rawReads": [{"fileId": missing_id, "name": "a.fq"}] * 2})),
        422,
        "Unprocessable Entity",
        "duplicate file names",
        exact=False,
    )
    foreign_file = at_once.uploaded_file(group_id=3, username="otheruser")
    assert_problem(
        send(at_once, "POST", path, edited({"rawReads": [{"fileId": foreign_file, "name": "r.fq"}]})),
        422,
        "Unprocessable Entity",
        f"Accession version {accession}.1 belongs to group 1 but the attached file {foreign_file} "
        "belongs to the group 3.",
    )
    own_file = at_once.uploaded_file(group_id=1)
    files = {"rawReads": [{"fileId": own_file, "name": "r.fq"}]}
    assert send(at_once, "POST", path, edited(files)).status_code == 204
    assert edit_data(at_once, accession).json()["submittedData"]["files"] == files


def test_approve_restricts_to_the_named_submitters(at_once: Backend) -> None:
    (accession,) = submit(at_once, [["a", "2024-03-18", "Uganda"]])
    body: dict[str, Any] = {"scope": "ALL", "submitterNamesFilter": ["someone-else"]}
    assert send(at_once, "POST", "/ebola-sudan/approve-processed-data", body).json() == []
    body["submitterNamesFilter"] = []  # an empty filter matches nobody
    assert send(at_once, "POST", "/ebola-sudan/approve-processed-data", body).json() == []
    body["submitterNamesFilter"] = ["testuser"]
    assert send(at_once, "POST", "/ebola-sudan/approve-processed-data", body).json() == versions(accession)


def test_approving_an_entry_with_extra_files_makes_them_public(at_once: Backend) -> None:
    file_id = at_once.uploaded_file()
    metadata = tsv(HEADER, ["a", "2024-03-18", "Uganda"])
    files = {"a": {"rawReads": [("reads.fq", file_id)]}}
    response = at_once.submit("ebola-sudan", metadata, fasta(("a", "ACGT")), files=files)
    assert response.status_code == 200, response.text
    bucket = s3_client(at_once.sandbox.s3_direct)
    assert bucket.get_object_tagging(Bucket=BUCKET, Key=f"files/{file_id}")["TagSet"] == []
    approved = send(at_once, "POST", "/ebola-sudan/approve-processed-data", {"scope": "ALL"})
    assert approved.status_code == 200, approved.text
    tags = bucket.get_object_tagging(Bucket=BUCKET, Key=f"files/{file_id}")["TagSet"]
    assert tags == [{"Key": "public", "Value": "true"}]


def test_the_group_filter_of_approve_and_delete_narrows_and_is_checked(at_once: Backend) -> None:
    (in_one,) = submit(at_once, [["a", "2024-03-18", "Uganda"]], group_id=1)
    (in_two,) = submit(at_once, [["b", "2024-03-18", "Uganda"]], group_id=2)
    approve, delete = "/ebola-sudan/approve-processed-data", "/ebola-sudan/delete-sequence-entry-versions"
    assert_problem(
        send(at_once, "POST", approve, {"scope": "ALL", "groupIdsFilter": [999]}),
        404,
        "Not Found",
        "Group(s) 999 do(es) not exist.",
    )
    assert_problem(
        send(at_once, "DELETE", delete, {"scope": "ALL", "groupIdsFilter": [3]}),
        403,
        "Forbidden",
        "User testuser is not a member of group(s) 3. Action not allowed.",
    )
    assert send(at_once, "POST", approve, {"scope": "ALL", "groupIdsFilter": [2]}).json() == versions(in_two)
    assert send(at_once, "DELETE", delete, {"scope": "ALL", "groupIdsFilter": [1]}).json() == versions(in_one)
    assert [e["status"] for e in sequences_page(at_once)["sequenceEntries"]] == ["APPROVED_FOR_RELEASE"]


def test_get_data_to_edit_of_an_unprocessed_entry_fails_as_the_backend_does(current: Backend) -> None:
    current.sandbox.configure(processing_delay_seconds=600)
    (accession,) = submit(current, [["s1", "2024-03-18", "Uganda"]])
    response = edit_data(current, accession)
    assert response.status_code == 500, response.text
    assert response.json()["title"] == "Internal Server Error"
