"""Signing in to the live portal through the sandbox's Keycloak-shaped login form, without a browser."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import urlencode, urljoin

import requests
from django.utils import timezone


def sign_in(portal: str, username: str, password: str | None = None, next_path: str = "/") -> requests.Session:
    """A requests session signed in to the portal as `username` (code flow with PKCE, as a browser would)."""
    session = requests.Session()
    form_page = session.get(f"{portal}/auth/signin?{urlencode({'next': next_path})}", timeout=30)
    assert form_page.status_code == 200, form_page.text[:500]
    match = re.search(r'<form[^>]*action="([^"]+)"', form_page.text)
    assert match, f"no login form at {form_page.url}"
    landed = session.post(
        urljoin(form_page.url, html.unescape(match.group(1))),
        data={"username": username, "password": password or username},
        timeout=30,
    )
    assert landed.url == f"{portal}{next_path}", f"landed on {landed.url}"
    return session


def expire_access_tokens() -> None:
    """Backdate the stored access tokens' expiry, as if their lifetime had passed: the next request refreshes."""
    from submitportal.models import TokenSet

    TokenSet.objects.update(access_expires_at=timezone.now() - timedelta(seconds=1))
