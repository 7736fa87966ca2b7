"""A bulk draft: its metadata and sequence files, their checks, the extra files' links, and the submit.

Everything is checked before any byte goes to S3 or Loculus: the files when they arrive (streamed
by submitportal.bulkfiles), the extra files when they are chosen (submitportal.linking), and all
of it once more at submit.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from submitportal import draft_files, linking
from submitportal.bulkfiles.compression import UnreadableFile, split_compression
from submitportal.bulkfiles.fasta_summary import FastaSummary, can_follow, summarize_fasta
from submitportal.bulkfiles.rewrite import BackendRows, write_backend_tsv
from submitportal.bulkfiles.validate import check_metadata, combine
from submitportal.loculus import client, files_protocol
from submitportal.loculus.instance import Organism
from submitportal.models import Draft, ExtraFile
from submitportal.submit import SubmitRefused, claim, ready_files, record_result, release, wire_for

log = logging.getLogger("submitportal.bulk")

SEQUENCE_EXTENSIONS = (".fa", ".fasta", ".fas", ".fna", ".seq")
METADATA_EXTENSIONS = (".tsv", ".csv", ".xlsx")
COMPRESSIONS = ".gz, .zst, .xz, .bz2 or .zip"


def _extension_problem(kind: str, name: str) -> str | None:
    try:
        inner, _ = split_compression(name)
    except UnreadableFile as exc:
        return exc.message
    if kind == "sequences" and not inner.lower().endswith(SEQUENCE_EXTENSIONS):
        return (
            f"“{name}” does not look like a FASTA file. Sequence files must end in .fa, .fasta, .fas, .fna or .seq, "
            f"optionally compressed with {COMPRESSIONS}."
        )
    if kind == "metadata" and not inner.lower().endswith(METADATA_EXTENSIONS):
        return (
            f"“{name}” is not a metadata table this portal reads. Metadata files must be .tsv, .csv or .xlsx, "
            f"optionally compressed with {COMPRESSIONS}."
        )
    return None


def check_on_arrival(kind: str) -> Callable[[str], Callable[[BinaryIO], FastaSummary] | None] | None:
    """What to compute from an upload of this kind while it arrives (for `upload_handlers.received_file`).

    A sequence file is summarized as its bytes come in, so its check is done when the upload is.
    A metadata file is not followed: it is small (56,000 rows are 2 MB, in the portal within
    milliseconds), and an XLSX workbook can only be read whole.
    """
    if kind != "sequences":
        return None
    max_bytes = settings.MAX_DECOMPRESSED_SIZE

    def for_name(name: str) -> Callable[[BinaryIO], FastaSummary] | None:
        if not can_follow(name):
            return None  # a ZIP archive: summarized from the stored file
        return lambda stream: summarize_fasta(stream, name, max_bytes=max_bytes)

    return for_name


def accept(draft: Draft, organism: Organism, kind: str, upload: UploadedFile) -> str | None:
    """Keep an uploaded metadata or sequence file and check the pair again. Returns a refusal, if any.

    A sequence file's summary computed while it arrived (`upload.followed`, see `check_on_arrival`)
    is kept with it, so no check reads the file again.
    """
    if kind == "sequences" and not organism.consensus_sequences:
        return f"{organism.display_name} takes no consensus sequences: submit the metadata (and extra files) only."
    problem = _extension_problem(kind, upload.name or "")
    if problem:
        return problem
    followed = getattr(upload, "followed", None)
    summary = followed.to_bytes() if kind == "sequences" and isinstance(followed, FastaSummary) else None
    draft_files.store(draft, kind, upload, summary)
    revalidate(draft, organism)
    return None


def _sequences_summary(draft: Draft, organism: Organism, sequences: dict[str, Any]) -> FastaSummary:
    """The summary of the draft's sequence file: the one kept with it if it applies, else read now and kept."""
    max_bytes = settings.MAX_DECOMPRESSED_SIZE
    if not organism.consensus_sequences:
        return FastaSummary(sequences["name"], max_bytes)  # refused by name, never read
    data = draft_files.summary_of(sequences)
    if data is not None:
        try:
            kept = FastaSummary.from_bytes(data)
        except ValueError:  # written by an older portal: read the file again
            kept = None
        if kept is not None and kept.name == sequences["name"] and kept.max_bytes == max_bytes:
            return kept
    with draft_files.local_path(sequences["stored"]) as path:
        summary = summarize_fasta(path, sequences["name"], max_bytes=max_bytes)
    draft_files.keep_summary(draft, "sequences", summary.to_bytes())
    return summary


def revalidate(draft: Draft, organism: Organism) -> None:
    """Check the draft's metadata and sequences together; keep a summary and the entries for linking."""
    metadata = draft_files.info(draft, "metadata")
    sequences = draft_files.info(draft, "sequences")
    summary: dict[str, Any] | None = None
    if metadata:
        with contextlib.ExitStack() as stack:
            metadata_path = stack.enter_context(draft_files.local_path(metadata["stored"]))
            backend = stack.enter_context(_backend_metadata_writer(draft, organism, metadata))
            try:
                checked = check_metadata(
                    organism,
                    metadata_path,
                    metadata["name"],
                    max_bytes=settings.MAX_DECOMPRESSED_SIZE,
                    rows_to=backend.rows if backend else None,
                )
                fasta = _sequences_summary(draft, organism, sequences) if sequences else None
                report = combine(organism, checked, fasta)
            except UnreadableFile as exc:
                summary = {"unreadable": exc.message}
            else:
                draft_files.save_report(draft, report)
                if report.ok and backend:
                    backend.keep()
                summary = {
                    "ok": report.ok,
                    "errors": report.counts.errors,
                    "warnings": report.counts.warnings,
                    "entries": len(report.entries),
                    "sequences": report.sequence_count,
                    "leftOut": report.problems_left_out,
                    "problems": [
                        {
                            "level": p.level,
                            "file": p.file,
                            "row": p.row,
                            "column": p.column,
                            "entryId": p.entry_id,
                            "message": p.message,
                        }
                        for p in report.problems
                    ],
                }
    draft.values = {**draft.values, "report": summary}
    draft.save(update_fields=["values", "updated_at"])


class _BackendMetadata:
    """The TSV a submission without extra files sends, written in the same read as the metadata's check."""

    def __init__(
        self, draft: Draft, metadata: dict[str, Any], columns: list[str], path: Path, rows: BackendRows
    ) -> None:
        self.draft = draft
        self.metadata = metadata
        self.columns = columns
        self.path = path
        self.rows = rows

    def keep(self) -> None:
        """Keep it for the submit (only for a report without errors: then every row was written)."""
        if self.rows.problem is not None:
            return  # the submit writes it and says what is wrong
        self.rows.out.close()
        draft_files.save_backend_metadata(self.draft, self.path, self.metadata["stored"], self.columns)


@contextlib.contextmanager
def _backend_metadata_writer(
    draft: Draft, organism: Organism, metadata: dict[str, Any]
) -> Iterator[_BackendMetadata | None]:
    """A writer for the backend's TSV, or None when it was written from this very file already."""
    wire = wire_for(organism, [])
    if draft_files.backend_metadata(draft, metadata["stored"], wire.columns):
        yield None  # only the sequences changed
        return
    with tempfile.TemporaryDirectory(prefix="submitportal-", dir=settings.FILE_UPLOAD_TEMP_DIR) as tmp:
        path = Path(tmp) / "metadata.tsv"
        with path.open("w", encoding="utf-8", newline="") as out:
            yield _BackendMetadata(
                draft, metadata, wire.columns, path, BackendRows(out, metadata["name"], wire.columns, wire.cells)
            )


def plans(draft: Draft, organism: Organism) -> dict[str, linking.CategoryPlan] | None:
    """How the draft's chosen extra files link to its entries, per category (None without valid metadata)."""
    basis = draft_files.load_links_basis(draft)
    if basis is None:
        return None
    entry_ids, refs, has_columns = basis
    files = list(draft.files.exclude(status=ExtraFile.Status.REFUSED).values_list("category", "path"))
    return {
        category.name: linking.plan(
            category.name,
            entry_ids,
            refs,
            has_columns.get(category.name, False),
            [path for file_category, path in files if file_category == category.name],
        )
        for category in organism.file_categories
    }


def refusals_for(draft: Draft, organism: Organism, category: str, paths: list[str]) -> dict[str, str] | None:
    """Why chosen files cannot belong to any entry (by path), or None while there is no valid metadata."""
    basis = draft_files.load_links_basis(draft)
    if basis is None:
        return None
    entry_ids, refs, has_columns = basis
    plan = linking.plan(category, entry_ids, refs, has_columns.get(category, False), paths)
    return plan.unreferenced


def page_state(draft: Draft, organism: Organism) -> dict[str, Any]:
    return {
        "metadata_file": draft_files.info(draft, "metadata"),
        "sequences_file": draft_files.info(draft, "sequences"),
        "report": draft.values.get("report"),
        "plans": plans(draft, organism) or {},
    }


def _ready_links(draft: Draft, organism: Organism) -> list[files_protocol.FileLink]:
    files = ready_files(draft)
    by_path = {(f.category, f.path): f for f in files}
    links: list[files_protocol.FileLink] = []
    for category, plan in (plans(draft, organism) or {}).items():
        if plan.missing:
            listed = ", ".join(plan.missing[:10]) + (" …" if len(plan.missing) > 10 else "")
            raise SubmitRefused(
                f"The following {category} files were referenced in metadata but not uploaded: {listed}."
            )
        if plan.unreferenced:
            listed = ", ".join(list(plan.unreferenced)[:10]) + (" …" if len(plan.unreferenced) > 10 else "")
            raise SubmitRefused(
                f"The following {category} files were uploaded but not referenced in metadata: {listed}. "
                "Remove them, or name them in the metadata."
            )
        for path, targets in plan.linked.items():
            upload = by_path[(category, path)]
            links.extend(files_protocol.FileLink(entry, category, name, upload.file_id) for entry, name in targets)
        links.extend(files_protocol.FileLink(entry, category, name, file_id) for entry, name, file_id in plan.reused)
    return links


def submit(token: str, draft: Draft, organism: Organism, terms: client.DataUseTerms) -> list[client.SubmittedEntry]:
    """Send the bulk draft: metadata rewritten to TSV with the links, the FASTA as it came, streamed."""
    metadata = draft_files.info(draft, "metadata")
    sequences = draft_files.info(draft, "sequences")
    if not metadata:
        raise SubmitRefused("Please add a metadata file.")
    if organism.consensus_sequences and not sequences:
        raise SubmitRefused("Please add a sequence file.")
    report = draft.values.get("report") or {}
    if report.get("unreadable"):
        raise SubmitRefused(f"The files could not be read: {report['unreadable']}")
    if report.get("errors"):
        raise SubmitRefused(
            f"The files have {report['errors']} problem(s) that Loculus would refuse (listed next to the files). "
            "Please correct them and choose the corrected file again."
        )
    links = _ready_links(draft, organism)
    wire = wire_for(organism, links)
    claim(draft)
    try:
        with tempfile.TemporaryDirectory(prefix="submitportal-") as tmp, contextlib.ExitStack() as stack:
            prepared = None if links else draft_files.backend_metadata(draft, metadata["stored"], wire.columns)
            if prepared:  # written when the files passed their check
                metadata_stream = stack.enter_context(draft_files.open_stored(prepared))
                log.info("draft %s: prepared metadata, no file links, %s", draft.pk, wire.protocol)
            else:
                metadata_path = stack.enter_context(draft_files.local_path(metadata["stored"]))
                backend_tsv = Path(tmp) / "metadata.tsv"
                rows = write_backend_tsv(
                    metadata_path,
                    metadata["name"],
                    backend_tsv,
                    wire.columns,
                    wire.cells,
                    max_bytes=settings.MAX_DECOMPRESSED_SIZE,
                )
                log.info("draft %s: %d rows, %d file links, %s", draft.pk, rows, len(links), wire.protocol)
                metadata_stream = stack.enter_context(backend_tsv.open("rb"))
            sequence_part = None
            if sequences:
                stream = stack.enter_context(draft_files.open_stored(sequences["stored"]))
                # The backend picks the format from the name, case-sensitively: give it a plain one.
                _, compression = split_compression(sequences["name"])
                name = f"sequences.fasta{compression or ''}"
                sequence_part = client.UploadPart(name, stream, "application/octet-stream")
            result = client.submit(
                token,
                organism.key,
                group_id=int(draft.group_id or 0),
                metadata=client.UploadPart("metadata.tsv", metadata_stream, "text/tab-separated-values"),
                sequences=sequence_part,
                data_use_terms=terms,
                file_mapping=wire.file_mapping(),
            )
    except BaseException:
        release(draft)
        raise
    record_result(draft, result, wire)
    return result
