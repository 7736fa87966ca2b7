"""The file endpoints of contract §3 (preconditions in order, exact messages) and uploads against moto."""

from __future__ import annotations

import time
import uuid
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.sandbox.conftest import PORTAL_ORIGIN
from tests.sandbox.helpers import TIMEOUT, Backend, assert_problem

MIB = 1024 * 1024


# --- §3.1 request-upload -------------------------------------------------------------------------


def test_request_upload_returns_one_lowercase_uuid_and_signed_url_by_default(backend: Backend) -> None:
    response = backend.post("/files/request-upload?groupId=1")
    assert response.status_code == 200
    [item] = response.json()
    assert set(item) == {"fileId", "url", "headers"}
    assert item["fileId"] == str(uuid.UUID(item["fileId"]))
    assert item["headers"] == {"If-None-Match": "*"}
    url = urlparse(item["url"])
    assert f"{url.scheme}://{url.netloc}" == backend.sandbox.s3
    assert url.path == f"/loculus-sandbox-private/files/{item['fileId']}"
    query = parse_qs(url.query)
    assert query["X-Amz-SignedHeaders"] == ["host;if-none-match"]
    assert query["X-Amz-Expires"] == ["1800"]


def test_request_upload_returns_as_many_urls_as_asked(backend: Backend) -> None:
    response = backend.post("/files/request-upload", params={"groupId": 1, "numberFiles": 3})
    assert response.status_code == 200
    assert len({item["fileId"] for item in response.json()}) == 3


def test_request_upload_reads_parameters_from_a_form_body_too(backend: Backend) -> None:
    response = backend.post("/files/request-upload", data={"groupId": "2", "numberFiles": "2"})
    assert response.status_code == 200
    assert len(response.json()) == 2


@pytest.mark.parametrize(
    ("query", "username", "status", "title", "detail"),
    [
        ("", "testuser", 400, "Bad Request", "Required parameter 'groupId' is not present."),
        ("groupId=abc", "testuser", 400, "Bad Request", "Failed to convert 'groupId' with value: 'abc'"),
        ("groupId=999", "testuser", 404, "Not Found", "Group(s) 999 do(es) not exist."),
        ("groupId=999", "superuser", 404, "Not Found", "Group(s) 999 do(es) not exist."),
        ("groupId=999", "preprocessing_pipeline", 404, "Not Found", "Group(s) 999 do(es) not exist."),
        ("groupId=3", "testuser", 403, "Forbidden", "User testuser is not a member of group(s) 3. Action not allowed."),
        ("groupId=1&numberFiles=0", "testuser", 400, "Bad Request", "Number of files must be at least 1"),
        ("groupId=1&numberFiles=-5", "testuser", 400, "Bad Request", "Number of files must be at least 1"),
        # Group checks come before the count check.
        (
            "groupId=3&numberFiles=0",
            "testuser",
            403,
            "Forbidden",
            "User testuser is not a member of group(s) 3. Action not allowed.",
        ),
    ],
)
def test_request_upload_checks_its_preconditions_in_order(
    backend: Backend, query: str, username: str, status: int, title: str, detail: str
) -> None:
    assert_problem(backend.post(f"/files/request-upload?{query}", username), status, title, detail)


@pytest.mark.parametrize("username", ["superuser", "preprocessing_pipeline"])
def test_request_upload_lets_superusers_and_the_pipeline_use_any_group(backend: Backend, username: str) -> None:
    assert backend.post("/files/request-upload?groupId=3", username).status_code == 200


def test_request_upload_accepts_a_hundred_files(backend: Backend) -> None:
    assert len(backend.post("/files/request-upload?groupId=1&numberFiles=100").json()) == 100


# --- single PUT against moto --------------------------------------------------------------------------


def test_a_put_with_the_returned_headers_succeeds_and_a_second_one_is_refused(backend: Backend) -> None:
    item = backend.request_upload()[0]
    first = requests.put(item["url"], data=b"hello", headers=item["headers"], timeout=TIMEOUT)
    assert first.status_code == 200
    assert first.headers["ETag"]
    second = requests.put(item["url"], data=b"again", headers=item["headers"], timeout=TIMEOUT)
    assert second.status_code == 412


def test_the_upload_url_expiry_can_be_shortened_for_tests(backend: Backend) -> None:
    backend.sandbox.configure(url_expiry_seconds=5)
    item = backend.request_upload()[0]
    assert parse_qs(urlparse(item["url"]).query)["X-Amz-Expires"] == ["5"]


def test_the_bucket_allows_a_preflight_from_the_portal_origin(backend: Backend) -> None:
    item = backend.request_upload()[0]
    response = requests.options(
        item["url"],
        headers={
            "Origin": PORTAL_ORIGIN,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "if-none-match",
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == PORTAL_ORIGIN
    assert "PUT" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Expose-Headers"] == "ETag"


def test_the_bucket_refuses_a_preflight_from_another_origin(backend: Backend) -> None:
    item = backend.request_upload()[0]
    response = requests.options(
        item["url"],
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "PUT"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers


# --- §3.2 request-multipart-upload ------------------------------------------------------------------


def test_request_multipart_upload_returns_files_times_parts_urls(backend: Backend) -> None:
    response = backend.post("/files/request-multipart-upload?groupId=1&numberFiles=2&numberParts=3")
    assert response.status_code == 200
    items = response.json()
    assert [set(item) for item in items] == [{"fileId", "urls"}, {"fileId", "urls"}]
    assert [len(item["urls"]) for item in items] == [3, 3]
    part_numbers = [parse_qs(urlparse(url).query)["partNumber"][0] for url in items[0]["urls"]]
    assert part_numbers == ["1", "2", "3"]


def test_request_multipart_upload_defaults_to_one_file_with_one_part(backend: Backend) -> None:
    [item] = backend.post("/files/request-multipart-upload?groupId=1").json()
    assert len(item["urls"]) == 1


@pytest.mark.parametrize(
    ("query", "status", "detail"),
    [
        ("", 400, "Required parameter 'groupId' is not present."),
        ("groupId=999&numberParts=0", 404, "Group(s) 999 do(es) not exist."),
        ("groupId=3", 403, "User testuser is not a member of group(s) 3. Action not allowed."),
        ("groupId=1&numberParts=0", 400, "The number of parts must between 1 and 10000."),
        ("groupId=1&numberParts=10001", 400, "The number of parts must between 1 and 10000."),
    ],
)
def test_request_multipart_upload_checks_its_preconditions_in_order(
    backend: Backend, query: str, status: int, detail: str
) -> None:
    titles = {400: "Bad Request", 403: "Forbidden", 404: "Not Found"}
    assert_problem(backend.post(f"/files/request-multipart-upload?{query}"), status, titles[status], detail)


def test_request_multipart_upload_with_no_files_returns_an_empty_list_unvalidated(backend: Backend) -> None:
    response = backend.post("/files/request-multipart-upload?groupId=1&numberFiles=0&numberParts=0")
    assert response.status_code == 200
    assert response.json() == []


# --- §3.3 complete-multipart-upload --------------------------------------------------------------------


def put_parts(urls: list[str], sizes: list[int]) -> list[str]:
    etags = []
    for url, size in zip(urls, sizes, strict=True):
        response = requests.put(url, data=b"a" * size, timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        etags.append(response.headers["ETag"])
    return etags


def test_a_multipart_upload_of_5_mib_parts_completes_and_can_be_submitted(backend: Backend) -> None:
    [item] = backend.post("/files/request-multipart-upload?groupId=1&numberParts=2").json()
    etags = put_parts(item["urls"], [5 * MIB, 100])
    before = time.time()
    response = backend.post("/files/complete-multipart-upload", json=[{"fileId": item["fileId"], "etags": etags}])
    after = time.time()
    assert response.status_code == 200
    assert response.content == b""
    # The admin API times the S3 server's completion (the benchmarks read it).
    [record] = [f for f in backend.sandbox.admin("GET", "files") if f["fileId"] == item["fileId"]]
    assert record["multipartCompleted"] is True
    started, ended = record["completion"]
    assert before <= started <= ended <= after
    submitted = backend.submit(
        "wastewater",
        "id\tgeoLocCountry\nw1\tSwitzerland\n",
        files={"w1": {"rawReads": [("reads.fq", item["fileId"])]}},
    )
    assert submitted.status_code == 200, submitted.text


def test_parts_under_5_mib_fail_completion_with_entity_too_small(backend: Backend) -> None:
    [item] = backend.post("/files/request-multipart-upload?groupId=1&numberParts=2").json()
    etags = put_parts(item["urls"], [4 * MIB, 100])
    response = backend.post("/files/complete-multipart-upload", json=[{"fileId": item["fileId"], "etags": etags}])
    assert_problem(
        response,
        422,
        "Unprocessable Entity",
        "EntityTooSmall: Your proposed upload is smaller than the minimum allowed object size. "
        "Each part, except the last one, must be at least 5 MB.",
    )


def test_a_wrong_etag_fails_completion_with_invalid_part(backend: Backend) -> None:
    [item] = backend.post("/files/request-multipart-upload?groupId=1&numberParts=1").json()
    put_parts(item["urls"], [10])
    response = backend.post(
        "/files/complete-multipart-upload", json=[{"fileId": item["fileId"], "etags": ['"0123456789abcdef"']}]
    )
    assert_problem(response, 422, "Unprocessable Entity", "InvalidPart: ", exact=False)


def test_completion_without_etags_is_refused(backend: Backend) -> None:
    [item] = backend.post("/files/request-multipart-upload?groupId=1").json()
    response = backend.post("/files/complete-multipart-upload", json=[{"fileId": item["fileId"], "etags": []}])
    assert_problem(response, 422, "Unprocessable Entity", f"No etags provided for file ID {item['fileId']}.")


def test_completion_refuses_unknown_single_put_and_completed_ids_alike(backend: Backend) -> None:
    unknown = str(uuid.uuid4())
    single = backend.request_upload()[0]["fileId"]
    response = backend.post(
        "/files/complete-multipart-upload",
        json=[{"fileId": unknown, "etags": ['"x"']}, {"fileId": single, "etags": ['"x"']}],
    )
    assert_problem(
        response, 422, "Unprocessable Entity", f"The following files have already been completed: {unknown}, {single}"
    )
    [item] = backend.post("/files/request-multipart-upload?groupId=1").json()
    etags = put_parts(item["urls"], [10])
    body = [{"fileId": item["fileId"], "etags": etags}]
    assert backend.post("/files/complete-multipart-upload", json=body).status_code == 200
    again = backend.post("/files/complete-multipart-upload", json=body)
    assert_problem(
        again, 422, "Unprocessable Entity", f"The following files have already been completed: {item['fileId']}"
    )


def test_completion_does_no_group_check(backend: Backend) -> None:
    [item] = backend.post("/files/request-multipart-upload?groupId=1").json()
    etags = put_parts(item["urls"], [10])
    response = backend.post(
        "/files/complete-multipart-upload", "otheruser", json=[{"fileId": item["fileId"], "etags": etags}]
    )
    assert response.status_code == 200


def test_a_submit_may_reuse_one_file_in_several_rows_and_submissions(backend: Backend) -> None:
    file_id = backend.uploaded_file()
    metadata = "id\tgeoLocCountry\nw1\tSwitzerland\nw2\tGermany\n"
    files = {"w1": {"rawReads": [("r.fq", file_id)]}, "w2": {"qcReports": [("qc.html", file_id)]}}
    for _ in range(2):
        response = backend.submit("wastewater", metadata, files=files)
        assert response.status_code == 200, response.text
    assert len(backend.sandbox.submissions()) == 2
