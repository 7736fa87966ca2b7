"""Reading a (possibly compressed) FASTA file as a stream of records: id, header line, sequence length.

The FASTA id is the header text after `>` up to the first whitespace, and sequence lines are
concatenated with blank lines skipped, as Loculus's FastaReader does. Sequences are never kept:
only their lengths (whitespace not counted), and all per-byte work is done in C, so a FASTA
streams at 1 to 2 GB/s.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NamedTuple

from submitportal.bulkfiles.compression import (
    UnreadableFile,
    open_decompressed,
    open_decompressed_stream,
    sniff_compression,
)
from submitportal.bulkfiles.limits import Limits, resolve, short

MAX_HEADER = 64 * 1024
BLOCK = 1024 * 1024
_GT = ord(">")
_NEWLINE = ord("\n")
_WHITESPACE = b" \t\r\n\x0b\x0c"
_OTHER_WHITESPACE = (b" ", b"\t", b"\r", b"\x0b", b"\x0c")


class _NextWhitespace:
    """Where the next space, tab, CR, VT or FF is in a block, found with one memchr per character.

    Each character's next position is kept and looked for again only once the reader has passed
    it, so a character the block lacks costs one scan per block, and spaces in headers cost one
    short scan per header, not a scan of the rest of the block.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.end = len(data)
        self.next = [-1] * len(_OTHER_WHITESPACE)
        self.nearest = -1

    def at_or_after(self, pos: int) -> int:
        if self.nearest >= pos:
            return self.nearest
        nearest = self.end
        for index, char in enumerate(_OTHER_WHITESPACE):
            at = self.next[index]
            if at < pos:
                found = self.data.find(char, pos)
                at = self.next[index] = self.end if found == -1 else found
            nearest = min(nearest, at)
        self.nearest = nearest
        return nearest


class FastaRecord(NamedTuple):
    id: str
    line: int  # the header's line number
    length: int  # sequence characters, line breaks and surrounding whitespace not counted


@dataclass
class FastaOddity:
    """Something wrong with the file's text itself, not with one record; `line` is where it was seen."""

    kind: str
    line: int
    message: str


@dataclass
class FastaReader:
    """Iterate to get the records; `oddities` fills as the file is read (text before the first header…).

    `path` is the file, or a binary stream to read once from its start (`open_decompressed_stream`).
    `limits` bound the bytes, the compression ratio and the records (`max_bytes`, if given, wins).
    """

    path: str | Path | BinaryIO
    name: str
    max_bytes: int | None = None
    oddities: list[FastaOddity] = field(default_factory=list)
    limits: Limits | None = None

    def __iter__(self) -> Iterator[FastaRecord]:
        limits = resolve(self.limits, self.max_bytes)
        if isinstance(self.path, str | Path):
            opened = open_decompressed(self.path, self.name, limits=limits)
        else:
            opened = open_decompressed_stream(self.path, self.name, limits=limits)
        with opened as stream:
            head = stream.peek(8192)[:8192]
            if not head:
                raise UnreadableFile(
                    f"“{short(self.name)}” is empty. Please choose the FASTA file that holds your sequences."
                )
            compressed = sniff_compression(head)
            if compressed or b"\x00" in head:
                what = f"it looks {compressed}-compressed but its name does not say so" if compressed else "binary data"
                raise UnreadableFile(
                    f"“{short(self.name)}” is not a FASTA text file ({what}). Please upload the sequences as FASTA "
                    "text (lines starting with “>” followed by sequence lines), compressed or not."
                )
            max_records = limits.max_records
            for count, record in enumerate(self._records(stream), start=1):
                if count > max_records:
                    raise UnreadableFile(
                        f"“{short(self.name)}” holds more than {max_records:,} sequences (the header on line "
                        f"{record.line} is one too many), the most the portal checks in one submission. Please split "
                        "it into several submissions."
                    )
                yield record

    def _records(self, stream: io.BufferedReader) -> Iterator[FastaRecord]:
        """Block by block: headers are found by `_next_header`, everything between them is only counted.

        All per-byte work (finding headers, counting lines) happens in C, so the Python loop runs once
        per record and once per 1 MiB block, not once per line. A sequence's length is its bytes less
        its line breaks; only a stretch that holds other whitespace (spaces, tabs, CRLF line ends)
        pays for dropping it byte by byte.
        """
        fasta_id: str | None = None
        header_line = 0
        length = 0
        line = 1  # the line number at `pos`
        at_line_start = True
        pending = b""  # the start of a header line cut off at the end of a block
        while True:
            block = stream.read(BLOCK)
            final = not block
            data = pending + block if pending else block
            pending = b""
            pos = 0
            end = len(data)
            whitespace = _NextWhitespace(data)
            while pos < end:
                if at_line_start and data[pos] == _GT:
                    newline = data.find(b"\n", pos)
                    if newline == -1 and not final:
                        pending = data[pos:]
                        if len(pending) > MAX_HEADER:
                            raise self._header_too_long(line)
                        break
                    stop = end if newline == -1 else newline + 1
                    if fasta_id is not None:
                        yield FastaRecord(fasta_id, header_line, length)
                    fasta_id = self._fasta_id(data[pos:stop], line)
                    header_line = line
                    length = 0
                    line += 1
                    pos = stop
                    at_line_start = True
                    continue
                stop = self._next_header(data, pos, end)
                breaks = data.count(b"\n", pos, stop)
                if stop <= whitespace.at_or_after(pos):
                    kept = stop - pos - breaks
                else:
                    kept = len(data[pos:stop].translate(None, _WHITESPACE))
                if fasta_id is not None:
                    length += kept
                elif kept and not self.oddities:
                    region = data[pos:stop]
                    blank = len(region) - len(region.lstrip())
                    self._text_before_first_header(line + region.count(b"\n", 0, blank))
                line += breaks
                at_line_start = data[stop - 1] == _NEWLINE
                pos = stop
            if final:
                break
        if fasta_id is not None:
            yield FastaRecord(fasta_id, header_line, length)
        elif not self.oddities:
            self.oddities.append(
                FastaOddity(
                    "no_fasta_header",
                    line,
                    f"“{short(self.name)}” contains no FASTA header (a line starting with “>”), so it holds no "
                    "sequences. "
                    "Please upload the sequences as FASTA: a header line such as “>sample1”, then the sequence.",
                )
            )

    @staticmethod
    def _next_header(data: bytes, pos: int, end: int) -> int:
        """Where the next line that starts with ">" begins after `pos`, or `end`.

        Looks for ">" alone (memchr: it is rare in sequence text) and then at the byte before it,
        several times faster than searching for the two bytes "\\n>".
        """
        at = pos
        while (at := data.find(b">", at + 1, end)) != -1:
            if data[at - 1] == _NEWLINE:
                return at
        return end

    def _text_before_first_header(self, line: int) -> None:
        self.oddities.append(
            FastaOddity(
                "text_before_first_header",
                line,
                f"Line {line} of “{short(self.name)}” comes before the first header line (a line starting with “>”), "
                "so it belongs to no sequence. Every sequence must start with a header such as “>sample1”; "
                "please add one or delete the line.",
            )
        )

    def _header_too_long(self, line: int) -> UnreadableFile:
        return UnreadableFile(
            f"The header on line {line} of “{short(self.name)}” is longer than 64 KiB. Please check that this is a "
            "FASTA file."
        )

    def _fasta_id(self, line: bytes, number: int) -> str:
        if len(line) > MAX_HEADER:
            raise self._header_too_long(number)
        if b"\x00" in line:
            raise UnreadableFile(
                f"Line {number} of “{short(self.name)}” contains binary data. Please upload FASTA text."
            )
        try:
            text = line[1:].decode("utf-8")
        except UnicodeDecodeError:
            raise UnreadableFile(
                f"The header on line {number} of “{short(self.name)}” is not valid UTF-8 text. "
                "Please save the file with the encoding UTF-8."
            ) from None
        # Up to the first whitespace: a header that starts with a space ("> sample1") has an empty ID.
        if not text or text[0].isspace():
            return ""
        return text.split(None, 1)[0]
