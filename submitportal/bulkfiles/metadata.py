"""Reading a bulk metadata table (TSV, CSV or XLSX, possibly compressed) as a stream of rows.

TSV is read as the Loculus backend reads it (Apache Commons CSV's TDF format): tab-separated, `"`
quoting (a quoted value may hold tabs, line breaks and doubled quotes), surrounding spaces trimmed
unless quoted, empty lines ignored. CSV is the same with commas and without trimming (as Excel
writes it). XLSX is read as the Loculus website reads it: the sheet `Data` if there is one, else
the first; dates as YYYY-MM-DD.

Rows whose cells are all empty are dropped everywhere, and the rest are numbered from 1 (the first
data row), as Loculus numbers its records. Anything that stops the file being read at all raises
UnreadableFile with a sentence for the user.
"""

from __future__ import annotations

import datetime
import io
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import NamedTuple
from xml.etree.ElementTree import ParseError

from submitportal.bulkfiles.compression import (
    MAX_DECOMPRESSED_BYTES,
    UnreadableFile,
    human_size,
    open_decompressed,
    sniff_compression,
    split_compression,
)

MAX_FIELD = 1024 * 1024
MAX_LINE = 4 * MAX_FIELD
# What Commons CSV trims around a value (Java's Character.isWhitespace, minus the tab that separates).
_TRIMMED = " \x0b\x0c\r\n\x1c\x1d\x1e\x1f"
_MIGHT_TRIM = re.compile(f"[{re.escape(_TRIMMED)}]")  # one C call tells whether a line needs trimming at all
_TEXT_FORMATS = {".tsv": "tsv", ".txt": "tsv", ".csv": "csv"}


class Row(NamedTuple):
    number: int  # 1 = the first data row, as Loculus counts records
    line: int  # where it starts: the line of a text file, the row of a spreadsheet
    values: list[str]  # as many as the file has; shorter rows are not padded


def table_format(name: str) -> str:
    """`tsv`, `csv` or `xlsx`, from the extension under any compression suffix."""
    base, _ = split_compression(name)
    lower = base.lower()
    for suffix, kind in _TEXT_FORMATS.items():
        if lower.endswith(suffix):
            return kind
    if lower.endswith(".xlsx"):
        return "xlsx"
    if lower.endswith(".xls"):
        raise UnreadableFile(
            f"“{name}” is in the old Excel format (.xls), which cannot be read here. "
            "Please save it as an Excel workbook (.xlsx) or as tab-separated text (.tsv)."
        )
    raise UnreadableFile(
        f"“{name}” is not a metadata table the portal can read. Please upload tab-separated text (.tsv), "
        "comma-separated text (.csv) or an Excel workbook (.xlsx), optionally compressed."
    )


class MetadataTable:
    """An open metadata file: `columns` (the header) and `rows()`, a single pass over the data rows."""

    def __init__(self, name: str, kind: str, columns: list[str], rows: Iterator[Row], resources: list) -> None:
        self.name = name
        self.format = kind
        self.columns = columns
        self._rows = rows
        self._resources = resources

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


def open_metadata(path: str | Path, name: str, *, max_bytes: int = MAX_DECOMPRESSED_BYTES) -> MetadataTable:
    """Open the metadata file at `path`, uploaded as `name`, and read its header."""
    kind = table_format(name)
    if kind == "xlsx":
        return _open_xlsx(Path(path), name, max_bytes)
    stream = open_decompressed(path, name, max_bytes=max_bytes)
    try:
        _refuse_binary(stream, name)
        records = _records(
            _numbered_lines(stream, name), name, delimiter="\t" if kind == "tsv" else ",", trim=kind == "tsv"
        )
        empty = f"“{name}” is empty. Please upload a table with a header line (column names) and one row per entry."
        columns, rows = _header_and_rows(records, empty)
    except BaseException:
        stream.close()
        raise
    return MetadataTable(name, kind, columns, rows, [stream])


def _header_and_rows(records: Iterator[Row], empty_message: str) -> tuple[list[str], Iterator[Row]]:
    # The first non-empty record is the header; trailing unnamed columns (a spreadsheet's stray tabs) go.
    for record in records:
        columns = record.values
        while columns and columns[-1] == "":
            columns.pop()
        if columns:
            return columns, _data_rows(records, len(columns))
    raise UnreadableFile(empty_message)


def _data_rows(records: Iterator[Row], width: int) -> Iterator[Row]:
    number = 0
    for record in records:
        values = record.values
        if not any(values):
            continue
        # Extra empty cells at the end (stray tabs or spreadsheet padding) are not extra values.
        while len(values) > width and values[-1] == "":
            values.pop()
        number += 1
        yield Row(number, record.line, values)


def _refuse_binary(stream: io.BufferedReader, name: str) -> None:
    head = stream.peek(8192)[:8192]
    compressed = sniff_compression(head)
    if compressed == "ZIP":
        raise UnreadableFile(
            f"“{name}” looks like an Excel workbook or a ZIP archive, not text. "
            "Please name it .xlsx if it is a workbook, or add .zip to its name if it is a ZIP archive."
        )
    if compressed:
        raise UnreadableFile(
            f"“{name}” looks {compressed}-compressed, but its name does not say so. "
            "Please add the matching extension (e.g. .gz) to its name, or upload it uncompressed."
        )
    if b"\x00" in head:
        raise UnreadableFile(
            f"“{name}” does not look like a text table: it contains binary data. "
            "Please save your table as tab-separated text (.tsv) or as an Excel workbook (.xlsx)."
        )


def _numbered_lines(stream: io.BufferedReader, name: str) -> Iterator[tuple[int, bytes]]:
    number = 0
    while True:
        raw = stream.readline(MAX_LINE + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            raise UnreadableFile(
                f"Line {number} of “{name}” is longer than {human_size(MAX_LINE)}. That is not a metadata table; "
                "please check that you chose the right file and that its lines end with line breaks."
            )
        yield number, raw


def _records(lines: Iterator[tuple[int, bytes]], name: str, *, delimiter: str, trim: bool) -> Iterator[Row]:
    """Every record of a delimited text file, empty lines skipped, with the line each starts on.

    Unquoted lines (nearly all) are split in C; only lines with a quote go through the field scanner.
    """
    rows_so_far = 0
    texts = _decoded(lines, name, lambda: rows_so_far)
    for number, line in texts:
        if not line:
            continue
        if '"' in line:
            values = _quoted_record(number, line, texts, name, delimiter, trim)
        else:
            values = line.split(delimiter)
            if trim and _MIGHT_TRIM.search(line):
                values = [value.strip(_TRIMMED) for value in values]
            if len(line) > MAX_FIELD:
                _check_field_lengths(values, number, name)
        rows_so_far += 1
        yield Row(rows_so_far, number, values)


def _decoded(
    lines: Iterator[tuple[int, bytes]], name: str, records_so_far: Callable[[], int]
) -> Iterator[tuple[int, str]]:
    for number, raw in lines:
        if b"\x00" in raw:
            raise UnreadableFile(
                f"Line {number} of “{name}” contains binary data (a NUL byte). "
                "Please save your table as plain tab-separated text (.tsv) or as an Excel workbook (.xlsx)."
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            # The header is record 1, so the records read so far number the data row this line belongs to.
            where = f"row {records_so_far()}, " if records_so_far() else "the header, "
            raise UnreadableFile(
                f"Line {number} of “{name}” ({where}byte {exc.start + 1} of the line) is not valid UTF-8 text. "
                "Please save the file with the encoding “UTF-8” (in Excel: “Tab-delimited Text” then "
                "“UTF-8”, or “CSV UTF-8”)."
            ) from None
        if number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        yield number, text.rstrip("\r\n")


def _check_field_lengths(values: list[str], line: int, name: str) -> None:
    for value in values:
        if len(value) > MAX_FIELD:
            raise _too_long(line, name)


def _too_long(line: int, name: str) -> UnreadableFile:
    return UnreadableFile(
        f"A value starting on line {line} of “{name}” is longer than {human_size(MAX_FIELD)}. "
        'No metadata value is that long; perhaps a quote (") is never closed. Please check the file.'
    )


def _quoted_record(
    first_line: int, line: str, texts: Iterator[tuple[int, str]], name: str, delimiter: str, trim: bool
) -> list[str]:
    """One record that contains a quote, scanned field by field (str.find, not per character)."""
    values: list[str] = []
    number = first_line
    pos = 0
    while True:
        start = pos
        if trim:
            while pos < len(line) and line[pos] in _TRIMMED:
                pos += 1
        if pos < len(line) and line[pos] == '"':
            pos += 1
            parts: list[str] = []
            size = 0
            while True:
                quote = line.find('"', pos)
                if quote == -1:
                    parts.append(line[pos:])
                    parts.append("\n")
                    size += len(line) - pos + 1
                    following = next(texts, None)
                    if following is None or size > MAX_FIELD:
                        if size > MAX_FIELD:
                            raise _too_long(first_line, name)
                        raise UnreadableFile(
                            f"A quoted value that starts on line {first_line} of “{name}” is never closed: "
                            'its opening quote (") has no closing quote. Please close it, or remove the quote.'
                        )
                    number, line = following
                    pos = 0
                    continue
                parts.append(line[pos:quote])
                size += quote - pos
                if line.startswith('"', quote + 1):
                    parts.append('"')
                    pos = quote + 2
                    continue
                pos = quote + 1
                break
            if size > MAX_FIELD:
                raise _too_long(first_line, name)
            values.append("".join(parts))
            if trim:
                while pos < len(line) and line[pos] in _TRIMMED and line[pos] != delimiter:
                    pos += 1
            if pos >= len(line):
                return values
            if line[pos] != delimiter:
                raise UnreadableFile(
                    f'Line {number} of “{name}” has text after a closing quote ("): '
                    f"…{line[max(0, pos - 20) : pos + 20]}…. A quoted value must end at the next "
                    f'{"tab" if delimiter == chr(9) else "comma"}; to write a quote inside a value, double it ("").'
                )
            pos += 1
            continue
        end = line.find(delimiter, pos)
        value = line[start:] if end == -1 else line[start:end]
        if len(value) > MAX_FIELD:
            raise _too_long(number, name)
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


def _open_xlsx(path: Path, name: str, max_bytes: int) -> MetadataTable:
    # openpyxl is imported here so TSV-only users (and the benchmark) do not pay for it.
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    resources: list = []
    _, suffix = split_compression(name)
    try:
        if suffix is not None:
            # openpyxl needs to seek, so a compressed workbook is unpacked to a temporary file first.
            temporary = tempfile.NamedTemporaryFile(suffix=".xlsx")  # closed with the table
            resources.append(temporary)
            with open_decompressed(path, name, max_bytes=max_bytes) as stream:
                shutil.copyfileobj(stream, temporary, 1024 * 1024)
            temporary.flush()
            path = Path(temporary.name)
        try:
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
            raise UnreadableFile(
                f"“{name}” is named .xlsx but could not be opened as an Excel workbook. "
                "Please save it again from your spreadsheet program as an Excel workbook (.xlsx)."
            ) from None
        resources.append(workbook)
        sheet = workbook["Data"] if "Data" in workbook.sheetnames else workbook.worksheets[0]
        empty = (
            f"The sheet “{sheet.title}” of “{name}” is empty. Please fill in a header row (column names) "
            "and one row per entry."
        )
        columns, rows = _header_and_rows(_sheet_records(sheet, name), empty)
    except BaseException:
        for resource in reversed(resources):
            resource.close()
        raise
    return MetadataTable(name, "xlsx", columns, rows, resources)


def _sheet_records(sheet: object, name: str) -> Iterator[Row]:
    # min_row=1 makes openpyxl yield padded empty rows, so the index is the sheet's own row number.
    cells_by_row = enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)  # type: ignore[attr-defined]
    while True:
        try:
            number, cells = next(cells_by_row)
        except StopIteration:
            return
        except (ParseError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
            # The sheet's XML is read as we go, so damage inside the workbook shows up only now.
            raise UnreadableFile(
                f"“{name}” is damaged: its sheet could not be read. "
                "Please save it again from your spreadsheet program as an Excel workbook (.xlsx)."
            ) from None
        values = [cell_text(value).strip() if isinstance(value, str) else cell_text(value) for value in cells]
        while values and values[-1] == "":
            values.pop()
        yield Row(number, number, values)
