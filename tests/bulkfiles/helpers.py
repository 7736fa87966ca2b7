"""Organisms and file makers shared by the bulk-file tests."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile
from pathlib import Path

import zstandard

from submitportal.loculus.instance import FileCategory, InputField, Organism


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
