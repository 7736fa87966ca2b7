"""The sandbox's preprocessing pipeline: what a Loculus instance's pipeline makes of a submitted entry.

The rules and their messages are taken from Loculus's own pipeline
(``preprocessing/nextclade/src/loculus_preprocessing/processing_functions.py`` and ``prepro.py``):
dates as ``parse_and_assert_past_date``, options as ``process_options`` (not an INSDC ingest
group, so an unknown option is an error), required fields, and unaligned sequences restricted
to the IUPAC nucleotide alphabet. Annotations have the backend's shape (contract §5.2).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import IO, Any

from sandbox.organisms import Organism

# IUPAC nucleotide codes (with U and the gap), as the pipeline accepts them, case-insensitive.
NUCLEOTIDE_ALPHABET = frozenset("ACGTURYKMSWBDHVN-")
DATE_FORMATS = (
    ("%Y-%m-%d", None),
    ("%Y-%m", "Day is missing. Assuming the 1st."),
    ("%Y", "Month and day are missing. Assuming January 1st."),
)
# Sequence files larger than this are not kept in memory; their entries get no sequence check.
MAX_KEPT_SEQUENCE_BYTES = 64 * 1024 * 1024


def annotation(name: str, source_type: str, message: str) -> dict[str, Any]:
    fields = [{"name": name, "type": source_type}]
    return {"unprocessedFields": fields, "processedFields": [dict(f) for f in fields], "message": message}


@dataclass
class Processed:
    metadata: dict[str, Any]
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def result(self) -> str:
        if self.errors:
            return "HAS_ERRORS"
        if self.warnings:
            return "HAS_WARNINGS"
        return "NO_ISSUES"


def standardize_option(option: str) -> str:
    return " ".join(option.lower().split())


def check_date(name: str, value: str, today: dt.date) -> tuple[str | None, list[str], list[str]]:
    """``parse_and_assert_past_date``: (datum, warnings, errors)."""
    for fmt, message in DATE_FORMATS:
        try:
            parsed = dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
        warnings = [f"Metadata field {name}:'{value}' - " + message] if message else []
        errors = [f"Metadata field {name}:'{value}' is in the future."] if parsed > today else []
        return parsed.isoformat(), warnings, errors
    return None, [], [f"Metadata field {name}: Date format is not recognized."]


def process_entry(
    organism: Organism,
    metadata: dict[str, str],
    sequences: dict[str, str],
    today: dt.date | None = None,
) -> Processed:
    """Process one entry's submitted metadata and unaligned sequences (keyed by FASTA ID)."""
    today = today or dt.datetime.now(dt.UTC).date()
    processed = Processed(metadata={})
    for spec in organism.fields:
        if not spec.input:
            continue
        raw = (metadata.get(spec.name) or "").strip()
        datum: Any = raw or None
        errors: list[str] = []
        warnings: list[str] = []
        if not raw:
            if spec.required:
                errors.append(f"Metadata field {spec.name} is required.")
        elif spec.type == "date":
            datum, warnings, errors = check_date(spec.name, raw, today)
        elif spec.options:
            options = {standardize_option(option): option for option in spec.options}
            datum = options.get(standardize_option(raw))
            if datum is None:
                errors.append(f"Metadata field {spec.name}:'{raw}' - not in list of accepted options.")
        elif spec.type in ("int", "float"):
            try:
                datum = int(raw) if spec.type == "int" else float(raw)
            except ValueError:
                datum = None
                errors.append(f"Invalid {spec.type} value: {raw} for field {spec.name}.")
        processed.metadata[spec.name] = datum
        processed.errors += [annotation(spec.name, "Metadata", message) for message in errors]
        processed.warnings += [annotation(spec.name, "Metadata", message) for message in warnings]
    for fasta_id, sequence in sequences.items():
        invalid = sorted(set(sequence.upper()) - NUCLEOTIDE_ALPHABET)
        if invalid:
            processed.errors.append(
                annotation(
                    fasta_id,
                    "NucleotideSequence",
                    f"Sequence {fasta_id} contains characters that are not IUPAC nucleotide codes: "
                    f"{', '.join(invalid)}.",
                )
            )
    return processed


def read_sequences(binary: IO[bytes]) -> dict[str, str]:
    """FASTA ID (up to the first whitespace) → sequence, lines joined."""
    sequences: dict[str, list[str]] = {}
    current: list[str] | None = None
    reader = binary if isinstance(binary, io.BufferedIOBase) else io.BufferedReader(binary)  # type: ignore[arg-type]
    while raw_line := reader.readline():
        line = raw_line.decode("utf-8", errors="replace").strip()
        if not line:
            continue
        if line.startswith(">"):
            current = sequences.setdefault(line[1:].split()[0] if line[1:].split() else "", [])
        elif current is not None:
            current.append(line)
    return {fasta_id: "".join(parts) for fasta_id, parts in sequences.items()}
