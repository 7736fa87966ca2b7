"""Reading a bulk metadata table (TSV, CSV, XLSX or XLS, possibly compressed) as a stream of rows.

TSV is read as the Loculus backend reads it (Apache Commons CSV's TDF format): tab-separated, `"`
quoting (a quoted value may hold tabs, line breaks and doubled quotes), surrounding spaces trimmed
unless quoted, empty lines ignored. CSV is the same with commas and without trimming (as Excel
writes it). Workbooks (XLSX with openpyxl, the older XLS with xlrd) are read as the Loculus website
reads them: the sheet `Data` if there is one, else the first; dates as YYYY-MM-DD. `other_sheets`
names the sheets left unread (the website warns of them).

Rows whose cells are all empty are dropped everywhere, and the rest are numbered from 1 (the first
data row), as Loculus numbers its records. Anything that stops the file being read at all raises
UnreadableFile with a sentence for the user.

The time a table takes follows its useful content: runs of lines that make no row (blank, or only
whitespace or separators) are skipped in C, a block at a time, and `Limits` bound the rows, a
value, a row, and for a workbook each of its parts before the XML parser sees them.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import logging
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple
from xml.etree.ElementTree import ParseError

from submitportal.bulkfiles.compression import (
    MAX_DECOMPRESSED_BYTES,
    UnreadableFile,
    declared_too_large,
    human_size,
    open_decompressed,
    sniff_compression,
    split_compression,
)
from submitportal.bulkfiles.limits import Limits, resolve, short

__all__ = [
    "MAX_DECOMPRESSED_BYTES",
    "MAX_XLS_BYTES",
    "MetadataTable",
    "Row",
    "cell_text",
    "open_metadata",
    "table_format",
]

log = logging.getLogger("submitportal.bulkfiles")

BLOCK = 1024 * 1024
# What Commons CSV trims around a value (Java's Character.isWhitespace, minus the tab that separates).
_TRIMMED = " \x0b\x0c\r\n\x1c\x1d\x1e\x1f"
_MIGHT_TRIM = re.compile(f"[{re.escape(_TRIMMED)}]")  # one C call tells whether a line needs trimming at all
_TEXT_FORMATS = {".tsv": "tsv", ".txt": "tsv", ".csv": "csv"}
# Runs of whole lines that make no record, matched in C: in TSV every value of such a line trims to
# nothing; in CSV the line is commas (then carriage returns) only: a CR followed by a comma is a value.
_NO_RECORD_LINES = {
    "tsv": re.compile(rb"[\t \x0b\x0c\r\n\x1c-\x1f]*\n"),
    "csv": re.compile(rb"[,\r\n]*\n"),
}
# The start of such a line that a block boundary cut off.
_NO_RECORD_START = {"tsv": re.compile(rb"[\t \x0b\x0c\r\x1c-\x1f]*"), "csv": re.compile(rb"[,\r]*")}


class Row(NamedTuple):
    number: int  # 1 = the first data row, as Loculus counts records
    line: int  # where it starts: the line of a text file, the row of a spreadsheet
    values: list[str]  # as many as the file has; shorter rows are not padded


def table_format(name: str) -> str:
    """`tsv`, `csv`, `xlsx` or `xls`, from the extension under any compression suffix."""
    base, _ = split_compression(name)
    lower = base.lower()
    for suffix, kind in _TEXT_FORMATS.items():
        if lower.endswith(suffix):
            return kind
    if lower.endswith(".xlsx"):
        return "xlsx"
    if lower.endswith(".xls"):
        return "xls"
    raise UnreadableFile(
        f"“{short(name)}” is not a metadata table the portal can read. Please upload tab-separated text (.tsv), "
        "comma-separated text (.csv) or an Excel workbook (.xlsx or .xls), optionally compressed."
    )


# The sheets of the website's template besides `Data`: the website reads neither, nor warns of them.
TEMPLATE_REFERENCE_SHEETS = frozenset({"Guidance", "_lists"})


class MetadataTable:
    """An open metadata file: `columns` (the header) and `rows()`, a single pass over the data rows.

    For a workbook, `sheet` is the sheet read and `other_sheets` the sheets that were not, besides the
    template's reference sheets (`sheet_count` counts them all).
    """

    def __init__(
        self,
        name: str,
        kind: str,
        columns: list[str],
        rows: Iterator[Row],
        resources: list,
        *,
        sheet: str | None = None,
        sheet_names: list[str] | None = None,
    ) -> None:
        self.name = name
        self.format = kind
        self.columns = columns
        self._rows = rows
        self._resources = resources
        self.sheet = sheet
        self.sheet_count = len(sheet_names or [])
        self.other_sheets = [
            other for other in sheet_names or [] if other != sheet and other not in TEMPLATE_REFERENCE_SHEETS
        ]

    def rows(self) -> Iterator[Row]:
        return self._rows

    def close(self) -> None:
        for resource in reversed(self._resources):
            resource.close()
        self._resources = []

    def __enter__(self) -> MetadataTable:
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def open_metadata(
    path: str | Path, name: str, *, max_bytes: int | None = None, limits: Limits | None = None
) -> MetadataTable:
    """Open the metadata file at `path`, uploaded as `name`, and read its header.

    Reading the rows raises UnreadableFile past `limits.max_rows` rows, or at a value or row over
    `limits.max_value` or `limits.max_row` characters.
    """
    limits = resolve(limits, max_bytes)
    kind = table_format(name)
    if kind == "xlsx":
        return _open_xlsx(Path(path), name, limits)
    if kind == "xls":
        return _open_xls(Path(path), name, limits)
    stream = open_decompressed(path, name, limits=limits)
    try:
        _refuse_binary(stream, name)
        lines = _Lines(stream, name, kind, limits.max_row)
        records = _records(lines, name, delimiter="\t" if kind == "tsv" else ",", trim=kind == "tsv", limits=limits)
        empty = (
            f"“{short(name)}” is empty. Please upload a table with a header line (column names) and one row per entry."
        )
        columns, rows = _header_and_rows(records, empty, _TextPlaces(name), limits)
    except BaseException:
        stream.close()
        raise
    return MetadataTable(name, kind, columns, rows, [stream])


class _TextPlaces:
    """Where a value or row of a text table is, in words: its row, line and column."""

    hint = 'No metadata value is that long; perhaps a quote (") is never closed. Please check the file.'

    def __init__(self, name: str) -> None:
        self.name = name

    def value(self, row: Row, columns: list[str] | None, index: int) -> str:
        return f"{self.row(row, header=columns is None)}, {_column(columns, index)}"

    def row(self, row: Row, header: bool) -> str:
        if header:
            return f"The header of “{short(self.name)}” (line {row.line})"
        return f"Row {row.number} of “{short(self.name)}” (line {row.line})"


def _column(columns: list[str] | None, index: int) -> str:
    name = columns[index] if columns is not None and index < len(columns) else ""
    return f"column “{short(name)}”" if name else f"column {index + 1}"


def _check_sizes(row: Row, columns: list[str] | None, places: _TextPlaces | _SheetPlaces, limits: Limits) -> None:
    """Refuse a value over `limits.max_value` or a row over `limits.max_row` characters, naming where it is.

    `columns` is None for the header itself. Two C calls per row when nothing is too long.
    """
    values = row.values
    if values and max(map(len, values)) > limits.max_value:
        index = next(i for i, value in enumerate(values) if len(value) > limits.max_value)
        what = "the name" if columns is None else "the value"
        raise UnreadableFile(
            f"{places.value(row, columns, index)}: {what} is longer than {human_size(limits.max_value)} "
            f"(it starts “{short(values[index])}”). {places.hint}"
        )
    if sum(map(len, values)) + len(values) > limits.max_row:
        raise UnreadableFile(
            f"{places.row(row, header=columns is None)} is longer than {human_size(limits.max_row)} in all. "
            "No metadata row is that long; please check that you chose the right file."
        )


def _header_and_rows(
    records: Iterator[Row], empty_message: str, places: _TextPlaces | _SheetPlaces, limits: Limits
) -> tuple[list[str], Iterator[Row]]:
    # The first non-empty record is the header; trailing unnamed columns (a spreadsheet's stray tabs) go.
    for record in records:
        columns = record.values
        while columns and columns[-1] == "":
            columns.pop()
        if columns:
            _check_sizes(record, None, places, limits)
            return columns, _data_rows(records, columns, places, limits)
    raise UnreadableFile(empty_message)


def _data_rows(
    records: Iterator[Row], columns: list[str], places: _TextPlaces | _SheetPlaces, limits: Limits
) -> Iterator[Row]:
    width = len(columns)
    max_rows = limits.max_rows
    number = 0
    for record in records:
        values = record.values
        if not any(values):
            continue
        # Extra empty cells at the end (stray tabs or spreadsheet padding) are not extra values. Found in C:
        # a row of a million tabs costs no million steps (no value holds a NUL: the reader refuses them).
        if len(values) > width and values[-1] == "":
            del values[max(width, "\x00".join(values).rstrip("\x00").count("\x00") + 1) :]
        number += 1
        if number > max_rows:
            raise UnreadableFile(
                f"“{short(places.name)}” has more than {max_rows:,} entries (rows), the most the portal checks in "
                f"one submission. Please split it into several submissions of at most {max_rows:,} entries each."
            )
        row = Row(number, record.line, values)
        _check_sizes(row, columns, places, limits)
        yield row


def _refuse_binary(stream: io.BufferedReader, name: str) -> None:
    head = stream.peek(8192)[:8192]
    compressed = sniff_compression(head)
    if compressed == "ZIP":
        raise UnreadableFile(
            f"“{short(name)}” looks like an Excel workbook or a ZIP archive, not text. "
            "Please name it .xlsx if it is a workbook, or add .zip to its name if it is a ZIP archive."
        )
    if head.startswith(_OLE2_MAGIC):
        raise UnreadableFile(
            f"“{short(name)}” looks like an old Excel workbook (.xls), not text. Please name it .xls if it is one."
        )
    if compressed:
        raise UnreadableFile(
            f"“{short(name)}” looks {compressed}-compressed, but its name does not say so. "
            "Please add the matching extension (e.g. .gz) to its name, or upload it uncompressed."
        )
    if b"\x00" in head:
        raise UnreadableFile(
            f"“{short(name)}” does not look like a text table: it contains binary data. "
            "Please save your table as tab-separated text (.tsv) or as an Excel workbook (.xlsx or .xls)."
        )


class _Lines:
    """The lines of a text table, read a block at a time; `skip_no_records` passes over blank lines in C.

    `number` is the line number of the line `next` returned last. A line longer than `max_line`
    characters (with its line break) stops the reading: nothing longer is ever held.
    """

    def __init__(self, stream: io.BufferedReader, name: str, kind: str, max_line: int) -> None:
        self._stream = stream
        self._name = name
        self._csv = kind == "csv"
        self._no_records = _NO_RECORD_LINES[kind]
        self._no_record_start = _NO_RECORD_START[kind]
        self._limit = max_line + 2  # a line break may be CR LF
        self._max_line = max_line
        self._buffer = b""
        self._pos = 0
        self._eof = False
        self.number = 0

    def _fill(self) -> bool:
        if self._eof:
            return False
        block = self._stream.read(BLOCK)
        if not block:
            self._eof = True
            return False
        self._buffer = self._buffer[self._pos :] + block
        self._pos = 0
        return True

    def next(self) -> bytes | None:
        """The next line with its line break, or None at the end."""
        while True:
            start = self._pos
            newline = self._buffer.find(b"\n", start, start + self._limit)
            if newline != -1:
                end = newline + 1
            elif len(self._buffer) - start >= self._limit:
                raise self._too_long(self.number + 1)
            elif self._fill():
                continue
            elif start == len(self._buffer):
                return None
            else:
                end = len(self._buffer)
            self._pos = end
            self.number += 1
            return self._buffer[start:end]

    def skip_no_records(self) -> None:
        """Pass over the lines from here that make no record (blank, whitespace or separators only)."""
        while True:
            match = self._no_records.match(self._buffer, self._pos)
            if match is not None:
                end = match.end()
                if self._csv and (cr := self._buffer.find(b"\r,", self._pos, end)) != -1:
                    # A CR inside a CSV line is a value: stop before the line that holds it.
                    last = self._buffer.rfind(b"\n", self._pos, cr)
                    if last != -1:
                        self.number += self._buffer.count(b"\n", self._pos, last + 1)
                        self._pos = last + 1
                    return
                self.number += self._buffer.count(b"\n", self._pos, end)
                self._pos = end
            # Go on into the next block only if the rest of this one may begin such a line.
            rest = len(self._buffer) - self._pos
            if rest >= self._limit or not self._no_record_start.fullmatch(self._buffer, self._pos):
                return
            if not self._fill():
                return

    def _too_long(self, line: int) -> UnreadableFile:
        return UnreadableFile(
            f"Line {line} of “{short(self._name)}” is longer than {human_size(self._max_line)}. That is not a "
            "metadata table; please check that you chose the right file and that its lines end with line breaks."
        )


def _records(lines: _Lines, name: str, *, delimiter: str, trim: bool, limits: Limits) -> Iterator[Row]:
    """Every record of a delimited text file, lines that make no record skipped, with the line each starts on.

    Unquoted lines (nearly all) are split in C; only lines with a quote go through the field scanner.
    """
    records = 0

    def next_text() -> tuple[int, str] | None:
        raw = lines.next()
        return None if raw is None else (lines.number, _decoded(raw, lines.number, name, records))

    while True:
        lines.skip_no_records()
        following = next_text()
        if following is None:
            return
        number, line = following
        if not line:
            continue
        if '"' in line:
            values = _quoted_record(number, line, next_text, name, delimiter, trim, limits.max_row)
        else:
            values = line.split(delimiter)
            if trim and _MIGHT_TRIM.search(line):
                values = [value.strip(_TRIMMED) for value in values]
        records += 1
        yield Row(records, number, values)


def _decoded(raw: bytes, number: int, name: str, records_so_far: int) -> str:
    if b"\x00" in raw:
        raise UnreadableFile(
            f"Line {number} of “{short(name)}” contains binary data (a NUL byte). "
            "Please save your table as plain tab-separated text (.tsv) or as an Excel workbook (.xlsx)."
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The header is record 1, so the records read so far number the data row this line belongs to.
        where = f"row {records_so_far}, " if records_so_far else "the header, "
        raise UnreadableFile(
            f"Line {number} of “{short(name)}” ({where}byte {exc.start + 1} of the line) is not valid UTF-8 text. "
            "Please save the file with the encoding “UTF-8” (in Excel: “Tab-delimited Text” then "
            "“UTF-8”, or “CSV UTF-8”)."
        ) from None
    if number == 1 and text.startswith("\ufeff"):
        text = text[1:]
    return text.rstrip("\r\n")


def _quoted_record(
    first_line: int,
    line: str,
    next_text: Callable[[], tuple[int, str] | None],
    name: str,
    delimiter: str,
    trim: bool,
    max_row: int,
) -> list[str]:
    """One record that contains a quote, scanned field by field (str.find, not per character).

    A quoted value may run over several lines; the record as a whole is bounded by `max_row`.
    """
    values: list[str] = []
    number = first_line
    size = len(line)
    pos = 0
    while True:
        start = pos
        if trim:
            while pos < len(line) and line[pos] in _TRIMMED:
                pos += 1
        if pos < len(line) and line[pos] == '"':
            pos += 1
            parts: list[str] = []
            while True:
                quote = line.find('"', pos)
                if quote == -1:
                    parts.append(line[pos:])
                    parts.append("\n")
                    following = next_text() if size <= max_row else None
                    if following is None:
                        if size > max_row:
                            raise UnreadableFile(
                                f"The row that starts on line {first_line} of “{short(name)}” is longer than "
                                f"{human_size(max_row)}: a quoted value in it runs on to line {number}. No metadata "
                                'row is that long; perhaps a quote (") is never closed. Please check the file.'
                            )
                        raise UnreadableFile(
                            f"A quoted value that starts on line {first_line} of “{short(name)}” is never closed: "
                            'its opening quote (") has no closing quote. Please close it, or remove the quote.'
                        )
                    number, line = following
                    size += len(line) + 1
                    pos = 0
                    continue
                parts.append(line[pos:quote])
                if line.startswith('"', quote + 1):
                    parts.append('"')
                    pos = quote + 2
                    continue
                pos = quote + 1
                break
            values.append("".join(parts))
            if trim:
                while pos < len(line) and line[pos] in _TRIMMED and line[pos] != delimiter:
                    pos += 1
            if pos >= len(line):
                return values
            if line[pos] != delimiter:
                raise UnreadableFile(
                    f'Line {number} of “{short(name)}” has text after a closing quote ("): '
                    f"…{line[max(0, pos - 20) : pos + 20]}…. A quoted value must end at the next "
                    f'{"tab" if delimiter == chr(9) else "comma"}; to write a quote inside a value, double it ("").'
                )
            pos += 1
            continue
        end = line.find(delimiter, pos)
        value = line[start:] if end == -1 else line[start:end]
        values.append(value.strip(_TRIMMED) if trim else value)
        if end == -1:
            return values
        pos = end + 1


# --- XLSX -------------------------------------------------------------------------------------------


def cell_text(value: object) -> str:
    """A spreadsheet cell as the website renders it: dates YYYY-MM-DD, 12.0 as 12, nothing as ""."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# Parts of a workbook that openpyxl reads whole into memory: every part but the worksheets, which are streamed.
MAX_WORKBOOK_PART = 256 * 1024**2


class _SheetPlaces:
    """Where a value of a worksheet is, in words: its cell, and its row and column in the table."""

    hint = "No metadata value is that long; please shorten it."

    def __init__(self, name: str, title: str) -> None:
        self.name = name
        self.title = title

    def _cell(self, line: int, index: int) -> str:
        from openpyxl.utils import get_column_letter

        return f"Cell {get_column_letter(index + 1)}{line} of the sheet “{short(self.title)}” in “{short(self.name)}”"

    def value(self, row: Row, columns: list[str] | None, index: int) -> str:
        if columns is None:
            return f"{self._cell(row.line, index)} (the header, column {index + 1})"
        return f"{self._cell(row.line, index)} (row {row.number}, {_column(columns, index)})"

    def row(self, row: Row, header: bool) -> str:
        if header:
            return f"The header of “{short(self.name)}” (row {row.line} of the sheet “{short(self.title)}”)"
        return f"Row {row.number} of “{short(self.name)}” (row {row.line} of the sheet “{short(self.title)}”)"


def _not_a_workbook(name: str, reason: str) -> UnreadableFile:
    return UnreadableFile(
        f"“{short(name)}” could not be read as an Excel workbook: {reason}. "
        "Please save it again as .xlsx, or export it as TSV."
    )


def _reason(exc: BaseException) -> str:
    """Why openpyxl could not read a workbook, for the user (openpyxl wraps the parser's error in its own)."""
    from defusedxml import DefusedXmlException

    causes: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and len(causes) < 10:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    for cause in causes:
        if isinstance(cause, DefusedXmlException):
            return "it declares XML entities or a document type, which real workbooks never contain"
        if isinstance(cause, ParseError):
            return f"part of its XML is malformed ({short(str(cause))})"
        if isinstance(cause, zipfile.BadZipFile | EOFError):
            return "it is damaged (a part of it cannot be unpacked)"
        if isinstance(cause, KeyError):
            return "a part every workbook has is missing"
    return "its content is not laid out as Excel lays out a workbook"


def _check_workbook_parts(path: Path, name: str, limits: Limits) -> None:
    """Refuse a workbook by its ZIP directory, before any XML is parsed: not a ZIP archive, or a part that
    would unpack to too much (zipfile never unpacks more than a part declares)."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _not_a_workbook(name, "it is not a ZIP archive, as every .xlsx file is") from None
    if sum(part.file_size for part in parts) > limits.max_bytes:
        raise UnreadableFile(
            f"“{short(name)}” unpacks to more than {human_size(limits.max_bytes)}, the most the portal accepts. "
            "Please split it into several submissions."
        )
    for part in parts:
        if declared_too_large(part, limits) == "ratio":
            raise _not_a_workbook(
                name,
                f"its part {short(part.filename)} unpacks to more than {limits.max_ratio:,} times its compressed "
                "size, far more than a real table does (it looks like a decompression bomb)",
            )
        if not part.filename.startswith("xl/worksheets/") and part.file_size > MAX_WORKBOOK_PART:
            raise _not_a_workbook(
                name,
                f"its part {short(part.filename)} unpacks to {human_size(part.file_size)}, more than the "
                f"{human_size(MAX_WORKBOOK_PART)} the portal reads of a workbook's parts besides its sheets",
            )


def _open_xlsx(path: Path, name: str, limits: Limits) -> MetadataTable:
    # openpyxl is imported here so TSV-only users (and the benchmark) do not pay for it.
    import openpyxl
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:
        # openpyxl parses with defusedxml only when it is installed and OPENPYXL_DEFUSEDXML is not "False".
        log.error("defusedxml is not in use by openpyxl: refusing to parse an uploaded workbook")
        raise UnreadableFile(
            f"Excel workbooks cannot be read on this portal at the moment, so “{short(name)}” was not read. "
            "Please export the sheet as tab-separated text (.tsv) and upload that."
        )
    resources: list = []
    _, suffix = split_compression(name)
    try:
        if suffix is not None:
            path = _unpacked(path, name, limits, ".xlsx", resources)
        _check_workbook_parts(path, name, limits)
        try:
            # A file object, not a path: openpyxl refuses a path by its extension (an .xlsx named .xls).
            source = path.open("rb")
            resources.append(source)
            workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - a hostile or broken file can make openpyxl raise almost anything
            log.info("%s: not read as a workbook: %r", short(name), exc)
            raise _not_a_workbook(name, _reason(exc)) from None
        resources.append(workbook)
        sheets = [sheet for sheet in workbook.worksheets if isinstance(sheet, ReadOnlyWorksheet)]
        if not sheets:
            raise _not_a_workbook(name, "it has no worksheet")
        sheet = next((sheet for sheet in sheets if sheet.title == "Data"), sheets[0])
        places = _SheetPlaces(name, sheet.title)
        empty = (
            f"The sheet “{short(sheet.title)}” of “{short(name)}” is empty. Please fill in a header row "
            "(column names) and one row per entry."
        )
        records = _sheet_records(workbook, sheet, name, limits)
        columns, rows = _header_and_rows(records, empty, places, limits)
    except BaseException:
        for resource in reversed(resources):
            resource.close()
        raise
    return MetadataTable(name, "xlsx", columns, rows, resources, sheet=sheet.title, sheet_names=workbook.sheetnames)


# --- XLS (Excel 97-2003) ----------------------------------------------------------------------------

# xlrd holds a whole .xls in memory, and its cells as Python objects; real metadata workbooks are a few MB
# (the format holds at most 65,536 rows), so a larger one is refused before it is parsed.
MAX_XLS_BYTES = 64 * 1024**2
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the container of every .xls


def _not_an_xls(name: str, reason: str) -> UnreadableFile:
    return UnreadableFile(
        f"“{short(name)}” could not be read as an Excel 97-2003 workbook (.xls): {reason}. "
        "Please save it again as .xlsx, or export it as TSV."
    )


class _Discard:
    """Where xlrd writes its remarks on a file: nowhere (a damaged file could make it write without end)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


class _Book:
    """Closes an xlrd workbook as the table's other resources are closed."""

    def __init__(self, book: Any) -> None:
        self.book = book

    def close(self) -> None:
        self.book.release_resources()


def _unpacked(path: Path, name: str, limits: Limits, extension: str, resources: list) -> Path:
    """A compressed workbook unpacked to a temporary file (workbook readers need to seek), which is
    closed, and so deleted, with the table (`resources`)."""
    temporary = tempfile.NamedTemporaryFile(suffix=extension)
    resources.append(temporary)
    with open_decompressed(path, name, limits=limits) as stream:
        shutil.copyfileobj(stream, temporary, 1024 * 1024)
    temporary.flush()
    return Path(temporary.name)


def _open_xls(path: Path, name: str, limits: Limits) -> MetadataTable:
    import xlrd

    uploaded = path
    resources: list = []
    _, suffix = split_compression(name)
    try:
        if suffix is not None:
            bounded = dataclasses.replace(limits, max_bytes=min(limits.max_bytes, MAX_XLS_BYTES))
            path = _unpacked(path, name, bounded, ".xls", resources)
        elif path.stat().st_size > MAX_XLS_BYTES:
            raise UnreadableFile(
                f"“{short(name)}” is larger than {human_size(MAX_XLS_BYTES)}, the most the portal reads of an "
                "Excel 97-2003 workbook (.xls). Please save it as .xlsx, or export it as TSV."
            )
        with path.open("rb") as file:
            head = file.read(8)
        if head.startswith(b"PK"):
            # An .xlsx named .xls (Excel itself opens it; so does the website).
            for resource in reversed(resources):
                resource.close()
            resources = []
            return _open_xlsx(uploaded, name, limits)
        if not head:
            raise _not_an_xls(name, "it is empty")
        try:
            book = xlrd.open_workbook(str(path), logfile=_Discard(), on_demand=True, ragged_rows=True, use_mmap=False)
        except Exception as exc:  # noqa: BLE001 - a broken or hostile file can make xlrd raise almost anything
            log.info("%s: not read as an .xls workbook: %r", short(name), exc)
            if not head.startswith(_OLE2_MAGIC):
                raise _not_an_xls(
                    name,
                    "it is not in Excel's binary format (if it is text, as some programs write under this name, "
                    "please rename it .tsv or .csv)",
                ) from None
            raise _not_an_xls(name, "it is damaged or not laid out as Excel lays out a workbook") from None
        resources.append(_Book(book))
        sheet_names = book.sheet_names()
        if not sheet_names:
            raise _not_an_xls(name, "it has no worksheet")
        title = "Data" if "Data" in sheet_names else sheet_names[0]
        try:
            sheet = book.sheet_by_name(title)
        except Exception as exc:  # noqa: BLE001 - as above: the sheet is parsed only now
            log.info("%s: sheet not read: %r", short(name), exc)
            raise _not_an_xls(name, "its sheet is damaged") from None
        empty = (
            f"The sheet “{short(title)}” of “{short(name)}” is empty. Please fill in a header row "
            "(column names) and one row per entry."
        )
        records = _xls_rows(sheet, book.datemode)
        columns, rows = _header_and_rows(records, empty, _SheetPlaces(name, title), limits)
    except BaseException:
        for resource in reversed(resources):
            resource.close()
        raise
    return MetadataTable(name, "xls", columns, rows, resources, sheet=title, sheet_names=sheet_names)


def _xls_rows(sheet: Any, datemode: int) -> Iterator[Row]:
    """The rows of an xlrd sheet that hold a value, numbered as in the sheet (ragged: no padding is made)."""
    import xlrd

    empty = (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK)
    for index in range(sheet.nrows):
        kinds = sheet.row_types(index)
        end = len(kinds)
        while end and kinds[end - 1] in empty:
            end -= 1
        if end:
            cells = zip(kinds[:end], sheet.row_values(index, 0, end), strict=True)
            yield Row(index + 1, index + 1, [_xls_text(kind, value, datemode) if kind else "" for kind, value in cells])


def _xls_text(kind: int, value: Any, datemode: int) -> str:
    """An xlrd cell as `cell_text` renders an openpyxl one (and the website its own)."""
    import xlrd

    if kind == xlrd.XL_CELL_TEXT:
        return value.strip()
    if kind == xlrd.XL_CELL_NUMBER:
        return cell_text(value)
    if kind == xlrd.XL_CELL_DATE:
        try:
            year, month, day, hour, minute, second = xlrd.xldate_as_tuple(value, datemode)
        except (xlrd.XLDateError, ValueError, OverflowError):
            return cell_text(value)
        if year == 0:
            return cell_text(datetime.time(hour, minute, second))
        return cell_text(datetime.datetime(year, month, day, hour, minute, second))
    if kind == xlrd.XL_CELL_BOOLEAN:
        return cell_text(bool(value))
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(value, "#ERROR")
    return ""


def _sheet_records(workbook: Any, sheet: Any, name: str, limits: Limits) -> Iterator[Row]:
    """The rows of the sheet that hold a value, numbered as in the sheet; damage inside shows up only now."""
    try:
        yield from _sheet_rows(workbook, sheet, name, limits)
    except UnreadableFile:
        raise
    except Exception as exc:  # noqa: BLE001 - as in _open_xlsx: the sheet's XML is read only as the rows are
        log.info("%s: sheet not read: %r", short(name), exc)
        raise _not_a_workbook(name, _reason(exc)) from None


def _sheet_rows(workbook: Any, sheet: Any, name: str, limits: Limits) -> Iterator[Row]:
    """openpyxl's reading of each cell, without its padding: a row numbered 1,000,000,000 costs one row,
    not a billion, and only the cell being read is kept of the XML (finished elements are dropped)."""
    from openpyxl.worksheet._reader import CELL_TAG, ROW_TAG, WorkSheetParser
    from openpyxl.xml.functions import iterparse

    max_row = limits.max_row
    with sheet._get_source() as source:
        parser = WorkSheetParser(
            source,
            sheet._shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        open_elements: list[Any] = []
        in_cell = 0
        cells: list[tuple[int, str]] = []
        size = 0
        for event, element in iterparse(source, events=("start", "end")):
            tag = element.tag
            if event == "start":
                open_elements.append(element)
                if tag == CELL_TAG:
                    in_cell += 1
                elif tag == ROW_TAG and not in_cell:
                    _start_row(parser, element)
                    cells, size = [], 0
                continue
            open_elements.pop()
            if tag == CELL_TAG:
                in_cell -= 1
                value = parser.parse_cell(element)["value"]
                if value is not None:
                    text = cell_text(value).strip() if isinstance(value, str) else cell_text(value)
                    if text:
                        cells.append((parser.col_counter, text))
                        size += len(text) + 1
                        if size > max_row:
                            raise UnreadableFile(
                                f"Row {parser.row_counter} of the sheet “{short(sheet.title)}” in “{short(name)}” is "
                                f"longer than {human_size(max_row)} in all. No metadata row is that long; please "
                                "check that you chose the right file."
                            )
            elif tag == ROW_TAG and not in_cell and cells:
                values = [""] * max(column for column, _ in cells)
                for column, text in cells:
                    values[column - 1] = text
                yield Row(parser.row_counter, parser.row_counter, values)
            if not in_cell and open_elements:
                del open_elements[-1][-1]  # the finished element is its parent's last child


def _start_row(parser: Any, element: Any) -> None:
    # As openpyxl's WorkSheetParser.parse_row numbers a row.
    number = element.get("r")
    if number is None:
        parser.row_counter += 1
    else:
        try:
            parser.row_counter = int(number)
        except ValueError:
            as_float = float(number)
            if not as_float.is_integer():
                raise ValueError(f"{short(number)} is not a row number") from None
            parser.row_counter = int(as_float)
    parser.col_counter = 0
