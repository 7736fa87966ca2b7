"""The bounds on what a bulk file may make the portal do: `Limits`, and `short` for quoting input in messages.

Every bound exists so that the time and memory a check takes follow the useful content of a file,
never what a hostile or broken file claims to hold: a small upload that unpacks to gigabytes, a
table of millions of rows, a cell of megabytes. The portal builds one `Limits` from its settings
(submitportal.bulk.limits); the defaults here are the settings' defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

MAX_DECOMPRESSED_BYTES = 20 * 1024**3
# Real metadata and FASTA files compress 4 to 12 times with gzip, and up to ~300 times with zstd -19 or
# xz when they hold thousands of near-identical genomes; blank lines gzip ~1,000 times (zstd: ~30,000).
MAX_COMPRESSION_RATIO = 500
# The ratio is judged only once this much is unpacked: reading that much costs a fraction of a
# second, so a small file is never refused for compressing well.
RATIO_CHECKED_FROM = 64 * 1024**2
MAX_METADATA_ROWS = 250_000
# Four sequences per entry at MAX_METADATA_ROWS (most organisms have one segment, influenza eight).
MAX_FASTA_RECORDS = 1_000_000
# Excel itself holds at most 32,767 characters in a cell.
MAX_VALUE_BYTES = 64 * 1024
MAX_ROW_BYTES = 1024 * 1024
# What a check keeps of a file to compare (entry IDs, FASTA IDs, file names), counted as their
# characters plus KEPT_OVERHEAD each (a Python string's own size): bounds the check's memory even
# when every ID is as long as a cell may be.
MAX_KEPT_BYTES = 256 * 1024**2
KEPT_OVERHEAD = 64

QUOTED_PREFIX = 60


@dataclass(frozen=True)
class Limits:
    """The bounds of one check. Sizes in bytes of decompressed text."""

    max_bytes: int = MAX_DECOMPRESSED_BYTES  # what a compressed file may unpack to
    max_ratio: int = MAX_COMPRESSION_RATIO  # unpacked ÷ packed bytes, once ratio_from bytes are unpacked
    ratio_from: int = RATIO_CHECKED_FROM
    max_rows: int = MAX_METADATA_ROWS  # data rows of a metadata table
    max_records: int = MAX_FASTA_RECORDS  # records of a FASTA file
    max_value: int = MAX_VALUE_BYTES  # one metadata cell (characters)
    max_row: int = MAX_ROW_BYTES  # one metadata row, or one line of a text table
    max_kept: int = MAX_KEPT_BYTES

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def resolve(limits: Limits | None, max_bytes: int | None) -> Limits:
    """The limits a function was given: `limits` (default: the defaults), with `max_bytes` if that was given.

    Lets every function keep its older `max_bytes` parameter beside the newer `limits`.
    """
    resolved = limits or Limits()
    return resolved if max_bytes is None else replace(resolved, max_bytes=max_bytes)


def short(text: str, limit: int = QUOTED_PREFIX) -> str:
    """`text` as a message quotes it: at most its first `limit` characters, then “…”.

    Every value, ID, header or file name a message repeats goes through this, so a message (and
    the page that shows a hundred of them) stays small whatever the file holds.
    """
    return text if len(text) <= limit else text[:limit] + "…"
