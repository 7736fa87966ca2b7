"""Revise, revoke and download released entries: the checks and formats of contract §4.2, §5.6 and §5.7.

Pure Python, no Flask, like :mod:`sandbox.submit_validation`: the backend hands in the upload,
a :class:`FileLookup` and the store's entries. The order of the checks is the backend's
(``SubmitModel.processSubmissions`` for a ``RevisionSubmissionParams``, and
``AccessionPreconditionValidator`` for the accession checks), so the first failing check wins
as it does there.
"""

from __future__ import annotations

import datetime as dt
import io
import lzma
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import zstandard

from sandbox.organisms import Organism
from sandbox.problems import BadRequest, Forbidden, InternalError, Unprocessable
from sandbox.processing import Processed
from sandbox.state import SequenceEntry
from sandbox.submit_validation import (
    BATCH_SIZE,
    METADATA_EXTENSIONS,
    SEQUENCE_EXTENSIONS,
    FileLookup,
    FilesMap,
    MetadataEntry,
    SubmitUpload,
    ValidatedSubmission,
    collect_fasta_ids,
    detect_compression,
    iter_fasta,
    iter_metadata_entries,
    open_decompressed,
    parse_file_mapping,
    text_lines,
    validate_fasta_id_sets,
    validate_files,
)

RELEASED = "APPROVED_FOR_RELEASE"
MAX_SUBMITTED_DATA_DOWNLOAD_ENTRIES = 500

# Given the accessions of a revision in file order, check them as the backend does and
# return each one's latest version (whose group and data use terms the revision inherits).
Associate = Callable[[list[str]], dict[str, SequenceEntry]]


# --------------------------------------------------------------------------------------
# Accession checks (AccessionPreconditionValidator; contract §4.4 rows 12-12d, §5.6)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    username: str
    is_super_user: bool


def latest_versions(entries: Iterable[SequenceEntry]) -> dict[str, SequenceEntry]:
    latest: dict[str, SequenceEntry] = {}
    for entry in entries:
        known = latest.get(entry.accession)
        if known is None or entry.version > known.version:
            latest[entry.accession] = entry
    return latest


def check_latest_versions_released(
    accessions: list[str],
    latest: dict[str, SequenceEntry],
    caller: Caller,
    members_of: Callable[[int], list[str]],
    organism: Organism,
) -> list[SequenceEntry]:
    """``thatAccessionsExist(…).andThatUserIsAllowedToEditSequenceEntries(…)
    .andThatSequenceEntriesAreInStates([APPROVED_FOR_RELEASE]).andThatOrganismIs(…)``."""
    found = [latest[accession] for accession in dict.fromkeys(accessions) if accession in latest]
    # The backend compares the number of rows found with the number of accessions asked for,
    # so an accession named twice fails here even when every accession exists.
    if len(found) != len(accessions):
        missing = sorted(accession for accession in accessions if accession not in latest)
        raise Unprocessable(f"Accessions {', '.join(missing)} do not exist")
    if not caller.is_super_user:
        by_group: dict[int, list[str]] = {}
        for entry in found:
            by_group.setdefault(entry.group_id, []).append(entry.display)
        for group_id, displays in by_group.items():
            if caller.username not in members_of(group_id):
                raise Forbidden(
                    f"User {caller.username} is not a member of group(s) {group_id}. Action not allowed. "
                    f"Affected AccessionVersions: [{', '.join(displays)}]"
                )
    unreleased = [f"{e.display} - {e.status}" for e in sorted(found, key=lambda e: e.accession) if e.status != RELEASED]
    if unreleased:
        raise Unprocessable(f"Accession versions are not in one of the states [{RELEASED}]: {', '.join(unreleased)}")
    by_organism: dict[str, list[SequenceEntry]] = {}
    for entry in found:
        if entry.organism != organism.key:
            by_organism.setdefault(entry.organism, []).append(entry)
    if by_organism:
        parts = [
            f"organism {other}: " + ", ".join(e.display for e in sorted(others, key=lambda e: e.accession))
            for other, others in by_organism.items()
        ]
        raise Unprocessable(f"The following accession versions are not of organism {organism.key}: {' - '.join(parts)}")
    return found


# --------------------------------------------------------------------------------------
# /revise (contract §4.2, §4.4, §4.6)
# --------------------------------------------------------------------------------------


def collect_revised_metadata(entries: Iterator[MetadataEntry]) -> list[MetadataEntry]:
    """Consume rows in the backend's batches; a batch insert into the aux table finds duplicates.

    The aux table's primary key (upload_id, submission_id) is checked before its unique
    (upload_id, accession) constraint, as PostgreSQL checks the older index first.
    """
    collected: list[MetadataEntry] = []
    ids: set[str] = set()
    accessions: set[str] = set()
    batch: list[MetadataEntry] = []

    def insert(rows: list[MetadataEntry]) -> None:
        for row in rows:
            if row.submission_id in ids:
                raise Unprocessable(f"Duplicate submission_id found in metadata file: {row.submission_id}")
            if row.accession in accessions:
                raise Unprocessable(f"Duplicate accession found in metadata file: {row.accession}")
            ids.add(row.submission_id)
            accessions.add(str(row.accession))
        collected.extend(rows)

    for entry in entries:
        batch.append(entry)
        if len(batch) == BATCH_SIZE:
            insert(batch)
            batch = []
    insert(batch)
    return collected


def validate_revision(upload: SubmitUpload, lookup: FileLookup, associate: Associate) -> ValidatedSubmission:
    """Run the revision checks in the backend's order; raise the first failing Problem.

    ``upload.group_id`` is unused: a revision has no group of its own, each row takes its
    accession's group.
    """
    legacy = upload.generation == "legacy"
    organism = upload.organism
    legacy_files = parse_file_mapping(upload.file_mapping, organism) if legacy else None
    if legacy_files is not None:
        validate_files(legacy_files, organism, lookup, forbid_whitespace=False)

    compression = detect_compression(upload.metadata_file, "Metadata file", METADATA_EXTENSIONS)
    with open_decompressed(upload.metadata_file, compression) as binary:
        try:
            entries = collect_revised_metadata(
                iter_metadata_entries(text_lines(binary), files_columns=not legacy, revision=True)
            )
        except (OSError, EOFError, zstandard.ZstdError, lzma.LZMAError) as error:
            raise InternalError(str(error)) from None

    sequence_ids: list[str] = []
    if upload.sequence_file is None:
        if organism.consensus_sequences:
            raise BadRequest(f"Submissions for organism {organism.key} require a sequence file.")
    else:
        if not organism.consensus_sequences:
            raise BadRequest(f"Sequence uploads are not allowed for organism {organism.key}.")
        compression = detect_compression(upload.sequence_file, "Sequence file", SEQUENCE_EXTENSIONS)
        with open_decompressed(upload.sequence_file, compression) as binary:
            try:
                sequence_ids = collect_fasta_ids(iter_fasta(binary), upload.upload_id)
            except (OSError, EOFError, zstandard.ZstdError, lzma.LZMAError) as error:
                raise InternalError(str(error)) from None
    if organism.consensus_sequences:
        validate_fasta_id_sets([fid for entry in entries for fid in entry.fasta_ids], sequence_ids)

    revised = associate([str(entry.accession) for entry in entries])
    group_of = {entry.submission_id: revised[str(entry.accession)].group_id for entry in entries}

    files: FilesMap
    if legacy:
        files = legacy_files or {}
        if legacy_files is not None:
            unknown = [submission_id for submission_id in legacy_files if submission_id not in group_of]
            if unknown:
                shown = ", ".join(f"'{submission_id}'" for submission_id in unknown[:10])
                raise Unprocessable(
                    f"File upload contains {len(unknown)} submissionIds that are not present in the "
                    f"metadata file: {shown}{', ...' if len(unknown) > 10 else ''}"
                )
    else:
        files = {entry.submission_id: entry.files for entry in entries if entry.files}
        if files:
            if not organism.files_enabled:
                raise BadRequest(f"the {organism.key} organism does not support file submission.")
            validate_files(files, organism, lookup)
    validate_revised_file_groups(files, group_of, lookup)
    return ValidatedSubmission(entries, sequence_ids, files)


def validate_revised_file_groups(files: FilesMap, group_of: dict[str, int], lookup: FileLookup) -> None:
    """Each file must belong to the group of the entry it is attached to (400, contract §4.4 row 13j)."""
    all_ids = list(dict.fromkeys(ref.file_id for cats in files.values() for refs in cats.values() for ref in refs))
    owners = lookup.owner_groups(all_ids)
    for submission_id, categories in files.items():
        group_id = group_of.get(submission_id)
        for refs in categories.values():
            for ref in refs:
                if owners.get(ref.file_id) != group_id:
                    raise BadRequest(f"File {ref.file_id} does not belong to group {group_id}.")


# --------------------------------------------------------------------------------------
# /get-submitted-data (contract §5.7; GetSubmittedDataHelpers.kt)
# --------------------------------------------------------------------------------------


def downloadable(
    entries: Iterable[SequenceEntry], organism: Organism, group_id: int, accessions: list[str] | None
) -> list[SequenceEntry]:
    """Latest versions of the group's entries that are released and not revoked, by accession."""
    latest = latest_versions(e for e in entries if e.organism == organism.key)
    chosen = [
        entry
        for entry in latest.values()
        if entry.group_id == group_id
        and entry.status == RELEASED
        and not entry.is_revocation
        and (not accessions or entry.accession in accessions)
    ]
    return sorted(chosen, key=lambda e: e.accession)


def make_unique_ids(ids: list[str]) -> list[str]:
    """``makeUniqueIds``: a repeated ID gets the first free ``_1``, ``_2``… suffix."""
    originals = set(ids)
    used: set[str] = set()
    unique = []
    for item in ids:
        if item not in used:
            used.add(item)
            unique.append(item)
            continue
        suffix = 1
        while f"{item}_{suffix}" in originals or f"{item}_{suffix}" in used:
            suffix += 1
        used.add(f"{item}_{suffix}")
        unique.append(f"{item}_{suffix}")
    return unique


def jsonb_order(keys: Iterable[str]) -> list[str]:
    """The order in which PostgreSQL's jsonb hands back object keys: shorter first, then bytewise.

    The backend stores the submitted sequences (keyed by FASTA ID) as jsonb, so the download
    lists an entry's FASTA IDs in this order, not in the order of the uploaded file.
    """
    return sorted(keys, key=lambda key: (len(key.encode()), key.encode()))


def tsv_value(value: str, first: bool) -> str:
    """Commons CSV's MINIMAL quoting as ``CSVFormat.TDF`` prints it."""
    if value == "":
        return '""' if first else ""
    needs_quotes = value[0] <= "#" or any(char in value for char in '\t\n\r"') or value[-1] <= " "
    return '"' + value.replace('"', '""') + '"' if needs_quotes else value


def tsv_row(values: list[str]) -> str:
    # CSVFormat.TDF ends records with CRLF.
    return "\t".join(tsv_value(value, index == 0) for index, value in enumerate(values)) + "\r\n"


def submitted_data_zip(entries: list[SequenceEntry], organism: Organism, *, files_columns: bool) -> bytes:
    """The zip of ``metadata.tsv`` (+ ``sequences.fasta``) that ``/revise`` accepts back unchanged.

    ``files_columns`` is False for the legacy generation, whose download had no ``files.*`` columns.
    """
    multi_segment = len(organism.segments) > 1
    ids = make_unique_ids([e.submission_id for e in entries])
    unique_fasta_ids: list[dict[str, str]] = [{} for _ in entries]
    if multi_segment:
        originals = [(index, fid) for index, e in enumerate(entries) for fid in jsonb_order(e.sequences)]
        for (index, fid), unique in zip(originals, make_unique_ids([fid for _, fid in originals]), strict=True):
            unique_fasta_ids[index][fid] = unique
    keys = sorted({key for e in entries for key in e.metadata})
    categories = organism.category_names if files_columns and organism.files_enabled else []
    header = ["id", "accession"] + (["fastaIds"] if multi_segment else []) + keys
    header += [f"files.{category}" for category in categories]
    metadata = io.StringIO()
    metadata.write(tsv_row(header))
    for index, entry in enumerate(entries):
        row = [ids[index], entry.accession]
        if multi_segment:
            row.append(" ".join(unique_fasta_ids[index].values()))
        row += [entry.metadata.get(key, "") for key in keys]
        row += [
            " ".join(f"{ref['name']}:{ref['fileId']}" for ref in (entry.files or {}).get(category, []))
            for category in categories
        ]
        metadata.write(tsv_row(row))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.tsv", metadata.getvalue().encode("utf-8"))
        if organism.consensus_sequences:
            fasta = io.StringIO()
            for index, entry in enumerate(entries):
                for fasta_id in jsonb_order(entry.sequences):
                    sequence = entry.sequences[fasta_id]
                    header_id = unique_fasta_ids[index][fasta_id] if multi_segment else ids[index]
                    fasta.write(f">{header_id}\n{sequence}\n")
            archive.writestr("sequences.fasta", fasta.getvalue().encode("utf-8"))
    return buffer.getvalue()


def submitted_data_filename(organism: Organism, now: dt.datetime) -> str:
    return f"{organism.key}_submitted_data_{now.strftime('%Y%m%dT%H%M%SZ')}.zip"


# --------------------------------------------------------------------------------------
# /revoke (contract §5.6; SubmissionDatabaseService.revoke)
# --------------------------------------------------------------------------------------


def revocation_of(latest: SequenceEntry, username: str, comment: str | None, now: str) -> SequenceEntry:
    """Version N+1 of a released entry that revokes it: no sequences, no files, the comment as metadata.

    The backend's view shows a revocation as PROCESSED without errors or warnings at once,
    and its processed metadata is its submitted metadata.
    """
    metadata = {"versionComment": comment} if comment is not None else {}
    return SequenceEntry(
        accession=latest.accession,
        version=latest.version + 1,
        organism=latest.organism,
        submission_id=latest.submission_id,
        group_id=latest.group_id,
        submitter=username,
        data_use_terms=dict(latest.data_use_terms),
        submitted_at=now,
        status="PROCESSED",
        is_revocation=True,
        metadata=dict(metadata),
        processed=Processed(metadata=dict(metadata)),
    )
