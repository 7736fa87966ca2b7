"""Organisms and file makers shared by the bulk-file tests."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import random
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import zstandard

from submitportal.bulkfiles.compression import MAX_DECOMPRESSED_BYTES
from submitportal.bulkfiles.fasta_summary import FastaSummary, can_follow, summarize_fasta
from submitportal.bulkfiles.report import Report
from submitportal.bulkfiles.validate import check_metadata, combine, validate
from submitportal.growing_file import Follower, GrowingFile
from submitportal.loculus.schema import FileCategory, InputField, Organism
from tests.bulkfiles import validate_before_split


def organism(
    *,
    segments: tuple[str, ...] = ("main",),
    consensus: bool = True,
    categories: tuple[FileCategory, ...] = (FileCategory("rawReads", "Raw reads"),),
    template: tuple[str, ...] = (),
) -> Organism:
    return Organism(
        key="ebola-sudan",
        display_name="Ebola Sudan",
        input_fields=(
            InputField("id", "ID", required=True),
            InputField(
                "sampleCollectionDate",
                "Collection date",
                definition="When the sample was taken.",
                guidance="YYYY-MM-DD",
                example="2024-03-01",
                required=True,
                type="date",
            ),
            InputField("geoLocCountry", "Country", required=True, options=("Uganda", "Spain", "Côte d'Ivoire")),
            InputField("hostNameScientific", "Host", desired=True, options=("Homo sapiens",)),
            InputField("authors", "Authors"),
        ),
        consensus_sequences=consensus,
        segments=segments if consensus else (),
        max_sequences_per_entry=None,
        files_enabled=bool(categories),
        file_categories=categories,
        metadata_template=template,
    )


def compress(data: bytes, suffix: str) -> bytes:
    """`data` as a file named …`suffix` would hold it."""
    if suffix == ".gz":
        return gzip.compress(data)
    if suffix == ".bz2":
        return bz2.compress(data)
    if suffix == ".xz":
        return lzma.compress(data)
    if suffix == ".lzma":
        return lzma.compress(data, format=lzma.FORMAT_ALONE)
    if suffix == ".zst":
        return zstandard.ZstdCompressor().compress(data)
    raise AssertionError(f"no compressor for {suffix}")


def write(folder: Path, name: str, data: bytes | str) -> Path:
    """Write `data` to folder/name, compressed as the name's suffix says (.zip gets one entry)."""
    raw = data.encode() if isinstance(data, str) else data
    path = folder / name
    if name.endswith(".zip"):
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(name.removesuffix(".zip"), raw)
    elif any(name.endswith(s) for s in (".gz", ".bz2", ".xz", ".lzma", ".zst")):
        path.write_bytes(compress(raw, "." + name.rsplit(".", 1)[1]))
    else:
        path.write_bytes(raw)
    return path


def report_fields(report: Report) -> dict[str, object]:
    """Every field of a report, comparable with ==."""
    return {
        "problems": report.problems,
        "by_level": dict(report.counts.by_level),
        "by_kind": dict(report.counts.by_kind),
        "entries": report.entries.ids(),
        "file_refs": report.file_refs,
        "has_files_columns": report.has_files_columns,
        "id_column": report.id_column,
        "columns": report.columns,
        "sequence_count": report.sequence_count,
        "ok": report.ok,
        "problems_left_out": report.problems_left_out,
    }


def followed(path: Path, name: str, *, max_bytes: int, seed: int = 0) -> FastaSummary | None:
    """The summary of the file at `path` as a reader following it gets it: a writer thread copies it
    into a new file in chunks of random size (now and then pausing), reporting each to the reader."""
    rng = random.Random(seed)  # noqa: S311 - test data
    data = path.read_bytes()
    with tempfile.TemporaryFile() as out:
        growing = GrowingFile(out.fileno(), idle_seconds=10)
        follower = Follower(growing, lambda stream: summarize_fasta(stream, name, max_bytes=max_bytes))

        def write() -> None:
            written = 0
            while written < len(data):
                chunk = data[written : written + rng.choice((1, 7, 100, 4096, 70_000))]
                os.write(out.fileno(), chunk)
                written += len(chunk)
                growing.wrote(len(chunk))
                if rng.random() < 0.05:
                    time.sleep(0.001)

        writer = threading.Thread(target=write)
        writer.start()
        writer.join(30)
        assert not writer.is_alive()
        return follower.result(30)


def validate_all_ways(
    of: Organism,
    metadata_path: Path,
    metadata_name: str,
    sequences_path: Path | None = None,
    sequences_name: str | None = None,
    *,
    max_problems: int = 100,
    max_bytes: int = MAX_DECOMPRESSED_BYTES,
) -> Report:
    """`validate`'s report, after asserting that every way of getting it gives exactly the same, field by field:
    the check before the split (the oracle), `validate`, and `combine` of the metadata's check with the
    FASTA summarized from its path, from a stream that follows the file as it is written, and after
    a round trip through bytes."""
    limits = {"max_problems": max_problems, "max_bytes": max_bytes}
    expected = report_fields(
        validate_before_split.validate(of, metadata_path, metadata_name, sequences_path, sequences_name, **limits)
    )
    report = validate(of, metadata_path, metadata_name, sequences_path, sequences_name, **limits)
    assert report_fields(report) == expected
    metadata = check_metadata(of, metadata_path, metadata_name, **limits)
    summaries: list[FastaSummary | None] = [None]
    if sequences_path is not None:
        name = sequences_name or sequences_path.name
        summary = summarize_fasta(sequences_path, name, max_bytes=max_bytes)
        summaries = [summary, FastaSummary.from_bytes(summary.to_bytes())]
        assert summaries[1] == summary
        if can_follow(name):
            as_it_arrived = followed(sequences_path, name, max_bytes=max_bytes)
            assert as_it_arrived == summary
            summaries.append(as_it_arrived)
    for summary in summaries:
        assert report_fields(combine(of, metadata, summary)) == expected
    # combine changes neither part: combining again gives the same.
    assert report_fields(combine(of, metadata, summaries[-1])) == expected
    return report
