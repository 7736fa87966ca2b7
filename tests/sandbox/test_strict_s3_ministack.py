"""Upload rows against strict S3: ministack with AUTH=true checks signatures, signed headers and expiry.

moto accepts a missing signed header, a forged signature and an expired URL; these tests
catch what it cannot. They fail, never skip, when ministack cannot be installed or started.
The sandbox runs with its S3 proxy, so they also show that the proxy keeps signatures valid.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode, urlparse, urlunparse

import pytest
import requests

from sandbox.launcher import RunningSandbox
from tests.sandbox.helpers import TIMEOUT, Backend, assert_problem, fasta, tsv

MIB = 1024 * 1024


@pytest.fixture
def strict(strict_sandbox: RunningSandbox) -> Backend:
    """The session's strict sandbox (tests/conftest.py), reset."""
    strict_sandbox.reset()
    return Backend(strict_sandbox, "current")


def test_a_put_with_the_signed_header_succeeds_once_on_strict_s3(strict: Backend) -> None:
    item = strict.request_upload()[0]
    assert requests.put(item["url"], data=b"hello", headers=item["headers"], timeout=TIMEOUT).status_code == 200
    assert requests.put(item["url"], data=b"hello", headers=item["headers"], timeout=TIMEOUT).status_code == 412


def test_a_put_without_the_signed_if_none_match_header_is_forbidden(strict: Backend) -> None:
    item = strict.request_upload()[0]
    response = requests.put(item["url"], data=b"hello", timeout=TIMEOUT)
    assert response.status_code == 403


def test_a_tampered_signature_is_forbidden(strict: Backend) -> None:
    item = strict.request_upload()[0]
    url = urlparse(item["url"])
    query = parse_qs(url.query)
    signature = query["X-Amz-Signature"][0]
    query["X-Amz-Signature"] = [("0" if signature[0] != "0" else "1") + signature[1:]]
    forged = urlunparse(url._replace(query=urlencode({k: v[0] for k, v in query.items()})))
    assert requests.put(forged, data=b"x", headers=item["headers"], timeout=TIMEOUT).status_code == 403


def test_an_expired_url_is_forbidden(strict: Backend) -> None:
    strict.sandbox.configure(url_expiry_seconds=1)
    item = strict.request_upload()[0]
    time.sleep(2.5)
    assert requests.put(item["url"], data=b"x", headers=item["headers"], timeout=TIMEOUT).status_code == 403


def test_a_multipart_upload_completes_and_is_submitted_on_strict_s3(strict: Backend) -> None:
    [item] = strict.post("/files/request-multipart-upload?groupId=1&numberParts=2").json()
    etags = []
    for url, size in zip(item["urls"], [5 * MIB, 1000], strict=True):
        response = requests.put(url, data=b"a" * size, timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        etags.append(response.headers["ETag"])
    completed = strict.post("/files/complete-multipart-upload", json=[{"fileId": item["fileId"], "etags": etags}])
    assert completed.status_code == 200, completed.text
    metadata = tsv(["id", "geoLocCountry"], ["s1", "Uganda"])
    response = strict.submit(
        "ebola-sudan", metadata, fasta(("s1", "ACGT")), files={"s1": {"rawReads": [("r.fq", item["fileId"])]}}
    )
    assert response.status_code == 200, response.text


def test_a_requested_but_missing_file_is_found_missing_by_head_on_strict_s3(strict: Backend) -> None:
    file_id = strict.requested_file()
    metadata = tsv(["id", "geoLocCountry"], ["s1", "Uganda"])
    response = strict.submit(
        "ebola-sudan", metadata, fasta(("s1", "ACGT")), files={"s1": {"rawReads": [("r.fq", file_id)]}}
    )
    assert_problem(response, 422, "Unprocessable Entity", f"No file uploaded for file IDs: {file_id}")


def test_strict_s3_allows_the_portal_origin_only(strict: Backend, portal_origin: str) -> None:
    item = strict.request_upload()[0]
    allowed = requests.options(
        item["url"], headers={"Origin": portal_origin, "Access-Control-Request-Method": "PUT"}, timeout=TIMEOUT
    )
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == portal_origin
    refused = requests.options(
        item["url"], headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "PUT"}, timeout=TIMEOUT
    )
    assert refused.status_code == 403
