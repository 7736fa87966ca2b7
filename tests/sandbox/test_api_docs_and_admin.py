"""``/api-docs`` per generation, and the sandbox-only admin API: config, reset, backend and S3 faults."""

from __future__ import annotations

import time

import pytest
import requests

from sandbox.launcher import RunningSandbox
from tests.sandbox.helpers import TIMEOUT, Backend, assert_problem


def submit_operation(sb: RunningSandbox) -> dict:  # type: ignore[type-arg]
    spec = requests.get(f"{sb.backend}/api-docs", timeout=TIMEOUT).json()
    assert spec["openapi"].startswith("3.")
    return dict(spec["paths"]["/{organism}/submit"]["post"])


def test_api_docs_describe_the_submit_operation_of_each_generation(backend: Backend) -> None:
    operation = submit_operation(backend.sandbox)
    assert {p["name"] for p in operation["parameters"] if p["in"] == "query"} == {
        "groupId",
        "dataUseTermsType",
        "restrictedUntil",
    }
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["metadataFile"]["format"] == "binary"
    assert schema["properties"]["sequenceFile"]["format"] == "binary"
    assert ("fileMapping" in schema["properties"]) == (backend.generation == "legacy")
    if backend.generation == "legacy":
        assert (
            "{submissionID: {<fileCategory>: [{fileId: <fileId>, name: <fileName>}]}}"
            in (schema["properties"]["fileMapping"]["description"])
        )


def test_api_docs_describe_the_revise_operation_of_each_generation(backend: Backend) -> None:
    paths = requests.get(f"{backend.url}/api-docs", timeout=TIMEOUT).json()["paths"]
    operation = paths["/{organism}/revise"]["post"]
    assert [p["name"] for p in operation["parameters"]] == ["organism"]  # no group, no data use terms
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert ("fileMapping" in schema["properties"]) == (backend.generation == "legacy")


def test_api_docs_list_the_paths_a_portal_uses(loculus_sandbox: RunningSandbox) -> None:
    paths = requests.get(f"{loculus_sandbox.backend}/api-docs", timeout=TIMEOUT).json()["paths"]
    for path in (
        "/user/groups",
        "/files/request-upload",
        "/files/request-multipart-upload",
        "/files/complete-multipart-upload",
        "/{organism}/submit",
        "/{organism}/get-sequences",
        "/{organism}/approve-processed-data",
        "/{organism}/delete-sequence-entry-versions",
        "/{organism}/get-data-to-edit/{accession}/{version}",
        "/{organism}/submit-edited-data",
        "/{organism}/revise",
        "/{organism}/revoke",
        "/{organism}/get-submitted-data",
    ):
        assert path in paths


def test_reset_restores_the_start_up_settings(loculus_sandbox: RunningSandbox) -> None:
    loculus_sandbox.configure(generation="legacy", url_expiry_seconds=5, token_lifetime=7, processing_delay_seconds=0)
    loculus_sandbox.reset()
    assert loculus_sandbox.admin("GET", "config") == {
        "generation": "current",
        "url_expiry_seconds": 1800,
        "token_lifetime": 36000,
        "processing_delay_seconds": 3.0,
    }


def test_config_rejects_an_unknown_generation(loculus_sandbox: RunningSandbox) -> None:
    response = requests.post(f"{loculus_sandbox.backend}/_sandbox/config", json={"generation": "v3"}, timeout=TIMEOUT)
    assert response.status_code == 400


def test_a_status_fault_answers_a_problem_detail_as_often_as_asked(current: Backend) -> None:
    current.sandbox.set_faults([{"path": "/user/groups", "method": "GET", "status": 503, "times": 2}])
    for _ in range(2):
        assert_problem(current.get("/user/groups"), 503, "Service Unavailable", "Fault injected", exact=False)
    assert current.get("/user/groups").status_code == 200


def test_a_fault_path_may_be_a_regular_expression(current: Backend) -> None:
    current.sandbox.set_faults([{"path": "^/[^/]+/submit$", "status": 500}])
    assert current.post("/ebola-sudan/submit").status_code == 500
    assert current.get("/user/groups").status_code == 200


def test_a_delay_fault_slows_the_answer(current: Backend) -> None:
    current.sandbox.set_faults([{"path": "/user/groups", "delay_ms": 600, "times": 1}])
    started = time.monotonic()
    assert current.get("/user/groups").status_code == 200
    assert time.monotonic() - started >= 0.6


def test_a_drop_fault_closes_the_connection_without_an_answer(current: Backend) -> None:
    current.sandbox.set_faults([{"path": "/files/request-upload", "drop": True, "times": 1}])
    with pytest.raises(requests.ConnectionError):
        current.post("/files/request-upload?groupId=1")
    assert current.post("/files/request-upload?groupId=1").status_code == 200


def test_clearing_faults_removes_them(current: Backend) -> None:
    current.sandbox.set_faults([{"path": "/", "status": 500}])
    current.sandbox.clear_faults()
    assert current.get("/user/groups").status_code == 200


def test_an_invalid_fault_rule_is_refused(loculus_sandbox: RunningSandbox) -> None:
    response = requests.post(
        f"{loculus_sandbox.backend}/_sandbox/faults", json=[{"path": "/", "colour": "red"}], timeout=TIMEOUT
    )
    assert response.status_code == 400


def test_the_s3_proxy_forwards_signed_uploads_and_can_fail_them(current: Backend) -> None:
    sb = current.sandbox
    assert sb.s3 != sb.s3_direct
    item = current.request_upload()[0]
    assert item["url"].startswith(sb.s3)
    sb.set_s3_faults([{"method": "PUT", "status": 503, "times": 1}])
    failed = requests.put(item["url"], data=b"x" * 200_000, headers=item["headers"], timeout=TIMEOUT)
    assert failed.status_code == 503
    ok = requests.put(item["url"], data=b"x" * 200_000, headers=item["headers"], timeout=TIMEOUT)
    assert ok.status_code == 200
    assert requests.put(item["url"], data=b"x", headers=item["headers"], timeout=TIMEOUT).status_code == 412


def test_the_s3_proxy_can_delay_and_drop(current: Backend) -> None:
    sb = current.sandbox
    item = current.request_upload()[0]
    sb.set_s3_faults([{"delay_ms": 400}])
    started = time.monotonic()
    assert requests.put(item["url"], data=b"abc", headers=item["headers"], timeout=TIMEOUT).status_code == 200
    assert time.monotonic() - started >= 0.4
    sb.set_s3_faults([{"drop": True, "times": 1}])
    with pytest.raises(requests.ConnectionError):
        requests.put(current.request_upload()[0]["url"], data=b"abc", timeout=TIMEOUT)


def test_the_admin_api_lists_requested_files(current: Backend) -> None:
    file_id = current.uploaded_file()
    [record] = current.sandbox.admin("GET", "files")
    assert record["fileId"] == file_id
    assert record["groupId"] == 1
    assert record["uploader"] == "testuser"
