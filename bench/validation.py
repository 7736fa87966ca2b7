"""Benchmark: validate a 100,000-entry bulk submission (~300 MB) and report speed and peak memory.

Run: .venv/bin/python bench/validation.py [--runs 3] [--keep DIR]

It writes a deterministic metadata TSV and FASTA file to a temporary folder, runs
`submitportal.bulkfiles.validate.validate` on them in a fresh subprocess per run (so each run's
peak RSS is its own), and prints the median throughput over the uncompressed bytes and the
largest peak RSS. It exits non-zero when under 50 MB/s or over 200 MB of RSS. Not part of the
test suite: it takes a minute and needs ~300 MB of disk.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENTRIES = 100_000
SEQUENCE_LENGTH = 2_900  # ~3 kb per entry: 100,000 entries make ~300 MB with their metadata
LINE_WIDTH = 80  # wrapped like most tools write FASTA: many short lines are the slow case
MIN_MB_PER_S = 50.0
MAX_RSS_MB = 200.0
COUNTRIES = ["Uganda", "Spain", "Germany", "Brazil", "Viet Nam", "Kenya"]


def generate(folder: Path) -> tuple[Path, Path]:
    """The metadata TSV and FASTA file; the same bytes on every run (seeded)."""
    rng = random.Random(20261128)  # noqa: S311 - reproducible test data, not secrets
    # One long random genome; each entry's sequence is a slice of it, so generating is cheap.
    genome = "".join(rng.choice("ACGT") for _ in range(SEQUENCE_LENGTH * 4))
    metadata = folder / "metadata.tsv"
    sequences = folder / "sequences.fasta"
    with open(metadata, "w", encoding="utf-8") as meta, open(sequences, "w", encoding="ascii") as fasta:
        meta.write("id\tsampleCollectionDate\tgeoLocCountry\thostNameScientific\tauthors\tfiles.rawReads\n")
        for number in range(ENTRIES):
            entry_id = f"sample_{number:06d}"
            date = f"2024-{number % 12 + 1:02d}-{number % 28 + 1:02d}"
            files = f"{entry_id}_1.fq.gz {entry_id}_2.fq.gz::{entry_id}/r2.fq.gz"
            meta.write(
                f"{entry_id}\t{date}\t{COUNTRIES[number % len(COUNTRIES)]}\tHomo sapiens\tSmith, Anna; Okello, Ben"
                f"\t{files}\n"
            )
            start = rng.randrange(len(genome) - SEQUENCE_LENGTH)
            sequence = genome[start : start + SEQUENCE_LENGTH]
            fasta.write(f">{entry_id} synthetic sample {number}\n")
            for offset in range(0, SEQUENCE_LENGTH, LINE_WIDTH):
                fasta.write(sequence[offset : offset + LINE_WIDTH])
                fasta.write("\n")
    return metadata, sequences


def child(metadata: str, sequences: str) -> None:
    """One measured run, in its own process. Prints JSON: seconds, peak RSS, entries, problems."""
    sys.path.insert(0, str(ROOT))
    from submitportal.bulkfiles.validate import validate
    from submitportal.loculus.schema import FileCategory, InputField, Organism

    organism = Organism(
        key="bench",
        display_name="Benchmark virus",
        input_fields=(
            InputField("id", "ID", required=True),
            InputField("sampleCollectionDate", "Collection date", required=True, type="date"),
            InputField("geoLocCountry", "Country", required=True, options=tuple(COUNTRIES[:-1])),
            InputField("hostNameScientific", "Host", desired=True),
            InputField("authors", "Authors"),
        ),
        consensus_sequences=True,
        segments=("main",),
        max_sequences_per_entry=1,
        files_enabled=True,
        file_categories=(FileCategory("rawReads", "Raw reads"),),
    )
    started = time.perf_counter()
    report = validate(organism, metadata, "metadata.tsv", sequences, "sequences.fasta")
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_rss_mb": peak_kib / 1024,
                "entries": len(report.entries),
                "sequences": report.sequence_count,
                "errors": report.counts.errors,
                "warnings": report.counts.warnings,
            }
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep the files")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    with tempfile.TemporaryDirectory(prefix="bulkfiles-bench-") as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        metadata, sequences = generate(folder)
        size = metadata.stat().st_size + sequences.stat().st_size
        print(
            f"generated {ENTRIES:,} entries: metadata {metadata.stat().st_size / 1e6:.1f} MB, "
            f"FASTA {sequences.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s"
        )
        results = []
        for _ in range(args.runs):
            done = subprocess.run(
                [sys.executable, __file__, "--child", str(metadata), str(sequences)],
                check=True,
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            results.append(json.loads(done.stdout))
    speeds = [size / 1e6 / result["seconds"] for result in results]
    rss = max(result["peak_rss_mb"] for result in results)
    print(f"\n{'run':>4} {'seconds':>8} {'MB/s':>7} {'peak RSS MB':>12} {'entries':>8} {'errors':>7} {'warnings':>9}")
    for number, (result, speed) in enumerate(zip(results, speeds, strict=True), start=1):
        print(
            f"{number:>4} {result['seconds']:>8.2f} {speed:>7.1f} {result['peak_rss_mb']:>12.1f} "
            f"{result['entries']:>8,} {result['errors']:>7,} {result['warnings']:>9,}"
        )
    median = statistics.median(speeds)
    print(f"\nmedian {median:.1f} MB/s over {size / 1e6:.1f} MB uncompressed; peak RSS {rss:.1f} MB")
    print(f"targets: >= {MIN_MB_PER_S:.0f} MB/s, < {MAX_RSS_MB:.0f} MB RSS")
    if median < MIN_MB_PER_S or rss >= MAX_RSS_MB:
        print("FAILED: below target")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
