"""Writing metadata TSV and FASTA the way Loculus reads them.

The backend parses TSV with Apache Commons CSV's TDF format: tab-separated, `"` quoting, and
surrounding spaces trimmed unless quoted. Values are quoted exactly when the Loculus website
(Papa.unparse) quotes them: when they contain a quote, a tab or a line break, or start or end
with a space. A quote inside is doubled.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO


def quote(value: str) -> str:
    if any(char in value for char in '"\t\n\r') or value.startswith(" ") or value.endswith(" "):
        return '"' + value.replace('"', '""') + '"'
    return value


def write_row(out: IO[str], values: Iterable[str]) -> None:
    values = list(values)
    line = "\t".join(values)
    # Nearly every row needs no quoting, and that is seen on the joined line in a few C calls; only a
    # row where some value might need quotes is quoted value by value.
    if (
        line.count("\t") != len(values) - 1
        or '"' in line
        or "\n" in line
        or "\r" in line
        or line.startswith(" ")
        or line.endswith(" ")
        or " \t" in line
        or "\t " in line
    ):
        line = "\t".join(quote(value) for value in values)
    out.write(line)
    out.write("\n")


def write_fasta_record(out: IO[str], fasta_id: str, sequence: str, width: int = 0) -> None:
    out.write(f">{fasta_id}\n")
    if width:
        for start in range(0, len(sequence), width):
            out.write(sequence[start : start + width] + "\n")
    else:
        out.write(sequence + "\n")
