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
    out.write("\t".join(quote(value) for value in values))
    out.write("\n")


def write_fasta_record(out: IO[str], fasta_id: str, sequence: str, width: int = 0) -> None:
    out.write(f">{fasta_id}\n")
    if width:
        for start in range(0, len(sequence), width):
            out.write(sequence[start : start + width] + "\n")
    else:
        out.write(sequence + "\n")
