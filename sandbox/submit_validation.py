"""Validation of ``/{organism}/submit`` uploads, in the Loculus backend's order and words.

Pure Python, no Flask: the backend hands in the parameters and the spooled upload
files, plus a :class:`FileLookup` for the checks that need the files table or S3.
The first failing check wins, exactly as in contract §4.4 (and §4.6 for the legacy
``fileMapping`` generation). Uploads are streamed line by line and never read whole
into memory: a FASTA may be gigabytes.
"""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import io
import json
import lzma
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Protocol

import zstandard

from sandbox.organisms import Organism
from sandbox.problems import BadRequest, InternalError, Unprocessable

GENERATIONS = ("current", "legacy")
BATCH_SIZE = 1000  # the backend inserts into its aux tables in batches of this size
FILES_PREFIX = "files."
FILE_ID_LENGTH = 36

METADATA_EXTENSIONS = ("tsv",)
SEQUENCE_EXTENSIONS = ("fa", "fasta", "seq", "fna", "fas")
# Order as Kotlin's CompressionAlgorithm enum; NONE ("") first.
COMPRESSIONS = ("", ".zst", ".xz", ".gz", ".zip", ".bz2", ".lzma")

# Java's Character.isWhitespace, which the backend uses for ids and file names.
JAVA_WHITESPACE = frozenset(" \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f")
# Apache Commons CSV trims "surrounding spaces": whitespace other than the tab delimiter.
TSV_SURROUNDING = " \n\x0b\x0c\r\x1c\x1d\x1e\x1f"
FORBIDDEN_FILENAME_CHARS = frozenset('<>:"/\\|?*')


# --------------------------------------------------------------------------------------
# Data use terms (contract §4.4 rows 3-3e)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataUseTerms:
    type: str
    restricted_until: str | None = None

    def as_json(self) -> dict[str, str]:
        if self.type == "RESTRICTED":
            return {"type": "RESTRICTED", "restrictedUntil": str(self.restricted_until)}
        return {"type": "OPEN"}


def add_one_year(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February, as kotlinx-datetime's plus(1, YEAR) clamps it
        return day.replace(year=day.year + 1, day=28)


def validate_data_use_terms(
    terms_type: str | None, restricted_until: str | None, today: dt.date, *, enabled: bool = True
) -> DataUseTerms:
    """``terms_type`` is already converted (None when absent or empty), as Spring hands it over."""
    if not enabled:
        return DataUseTerms("OPEN")
    if terms_type is None:
        raise BadRequest("the 'dataUseTermsType' needs to be provided.")
    if terms_type == "OPEN":
        return DataUseTerms("OPEN")
    if restricted_until is None:
        raise BadRequest("The date 'restrictedUntil' must be set if 'dataUseTermsType' is RESTRICTED.")
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", restricted_until):
            raise ValueError(restricted_until)
        until = dt.date.fromisoformat(restricted_until)
    except ValueError:
        raise BadRequest(
            f"The date 'restrictedUntil' must be a valid date in the format YYYY-MM-DD: {restricted_until}."
        ) from None
    if until < today:
        raise BadRequest("The date 'restrictedUntil' must be in the future, up to a maximum of 1 year from now.")
    if until > add_one_year(today):
        raise BadRequest("The date 'restrictedUntil' must not exceed 1 year from today.")
    return DataUseTerms("RESTRICTED", until.isoformat())


# --------------------------------------------------------------------------------------
# File names, extensions and compression (rows 4-4b, 9)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    """A multipart file part as the backend sees it: its client filename and its spooled bytes."""

    filename: str | None
    stream: IO[bytes]


def detect_compression(upload: UploadedFile, display_name: str, extensions: tuple[str, ...]) -> str:
    if upload.filename is None:
        raise BadRequest(f"{display_name} file missing")
    for compression in COMPRESSIONS:
        if any(upload.filename.endswith(ext + compression) for ext in extensions):
            return compression
    compressed = ", .".join(ext + c for c in COMPRESSIONS[1:] for ext in extensions)
    raise BadRequest(
        f"{display_name} has wrong extension. Must be .{', .'.join(extensions)} for uncompressed "
        f"submissions or .{compressed} for compressed submissions"
    )


MAGIC = {
    ".gz": (b"\x1f\x8b",),
    ".bz2": (b"BZh",),
    ".xz": (b"\xfd7zXZ\x00",),
    ".zst": (b"\x28\xb5\x2f\xfd",),
    ".lzma": (b"\x5d\x00\x00",),
}


def open_decompressed(upload: UploadedFile, compression: str) -> IO[bytes]:
    """A binary stream of the decompressed content, read lazily."""
    stream = upload.stream
    stream.seek(0)
    if compression == "":
        return stream
    if compression == ".zip":
        try:
            archive = zipfile.ZipFile(stream)
            first = archive.infolist()[0]
        except (zipfile.BadZipFile, IndexError) as error:
            raise InternalError(str(error) or "Invalid zip archive") from None
        return archive.open(first)
    # Commons Compress sniffs the content rather than trusting the extension; any
    # known format is decoded, and an unknown signature is an unhandled error (500).
    head = stream.read(8)
    stream.seek(0)
    for kind, signatures in MAGIC.items():
        if any(head.startswith(signature) for signature in signatures):
            return _decompressor(kind, stream)
    raise InternalError("No Compressor found for the stream signature.")


def _decompressor(kind: str, stream: IO[bytes]) -> IO[bytes]:
    if kind == ".gz":
        return gzip.GzipFile(fileobj=stream, mode="rb")
    if kind == ".bz2":
        return bz2.BZ2File(stream, mode="rb")
    if kind == ".xz":
        return lzma.LZMAFile(stream, mode="rb", format=lzma.FORMAT_XZ)
    if kind == ".lzma":
        return lzma.LZMAFile(stream, mode="rb", format=lzma.FORMAT_ALONE)
    return zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True)  # type: ignore[return-value]


# --------------------------------------------------------------------------------------
# TSV reading, mimicking Apache Commons CSV with CSVFormat.TDF (row 5)
# --------------------------------------------------------------------------------------


class TsvSyntaxError(Exception):
    """What Commons CSV raises as CSVException; the backend wraps it into row 5's message."""


def iter_tsv_records(lines: Iterable[str]) -> Iterator[list[str]]:
    """Yield the records of a tab-separated text with '"' quoting, as Commons CSV TDF parses it.

    ``lines`` are text lines including their line ends. Empty lines are skipped, values are
    trimmed of surrounding spaces unless quoted, and quoted values may span lines.
    """
    line_iter = iter(lines)
    line_number = 0
    for line in line_iter:
        line_number += 1
        if line in ("\n", "\r\n", "\r", ""):
            continue
        if '"' not in line:
            # Fast path: no quoting possible on this line.
            yield [value.strip(TSV_SURROUNDING) for value in line.rstrip("\r\n").split("\t")]
            continue
        record, line_number = _parse_quoted_record(line, line_iter, line_number)
        yield record


def _parse_quoted_record(line: str, more: Iterator[str], line_number: int) -> tuple[list[str], int]:
    values: list[str] = []
    buffer = line
    pos = 0
    start_line = line_number
    while True:
        # Start of a token: skip surrounding spaces.
        while pos < len(buffer) and buffer[pos] in " \x0b\x0c\x1c\x1d\x1e\x1f":
            pos += 1
        if pos < len(buffer) and buffer[pos] == '"':
            pos += 1
            token: list[str] = []
            while True:
                if pos >= len(buffer):
                    nxt = next(more, None)
                    if nxt is None:
                        raise TsvSyntaxError(
                            f"(startline {start_line:,}) EOF reached before encapsulated token finished"
                        )
                    line_number += 1
                    buffer, pos = nxt, 0
                    continue
                char = buffer[pos]
                if char == '"':
                    if pos + 1 < len(buffer) and buffer[pos + 1] == '"':
                        token.append('"')
                        pos += 2
                        continue
                    pos += 1
                    break
                token.append(char)
                pos += 1
            # After the closing quote only whitespace may come before the delimiter or line end.
            while pos < len(buffer) and buffer[pos] not in "\t\r\n":
                if buffer[pos] not in JAVA_WHITESPACE:
                    raise TsvSyntaxError(
                        "Invalid character between encapsulated token and delimiter at line: "
                        f"{line_number:,}, position: {pos + 1:,}"
                    )
                pos += 1
            values.append("".join(token))
        else:
            end = pos
            while end < len(buffer) and buffer[end] not in "\t\r\n":
                end += 1
            values.append(buffer[pos:end].strip(TSV_SURROUNDING))
            pos = end
        if pos < len(buffer) and buffer[pos] == "\t":
            pos += 1
            continue
        return values, line_number


def text_lines(binary: IO[bytes]) -> io.TextIOWrapper:
    # Java's InputStreamReader replaces undecodable bytes rather than failing.
    return io.TextIOWrapper(binary, encoding="utf-8", errors="replace", newline=None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# Metadata records (rows 5b-7)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileRef:
    file_id: str
    name: str

    def as_json(self) -> dict[str, str]:
        return {"fileId": self.file_id, "name": self.name}


@dataclass
class MetadataEntry:
    submission_id: str
    metadata: dict[str, str]
    fasta_ids: list[str]
    files: dict[str, list[FileRef]] | None = None
    accession: str | None = None  # revisions only


@dataclass
class TsvRecord:
    """A parsed data row plus its header map, with Commons CSV's lookup semantics."""

    values: list[str]
    header_map: dict[str, int]
    record_number: int

    def get(self, name: str) -> str:
        index = self.header_map[name]
        if index >= len(self.values):
            # Commons CSV throws IllegalArgumentException here, which the backend does not map: 500.
            raise InternalError(
                f"Index for header '{name}' is {index} but CSVRecord only has {len(self.values)} values!"
            )
        return self.values[index]

    def as_map(self) -> dict[str, str]:
        return {name: self.values[i] for name, i in self.header_map.items() if i < len(self.values)}

    def __str__(self) -> str:
        # CSVRecord.toString(); its record number counts the header line.
        return f"CSVRecord [comment='null', recordNumber={self.record_number + 1}, values=[{', '.join(self.values)}]]"


def invalid_tsv(error: Exception) -> Unprocessable:
    return Unprocessable(
        "The metadata file is not a valid TSV file. Common causes include: fields not separated by tabs, "
        "improperly formatted quoted fields, inconsistent number of fields per row, or empty lines. "
        f"Error: {error}"
    )


def parse_uuid_like_java(text: str) -> str | None:
    """Parse as java.util.UUID.fromString does (lenient on lengths); None if it throws."""
    if len(text) > 36:
        return None
    parts = text.split("-")
    if len(parts) != 5:
        return None
    numbers: list[int] = []
    for part in parts:
        if not part or not re.fullmatch(r"[+-]?[0-9a-fA-F]+", part):
            return None
        value = int(part, 16)
        if not -(2**63) <= value < 2**63:
            return None
        numbers.append(value)
    msb = ((numbers[0] & 0xFFFFFFFF) << 32) | ((numbers[1] & 0xFFFF) << 16) | (numbers[2] & 0xFFFF)
    lsb = ((numbers[3] & 0xFFFF) << 48) | (numbers[4] & 0xFFFFFFFFFFFF)
    hex_digits = f"{msb:016x}{lsb:016x}"
    return f"{hex_digits[:8]}-{hex_digits[8:12]}-{hex_digits[12:16]}-{hex_digits[16:20]}-{hex_digits[20:]}"


def _file_ref_from_token(token: str, header: str, submission_id: str, record_number: int) -> FileRef:
    prefix = f"In metadata file: record #{record_number} with id '{submission_id}': "
    hint = "Expected format 'fileName:fileId'. Please also ensure file names do not contain whitespace."
    separator = token.rfind(":")
    if separator < 0:
        raise Unprocessable(f"{prefix}file entry '{token}' in column '{header}' is missing a file ID. {hint}")
    name, file_id_text = token[:separator], token[separator + 1 :]
    if not name:
        raise Unprocessable(f"{prefix}file entry '{token}' in column '{header}' is missing a file name. {hint}")
    file_id = parse_uuid_like_java(file_id_text)
    if file_id is None:
        raise Unprocessable(
            f"{prefix}file entry '{token}' in column '{header}' has an invalid file ID '{file_id_text}'. "
            "Expected a UUID."
        )
    if len(file_id_text) != FILE_ID_LENGTH:
        raise Unprocessable(
            f"{prefix}file entry '{token}' in column '{header}' has an invalid file ID '{file_id_text}'. "
            f"Expected a UUID of length {FILE_ID_LENGTH} but received a UUID of length {len(file_id_text)}."
        )
    return FileRef(file_id, name)


def _duplicates(items: Iterable[str]) -> list[str]:
    seen: dict[str, int] = {}
    for item in items:
        seen[item] = seen.get(item, 0) + 1
    return [item for item, count in seen.items() if count > 1]


def _value_without_whitespace(record: TsvRecord, field_name: str) -> str:
    value = record.get(field_name)
    if not value:
        row = "['" + "', '".join(record.values) + "']"
        raise Unprocessable(
            f"Record #{record.record_number} in the metadata file contains no value for '{field_name}'. Row: {row}"
        )
    if any(char in JAVA_WHITESPACE for char in value):
        raise Unprocessable(
            f"Record #{record.record_number} in the metadata file: the value for '{field_name}' "
            f"contains whitespace: '{value}'"
        )
    return value


def iter_metadata_entries(
    text: Iterable[str], *, files_columns: bool, revision: bool = False
) -> Iterator[MetadataEntry]:
    """Parse metadata rows as ``metadataEntryStreamAsSequence`` (or, for ``revision``,
    ``revisionEntryStreamAsSequence``, which also wants an ``accession`` column) does.

    ``files_columns`` is False for the legacy generation, where ``files.*`` columns were
    ordinary metadata.
    """
    records = iter_tsv_records(text)
    try:
        header = next(records, None)
    except TsvSyntaxError as error:
        raise invalid_tsv(error) from None
    header = header or []
    if any(not name.strip() for name in header) and header:
        raise InternalError(f"A header name is missing in [{', '.join(header)}]")
    header_map: dict[str, int] = {}
    for index, name in enumerate(header):
        header_map[name] = index  # Commons CSV (duplicates allowed): the last column wins

    id_headers = [name for name in ("id", "submissionId") if name in header_map]
    if not id_headers:
        raise Unprocessable("The metadata file does not contain either header 'id' or 'submissionId'")
    if len(id_headers) > 1:
        raise Unprocessable("The metadata file contains both 'id' and 'submissionId'. Only one is allowed.")
    id_header = id_headers[0]
    file_headers: list[str] = []
    if files_columns:
        file_headers = [name for name in header if name.startswith(FILES_PREFIX)]
        duplicate_headers = _duplicates(file_headers)
        if duplicate_headers:
            raise Unprocessable("In metadata file: found duplicate file headers: " + ", ".join(duplicate_headers))
        file_headers = list(dict.fromkeys(file_headers))
    if revision and "accession" not in header_map:
        raise Unprocessable("The revised metadata file does not contain the header 'accession'")

    record_number = 0
    while True:
        try:
            values = next(records, None)
        except TsvSyntaxError as error:
            raise invalid_tsv(error) from None
        if values is None:
            return
        record_number += 1
        record = TsvRecord(values, header_map, record_number)
        submission_id = _value_without_whitespace(record, id_header)
        accession = _value_without_whitespace(record, "accession") if revision else None
        fasta_ids = _fasta_ids(record, submission_id)
        files = _files(record, submission_id, file_headers) if file_headers else None
        metadata = {
            name: value
            for name, value in record.as_map().items()
            if name != id_header
            and name != "fastaIds"
            and not (revision and name == "accession")
            and not (files_columns and name.startswith(FILES_PREFIX))
        }
        if not metadata:
            raise Unprocessable(
                f"In metadata file: record #{record_number} with id {submission_id} contains no metadata. "
                "This is invalid."
            )
        yield MetadataEntry(submission_id, metadata, fasta_ids, files, accession)


def _fasta_ids(record: TsvRecord, submission_id: str) -> list[str]:
    if "fastaIds" not in record.header_map:
        return [submission_id]
    cell = record.get("fastaIds")
    if not cell:
        raise Unprocessable(
            f"In metadata file: record #{record.record_number}: column `fastaIds` is empty. "
            f"This is invalid. Full record: {record}"
        )
    fasta_ids = [token.strip() for token in cell.split(" ") if token.strip()]
    duplicates = _duplicates(fasta_ids)
    if duplicates:
        raise Unprocessable(
            f"In metadata file: record #{record.record_number} with id '{submission_id}': "
            f"found duplicate fasta ids in column 'fastaIds': {', '.join(duplicates)}"
        )
    return list(dict.fromkeys(fasta_ids))


def _files(record: TsvRecord, submission_id: str, file_headers: list[str]) -> dict[str, list[FileRef]] | None:
    files: dict[str, list[FileRef]] = {}
    for header in file_headers:
        cell = record.get(header)
        if not cell:
            continue
        refs = [
            _file_ref_from_token(token.strip(), header, submission_id, record.record_number)
            for token in cell.split(" ")
            if token.strip()
        ]
        duplicates = _duplicates(ref.name for ref in refs)
        if duplicates:
            raise Unprocessable(
                f"In metadata file: record #{record.record_number} with id '{submission_id}': "
                f"found duplicate file names in column '{header}': {', '.join(duplicates)}"
            )
        files[header[len(FILES_PREFIX) :]] = refs
    return files or None


def postgres_duplicate_text(table: str, upload_id: str, key: str) -> str:
    """What ``e.cause?.cause`` prints for a unique-key violation in the backend's aux tables."""
    return (
        "org.postgresql.util.PSQLException: ERROR: duplicate key value violates unique constraint "
        f'"{table}_pkey"\n  Detail: Key (upload_id, submission_id)=({upload_id}, {key}) already exists.'
    )


def collect_metadata(entries: Iterator[MetadataEntry], upload_id: str) -> list[MetadataEntry]:
    """Consume entries in the backend's batches, detecting duplicate ids when a batch is inserted."""
    collected: list[MetadataEntry] = []
    seen: set[str] = set()
    batch: list[MetadataEntry] = []

    def insert(rows: list[MetadataEntry]) -> None:
        for row in rows:
            if row.submission_id in seen:
                raise Unprocessable(
                    "Metadata file contains at least one duplicate submissionId: "
                    + postgres_duplicate_text("metadata_upload_aux_table", upload_id, row.submission_id)
                )
            seen.add(row.submission_id)
        collected.extend(rows)

    for entry in entries:
        batch.append(entry)
        if len(batch) == BATCH_SIZE:
            insert(batch)
            batch = []
    insert(batch)
    return collected


# --------------------------------------------------------------------------------------
# FASTA (rows 10-10b)
# --------------------------------------------------------------------------------------

LINE_CHUNK = 1 << 20  # a sequence line may be gigabytes long: read lines in bounded pieces
JAVA_SPLIT_WHITESPACE = re.compile(r"[ \t\n\x0b\x0c\r]+")


@dataclass(frozen=True)
class FastaEntry:
    fasta_id: str
    length: int


def iter_fasta(binary: IO[bytes]) -> Iterator[FastaEntry]:
    """Yield FASTA entries as the backend's ``FastaReader`` reads them, keeping only ids and lengths.

    Like FastaReader it reads one entry ahead, so an empty sequence right after entry *n*
    is reported when entry *n* is handed out.
    """
    pending: FastaEntry | None = None
    for entry in _fasta_entries(binary):
        if pending is not None:
            yield pending
        pending = entry
    if pending is not None:
        yield pending


def _fasta_entries(binary: IO[bytes]) -> Iterator[FastaEntry]:
    fasta_id: str | None = None
    length = 0
    for line in _bounded_lines(binary):
        if line.is_header:
            if fasta_id is not None:
                if length == 0:
                    raise _empty_fasta(fasta_id)
                yield FastaEntry(fasta_id, length)
                length = 0
            header = line.text.decode("utf-8", errors="replace")[1:]
            fasta_id = JAVA_SPLIT_WHITESPACE.split(header)[0]
        else:
            # Lines before the first header count toward the first entry, as in FastaReader.
            length += line.length
    if fasta_id is not None:
        if length == 0:
            raise _empty_fasta(fasta_id)
        yield FastaEntry(fasta_id, length)


def _empty_fasta(fasta_id: str) -> Unprocessable:
    return Unprocessable(
        f"FASTA sequence with id `{fasta_id}` is empty (does not contain at least a single nucleotide)."
    )


@dataclass
class _Line:
    is_header: bool
    text: bytes  # the start of the line (bounded), enough for a header
    length: int  # sequence characters on a non-blank sequence line


def _bounded_lines(binary: IO[bytes]) -> Iterator[_Line]:
    """Split into lines without ever holding more than LINE_CHUNK bytes of one line."""
    reader = binary if isinstance(binary, io.BufferedIOBase) else io.BufferedReader(binary)  # type: ignore[arg-type]
    while True:
        piece = reader.readline(LINE_CHUNK)
        if not piece:
            return
        head = piece
        length = 0
        blank = True
        while True:
            content = piece.rstrip(b"\r\n")
            if content.strip(b" \t\x0b\x0c\x1c\x1d\x1e\x1f"):
                blank = False
            length += len(content)
            if piece.endswith(b"\n"):
                break
            piece = reader.readline(LINE_CHUNK)
            if not piece:
                break
        if blank:
            continue  # FastaReader skips blank lines
        yield _Line(head.startswith(b">"), head[:LINE_CHUNK].rstrip(b"\r\n"), length)


def collect_fasta_ids(entries: Iterator[FastaEntry], upload_id: str) -> list[str]:
    ids: list[str] = []
    seen: set[str] = set()
    batch: list[FastaEntry] = []

    def insert(rows: list[FastaEntry]) -> None:
        for row in rows:
            if row.fasta_id in seen:
                raise Unprocessable(
                    "Sequence file contains at least one duplicate submissionId: "
                    + postgres_duplicate_text("sequence_upload_aux_table", upload_id, row.fasta_id)
                )
            seen.add(row.fasta_id)
            ids.append(row.fasta_id)

    for entry in entries:
        batch.append(entry)
        if len(batch) == BATCH_SIZE:
            insert(batch)
            batch = []
    insert(batch)
    return ids


def _quoted_list(items: list[str]) -> str:
    # Kotlin joinToString(limit = 10) { "'$it'" }: ten items, then "..."
    shown = [f"'{item}'" for item in items[:10]]
    if len(items) > 10:
        shown.append("...")
    return ", ".join(shown)


def validate_fasta_id_sets(metadata_fasta_ids: list[str], sequence_fasta_ids: list[str]) -> None:
    metadata_set = list(dict.fromkeys(metadata_fasta_ids))
    if len(metadata_set) < len(metadata_fasta_ids):
        raise Unprocessable("Metadata file contains duplicate fastaIds.")
    sequence_set = set(sequence_fasta_ids)
    metadata_lookup = set(metadata_set)
    missing_in_sequences = [fasta_id for fasta_id in metadata_set if fasta_id not in sequence_set]
    missing_in_metadata = [
        fasta_id for fasta_id in dict.fromkeys(sequence_fasta_ids) if fasta_id not in metadata_lookup
    ]
    if not missing_in_sequences and not missing_in_metadata:
        return
    text = ""
    if missing_in_sequences:
        text += (
            f"Metadata file contains {len(missing_in_sequences)} FASTA ids that are not present in the "
            f"sequence file: {_quoted_list(missing_in_sequences)}. "
        )
    if missing_in_metadata:
        text += (
            f"Sequence file contains {len(missing_in_metadata)} FASTA ids that are not present in the "
            f"metadata file: {_quoted_list(missing_in_metadata)}"
        )
    raise Unprocessable(text)


# --------------------------------------------------------------------------------------
# Files attached to entries (rows 13-13i, legacy §4.6)
# --------------------------------------------------------------------------------------

FilesMap = dict[str, dict[str, list[FileRef]]]  # submissionId -> category -> files


class FileLookup(Protocol):
    """What the file checks need from the backend's files table and from S3."""

    def uncompleted_multipart(self, file_ids: list[str]) -> list[tuple[str, str]]: ...

    def nonexistent(self, file_ids: list[str]) -> list[str]: ...

    def expired(self, file_ids: list[str]) -> list[str]: ...

    def not_uploaded(self, file_ids: list[str]) -> list[str]: ...

    def owner_groups(self, file_ids: list[str]) -> dict[str, int]: ...


def parse_file_mapping(raw: str | None, organism: Organism) -> FilesMap | None:
    """Legacy ``fileMapping`` part: ``{submissionId: {category: [{fileId, name}]}}`` (contract §4.6)."""
    if raw is None:
        return None
    if not organism.files_enabled:
        raise BadRequest(f"the {organism.key} organism does not support file submission.")
    try:
        parsed = json.loads(raw)
        if not isinstance(parsed, dict):
            raise ValueError("not an object")
        mapping: FilesMap = {}
        for submission_id, categories in parsed.items():
            if not isinstance(categories, dict):
                raise ValueError("categories not an object")
            mapping[submission_id] = {}
            for category, files in categories.items():
                if not isinstance(files, list):
                    raise ValueError("files not a list")
                refs = []
                for item in files:
                    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                        raise ValueError("bad file entry")
                    refs.append(FileRef(_jackson_uuid(item.get("fileId")), item["name"]))
                mapping[submission_id][category] = refs
        return mapping
    except ValueError:
        raise BadRequest("Failed to parse file mapping.") from None


def _jackson_uuid(value: object) -> str:
    # Jackson's UUIDDeserializer wants the canonical 36-character form.
    if not isinstance(value, str) or not re.fullmatch(
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", value
    ):
        raise ValueError("bad uuid")
    return value.lower()


def _validate_filename(name: str, category: str, *, forbid_whitespace: bool) -> None:
    prefix = f"Invalid filename '{name}' in category '{category}': "
    if not name:
        raise Unprocessable(prefix + "Filenames may not be empty")
    if len(name) > 255:
        raise Unprocessable(prefix + "Filenames may not exceed 255 characters")
    if any(char in FORBIDDEN_FILENAME_CHARS for char in name):
        raise Unprocessable(prefix + 'Filenames may not contain forbidden characters (< > : " / \\ | ? *).')
    if any(ord(char) < 32 for char in name):
        raise Unprocessable(prefix + "Filenames may not contain ASCII control characters 0-31.")
    # Whitespace came with the files.<category> columns (Loculus #6922); legacy backends accept it,
    # though tabs and newlines still fall to the control-character rule above.
    if forbid_whitespace and any(char in JAVA_WHITESPACE or char.isspace() for char in name):
        raise Unprocessable(prefix + "Filenames may not contain whitespace.")


def _unique_ids(categories: dict[str, list[FileRef]]) -> list[str]:
    return list(dict.fromkeys(ref.file_id for refs in categories.values() for ref in refs))


def validate_files(files: FilesMap, organism: Organism, lookup: FileLookup, *, forbid_whitespace: bool = True) -> None:
    """The validator chain of ``SubmissionIdFilesMappingPreconditionValidator``: each check over all entries.

    ``forbid_whitespace`` is False for the legacy generation, whose file names may contain spaces.
    """
    for categories in files.values():
        for category, refs in categories.items():
            for ref in refs:
                _validate_filename(ref.name, category, forbid_whitespace=forbid_whitespace)
    for categories in files.values():
        for category, refs in categories.items():
            duplicates = _duplicates(ref.name for ref in refs)
            if duplicates:
                raise Unprocessable(
                    f"The files in category {category} contain duplicate file names: {', '.join(duplicates)}"
                )
    allowed = organism.category_names
    for categories in files.values():
        for category in categories:
            if category not in allowed:
                raise Unprocessable(
                    f"The category {category} is not part of the configured submission categories for "
                    f"{organism.key}. Allowed categories are: {', '.join(allowed)}."
                )
    for categories in files.values():
        uncompleted = lookup.uncompleted_multipart(_unique_ids(categories))
        if uncompleted:
            raise Unprocessable(
                "The following multipart uploads have not been completed: "
                + ", ".join(f"({file_id}, {upload_id})" for file_id, upload_id in uncompleted)
            )
    for categories in files.values():
        ids = _unique_ids(categories)
        nonexistent = lookup.nonexistent(ids)
        if nonexistent:
            raise Unprocessable("The following file IDs do not exist: " + ", ".join(nonexistent))
        expired = lookup.expired(ids)
        if expired:
            raise Unprocessable(
                "The following file IDs are no longer valid because they have expired: " + ", ".join(expired)
            )
        missing = lookup.not_uploaded(ids)
        if missing:
            raise Unprocessable("No file uploaded for file IDs: " + ", ".join(missing))


def validate_file_groups(files: FilesMap, group_id: int, lookup: FileLookup) -> None:
    all_ids = list(dict.fromkeys(file_id for categories in files.values() for file_id in _unique_ids(categories)))
    for file_id, owner in lookup.owner_groups(all_ids).items():
        if owner != group_id:
            raise BadRequest(f"File {file_id} does not belong to group {group_id}.")


# --------------------------------------------------------------------------------------
# The whole submit, in order
# --------------------------------------------------------------------------------------


@dataclass
class SubmitUpload:
    organism: Organism
    generation: str
    group_id: int
    upload_id: str
    metadata_file: UploadedFile
    sequence_file: UploadedFile | None
    file_mapping: str | None = None  # the raw legacy part, when one was sent


@dataclass
class ValidatedSubmission:
    entries: list[MetadataEntry]
    fasta_ids: list[str] = field(default_factory=list)
    # submissionId -> category -> files, from whichever generation supplied them
    files: FilesMap = field(default_factory=dict)


def validate_submission(upload: SubmitUpload, lookup: FileLookup) -> ValidatedSubmission:
    """Run checks 4b-13i (submit) in the backend's order; raise the first failing Problem.

    The group and data-use-terms checks (rows 1-3e) come before this, and in the legacy
    generation so does parsing ``fileMapping`` (:func:`parse_file_mapping`), whose result
    is passed in through ``legacy_files``.
    """
    legacy = upload.generation == "legacy"
    organism = upload.organism
    legacy_files = parse_file_mapping(upload.file_mapping, organism) if legacy else None
    if legacy_files is not None:
        # Legacy backends validated the mapping before reading the metadata at all.
        validate_files(legacy_files, organism, lookup, forbid_whitespace=False)

    compression = detect_compression(upload.metadata_file, "Metadata file", METADATA_EXTENSIONS)
    with open_decompressed(upload.metadata_file, compression) as binary:
        try:
            entries = collect_metadata(
                iter_metadata_entries(text_lines(binary), files_columns=not legacy), upload.upload_id
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

    files: FilesMap
    if legacy:
        files = legacy_files or {}
        if legacy_files is not None:
            known = {entry.submission_id for entry in entries}
            unknown = [submission_id for submission_id in legacy_files if submission_id not in known]
            if unknown:
                raise Unprocessable(
                    f"File upload contains {len(unknown)} submissionIds that are not present in the "
                    f"metadata file: {_quoted_list(unknown)}"
                )
            validate_file_groups(legacy_files, upload.group_id, lookup)
    else:
        files = {entry.submission_id: entry.files for entry in entries if entry.files}
        if files:
            if not organism.files_enabled:
                raise BadRequest(f"the {organism.key} organism does not support file submission.")
            validate_files(files, organism, lookup)
            validate_file_groups(files, upload.group_id, lookup)
    return ValidatedSubmission(entries, sequence_ids, files)
