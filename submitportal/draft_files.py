"""The bulk data files of a draft (metadata and sequences): kept through Django's storage API.

Uploads arrive as Django temporary files on disk (FILE_UPLOAD_TEMP_DIR) and are moved, never read
into memory. Every file received gets a storage name of its own, written completely before the
draft points at it (`BulkFile.stored`), so a reader never sees a half-written file, and a check
knows exactly which files it read. A replaced file is deleted only after the change is committed.
Validation reads the files as local files; with a remote storage they are copied to a temporary
file first.
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


def keep_backend_metadata(draft: Draft, path: Path) -> str:
    """Keep the metadata TSV written for the backend (see bulk.check_files) under a fresh name."""
    with path.open("rb") as written:
        return default_storage.save(fresh_name(draft, "backend", "metadata.tsv"), File(written))


def publish(locked: Locked, kind: str, name: str, stored: str, size: int) -> None:
    """Make a kept file the draft's file of this kind, replacing the previous one (under the draft's lock)."""
    previous = BulkFile.objects.filter(draft=locked.draft, kind=kind).first()
    if previous is None:
        BulkFile.objects.create(
            draft=locked.draft, kind=kind, name=name, stored=stored, size=size, received_at=timezone.now()
        )
    else:
        locked.delete_later(previous.stored)
        previous.name, previous.stored, previous.size, previous.received_at = name, stored, size, timezone.now()
        previous.save()
    locked.draft.save(update_fields=["updated_at"])


def discard(locked: Locked, kind: str) -> None:
    for stored in BulkFile.objects.filter(draft=locked.draft, kind=kind).values_list("stored", flat=True):
        locked.delete_later(stored)
    BulkFile.objects.filter(draft=locked.draft, kind=kind).delete()
    locked.draft.save(update_fields=["updated_at"])


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
