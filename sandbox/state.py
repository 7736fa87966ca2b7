"""The sandbox backend's in-memory database: groups, requested files, entries and submissions.

Submissions are also written to ``--state-dir`` so a test or a developer can look at
exactly what a client sent.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.organisms import ORGANISMS
from sandbox.people import Group, seed_groups
from sandbox.processing import Processed, process_entry

ACCESSION_PREFIX = "LOC_"
# Loculus' base-34 alphabet leaves out I and O, which read like 1 and 0.
ACCESSION_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def accession_for(number: int) -> str:
    """``LOC_`` + at least 6 base-34 digits + a Luhn mod 34 check character (an approximation)."""
    digits = ""
    while number:
        number, rest = divmod(number, 34)
        digits = ACCESSION_ALPHABET[rest] + digits
    digits = digits.rjust(6, "0")
    total = 0
    factor = 2
    for char in reversed(digits):
        addend = factor * ACCESSION_ALPHABET.index(char)
        factor = 1 if factor == 2 else 2
        total += addend // 34 + addend % 34
    check = (34 - total % 34) % 34
    return ACCESSION_PREFIX + digits + ACCESSION_ALPHABET[check]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class FileRecord:
    file_id: str
    uploader: str
    group_id: int
    requested_at: str
    multipart_upload_id: str | None = None
    multipart_completed: bool = False
    size: int | None = None  # set once S3 HEAD found the object, as the backend caches it
    expired: bool = False  # set through the admin API; the sandbox runs no garbage collector
    # (start, end) in epoch seconds of the S3 server's complete-multipart-upload, for the benchmarks
    completion: tuple[float, float] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "fileId": self.file_id,
            "uploader": self.uploader,
            "groupId": self.group_id,
            "requestedAt": self.requested_at,
            "multipartUploadId": self.multipart_upload_id,
            "multipartCompleted": self.multipart_completed,
            "size": self.size,
            "expired": self.expired,
            "completion": list(self.completion) if self.completion else None,
        }


@dataclass
class SequenceEntry:
    accession: str
    version: int
    organism: str
    submission_id: str
    group_id: int
    submitter: str
    data_use_terms: dict[str, str]
    submitted_at: str
    status: str = "RECEIVED"
    is_revocation: bool = False
    metadata: dict[str, str] = field(default_factory=dict)
    files: dict[str, list[dict[str, str]]] | None = None
    # Unaligned sequences keyed by FASTA ID, as submitted (empty when too large to keep).
    sequences: dict[str, str] = field(default_factory=dict)
    # When the entry (or its last edit) arrived, in epoch seconds: processing is timed from here.
    received_at: float = field(default_factory=time.time)
    processed: Processed | None = None

    @property
    def display(self) -> str:
        return f"{self.accession}.{self.version}"

    @property
    def processing_result(self) -> str | None:
        return self.processed.result if self.status == "PROCESSED" and self.processed else None

    def advance(self, now: float, delay: float) -> None:
        """RECEIVED → IN_PROCESSING (half-way through the delay) → PROCESSED (after it), lazily."""
        if self.status not in ("RECEIVED", "IN_PROCESSING"):
            return
        elapsed = now - self.received_at
        if elapsed >= delay:
            self.processed = process_entry(ORGANISMS[self.organism], self.metadata, self.sequences)
            self.status = "PROCESSED"
        elif elapsed >= delay / 2:
            self.status = "IN_PROCESSING"

    def submitted_data(self) -> dict[str, Any]:
        return {
            "metadata": dict(self.metadata),
            "unalignedNucleotideSequences": dict(self.sequences),
            "files": self.files,
        }

    def as_get_sequences_item(self) -> dict[str, Any]:
        return {
            "accession": self.accession,
            "version": self.version,
            "status": self.status,
            "processingResult": self.processing_result,
            "groupId": self.group_id,
            "submitter": self.submitter,
            "isRevocation": self.is_revocation,
            "submissionId": self.submission_id,
            "dataUseTerms": dict(self.data_use_terms),
        }


class Store:
    """All mutable backend state behind one lock; request threads share it."""

    def __init__(self, state_dir: Path) -> None:
        self.lock = threading.RLock()
        self.state_dir = state_dir
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.groups: dict[int, Group] = seed_groups()
            self.files: dict[str, FileRecord] = {}
            self.entries: list[SequenceEntry] = []
            self.by_version: dict[tuple[str, int], SequenceEntry] = {}
            self.submissions: list[dict[str, Any]] = []
            self.next_accession = 1
            self.next_group_id = max(self.groups) + 1
            submissions_dir = self.state_dir / "submissions"
            submissions_dir.mkdir(parents=True, exist_ok=True)

    # Groups -----------------------------------------------------------------------------

    def groups_of(self, username: str) -> list[Group]:
        with self.lock:
            return [group for group in self.groups.values() if username in group.members]

    # Accessions and submissions ---------------------------------------------------------------

    def allocate_accessions(self, count: int) -> list[str]:
        with self.lock:
            start = self.next_accession
            self.next_accession += count
        return [accession_for(number) for number in range(start, start + count)]

    def submission_dir(self, upload_id: str) -> Path:
        path = self.state_dir / "submissions" / upload_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def record_submission(self, record: dict[str, Any], entries: list[SequenceEntry]) -> None:
        with self.lock:
            record["index"] = len(self.submissions)
            self.submissions.append(record)
            self.add_entries(entries)
        path = Path(record["directory"]) / "record.json"
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")

    # Sequence entries ------------------------------------------------------------------------

    def add_entries(self, entries: list[SequenceEntry]) -> None:
        with self.lock:
            self.entries.extend(entries)
            self.by_version.update({(e.accession, e.version): e for e in entries})

    def advance(self, delay: float) -> None:
        """Move every unprocessed entry along as far as the processing delay allows."""
        now = time.time()
        with self.lock:
            for entry in self.entries:
                entry.advance(now, delay)

    def delete_entries(self, doomed: list[SequenceEntry]) -> None:
        with self.lock:
            keys = {(e.accession, e.version) for e in doomed}
            self.entries = [e for e in self.entries if (e.accession, e.version) not in keys]
            for key in keys:
                self.by_version.pop(key, None)
