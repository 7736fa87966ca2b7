"""A bulk draft: its metadata and sequence files, their checks, the extra files' links, and the submit.

Everything is checked before any byte goes to S3 or Loculus: the files when they arrive (streamed
by submitportal.bulkfiles), the extra files when they are chosen (submitportal.linking), and all
of it once more at submit.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from submitportal import bulk_data_files, drafts, linking
from submitportal.bulkfiles.compression import UnreadableFile, split_compression
from submitportal.bulkfiles.fasta_summary import FastaSummary, can_follow, summarize_fasta
from submitportal.bulkfiles.filerefs import FileRef
from submitportal.bulkfiles.limits import Limits, short
from submitportal.bulkfiles.report import ProblemCollector
from submitportal.bulkfiles.revision import LatestVersion, check_accessions, latest_versions
from submitportal.bulkfiles.rewrite import BackendRows, write_backend_tsv
from submitportal.bulkfiles.validate import MetadataCheck, Report, check_metadata, combine
from submitportal.loculus import client, files_protocol
from submitportal.loculus.schema import Organism
from submitportal.models import BulkCheck, BulkFile, Draft, ExtraFile
from submitportal.submission_parts import Parts, PartsMaker, SubmitRefused, ready_files, wire_for

log = logging.getLogger("submitportal.bulk")

SEQUENCE_EXTENSIONS = (".fa", ".fasta", ".fas", ".fna", ".seq")
METADATA_EXTENSIONS = (".tsv", ".csv", ".xlsx", ".xls")
COMPRESSIONS = ".gz, .zst, .xz, .bz2 or .zip"


def _extension_problem(kind: str, name: str) -> str | None:
    try:
        inner, _ = split_compression(name)
    except UnreadableFile as exc:
        return exc.message
    if kind == "sequences" and not inner.lower().endswith(SEQUENCE_EXTENSIONS):
        return (
            f"“{short(name)}” does not look like a FASTA file. Sequence files must end in .fa, .fasta, .fas, .fna "
            f"or .seq, optionally compressed with {COMPRESSIONS}."
        )
    if kind == "metadata" and not inner.lower().endswith(METADATA_EXTENSIONS):
        return (
            f"“{short(name)}” is not a metadata table this portal reads. Metadata must be .tsv, .csv, .xlsx or .xls, "
            f"optionally compressed with {COMPRESSIONS}."
        )
    return None


def limits() -> Limits:
    """The bounds on reading bulk files, from the settings (README: MAX_DECOMPRESSED_SIZE and those below it)."""
    return Limits(
        max_bytes=settings.MAX_DECOMPRESSED_SIZE,
        max_ratio=settings.MAX_COMPRESSION_RATIO,
        max_rows=settings.MAX_METADATA_ROWS,
        max_records=settings.MAX_FASTA_RECORDS,
        max_value=settings.MAX_METADATA_VALUE_SIZE,
        max_row=settings.MAX_METADATA_ROW_SIZE,
    )


def check_on_arrival(kind: str) -> Callable[[str], Callable[[BinaryIO], FastaSummary] | None] | None:
    """What to compute from an upload of this kind while it arrives (for `bulk_data_upload.received_file`).

    A sequence file is summarized as its bytes come in, so its check is done when the upload is.
    A metadata file is not followed: it is small (56,000 rows are 2 MB, in the portal within
    milliseconds), and an XLSX workbook can only be read whole.
    """
    if kind != "sequences":
        return None
    bounds = limits()

    def for_name(name: str) -> Callable[[BinaryIO], FastaSummary] | None:
        if not can_follow(name):
            return None  # a ZIP archive: summarized from the stored file
        return lambda stream: summarize_fasta(stream, name, limits=bounds)

    return for_name


@dataclass
class _Read:
    """A metadata file read as it was received, before the draft points at it: its check, and the
    backend's TSV written in the same read (None if its rows cannot be sent as they are)."""

    stored: str
    checked: MetadataCheck
    backend: Path | None
    columns: list[str]


def accept(draft: Draft, organism: Organism, kind: str, upload: UploadedFile, token: str | None = None) -> str | None:
    """Keep an uploaded metadata or sequence file and check the pair again. Returns a refusal, if any.

    The file is read before it replaces anything: one that cannot be read is refused with the
    reason, and the draft keeps the file it had. A sequence file's summary computed while it
    arrived (`upload.followed`, see `check_on_arrival`) is kept with it, so no check reads it again;
    a metadata file's check is used by the check that follows. `token`: the user's, for the check of a
    revision's accessions against Loculus.
    """
    if kind == "sequences" and not organism.consensus_sequences:
        return f"{organism.display_name} takes no consensus sequences: submit the metadata (and extra files) only."
    name = Path(upload.name or kind).name
    problem = _extension_problem(kind, name)
    if problem:
        return problem
    with contextlib.ExitStack() as stack:
        path = stack.enter_context(_local_file(upload))
        read: _Read | None = None
        summary: FastaSummary | None = None
        if kind == "metadata":
            wire = wire_for(organism, [])
            backend, rows = stack.enter_context(_backend_rows(name, wire))
            checked = check_metadata(organism, path, name, limits=limits(), rows_to=rows, revise=draft.revise)
            rows.out.close()
            unreadable = next((p.message for p in checked.report.problems if p.kind == "unreadable_file"), None)
            read = _Read("", checked, backend if rows.problem is None else None, wire.columns)
        else:
            followed = getattr(upload, "followed", None)
            if isinstance(followed, FastaSummary):
                summary = followed
            else:  # not followed as it arrived (a browser without script, a ZIP archive): read it now
                summary = summarize_fasta(path, name, limits=limits())
            unreadable = summary.unreadable
        if unreadable:
            return _refuse(draft, kind, name, unreadable)
        # Not under the lock: with S3 storage this takes a while.
        kept = [bulk_data_files.keep(draft, kind, upload)]
        if summary is not None:
            kept.append(bulk_data_files.keep_summary(draft, summary.to_bytes()))
        published = False
        try:
            with drafts.changing(draft) as locked:
                if locked.draft.status == Draft.Status.OPEN:
                    bulk_data_files.publish(locked, kind, name, kept[0], upload.size or 0, *kept[1:])
                    published = True
        finally:
            if not published:
                drafts.delete_stored(kept)
        if not published:
            return drafts.CLOSED
        if read is not None:
            read.stored = kept[0]
        current_check(draft, organism, read, token=token)
    return None


def _refuse(draft: Draft, kind: str, name: str, reason: str) -> str:
    """A file that cannot be read: the draft keeps what it had, and the user is told why."""
    log.warning("draft %s: %s file “%s” refused: %s", draft.pk, kind, name[:100], reason)
    before = bulk_data_files.current(draft).get(kind)
    if before is None:
        return f"{reason} The file was not kept."
    return f"{reason} The file was not kept: the draft still has “{short(before.name)}”."


@contextlib.contextmanager
def _local_file(upload: UploadedFile) -> Iterator[Path]:
    """The uploaded file on disk (where it was received, or a copy for one held in memory)."""
    if hasattr(upload, "temporary_file_path"):
        yield Path(upload.temporary_file_path())
        return
    with tempfile.NamedTemporaryFile(prefix="submitportal-", dir=settings.FILE_UPLOAD_TEMP_DIR) as copy:
        upload.seek(0)
        shutil.copyfileobj(upload, copy, length=1024 * 1024)
        copy.flush()
        upload.seek(0)
        yield Path(copy.name)


def discard(draft: Draft, organism: Organism, kind: str, token: str | None = None) -> None:
    with drafts.changing(draft) as locked:
        if locked.draft.status == Draft.Status.OPEN:
            bulk_data_files.discard(locked, kind)
    current_check(draft, organism, token=token)


# --- The check of the data files ------------------------------------------------------------------
#
# A check of a gigabyte takes seconds, so it runs without the draft's lock, on the files the draft
# had when it started, and is kept only if the draft still has exactly those files. Whoever changed
# the files last checks them last, so the draft always ends up with the check of its current files.

CHECK_ATTEMPTS = 3  # files replaced during each of these many checks: give up, the next request checks


def _versions(files: dict[str, BulkFile]) -> tuple[str, str]:
    """Which files these are: their stored names (new for every file received)."""
    return tuple(files[kind].stored if kind in files else "" for kind in ("metadata", "sequences"))  # type: ignore[return-value]


def _fits(check: BulkCheck | None, files: dict[str, BulkFile]) -> bool:
    return check is not None and "metadata" in files and (check.metadata, check.sequences) == _versions(files)


def _group_now(draft: Draft) -> int | None:
    """The draft's group as stored now (a revision's check is judged for it)."""
    return Draft.objects.filter(pk=draft.pk).values_list("group_id", flat=True).first()


def _stale(check: BulkCheck, draft: Draft, group_id: int | None) -> bool:
    """A revision's check to make again although its files are the same: it was made for another group, or
    Loculus could not be asked about its accessions then."""
    if not draft.revise:
        return False
    state = check.accessions or {}
    return "group" not in state or state["group"] != group_id or bool(state.get("unchecked"))


def current_check(
    draft: Draft, organism: Organism, read: _Read | None = None, *, token: str | None = None
) -> BulkCheck | None:
    """The check of the draft's current data files, checking them now if nobody has (None without metadata).

    `read`: the metadata file just received, already read (used while it is still the draft's).
    `token`: the user's, to check a revision's accessions against Loculus (once per check, not per call).
    """
    for _ in range(CHECK_ATTEMPTS):
        files = bulk_data_files.current(draft)
        existing = BulkCheck.objects.filter(draft=draft).first()
        if "metadata" not in files:
            if existing is not None:
                _forget_check(draft)
            return None
        group_id = _group_now(draft) if draft.revise else None
        if _fits(existing, files) and not _stale(existing, draft, group_id):  # type: ignore[arg-type]
            return existing
        started = time.perf_counter()
        try:
            fresh, written = _check_files(draft, organism, files, existing, read, token, group_id)
        except Exception:
            if _versions(bulk_data_files.current(draft)) == _versions(files):
                raise  # a real failure, not a file replaced under the check
            continue
        kept = _publish_check(draft, fresh, written, group_id)
        if kept is fresh:
            log.info(
                "draft %s: checked %s%s in %.2f s: %s",
                draft.pk,
                files["metadata"].name[:100],
                f" and {files['sequences'].name[:100]}" if "sequences" in files else "",
                time.perf_counter() - started,
                fresh.summary.get("unreadable")
                or "{entries} entries, {errors} errors, {warnings} warnings".format(**fresh.summary),
            )
        if kept is not None:
            return kept
    return None


def _forget_check(draft: Draft) -> None:
    with drafts.changing(draft) as locked:
        if "metadata" not in bulk_data_files.current(draft):
            for check in BulkCheck.objects.filter(draft=draft):
                locked.delete_later(check.backend_metadata)
                check.delete()


def _check_files(
    draft: Draft,
    organism: Organism,
    files: dict[str, BulkFile],
    previous: BulkCheck | None,
    read: _Read | None,
    token: str | None = None,
    group_id: int | None = None,
) -> tuple[BulkCheck, str]:
    """Check the files (an unsaved BulkCheck). If they pass, the backend's metadata is written in the
    same read of the metadata; its stored name is returned ("" if none was written).

    A revision's accessions are also checked against Loculus (with `token`, for `group_id`)."""
    metadata, sequences = files["metadata"], files.get("sequences")
    check = BulkCheck(draft=draft, metadata=metadata.stored, sequences=sequences.stored if sequences else "")
    if draft.revise:
        check.accessions = {"group": group_id, "rows": [], "unchecked": ""}
    wire = wire_for(organism, [])
    reused = previous.backend_metadata if previous and previous.metadata == metadata.stored else ""
    if previous is None or previous.backend_columns != wire.columns:
        reused = ""
    if read is not None and (read.stored != metadata.stored or read.columns != wire.columns):
        read = None  # another file, or the backend's generation changed: read the draft's file
    with contextlib.ExitStack() as stack:
        backend: Path | None = read.backend if read else None
        rows = None
        if read is not None:
            checked = read.checked
        else:
            metadata_path = stack.enter_context(bulk_data_files.local_path(metadata.stored))
            if not reused:
                backend, rows = stack.enter_context(_backend_rows(metadata.name, wire))
            checked = check_metadata(
                organism, metadata_path, metadata.name, limits=limits(), rows_to=rows, revise=draft.revise
            )
            if rows is not None:
                rows.out.close()
                backend = backend if rows.problem is None else None
        try:
            fasta = _sequences_summary(draft, organism, sequences) if sequences else None
            report = combine(organism, checked, fasta)
        except UnreadableFile as exc:
            check.summary = {"unreadable": exc.message}
            return check, ""
        if draft.revise:
            check.accessions = _check_revised(organism, report, checked.max_problems, token, group_id)
        check.summary = _summary(report)
        check.entries = report.entries.ids()
        check.file_refs = {
            entry: {category: [[r.name, r.path, r.file_id] for r in refs] for category, refs in categories.items()}
            for entry, categories in report.file_refs.items()
        }
        check.files_columns = report.has_files_columns
        written = ""
        if report.ok:
            check.backend_columns = wire.columns
            if reused:
                check.backend_metadata = reused  # only the sequences changed
            elif backend is not None:
                written = check.backend_metadata = bulk_data_files.keep_backend_metadata(draft, backend)
    return check, written


def _check_revised(
    organism: Organism, report: Report, max_problems: int, token: str | None, group_id: int | None
) -> dict[str, Any]:
    """Check a revision's accessions against the user's entries in Loculus (one read); what the check keeps."""
    rows = list(report.accessions or [])
    state: dict[str, Any] = {"group": group_id, "rows": rows, "unchecked": ""}
    wanted = {accession for accession in rows if accession}
    if not wanted:
        return state
    unchecked = ""
    if token is None or group_id is None:
        unchecked = "the page had no signed-in user to ask with"
    else:
        try:
            groups = client.get_user_groups(token)
            page = client.get_sequences(token, organism.key)
        except client.LoculusError as exc:
            log.warning("revision check: reading the user's sequences failed: %s", exc.detail)
            unchecked = f"Loculus answered: {exc.detail}" if exc.status else exc.detail
        else:
            listed = [
                LatestVersion(e.accession, e.version, e.status, e.group_id, e.is_revocation) for e in page.entries
            ]
            check_accessions(
                report,
                max_problems,
                latest_versions(listed, wanted),
                group_id=group_id,
                group_names={g.group_id: g.group_name for g in groups},
                organism_name=organism.display_name,
            )
            return state
    state["unchecked"] = unchecked
    ProblemCollector(report, max_problems).add(
        "error",
        "metadata",
        "accessions_unchecked",
        f"The accessions could not be checked against Loculus ({unchecked}). Nothing is sent before they are: "
        "please reload the page in a moment.",
        always=True,
    )
    return state


@contextlib.contextmanager
def _backend_rows(name: str, wire: files_protocol.Wire) -> Iterator[tuple[Path, BackendRows]]:
    """Where the metadata's check writes the TSV a submission without extra files sends (kept if it passes)."""
    with tempfile.TemporaryDirectory(prefix="submitportal-", dir=settings.FILE_UPLOAD_TEMP_DIR) as tmp:
        path = Path(tmp) / "metadata.tsv"
        with path.open("w", encoding="utf-8", newline="") as out:
            yield path, BackendRows(out, name, wire.columns, wire.cells)


def _sequences_summary(draft: Draft, organism: Organism, sequences: BulkFile) -> FastaSummary:
    """The summary of the draft's sequence file: the one kept with it if it applies, else read now and kept."""
    bounds = limits()
    if not organism.consensus_sequences:
        return FastaSummary(sequences.name, bounds)  # refused by name, never read
    data = bulk_data_files.summary_of(sequences)
    if data is not None:
        try:
            kept = FastaSummary.from_bytes(data)
        except ValueError:  # written by an older portal: read the file again
            kept = None
        if kept is not None and kept.name == sequences.name and kept.limits == bounds:
            return kept
    with bulk_data_files.local_path(sequences.stored) as path:
        summary = summarize_fasta(path, sequences.name, limits=bounds)
    written = bulk_data_files.keep_summary(draft, summary.to_bytes())
    attached = False
    try:
        with drafts.changing(draft) as locked:
            attached = bulk_data_files.attach_summary(locked, sequences.stored, written)
    finally:
        if not attached:
            drafts.delete_stored([written])  # the file was replaced meanwhile
    return summary


def _summary(report: Report) -> dict[str, Any]:
    return {
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


def _publish_check(draft: Draft, check: BulkCheck, written: str, group_id: int | None = None) -> BulkCheck | None:
    """Keep the check if the draft still has the files it read; otherwise drop it (None)."""
    kept = None
    try:
        with drafts.changing(draft) as locked:
            files = bulk_data_files.current(draft)
            previous = BulkCheck.objects.filter(draft=draft).first()
            if _fits(previous, files) and not _stale(previous, draft, group_id):  # type: ignore[arg-type]
                kept = previous  # another request checked the same files first: a submit may be reading its TSV
            elif _fits(check, files):
                if check.backend_metadata and check.backend_metadata != written:
                    # Taken over from the check it replaces: only while that one still has it.
                    if previous is None or previous.backend_metadata != check.backend_metadata:
                        check.backend_metadata, check.backend_columns = "", []
                if previous is not None:
                    if previous.backend_metadata != check.backend_metadata:
                        locked.delete_later(previous.backend_metadata)
                    check.pk = previous.pk
                check.save()
                kept = check
    finally:
        if kept is not check and written:
            drafts.delete_stored([written])
    return kept


def _links_basis(
    check: BulkCheck | None,
) -> tuple[list[str], dict[str, dict[str, list[FileRef]]], dict[str, bool]] | None:
    if check is None or check.entries is None:
        return None
    refs = {
        entry: {category: [FileRef(*item) for item in items] for category, items in categories.items()}
        for entry, categories in (check.file_refs or {}).items()
    }
    return check.entries, refs, check.files_columns or {}


def plans(draft: Draft, organism: Organism, check: BulkCheck | None) -> dict[str, linking.CategoryPlan] | None:
    """How the draft's chosen extra files link to its entries, per category (None without valid metadata).

    Judged afresh from the current check and files on every call: nothing about links is stored.
    """
    basis = _links_basis(check)
    if basis is None:
        return None
    entry_ids, refs, has_columns = basis
    files: dict[str, dict[str, str]] = {}
    chosen = draft.extra_files.exclude(status=ExtraFile.Status.REFUSED).values_list("category", "path", "status")
    for category, path, status in chosen:
        files.setdefault(category, {})[path] = status
    return {
        category.name: linking.plan(
            category.name, entry_ids, refs, has_columns.get(category.name, False), files.get(category.name, {})
        )
        for category in organism.file_categories
    }


def current_plans(draft: Draft, organism: Organism, token: str | None = None) -> dict[str, linking.CategoryPlan]:
    """The links of a bulk draft's extra files as they stand now ({} for a single entry or without valid metadata)."""
    if draft.kind != Draft.Kind.BULK:
        return {}
    return plans(draft, organism, current_check(draft, organism, token=token)) or {}


def page_state(draft: Draft, organism: Organism, token: str | None = None) -> dict[str, Any]:
    check = current_check(draft, organism, token=token)
    files = bulk_data_files.current(draft)
    return {
        "metadata_file": files.get("metadata"),
        "sequences_file": files.get("sequences"),
        "report": check.summary if _fits(check, files) else None,
        "plans": plans(draft, organism, check) or {},
    }


def _ready_links(draft: Draft, organism: Organism, check: BulkCheck) -> list[files_protocol.FileLink]:
    files = ready_files(draft)
    by_path = {(f.category, f.path): f for f in files}
    links: list[files_protocol.FileLink] = []
    for category, plan in (plans(draft, organism, check) or {}).items():
        if plan.missing:
            listed = ", ".join(short(path) for path in plan.missing[:10]) + (" …" if len(plan.missing) > 10 else "")
            raise SubmitRefused(
                f"The following {category} files were referenced in metadata but not uploaded: {listed}."
            )
        if plan.unreferenced:
            listed = ", ".join(short(path) for path in list(plan.unreferenced)[:10])
            listed += " …" if len(plan.unreferenced) > 10 else ""
            raise SubmitRefused(
                f"The following {category} files were uploaded but not referenced in metadata: {listed}. "
                "Remove them, or name them in the metadata."
            )
        for path, targets in plan.linked.items():
            upload = by_path[(category, path)]
            links.extend(files_protocol.FileLink(link.entry, category, link.name, upload.file_id) for link in targets)
        links.extend(files_protocol.FileLink(entry, category, name, file_id) for entry, name, file_id in plan.reused)
    return links


def _checked(draft: Draft, organism: Organism, token: str | None) -> tuple[BulkFile, BulkFile | None, BulkCheck]:
    """The claimed draft's files and their check, or SubmitRefused saying what stops the submit."""
    files = bulk_data_files.current(draft)
    metadata, sequences = files.get("metadata"), files.get("sequences")
    if not metadata:
        raise SubmitRefused("Please add a metadata file.")
    if organism.consensus_sequences and not sequences:
        raise SubmitRefused("Please add a sequence file.")
    check = current_check(draft, organism, token=token)
    if check is None:
        raise SubmitRefused("The files could not be checked yet. Please try again in a moment.")
    report = check.summary
    if report.get("unreadable"):
        raise SubmitRefused(f"The files could not be read: {report['unreadable']}")
    if report.get("errors"):
        raise SubmitRefused(
            f"The files have {report['errors']} problem(s) that Loculus would refuse (listed next to the files). "
            "Please correct them and choose the corrected file again."
        )
    return metadata, sequences, check


def parts(draft: Draft, organism: Organism, token: str | None = None) -> PartsMaker:
    """The parts of a bulk draft, built once it is claimed (so its files cannot change between the
    checks below and the send): the metadata rewritten to TSV with the links, the FASTA as it came."""

    def make(stack: contextlib.ExitStack) -> Parts:
        metadata, sequences, check = _checked(draft, organism, token)
        links = _ready_links(draft, organism, check)
        wire = wire_for(organism, links)
        if not links and check.backend_metadata and check.backend_columns == wire.columns:
            # Written when the files passed their check.
            metadata_stream = stack.enter_context(bulk_data_files.open_stored(check.backend_metadata))
            log.info("draft %s: prepared metadata, no file links, %s", draft.pk, wire.protocol)
        else:
            metadata_path = stack.enter_context(bulk_data_files.local_path(metadata.stored))
            backend_tsv = (
                Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="submitportal-"))) / "metadata.tsv"
            )
            rows = write_backend_tsv(
                metadata_path, metadata.name, backend_tsv, wire.columns, wire.cells, limits=limits()
            )
            log.info("draft %s: %d rows, %d file links, %s", draft.pk, rows, len(links), wire.protocol)
            metadata_stream = stack.enter_context(backend_tsv.open("rb"))
        sequence_part = None
        if sequences:
            stream = stack.enter_context(bulk_data_files.open_stored(sequences.stored))
            # The backend picks the format from the name, case-sensitively: give it a plain one.
            _, compression = split_compression(sequences.name)
            sequence_part = client.UploadPart(f"sequences.fasta{compression or ''}", stream, "application/octet-stream")
        return Parts(
            client.UploadPart("metadata.tsv", metadata_stream, "text/tab-separated-values"), sequence_part, wire
        )

    return make


def submission_ids(draft: Draft, organism: Organism, token: str | None = None) -> list[str]:
    """The entries of the draft's checked metadata (none without a check)."""
    check = current_check(draft, organism, token=token)
    return (check.entries or []) if check else []
