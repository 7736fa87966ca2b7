"""What the check of a bulk submission needs from a FASTA file, read once and kept: `FastaSummary`.

The FASTA file alone decides its records (IDs, header lines, which are empty), its oddities and
whether it can be read at all; only comparing it with the metadata needs both files. So a FASTA is
summarized once, as it arrives (`summarize_fasta` on a stream that follows the upload) or afterwards
(on its path), and `validate.combine` turns a summary and a metadata check into the report, without
reading the FASTA again. The summary holds the records' IDs and header lines, never sequence bytes,
and is kept beside the stored file as bytes (`to_bytes`, `from_bytes`).
"""

from __future__ import annotations

import json
import struct
import sys
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from submitportal.bulkfiles.compression import UnreadableFile, can_stream, human_size
from submitportal.bulkfiles.fasta import FastaOddity, FastaReader
from submitportal.bulkfiles.limits import KEPT_OVERHEAD, Limits, resolve, short

# Bump whenever FastaReader's rules or this layout change: summaries written before are then refused
# by `from_bytes`, and the caller reads the file again.
SUMMARY_FORMAT = 2
_MAGIC = b"SPFASTA\x00"
_LENGTHS = struct.Struct("<IQQ")  # format, header bytes, ID bytes


@dataclass(frozen=True, eq=True)
class FastaSummary:
    """A FASTA file as the check sees it. Immutable; built by `summarize_fasta`.

    `ids[i]` and `lines[i]` are record i's FASTA ID ("" for a header without one) and its header's
    line; `empty` holds the positions of the records without sequence. `unreadable` is the message
    of what stopped the reading; the records before it are kept (the check reports them), the
    oddities then are not.
    """

    name: str  # the user's file name, as the messages quote it
    limits: Limits = field(default_factory=Limits)  # the limits it was read with
    ids: tuple[str, ...] = ()
    lines: array = field(default_factory=lambda: array("Q"))
    empty: frozenset[int] = frozenset()
    oddities: tuple[FastaOddity, ...] = ()
    unreadable: str | None = None

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def max_bytes(self) -> int:
        return self.limits.max_bytes

    def to_bytes(self) -> bytes:
        """Magic, lengths, a JSON header, the IDs joined by newlines (no ID holds whitespace), the lines."""
        header = json.dumps(
            {
                "name": self.name,
                "limits": self.limits.as_dict(),
                "count": self.count,
                "empty": sorted(self.empty),
                "oddities": [[o.kind, o.line, o.message] for o in self.oddities],
                "unreadable": self.unreadable,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        ids = "\n".join(self.ids).encode()
        lines = array("Q", self.lines)
        if sys.byteorder == "big":
            lines.byteswap()
        return b"".join((_MAGIC, _LENGTHS.pack(SUMMARY_FORMAT, len(header), len(ids)), header, ids, lines.tobytes()))

    @classmethod
    def from_bytes(cls, data: bytes) -> FastaSummary:
        """The summary `to_bytes` wrote. ValueError if it is not one, or of another SUMMARY_FORMAT."""
        start = len(_MAGIC) + _LENGTHS.size
        if not data.startswith(_MAGIC) or len(data) < start:
            raise ValueError("not a FASTA summary")
        version, header_size, ids_size = _LENGTHS.unpack_from(data, len(_MAGIC))
        if version != SUMMARY_FORMAT:
            raise ValueError(f"a FASTA summary of format {version}, not {SUMMARY_FORMAT}")
        header = json.loads(data[start : start + header_size])
        count = header["count"]
        ids_end = start + header_size + ids_size
        if len(data) != ids_end + 8 * count:
            raise ValueError("a FASTA summary of the wrong length")
        ids = tuple(data[start + header_size : ids_end].decode().split("\n")) if count else ()
        lines = array("Q")
        lines.frombytes(data[ids_end:])
        if sys.byteorder == "big":
            lines.byteswap()
        if len(ids) != count:
            raise ValueError("a FASTA summary whose IDs do not match its count")
        return cls(
            name=header["name"],
            limits=Limits(**header["limits"]),
            ids=ids,
            lines=lines,
            empty=frozenset(header["empty"]),
            oddities=tuple(FastaOddity(kind, line, message) for kind, line, message in header["oddities"]),
            unreadable=header["unreadable"],
        )


def can_follow(name: str) -> bool:
    """Whether `summarize_fasta` can read a file of this name from a stream as it arrives (all but .zip)."""
    return can_stream(name)


def summarize_fasta(
    source: str | Path | BinaryIO, name: str, *, max_bytes: int | None = None, limits: Limits | None = None
) -> FastaSummary:
    """Read the FASTA once: a path, or a binary stream from its start (see `can_follow`). Never raises
    for bad input; the stream's own exceptions (e.g. the upload was abandoned) pass through.

    Besides the reader's limits, the IDs kept are bounded by `limits.max_kept` (an ID may be as long as a
    header, 64 KiB)."""
    limits = resolve(limits, max_bytes)
    reader = FastaReader(source, name, limits=limits)
    ids: list[str] = []
    lines = array("Q")
    empty: list[int] = []
    unreadable = None
    kept = 0
    try:
        for record in reader:
            if record.length == 0:
                empty.append(len(ids))
            ids.append(record.id)
            lines.append(record.line)
            kept += len(record.id) + KEPT_OVERHEAD
            if kept > limits.max_kept:
                raise UnreadableFile(
                    f"The FASTA IDs of “{short(name)}” add up to more than {human_size(limits.max_kept)} by the header "
                    f"on line {record.line}. The portal keeps every ID to compare it with the metadata, so it stops "
                    "there; please split the submission into several smaller ones."
                )
    except UnreadableFile as exc:
        unreadable = exc.message
    return FastaSummary(
        name=name,
        limits=limits,
        ids=tuple(ids),
        lines=lines,
        empty=frozenset(empty),
        oddities=tuple(reader.oddities),
        unreadable=unreadable,
    )
