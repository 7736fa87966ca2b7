"""The Loculus instance the portal serves, read from {LOCULUS_URL}/loculus-info.

/loculus-info is the website's public description of the instance: its hosts (backend,
Keycloak), its title and every organism's schema (backend-contract §7). It is cached for
LOCULUS_INFO_CACHE_SECONDS (5 minutes by default, as the Loculus CLI does). When it cannot be
read, InstanceUnavailable says what was tried and what to set; the middleware turns it into a
page instead of a traceback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache

log = logging.getLogger("submitportal.loculus")

ID_FIELD = "id"
FASTA_IDS_FIELD = "fastaIds"


class InstanceUnavailable(Exception):
    """The instance description could not be read. Every field is meant for the operator."""

    def __init__(self, *, tried: str, reason: str, hint: str) -> None:
        self.tried = tried
        self.reason = reason
        self.hint = hint
        super().__init__(f"{tried}: {reason}")


@dataclass(frozen=True)
class InputField:
    name: str
    display_name: str
    definition: str = ""
    guidance: str = ""
    example: str = ""
    required: bool = False
    desired: bool = False
    no_edit: bool = False
    options: tuple[str, ...] = ()
    header: str = ""
    type: str = "string"


@dataclass(frozen=True)
class FileCategory:
    name: str
    display_name: str


@dataclass(frozen=True)
class Organism:
    key: str
    display_name: str
    input_fields: tuple[InputField, ...]
    consensus_sequences: bool
    segments: tuple[str, ...]
    max_sequences_per_entry: int | None
    files_enabled: bool
    file_categories: tuple[FileCategory, ...]
    metadata_template: tuple[str, ...] = ()

    @property
    def is_multi_segment(self) -> bool:
        return len(self.segments) > 1

    @property
    def required_fields(self) -> tuple[InputField, ...]:
        return tuple(f for f in self.input_fields if f.required)

    def file_category(self, name: str) -> FileCategory | None:
        return next((c for c in self.file_categories if c.name == name), None)


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


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _segments(raw: Any) -> tuple[str, ...]:
    """Segment names from referenceGenomes, in either shape Loculus has used.

    Newer websites: a list of {name, references: [...]}; older: {nucleotideSequences: [{name}]}.
    """
    if isinstance(raw, list):
        return tuple(_text(item.get("name")) for item in raw if isinstance(item, dict) and item.get("name"))
    if isinstance(raw, dict):
        sequences = raw.get("nucleotideSequences") or []
        return tuple(_text(item.get("name")) for item in sequences if isinstance(item, dict) and item.get("name"))
    return ()


def _organism(key: str, raw: dict[str, Any]) -> Organism:
    schema = raw.get("schema") or {}
    headers = {m.get("name"): _text(m.get("header")) for m in schema.get("metadata") or [] if isinstance(m, dict)}
    types = {
        m.get("name"): _text(m.get("type") or "string") for m in schema.get("metadata") or [] if isinstance(m, dict)
    }
    fields = []
    for item in schema.get("inputFields") or []:
        name = _text(item.get("name"))
        if not name:
            continue
        fields.append(
            InputField(
                name=name,
                display_name=_text(item.get("displayName")) or ("ID" if name == ID_FIELD else name),
                definition=_text(item.get("definition")),
                guidance=_text(item.get("guidance")),
                example=_text(item.get("example")),
                required=bool(item.get("required")),
                desired=bool(item.get("desired")),
                no_edit=bool(item.get("noEdit")),
                options=tuple(_text(o.get("name")) for o in item.get("options") or [] if isinstance(o, dict)),
                header=headers.get(name, ""),
                type=types.get(name, "string"),
            )
        )
    data_types = schema.get("submissionDataTypes") or {}
    files = data_types.get("files") or {}
    categories = tuple(
        FileCategory(name=_text(c.get("name")), display_name=_text(c.get("displayName")) or _text(c.get("name")))
        for c in files.get("categories") or []
        if isinstance(c, dict) and c.get("name")
    )
    consensus = bool(data_types.get("consensusSequences", True))
    segments = _segments(raw.get("referenceGenomes"))
    if consensus and not segments:
        segments = ("main",)
    max_per_entry = data_types.get("maxSequencesPerEntry")
    return Organism(
        key=key,
        display_name=_text(schema.get("organismName")) or key,
        input_fields=tuple(fields),
        consensus_sequences=consensus,
        segments=segments if consensus else (),
        max_sequences_per_entry=int(max_per_entry) if isinstance(max_per_entry, int) else None,
        files_enabled=bool(files.get("enabled")) and bool(categories),
        file_categories=categories if files.get("enabled") else (),
        metadata_template=tuple(_text(n) for n in schema.get("metadataTemplate") or []),
    )


def parse_loculus_info(body: Any, *, tried: str) -> Instance:
    """Build an Instance from /loculus-info's JSON, or say which part is missing."""
    hint = "Check that LOCULUS_URL is the base URL of a Loculus website (the page that serves /loculus-info)."
    if not isinstance(body, dict):
        raise InstanceUnavailable(tried=tried, reason="the answer is not a JSON object.", hint=hint)
    hosts = body.get("hosts") or {}
    backend = _text(hosts.get("backend")).rstrip("/")
    keycloak = _text(hosts.get("keycloak")).rstrip("/")
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
    organisms = {key: _organism(key, raw) for key, raw in organisms_raw.items() if isinstance(raw, dict)}
    return Instance(
        title=_text(body.get("title")) or "Loculus",
        website_url=_text(hosts.get("website")).rstrip("/") or settings.LOCULUS_URL,
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
