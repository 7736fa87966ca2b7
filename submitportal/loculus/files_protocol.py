"""The one place that knows the two generations of linking extra files to entries.

- fileMapping (legacy, backends from 2025-04 to 2026-08-20): a multipart part `fileMapping`, a JSON
  object {submissionId: {category: [{fileId, name}]}}; `files.*` columns are plain metadata.
- metadataColumns (current): `files.<category>` metadata columns of space-separated
  `name:fileId` tokens; a fileMapping part is silently ignored.

LOCULUS_FILES_PROTOCOL=auto reads the backend's /api-docs and picks fileMapping exactly when the
submit operation declares it, as a parameter or as a multipart part (backend-contract §4.6).
Everything else in the portal speaks of "file X of category C belongs to entry E".
"""

from __future__ import annotations

import enum
import json
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from submitportal.loculus import client, instance

log = logging.getLogger("submitportal.loculus")


class FilesProtocol(enum.StrEnum):
    FILE_MAPPING = "fileMapping"
    METADATA_COLUMNS = "metadataColumns"


class DetectionFailed(Exception):
    pass


@dataclass(frozen=True)
class ProtocolChoice:
    """What the portal will send, and how it came to that. `protocol` is None when unknown."""

    protocol: FilesProtocol | None
    source: str  # "setting", "detected" or "failed"
    explanation: str

    @property
    def refusal(self) -> str:
        """The message for a submission with extra files when the protocol is unknown."""
        return (
            "The portal could not tell how this Loculus backend expects extra files to be attached "
            f"({self.explanation}), so submissions with extra files are paused. Submissions without "
            "extra files still work. An administrator can set LOCULUS_FILES_PROTOCOL to fileMapping "
            "or metadataColumns to decide it."
        )


def _resolve(doc: dict[str, Any], node: Any, depth: int = 0) -> Any:
    """Follow a local $ref (#/components/schemas/X), as springdoc may emit for request bodies."""
    while isinstance(node, dict) and "$ref" in node and depth < 10:
        ref = str(node["$ref"])
        if not ref.startswith("#/"):
            return {}
        target: Any = doc
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node = target
        depth += 1
    return node


def _submit_operation(doc: dict[str, Any]) -> dict[str, Any] | None:
    paths = doc.get("paths")
    if not isinstance(paths, dict):
        return None
    for path, operations in paths.items():
        # The organism is a path variable: /{organism}/submit.
        if path.rstrip("/").endswith("/submit") and path.count("/") == 2 and isinstance(operations, dict):
            post = operations.get("post")
            if isinstance(post, dict):
                return post
    return None


def _declares_file_mapping(doc: dict[str, Any], operation: dict[str, Any]) -> bool:
    for parameter in operation.get("parameters") or []:
        parameter = _resolve(doc, parameter)
        if isinstance(parameter, dict) and parameter.get("name") == "fileMapping":
            return True
    body = _resolve(doc, operation.get("requestBody") or {})
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, dict):
        return False
    for media in content.values():
        schema = _resolve(doc, (media or {}).get("schema") or {})
        schemas = [schema, *[_resolve(doc, s) for s in schema.get("allOf", []) if isinstance(schema, dict)]]
        for candidate in schemas:
            properties = candidate.get("properties") if isinstance(candidate, dict) else None
            if isinstance(properties, dict) and "fileMapping" in properties:
                return True
    return False


def protocol_from_api_docs(doc: dict[str, Any]) -> FilesProtocol:
    """Which generation an OpenAPI document describes. Raises DetectionFailed if it cannot tell."""
    operation = _submit_operation(doc)
    if operation is None:
        raise DetectionFailed("its /api-docs lists no /{organism}/submit operation")
    if _declares_file_mapping(doc, operation):
        return FilesProtocol.FILE_MAPPING
    return FilesProtocol.METADATA_COLUMNS


_CACHE_KEY = "loculus-files-protocol"


def current_choice() -> ProtocolChoice:
    """The files protocol in force: the setting, or what /api-docs says (cached like loculus-info)."""
    setting = settings.LOCULUS_FILES_PROTOCOL
    if setting != "auto":
        return ProtocolChoice(FilesProtocol(setting), "setting", f"LOCULUS_FILES_PROTOCOL={setting}")
    cache_key = f"{_CACHE_KEY}:{client.backend_url()}"
    cached = cache.get(cache_key)
    if cached is not None:
        return cached
    choice = detect()
    # A failed detection is kept only briefly, so a backend that comes back is noticed soon.
    cache.set(cache_key, choice, settings.LOCULUS_INFO_CACHE_SECONDS if choice.protocol else 30)
    return choice


def detect() -> ProtocolChoice:
    url = f"{client.backend_url()}/api-docs"
    try:
        doc = client.get_api_docs()
        protocol = protocol_from_api_docs(doc)
    except (client.LoculusError, DetectionFailed) as exc:
        reason = exc.detail if isinstance(exc, client.LoculusError) else str(exc)
        log.warning("Files protocol: detection from %s failed: %s", url, reason)
        return ProtocolChoice(None, "failed", f"reading {url} failed: {reason}")
    how = "declares" if protocol is FilesProtocol.FILE_MAPPING else "does not declare"
    explanation = f"{url}: the submit operation {how} a fileMapping part"
    log.info("Files protocol: %s (%s)", protocol.value, explanation)
    return ProtocolChoice(protocol, "detected", explanation)


def clear_cache() -> None:
    try:
        cache.delete(f"{_CACHE_KEY}:{client.backend_url()}")
    except instance.InstanceUnavailable:
        pass  # nothing can have been cached without an instance


# --- On the wire ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileLink:
    """File `name` (Loculus file `file_id`) of category `category` belongs to entry `submission_id`."""

    submission_id: str
    category: str
    name: str
    file_id: str


class Wire:
    """How a set of file links travels with a submission, in the backend's generation.

    metadataColumns: one `files.<category>` column per configured category, each cell a
    space-separated list of `name:fileId`. fileMapping: no `files.*` columns, and a JSON part
    `{submissionId: {category: [{fileId, name}]}}`. With no links and an unknown protocol, nothing.
    """

    def __init__(self, protocol: FilesProtocol | None, categories: list[str], links: list[FileLink]) -> None:
        if links and protocol is None:
            msg = "the files protocol is unknown; submissions with extra files must be refused before this"
            raise ValueError(msg)
        self.protocol = protocol
        self.categories = categories
        self._by_entry: dict[str, dict[str, list[FileLink]]] = {}
        for link in links:
            self._by_entry.setdefault(link.submission_id, {}).setdefault(link.category, []).append(link)

    @property
    def columns(self) -> list[str]:
        if self.protocol is FilesProtocol.METADATA_COLUMNS:
            return [f"files.{category}" for category in self.categories]
        return []

    def cells(self, submission_id: str) -> list[str]:
        if self.protocol is not FilesProtocol.METADATA_COLUMNS:
            return []
        entry = self._by_entry.get(submission_id)
        if entry is None:  # most entries of a large bulk submission have no extra files
            return [""] * len(self.categories)
        return [
            " ".join(f"{link.name}:{link.file_id}" for link in entry.get(category, [])) for category in self.categories
        ]

    def file_mapping(self) -> str | None:
        if self.protocol is not FilesProtocol.FILE_MAPPING or not self._by_entry:
            return None
        mapping = {
            submission_id: {
                category: [{"fileId": link.file_id, "name": link.name} for link in links]
                for category, links in categories.items()
            }
            for submission_id, categories in self._by_entry.items()
        }
        return json.dumps(mapping, separators=(",", ":"))
