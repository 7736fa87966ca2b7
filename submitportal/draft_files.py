"""The bulk files of a draft (metadata and sequences), kept through Django's storage API.

Uploads arrive as Django temporary files on disk (FILE_UPLOAD_TEMP_DIR) and are moved, never read
into memory. Validation reads them as local files; with a remote storage they are copied to a
temporary file first. The validation report is kept beside them as JSON, so linking extra files
does not need to read the metadata again, and so is the sequence file's summary (what its check
needs from it, `bulkfiles.fasta_summary`), so a new metadata file does not make it read the FASTA.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile

from submitportal.bulkfiles.filerefs import FileRef
from submitportal.bulkfiles.validate import Report
from submitportal.models import Draft

KINDS = ("metadata", "sequences")


def _folder(draft: Draft) -> str:
    return f"drafts/{draft.pk}"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[-150:] or "file"


def store(draft: Draft, kind: str, upload: UploadedFile, summary: bytes | None = None) -> dict[str, Any]:
    """Keep the uploaded file for the draft, replacing the previous one of this kind.

    `summary`: what was computed from exactly these bytes as they arrived (see `summary_of`).
    """
    discard(draft, kind)
    original = Path(upload.name or kind).name
    stored = default_storage.save(f"{_folder(draft)}/{kind}/{_safe(original)}", upload)
    info = {"name": original, "stored": stored, "size": upload.size}
    if summary is not None:
        info["summary"] = _save_summary(stored, summary)
    draft.values = {**draft.values, kind: info}
    draft.save(update_fields=["values", "updated_at"])
    return info


def discard(draft: Draft, kind: str) -> None:
    info = draft.values.get(kind)
    if info:
        default_storage.delete(info["stored"])
        if info.get("summary"):
            default_storage.delete(info["summary"])
        draft.values = {key: value for key, value in draft.values.items() if key != kind}
        draft.save(update_fields=["values", "updated_at"])
    default_storage.delete(_report_name(draft))
    if kind == "metadata":
        discard_backend_metadata(draft)


def info(draft: Draft, kind: str) -> dict[str, Any] | None:
    return draft.values.get(kind)


@contextlib.contextmanager
def local_path(stored: str) -> Iterator[Path]:
    """A path on this machine holding the stored file (the file itself, or a temporary copy)."""
    try:
        yield Path(default_storage.path(stored))
        return
    except NotImplementedError:
        pass
    with tempfile.NamedTemporaryFile(prefix="submitportal-") as copy, default_storage.open(stored, "rb") as source:
        shutil.copyfileobj(source, copy, length=1024 * 1024)
        copy.flush()
        yield Path(copy.name)


def open_stored(stored: str) -> Any:
    return default_storage.open(stored, "rb")


# --- A stored file's summary ------------------------------------------------------------------------
#
# Written once beside the stored file (`<stored>.summary`) and never changed; it goes with the file.
# Whether its content still applies (its format, the name and limits it was computed with) is for
# the reader of the bytes to judge.


def _save_summary(stored: str, data: bytes) -> str:
    return default_storage.save(f"{stored}.summary", ContentFile(data))


def summary_of(info: dict[str, Any]) -> bytes | None:
    """The summary kept with the stored file `info` describes, if there is one."""
    name = info.get("summary")
    if not name:
        return None
    try:
        with default_storage.open(name, "rb") as stream:
            return bytes(stream.read())
    except FileNotFoundError:
        return None


def keep_summary(draft: Draft, kind: str, data: bytes) -> None:
    """Keep a summary computed after arrival for the draft's current file of this kind."""
    info = draft.values.get(kind)
    if not info:
        return
    if info.get("summary"):
        default_storage.delete(info["summary"])
    draft.values = {**draft.values, kind: {**info, "summary": _save_summary(info["stored"], data)}}
    draft.save(update_fields=["values", "updated_at"])


def remove_all(draft: Draft) -> None:
    for kind in KINDS:
        discard(draft, kind)


# --- The validation report -------------------------------------------------------------------------


def _report_name(draft: Draft) -> str:
    return f"{_folder(draft)}/report.json"


def save_report(draft: Draft, report: Report) -> None:
    data = {
        "entries": report.entries.ids(),
        "fileRefs": {
            entry: {category: [[r.name, r.path, r.file_id] for r in refs] for category, refs in categories.items()}
            for entry, categories in report.file_refs.items()
        },
        "hasFilesColumns": report.has_files_columns,
    }
    default_storage.delete(_report_name(draft))
    with tempfile.TemporaryFile() as out:
        out.write(json.dumps(data, separators=(",", ":")).encode())
        out.seek(0)
        default_storage.save(_report_name(draft), out)


@contextlib.contextmanager
def _reading(name: str) -> Iterator[Any]:
    with default_storage.open(name, "rb") as stream:
        yield stream


def load_links_basis(draft: Draft) -> tuple[list[str], dict[str, dict[str, list[FileRef]]], dict[str, bool]] | None:
    """(entry ids, file references, which categories have a column), or None without a valid metadata file."""
    name = _report_name(draft)
    if not default_storage.exists(name):
        return None
    with _reading(name) as stream:
        data = json.load(stream)
    refs = {
        entry: {category: [FileRef(*item) for item in items] for category, items in categories.items()}
        for entry, categories in data["fileRefs"].items()
    }
    return data["entries"], refs, data["hasFilesColumns"]


# --- The metadata as the backend will receive it ----------------------------------------------------
#
# Written when the files pass their check, for a submission without extra files, so that the submit
# only streams files. Kept with the stored metadata file and the columns it was written for; the
# submit uses it only if both still match, and writes the file itself otherwise.


def _backend_metadata_name(draft: Draft) -> str:
    return f"{_folder(draft)}/backend-metadata.tsv"


def save_backend_metadata(draft: Draft, path: Path, source: str, columns: list[str]) -> None:
    default_storage.delete(_backend_metadata_name(draft))
    with open(path, "rb") as written:
        stored = default_storage.save(_backend_metadata_name(draft), written)
    draft.values = {**draft.values, "backendMetadata": {"stored": stored, "from": source, "columns": columns}}
    draft.save(update_fields=["values", "updated_at"])


def backend_metadata(draft: Draft, source: str, columns: list[str]) -> str | None:
    """The stored backend TSV written from `source` with `columns` (None if there is no such file)."""
    prepared = draft.values.get("backendMetadata")
    if prepared and prepared["from"] == source and prepared["columns"] == columns:
        return str(prepared["stored"])
    return None


def discard_backend_metadata(draft: Draft) -> None:
    prepared = draft.values.get("backendMetadata")
    if prepared:
        default_storage.delete(prepared["stored"])
        draft.values = {key: value for key, value in draft.values.items() if key != "backendMetadata"}
        draft.save(update_fields=["values", "updated_at"])
