"""What the upload script sends as JSON, read against a declared shape with bounds.

Each field has a type and a bound (list lengths, string lengths, whole numbers the database can
hold, the backend's UUIDs); anything else is refused with a sentence saying what was wrong (the
views answer 400), never a 500: no deep nesting, no infinities, no numbers too large for a
database column, no strings where numbers belong.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_FILES = 10_000  # files in one request (a folder of thousands is sent in batches by the page)
MAX_PATH = 1024  # ExtraFile.path
MAX_PARTS = 10_000  # S3's limit on the parts of one upload
MAX_ETAG = 200
MAX_ID = 2**63 - 1  # the largest primary key and file size a database column holds
MAX_JSON = 4 * 1024 * 1024
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class BadBody(ValueError):
    """The request's JSON does not have the declared shape; the message says how."""


def _parsed(raw: str | None, what: str) -> Any:
    if not raw:
        raise BadBody(f"The {what} is missing.")
    if len(raw) > MAX_JSON:
        raise BadBody(f"The {what} is longer than the portal reads ({MAX_JSON // 1024 // 1024} MiB).")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        raise BadBody(f"The {what} could not be read (it is not JSON the portal understands).") from None


def _list(value: Any, what: str, most: int) -> list[Any]:
    if not isinstance(value, list):
        raise BadBody(f"The {what} must be a list.")
    if len(value) > most:
        raise BadBody(f"The {what} has {len(value):,} items; the portal takes at most {most:,} at once.")
    return value


def _whole(value: Any, what: str, least: int = 0, most: int = MAX_ID) -> int:
    if type(value) is not int or not least <= value <= most:  # bool and float are not whole numbers here
        raise BadBody(f"{what} must be a whole number from {least:,} to {most:,}.")
    return value


def _text(value: Any, what: str, most: int) -> str:
    if not isinstance(value, str) or len(value) > most:
        raise BadBody(f"{what} must be text of at most {most:,} characters.")
    return value


def file_id(value: Any, what: str = "The file ID") -> str | None:
    """A Loculus file ID (a UUID), or None when none was given."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _UUID.fullmatch(value):
        raise BadBody(f"{what} must be a Loculus file ID (a UUID such as 8d8ac610-566d-4ef0-9c22-186b2a5ed793).")
    return value


def selected_files(raw: str | None) -> list[tuple[str, int]]:
    """The files chosen in the browser: (path, size) each."""
    items = _list(_parsed(raw, "list of files"), "list of files", MAX_FILES)
    chosen = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise BadBody(f"File {number} of the list is not a file's name and size.")
        path = _text(item.get("path"), f"The path of file {number}", MAX_PATH)
        chosen.append((path, _whole(item.get("size"), f"The size of “{path[:60]}”")))
    return chosen


def file_pks(raw: str | None) -> list[int]:
    """The portal's numbers of files (as the rows carry them)."""
    items = _list(_parsed(raw, "list of files"), "list of files", MAX_FILES)
    return [_whole(pk, "A file's number", least=1) for pk in items]


def etags(value: Any) -> list[str]:
    """The ETags S3 answered for a file's parts, in part order."""
    items = _list(value, "list of parts", MAX_PARTS)
    return [_text(tag, "A part's ETag", MAX_ETAG) for tag in items]


def finished_uploads(raw: str | None) -> list[tuple[int, list[str], str | None]]:
    """Finished uploads: (file number, part ETags, the file ID uploaded to) each."""
    items = _list(_parsed(raw, "list of finished uploads"), "list of finished uploads", MAX_FILES)
    reports = []
    for item in items:
        if not isinstance(item, dict):
            raise BadBody("An item of the list of finished uploads is not a file's report.")
        pk = _whole(item.get("pk"), "A file's number", least=1)
        reports.append((pk, etags(item.get("etags") or []), file_id(item.get("fileId"))))
    return reports


def part_etags(raw: str | None) -> list[str]:
    """One file's part ETags (an empty list for a single PUT)."""
    return etags(_parsed(raw or "[]", "list of parts"))
