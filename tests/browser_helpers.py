"""Shared steps of the browser tests."""

from __future__ import annotations

import boto3
from playwright.sync_api import Page, expect

from sandbox.launcher import RunningSandbox

SANDBOX_BUCKET = "loculus-sandbox-private"


def log_in_on_keycloak(page: Page, username: str) -> None:
    expect(page.get_by_label("Username or email")).to_be_visible()
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(username)
    # Keycloak → callback → the page asked for are HTTP redirects of one navigation: wait until the
    # page has loaded, htmx included, before a test acts on it.
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Sign In").click()


def s3_object(sandbox: RunningSandbox, file_id: str) -> bytes:
    """The bytes stored for a Loculus file ID, read straight from the sandbox's S3 server."""
    s3 = boto3.client(
        "s3",
        endpoint_url=sandbox.s3_direct,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    return s3.get_object(Bucket=SANDBOX_BUCKET, Key=f"files/{file_id}")["Body"].read()
