"""The bulk data files of a draft (metadata and sequences): kept through Django's storage API.

Uploads arrive as Django temporary files on disk (FILE_UPLOAD_TEMP_DIR) and are moved, never read
into memory. Every file received gets a storage name of its own, written completely before the
draft points at it (`BulkFile.stored`), so a reader never sees a half-written file, and a check
knows exactly which files it read. A replaced file is deleted only after the change is committed.
Validation reads the files as local files; with a remote storage they are copied to a temporary
file first. A sequence file's summary (what its check needs from it, `bulkfiles.fasta_summary`,
usually made while the file arrived) is kept beside it, written once and never changed, and goes
with it, so a new metadata file does not make the check read the FASTA again.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from submitportal.drafts import Locked
from submitportal.models import BulkFile, Draft

KINDS = tuple(BulkFile.Kind.values)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[-150:] or "file"


def fresh_name(draft: Draft, what: str, original: str) -> str:
    """A storage name no other file of the draft has had (so no request ever writes over another's file)."""
    return f"drafts/{draft.pk}/{what}-{uuid.uuid4().hex[:16]}-{_safe(original)}"


def keep(draft: Draft, kind: str, upload: UploadedFile) -> str:
    """Put the received file into the draft storage under a fresh name; the draft does not point at it yet."""
    return default_storage.save(fresh_name(draft, kind, Path(upload.name or kind).name), upload)


def keep_summary(draft: Draft, data: bytes) -> str:
    """Keep a sequence file's summary under a fresh name; a BulkFile row points at it (see publish)."""
    return default_storage.save(fresh_name(draft, "summary", "sequences.summary"), ContentFile(data))


def summary_of(bulk_file: BulkFile) -> bytes | None:
    """The summary kept with this file, if there is one."""
    if not bulk_file.summary:
        return None
    try:
        with default_storage.open(bulk_file.summary, "rb") as stream:
            return bytes(stream.read())
    except FileNotFoundError:
        return None


def attach_summary(locked: Locked, stored: str, summary: str) -> bool:
    """Point the draft's file `stored` at a summary made after it arrived (False: the file was replaced)."""
    row = BulkFile.objects.filter(draft=locked.draft, stored=stored).first()
    if row is None:
        return False
    locked.delete_later(row.summary)
    row.summary = summary
    row.save(update_fields=["summary"])
    return True


def keep_backend_metadata(draft: Draft, path: Path) -> str:
    """Keep the metadata TSV written for the backend (see bulk.check_files) under a fresh name."""
    with path.open("rb") as written:
        return default_storage.save(fresh_name(draft, "backend", "metadata.tsv"), File(written))


def publish(locked: Locked, kind: str, name: str, stored: str, size: int, summary: str = "") -> None:
    """Make a kept file (and its summary) the draft's file of this kind, replacing the previous one
    (under the draft's lock)."""
    previous = BulkFile.objects.filter(draft=locked.draft, kind=kind).first()
    fields = {"name": name, "stored": stored, "size": size, "summary": summary, "received_at": timezone.now()}
    if previous is None:
        BulkFile.objects.create(draft=locked.draft, kind=kind, **fields)
    else:
        locked.delete_later(previous.stored)
        locked.delete_later(previous.summary)
        for field, value in fields.items():
            setattr(previous, field, value)
        previous.save()
    locked.draft.save(update_fields=["updated_at"])


def discard(locked: Locked, kind: str) -> None:
    forget(locked, BulkFile.objects.filter(draft=locked.draft, kind=kind))
    BulkFile.objects.filter(draft=locked.draft, kind=kind).delete()
    locked.draft.save(update_fields=["updated_at"])


def forget(locked: Locked, files: Any) -> None:
    """These files' stored names go once the change is committed."""
    for stored, summary in files.values_list("stored", "summary"):
        locked.delete_later(stored)
        locked.delete_later(summary)


def current(draft: Draft) -> dict[str, BulkFile]:
    """The draft's data files now, by kind (read together, so they belong to one moment)."""
    return {f.kind: f for f in BulkFile.objects.filter(draft=draft)}


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
