"""The `files.<category>` cells of bulk metadata: which files an entry has, and where they come from.

A cell holds entries separated by whitespace, each in one of the website's three forms:
`name` (the uploaded file at path `name`), `name::path` (the uploaded file at `path`, inside the
uploaded folder, stored under `name`) and `name:fileId` (a file already in Loculus, reused). The
backend itself only accepts the third form; the portal turns the first two into it after upload.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from submitportal import file_names
from submitportal.bulkfiles.limits import short

FILES_PREFIX = "files."
# Loculus requires the 36-character form; Java's UUID.fromString would take shorter ones such as 1-2-3-4-5.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_WINDOWS_DRIVE = re.compile(r"[A-Za-z]:")
# Names made only of these characters pass every rule of file_names.problem_with; checking them with
# one regex match instead of its per-character loops keeps 100,000 rows of file names fast.
_PLAINLY_FINE_NAME = re.compile(r"[A-Za-z0-9._\-+=,;@#%&()\[\]{}~!$^']{1,255}")
# A relative path whose every part starts with something other than a dot: nothing to object to or normalize.
_SEGMENT = r"[A-Za-z0-9_\-+=,;@#%&()\[\]{}~!$^'][A-Za-z0-9._\-+=,;@#%&()\[\]{}~!$^']*"
_PLAIN_PATH = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")
_WHITESPACE_NOTE = "File names and paths may not contain whitespace, so spaces separate one file entry from the next."


@dataclass(frozen=True, slots=True)
class FileRef:
    name: str  # the name Loculus stores the file under
    path: str | None  # where it is in the uploaded folder; None when reusing an existing file
    file_id: str | None = None  # the existing Loculus file (lower-case UUID) when reused


@dataclass(frozen=True, slots=True)
class FileEntryProblem:
    kind: str
    message: str  # a sentence; the caller prefixes the row and column


def parse_file_entry(token: str) -> FileRef | FileEntryProblem:
    """One whitespace-free entry of a `files.<category>` cell."""
    if "::" in token:
        name, path = token.split("::", 1)
        if not name or not path:
            return FileEntryProblem(
                "malformed_file_entry",
                f"the file entry “{short(token)}” has an empty {'name' if not name else 'path'}. "
                f"Please write it as name::path, e.g. reads.fastq::sample1/reads.fastq. {_WHITESPACE_NOTE}",
            )
        return _checked_name(token, name) or _path_ref(token, name, path)
    if ":" in token:
        # Split on the last colon, as Loculus does: the name part keeps any other colon (and is then refused).
        name, file_id = token.rsplit(":", 1)
        if not name:
            return FileEntryProblem(
                "malformed_file_entry",
                f"the file entry “{short(token)}” has no file name before the colon. "
                f"Please write it as name:fileId. {_WHITESPACE_NOTE}",
            )
        if not _UUID.fullmatch(file_id):
            return FileEntryProblem(
                "invalid_file_id",
                f"in “{short(token)}”, the part after the colon, “{short(file_id)}”, is not a Loculus file ID (a "
                "UUID of "
                "36 characters such as 8d8ac610-566d-4ef0-9c22-186b2a5ed793). To refer to a file in a subfolder "
                "of your upload, write name::path (two colons).",
            )
        return _checked_name(token, name) or FileRef(name=name, path=None, file_id=file_id.lower())
    return _checked_name(token, token) or _path_ref(token, token, token)


def _checked_name(token: str, name: str) -> FileEntryProblem | None:
    if _PLAINLY_FINE_NAME.fullmatch(name):
        return None
    problem = file_names.problem_with(name)
    if problem is None:
        return None
    hint = ""
    if "/" in name and token == name:
        hint = f" To use a file from a subfolder, write {short(name.rsplit('/', 1)[-1])}::{short(name)}."
    return FileEntryProblem("invalid_file_name", f"Loculus would refuse the file name “{short(name)}”: {problem}{hint}")


def _path_ref(token: str, name: str, path: str) -> FileRef | FileEntryProblem:
    if _PLAIN_PATH.fullmatch(path):
        return FileRef(name=name, path=path, file_id=None)
    if path.startswith(("/", "\\")) or _WINDOWS_DRIVE.match(path):
        return FileEntryProblem(
            "unsafe_file_path",
            f"the path “{short(path)}” in “{short(token)}” is absolute. Paths are relative to the folder you upload, "
            "e.g. sample1/reads.fastq.",
        )
    if "\\" in path:
        return FileEntryProblem(
            "unsafe_file_path",
            f"the path “{short(path)}” in “{short(token)}” contains a backslash (\\). Please separate folders with a "
            "slash (/), "
            f"e.g. {short(path.replace(chr(92), '/'))}.",
        )
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts:
        return FileEntryProblem(
            "unsafe_file_path",
            f"the path “{short(path)}” in “{short(token)}” contains “..”. Paths must stay inside the folder you "
            "upload, "
            "e.g. sample1/reads.fastq.",
        )
    normalized = "/".join(parts)
    # The substring test is a quick pre-check: only a path with a part starting with a dot can be hidden.
    if "/." in "/" + normalized and file_names.is_hidden(normalized):
        return FileEntryProblem(
            "hidden_file_path",
            f"the path “{short(path)}” in “{short(token)}” is a hidden file or lies in a hidden folder (its name "
            "starts with "
            "a dot). Folder uploads leave hidden files out, so it could never be found; please rename it.",
        )
    return FileRef(name=name, path=normalized, file_id=None)
