"""The pure validation module: TSV and FASTA reading as the backend's libraries do, streaming."""

from __future__ import annotations

import io
import tracemalloc

import pytest

from sandbox.problems import Unprocessable
from sandbox.submit_validation import (
    TsvSyntaxError,
    iter_fasta,
    iter_tsv_records,
    parse_uuid_like_java,
    validate_data_use_terms,
)


def records(text: str) -> list[list[str]]:
    return list(iter_tsv_records(io.StringIO(text)))


def test_tsv_values_are_trimmed_and_empty_lines_skipped() -> None:
    assert records("id\t x \n\nb\t c\n") == [["id", "x"], ["b", "c"]]


def test_tsv_quoted_values_keep_tabs_newlines_and_doubled_quotes() -> None:
    assert records('id\tnote\ns1\t"a\tb\nc ""q"""\n') == [["id", "note"], ["s1", 'a\tb\nc "q"']]


def test_tsv_text_after_a_closing_quote_is_a_syntax_error() -> None:
    with pytest.raises(TsvSyntaxError, match="Invalid character between encapsulated token and delimiter"):
        records('id\n"s1"x\n')


def test_tsv_an_unclosed_quote_is_a_syntax_error() -> None:
    with pytest.raises(TsvSyntaxError, match="EOF reached before encapsulated token finished"):
        records('id\n"s1\n')


def test_fasta_ids_stop_at_whitespace_and_lines_are_joined() -> None:
    entries = list(iter_fasta(io.BytesIO(b">a desc\nAC\nGT\n\n>b\tx\nA\n")))
    assert [(e.fasta_id, e.length) for e in entries] == [("a", 4), ("b", 1)]


def test_fasta_an_empty_entry_is_reported() -> None:
    with pytest.raises(Unprocessable, match="FASTA sequence with id `b` is empty"):
        list(iter_fasta(io.BytesIO(b">a\nAC\n>b\n>c\nA\n")))


def test_fasta_reading_holds_only_small_buffers_of_a_huge_one_line_sequence() -> None:
    class Repeat(io.RawIOBase):
        """64 MiB of 'A' after a header, generated on the fly."""

        def __init__(self) -> None:
            self.header = b">big\n"
            self.left = 64 * 1024 * 1024

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            if self.header:
                n = len(self.header)
                buffer[:n] = self.header
                self.header = b""
                return n
            n = min(len(buffer), self.left)
            buffer[:n] = b"A" * n
            self.left -= n
            return n

    tracemalloc.start()
    entries = list(iter_fasta(io.BufferedReader(Repeat(), buffer_size=1 << 16)))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [(e.fasta_id, e.length) for e in entries] == [("big", 64 * 1024 * 1024)]
    assert peak < 8 * 1024 * 1024


def test_uuids_are_parsed_as_leniently_as_java() -> None:
    assert parse_uuid_like_java("1-2-3-4-5") == "00000001-0002-0003-0004-000000000005"
    assert parse_uuid_like_java("2EA137D0-8773-4E0A-A9AA-5591DE12FF23") == "2ea137d0-8773-4e0a-a9aa-5591de12ff23"
    assert parse_uuid_like_java("not-a-uuid") is None
    assert parse_uuid_like_java("1-2-3-4") is None


def test_data_use_terms_accept_today_and_one_year_ahead() -> None:
    import datetime as dt

    day = dt.date(2024, 2, 29)
    assert validate_data_use_terms("RESTRICTED", "2024-02-29", day).restricted_until == "2024-02-29"
    assert validate_data_use_terms("RESTRICTED", "2025-02-28", day).restricted_until == "2025-02-28"
    assert validate_data_use_terms("OPEN", None, day).as_json() == {"type": "OPEN"}
