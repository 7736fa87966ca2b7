"""The Loculus instance the portal serves, read from {LOCULUS_URL}/loculus-info.

/loculus-info is the website's public description of the instance: its hosts (backend,
Keycloak), its title and every organism's schema (backend-contract §7). This module fetches it
(requests), applies the settings that override its hosts and caches it (Django's cache) for
LOCULUS_INFO_CACHE_SECONDS (5 minutes by default, as the Loculus CLI does). When it cannot be
read, InstanceUnavailable says what was tried and what to set; the middleware turns it into a
page instead of a traceback.

The organism schemas themselves (Organism, InputField, FileCategory, ID_FIELD, ...) and their
parsing live in submitportal.loculus.schema, which imports neither Django nor requests, so the
parsing code uses them without this module; so does every other module.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache

from submitportal.loculus.schema import Organism, as_text, parse_organism

log = logging.getLogger("submitportal.loculus")


class InstanceUnavailable(Exception):
    """The instance description could not be read. Every field is meant for the operator."""

    def __init__(self, *, tried: str, reason: str, hint: str) -> None:
        self.tried = tried
        self.reason = reason
        self.hint = hint
        super().__init__(f"{tried}: {reason}")


@dataclass(frozen=True)
class Instance:
    title: str
    website_url: str
    backend_url: str
    keycloak_url: str
    oidc_issuer: str
    organisms: dict[str, Organism]

    def organism(self, key: str) -> Organism | None:
        return self.organisms.get(key)


def parse_loculus_info(body: Any, *, tried: str) -> Instance:
    """Build an Instance from /loculus-info's JSON, or say which part is missing."""
    hint = "Check that LOCULUS_URL is the base URL of a Loculus website (the page that serves /loculus-info)."
    if not isinstance(body, dict):
        raise InstanceUnavailable(tried=tried, reason="the answer is not a JSON object.", hint=hint)
    hosts = body.get("hosts") or {}
    backend = as_text(hosts.get("backend")).rstrip("/")
    keycloak = as_text(hosts.get("keycloak")).rstrip("/")
    if not backend and not settings.LOCULUS_BACKEND_URL:
        raise InstanceUnavailable(
            tried=tried,
            reason="it names no backend (hosts.backend is missing).",
            hint=hint + " Or set LOCULUS_BACKEND_URL.",
        )
    if not keycloak and not settings.OIDC_ISSUER:
        raise InstanceUnavailable(
            tried=tried, reason="it names no Keycloak (hosts.keycloak is missing).", hint=hint + " Or set OIDC_ISSUER."
        )
    organisms_raw = body.get("organisms") or {}
    if not isinstance(organisms_raw, dict):
        raise InstanceUnavailable(tried=tried, reason="its organisms are not a JSON object.", hint=hint)
    organisms = {key: parse_organism(key, raw) for key, raw in organisms_raw.items() if isinstance(raw, dict)}
    return Instance(
        title=as_text(body.get("title")) or "Loculus",
        website_url=as_text(hosts.get("website")).rstrip("/") or settings.LOCULUS_URL,
        backend_url=settings.LOCULUS_BACKEND_URL or backend,
        keycloak_url=keycloak,
        oidc_issuer=settings.OIDC_ISSUER or f"{keycloak}/realms/loculus",
        organisms=organisms,
    )


def _cache_key() -> str:
    return f"loculus-info:{settings.LOCULUS_URL}|{settings.LOCULUS_BACKEND_URL}|{settings.OIDC_ISSUER}"


def get_instance() -> Instance:
    """The instance description, from the cache or freshly read."""
    key = _cache_key()
    cached = cache.get(key)
    if cached is not None:
        return cached
    fresh = fetch_instance()
    cache.set(key, fresh, settings.LOCULUS_INFO_CACHE_SECONDS)
    return fresh


def clear_cache() -> None:
    cache.delete(_cache_key())


def fetch_instance() -> Instance:
    if not settings.LOCULUS_URL:
        raise InstanceUnavailable(
            tried="LOCULUS_URL",
            reason="it is not set, so the portal does not know which Loculus instance to serve.",
            hint="Set LOCULUS_URL to the Loculus website's base URL, e.g. https://pathoplexus.org, "
            "or run `make demo` to use the local sandbox.",
        )
    url = f"{settings.LOCULUS_URL}/loculus-info"
    hint = (
        f"Check that LOCULUS_URL ({settings.LOCULUS_URL}) is the Loculus website's base URL and that the "
        "portal's host can reach it."
    )
    try:
        response = requests.get(
            url,
            timeout=(settings.LOCULUS_CONNECT_TIMEOUT, settings.LOCULUS_READ_TIMEOUT),
            headers={"Accept": "application/json"},
        )
    except requests.Timeout:
        log.warning("GET %s timed out", url)
        raise InstanceUnavailable(tried=url, reason="no answer in time.", hint=hint) from None
    except requests.RequestException as exc:
        log.warning("GET %s failed: %s", url, exc)
        raise InstanceUnavailable(
            tried=url, reason=f"could not connect ({exc.__class__.__name__}).", hint=hint
        ) from None
    if response.status_code != 200:
        raise InstanceUnavailable(tried=url, reason=f"it answered {response.status_code} {response.reason}.", hint=hint)
    try:
        body = response.json()
    except ValueError:
        raise InstanceUnavailable(tried=url, reason="the answer is not JSON.", hint=hint) from None
    parsed = parse_loculus_info(body, tried=url)
    log.info(
        "Loculus instance %r at %s: backend %s, issuer %s, organisms %s",
        parsed.title,
        settings.LOCULUS_URL,
        parsed.backend_url,
        parsed.oidc_issuer,
        ", ".join(parsed.organisms) or "none",
    )
    return parsed
