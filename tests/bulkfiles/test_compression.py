"""Opening uploads as decompressed streams, chosen by the user's file name."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest
import zstandard

from submitportal.bulkfiles.compression import UnreadableFile, open_decompressed, split_compression
from tests.bulkfiles.helpers import write

DATA = b"id\tcountry\ns1\tUganda\n" * 100


@pytest.mark.parametrize("suffix", ["", ".gz", ".zst", ".xz", ".bz2", ".zip", ".lzma"])
def test_it_decompresses_every_supported_suffix(tmp_path: Path, suffix: str) -> None:
    path = write(tmp_path, f"metadata.tsv{suffix}", DATA)
    with open_decompressed(path, path.name) as stream:
        assert stream.read() == DATA


def test_it_matches_suffixes_case_insensitively(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    path.write_bytes(gzip.compress(DATA))
    with open_decompressed(path, "METADATA.TSV.GZ") as stream:
        assert stream.read() == DATA


def test_it_reads_a_zstandard_file_of_several_frames_to_the_end(tmp_path: Path) -> None:
    compressor = zstandard.ZstdCompressor()
    path = tmp_path / "s.fasta.zst"
    path.write_bytes(compressor.compress(b">a\nAC\n") + compressor.compress(b">b\nGT\n"))
    with open_decompressed(path, path.name) as stream:
        assert stream.read() == b">a\nAC\n>b\nGT\n"


def test_it_reads_the_first_file_of_a_zip_and_skips_folders_and_macos_leftovers(tmp_path: Path) -> None:
    path = tmp_path / "m.tsv.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("folder/", b"")
        archive.writestr("__MACOSX/._m.tsv", b"junk")
        archive.writestr("folder/m.tsv", DATA)
        archive.writestr("other.tsv", b"not this one")
    with open_decompressed(path, path.name) as stream:
        assert stream.read() == DATA


def test_it_refuses_an_empty_zip(tmp_path: Path) -> None:
    path = tmp_path / "m.tsv.zip"
    with zipfile.ZipFile(path, "w"):
        pass
    with pytest.raises(UnreadableFile) as caught:
        open_decompressed(path, path.name)
    assert caught.value.message == (
        "The ZIP archive “m.tsv.zip” contains no file. Please put your file into it and try again."
    )


def test_it_refuses_a_gz_name_on_content_that_is_not_gzip(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv.gz.raw", DATA)
    with pytest.raises(UnreadableFile) as caught:
        open_decompressed(path, "m.tsv.gz")
    assert caught.value.message == (
        "“m.tsv.gz” is named .gz but is not gzip-compressed (its content is not compressed that way). "
        "Please compress it with gzip, or rename it to match its content."
    )


def test_it_says_which_compression_the_content_really_has(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv.bz2", DATA)
    with pytest.raises(UnreadableFile) as caught:
        open_decompressed(path, "m.tsv.gz")
    assert "(it looks bzip2-compressed)" in caught.value.message


def test_it_refuses_a_compressed_name_on_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "s.fasta.xz"
    path.write_bytes(b"")
    with pytest.raises(UnreadableFile) as caught:
        open_decompressed(path, path.name)
    assert caught.value.message == "“s.fasta.xz” is empty. Please choose the file that holds your data."


def test_it_refuses_a_zip_name_on_something_else(tmp_path: Path) -> None:
    path = tmp_path / "m.tsv.zip"
    path.write_bytes(b"PK but not really a zip archive")
    with pytest.raises(UnreadableFile) as caught:
        open_decompressed(path, path.name)
    assert caught.value.message == (
        "“m.tsv.zip” is named .zip but is not a ZIP archive. Please upload the ZIP file itself."
    )


@pytest.mark.parametrize("name", ["m.tsv.rar", "sequences.fasta.7z", "all.tar", "m.tsv.lz4"])
def test_it_refuses_unknown_compressions_by_name(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, "plain", DATA)
    suffix = "." + name.rsplit(".", 1)[1]
    with pytest.raises(UnreadableFile) as caught:
        open_decompressed(path, name)
    assert caught.value.message == (
        f"“{name}” is compressed or packed as {suffix}, which cannot be read here. Please compress it with gzip "
        "(.gz), Zstandard (.zst), xz (.xz), bzip2 (.bz2) or ZIP (.zip), or upload it uncompressed."
    )


def test_it_reports_a_truncated_archive_while_reading(tmp_path: Path) -> None:
    path = tmp_path / "m.tsv.gz"
    path.write_bytes(gzip.compress(DATA * 50)[:200])
    with open_decompressed(path, path.name) as stream, pytest.raises(UnreadableFile) as caught:
        stream.read()
    assert caught.value.message.startswith("“m.tsv.gz” could not be decompressed: it is damaged or incomplete (")
    assert caught.value.message.endswith("). Please compress it again, or upload it uncompressed.")


def test_it_stops_a_decompression_bomb_at_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "bomb.tsv.gz"
    # 200 MB of zeros, gzipped to about 200 KB, written in pieces so the test itself stays small.
    with gzip.open(path, "wb", compresslevel=1) as out:
        zeros = bytes(1024 * 1024)
        for _ in range(200):
            out.write(zeros)
    assert path.stat().st_size < 1024 * 1024
    read = 0
    with open_decompressed(path, path.name, max_bytes=10 * 1024 * 1024) as stream, pytest.raises(UnreadableFile) as e:
        while chunk := stream.read(65536):
            read += len(chunk)
    assert e.value.message == (
        "“bomb.tsv.gz” unpacks to more than 10 MiB, the most the portal accepts. "
        "Please split it into several submissions."
    )
    assert read <= 10 * 1024 * 1024


def test_it_allows_a_file_of_exactly_the_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv.gz", DATA)
    with open_decompressed(path, path.name, max_bytes=len(DATA)) as stream:
        assert stream.read() == DATA


def test_it_splits_the_compression_suffix_from_the_name() -> None:
    assert split_compression("a.tsv.zst") == ("a.tsv", ".zst")
    assert split_compression("a.fasta") == ("a.fasta", None)
    assert split_compression("A.FA.BZ2") == ("A.FA", ".bz2")
