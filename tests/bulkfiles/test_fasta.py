"""Streaming FASTA files: ids, header lines, sequence lengths, and what is odd about the text."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from submitportal.bulkfiles import fasta
from submitportal.bulkfiles.compression import UnreadableFile
from submitportal.bulkfiles.fasta import FastaOddity, FastaReader, FastaRecord
from tests.bulkfiles.helpers import write


def records(path: Path) -> tuple[list[FastaRecord], list[FastaOddity]]:
    reader = FastaReader(path, path.name)
    return list(reader), reader.oddities


def test_it_takes_the_id_up_to_the_first_whitespace_and_counts_sequence_characters(tmp_path: Path) -> None:
    path = write(tmp_path, "s.fasta", ">s1 Ebola virus/Sudan, complete\nACGT\nAC\n>s2\tnote\nNNNN\n")
    assert records(path) == ([FastaRecord("s1", 1, 6), FastaRecord("s2", 4, 4)], [])


def test_it_skips_blank_lines_and_line_ending_whitespace(tmp_path: Path) -> None:
    path = write(tmp_path, "s.fasta", b">s1\r\nACGT\r\n\r\n  AC  \r\n\n>s2\r\nA")
    assert records(path) == ([FastaRecord("s1", 1, 6), FastaRecord("s2", 6, 1)], [])


def test_it_reports_an_empty_record_with_length_zero(tmp_path: Path) -> None:
    path = write(tmp_path, "s.fasta", ">s1\n\n>s2\nACGT\n>s3\n")
    assert records(path)[0] == [FastaRecord("s1", 1, 0), FastaRecord("s2", 3, 4), FastaRecord("s3", 5, 0)]


def test_it_yields_duplicate_ids_for_the_caller_to_judge(tmp_path: Path) -> None:
    path = write(tmp_path, "s.fasta", ">s1\nA\n>s1\nC\n")
    assert [r.id for r in records(path)[0]] == ["s1", "s1"]


def test_a_header_without_id_gives_an_empty_id(tmp_path: Path) -> None:
    path = write(tmp_path, "s.fasta", "> only a description\nACGT\n>\nA\n")
    assert records(path)[0] == [FastaRecord("", 1, 4), FastaRecord("", 3, 1)]


def test_it_notes_text_before_the_first_header(tmp_path: Path) -> None:
    path = write(tmp_path, "s.fasta", "\n\nmy sequences\n>s1\nACGT\n")
    assert records(path) == (
        [FastaRecord("s1", 4, 4)],
        [
            FastaOddity(
                "text_before_first_header",
                3,
                "Line 3 of “s.fasta” comes before the first header line (a line starting with “>”), so it belongs "
                "to no sequence. Every sequence must start with a header such as “>sample1”; please add one or "
                "delete the line.",
            )
        ],
    )


def test_it_notes_a_file_without_any_header(tmp_path: Path) -> None:
    path = write(tmp_path, "s.fasta", "\n\n")
    assert records(path) == (
        [],
        [
            FastaOddity(
                "no_fasta_header",
                3,
                "“s.fasta” contains no FASTA header (a line starting with “>”), so it holds no sequences. Please "
                "upload the sequences as FASTA: a header line such as “>sample1”, then the sequence.",
            )
        ],
    )


@pytest.mark.parametrize("suffix", [".gz", ".zst", ".xz", ".bz2", ".zip", ".lzma"])
def test_it_reads_compressed_fasta(tmp_path: Path, suffix: str) -> None:
    path = write(tmp_path, f"s.fasta{suffix}", ">s1\nACGT\n>s2\nA\n")
    assert records(path)[0] == [FastaRecord("s1", 1, 4), FastaRecord("s2", 3, 1)]


def test_it_refuses_binary_content(tmp_path: Path) -> None:
    path = write(tmp_path, "s.fasta", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(UnreadableFile) as caught:
        records(path)
    assert caught.value.message == (
        "“s.fasta” is not a FASTA text file (binary data). Please upload the sequences as FASTA text (lines "
        "starting with “>” followed by sequence lines), compressed or not."
    )


def test_it_refuses_compressed_content_under_a_plain_name(tmp_path: Path) -> None:
    write(tmp_path, "s.fasta.gz", ">s1\nA\n").rename(tmp_path / "s.fasta")
    with pytest.raises(UnreadableFile) as caught:
        records(tmp_path / "s.fasta")
    assert caught.value.message.startswith(
        "“s.fasta” is not a FASTA text file (it looks gzip-compressed but its name does not say so)."
    )


def test_it_refuses_an_empty_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile) as caught:
        records(write(tmp_path, "s.fasta", b""))
    assert caught.value.message == "“s.fasta” is empty. Please choose the FASTA file that holds your sequences."


def test_it_refuses_a_header_that_is_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile) as caught:
        records(write(tmp_path, "s.fasta", b">s1\nA\n>s\xff2\nA\n"))
    assert caught.value.message == (
        "The header on line 3 of “s.fasta” is not valid UTF-8 text. Please save the file with the encoding UTF-8."
    )


def test_it_refuses_an_absurdly_long_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fasta, "BLOCK", 64)
    monkeypatch.setattr(fasta, "MAX_HEADER", 100)
    with pytest.raises(UnreadableFile) as caught:
        records(write(tmp_path, "s.fasta", ">s1\nA\n>" + "x" * 300 + "\nA\n"))
    assert caught.value.message == (
        "The header on line 3 of “s.fasta” is longer than 64 KiB. Please check that this is a FASTA file."
    )


def reference(text: bytes) -> list[FastaRecord]:
    """The obvious line-by-line reading, to check the block-wise reader against."""
    found: list[FastaRecord] = []
    current: list = []
    for number, line in enumerate(text.split(b"\n"), start=1):
        if line.startswith(b">"):
            if current:
                found.append(FastaRecord(*current))
            header = line[1:].decode()
            current = [header.split()[0] if header.strip() and not header[0].isspace() else "", number, 0]
        elif current:
            current[2] += len(b"".join(line.split()))
    if current:
        found.append(FastaRecord(*current))
    return found


@pytest.mark.parametrize("block", [1, 2, 3, 7, 64, 4096])
def test_it_reads_the_same_records_whatever_the_block_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    monkeypatch.setattr(fasta, "BLOCK", block)
    rng = random.Random(block)  # noqa: S311 - reproducible test data, not secrets
    for attempt in range(40):
        # Files with only line breaks take the reader's fast path; spaces, tabs, CRLF and a ">" inside
        # a line take the others, alone or mixed within one block.
        alphabet = rng.choice(["ACGT", "ACGT ", "AC>GT", "ACGT\t\x0b\x0c"])
        line_ends = rng.choice([["\n", "\n\n"], ["\n", "\r\n", "\n\n"]])
        parts = []
        for number in range(rng.randrange(1, 6)):
            description = rng.choice(["", " desc", "\tdesc x"])
            parts.append(f">id{number}_{attempt}{description}" + rng.choice(line_ends))
            for _ in range(rng.randrange(0, 4)):
                parts.append("".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 9))))
                parts.append(rng.choice(line_ends))
        text = "".join(parts).encode()
        path = write(tmp_path, "s.fasta", text)
        assert records(path)[0] == reference(text), text
