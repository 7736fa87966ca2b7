"""One sequence entry typed into the form: its fields, its sequences, and what is wrong with them.

Plain Python (no Django), so it can be tested alone: the organism schema comes from
submitportal.loculus.schema (tests/test_no_django_in_parsing.py checks). The layout mirrors the
Loculus website's form: "Required fields", "Desired fields", then one group per metadata header,
then "Uncategorized".
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from submitportal.bulkfiles.field_checks import check_value
from submitportal.loculus.schema import FASTA_IDS_FIELD, ID_FIELD, InputField, Organism

# Letters (IUPAC codes, any case), gaps and stop/unknown markers. Anything else is surely a mistake.
_NOT_NUCLEOTIDE = re.compile(r"[^A-Za-z\-.*]")


@dataclass(frozen=True)
class FieldGroup:
    title: str
    fields: tuple[InputField, ...]


def form_fields(organism: Organism) -> tuple[InputField, ...]:
    """The fields a user types: everything but fastaIds, which the portal writes itself."""
    return tuple(f for f in organism.input_fields if f.name != FASTA_IDS_FIELD)


def edit_fields(organism: Organism) -> tuple[InputField, ...]:
    """The fields an edit changes: not the ID (Loculus keeps it), nor those the instance marks noEdit."""
    return tuple(f for f in form_fields(organism) if f.name != ID_FIELD and not f.no_edit)


def field_groups(organism: Organism, *, editing: bool = False) -> list[FieldGroup]:
    fields = edit_fields(organism) if editing else form_fields(organism)
    groups: list[FieldGroup] = []
    placed: set[str] = set()

    def add(title: str, members: Iterable[InputField]) -> None:
        chosen = tuple(f for f in members if f.name not in placed)
        if chosen:
            groups.append(FieldGroup(title, chosen))
            placed.update(f.name for f in chosen)

    add("Required fields", (f for f in fields if f.required or f.name == ID_FIELD))
    add("Desired fields", (f for f in fields if f.desired))
    headers = list(dict.fromkeys(f.header for f in fields if f.header))
    for header in headers:
        add(header, (f for f in fields if f.header == header))
    add("Uncategorized", fields)
    return groups


@dataclass
class ParsedSequence:
    sequence: str = ""
    problem: str | None = None


def parse_sequence(lines: Iterable[str], label: str) -> ParsedSequence:
    """A pasted or uploaded sequence: FASTA or plain. CRLF, blank lines, lowercase and one header are fine.

    A header line is dropped: the FASTA id comes from the entry's ID. `label` names the input in messages.
    """
    parts: list[str] = []
    headers = 0
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith(">"):
            headers += 1
            if headers > 1:
                return ParsedSequence(
                    problem=f"{label} contains more than one FASTA header (line {number}). "
                    "Please give one sequence per box; the ID of the entry names it."
                )
            continue
        line = "".join(line.split())
        bad = _NOT_NUCLEOTIDE.search(line)
        if bad:
            return ParsedSequence(
                problem=f"{label} contains “{bad.group()}” on line {number}, which is not a nucleotide code. "
                "Please paste only the sequence (letters such as A, C, G, T, N and gaps -)."
            )
        parts.append(line)
    sequence = "".join(parts)
    if headers and not sequence:
        return ParsedSequence(problem=f"{label} has a header but no sequence.")
    return ParsedSequence(sequence=sequence)


def text_lines(data: bytes) -> Iterator[str]:
    """Lines of an uploaded sequence file; refuses binary content clearly."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("is not a text file (it could not be read as UTF-8 text)") from None
    if "\x00" in text:
        raise ValueError("is not a text file (it contains binary data)")
    return iter(text.splitlines())


@dataclass(frozen=True)
class Entry:
    """A valid entry, ready to be written as one TSV row and its FASTA records."""

    submission_id: str
    metadata: dict[str, str]
    sequences: tuple[tuple[str, str], ...]  # (fasta id, sequence)
    fasta_ids: tuple[str, ...] = ()


@dataclass
class Checked:
    """`entry` is None when there are `errors`. `warnings` (a partial date, a value outside the options)
    never block: Loculus takes such values, but the user should see them once before submitting."""

    entry: Entry | None
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)

    def warnings_key(self) -> str:
        """Names these warnings (values and words): the form submits once the user has seen the same ones."""
        text = "\n".join(f"{name}\t{message}" for name, message in sorted(self.warnings.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:32] if self.warnings else ""


def sequence_label(organism: Organism, segment: str) -> str:
    return f"Nucleotide sequence {segment}" if organism.is_multi_segment else "Nucleotide sequence"


def check_entry(organism: Organism, values: Mapping[str, str], sequences: Mapping[str, ParsedSequence]) -> Checked:
    """Everything Loculus or its pipeline would refuse in a single entry, keyed by the field it concerns.

    Dates and options are judged as in the bulk check (`field_checks`), with the same words.
    """
    errors: dict[str, str] = {}
    warnings: dict[str, str] = {}
    cleaned = {f.name: (values.get(f.name) or "").strip() for f in form_fields(organism)}
    submission_id = cleaned.get(ID_FIELD, "")
    for input_field in form_fields(organism):
        if input_field.name != ID_FIELD:
            _check_field(input_field, cleaned[input_field.name], errors, warnings)
        elif not submission_id:
            errors[ID_FIELD] = "Please enter an ID for this entry, e.g. the sample's name in your lab."
        elif any(char.isspace() for char in submission_id):
            errors[ID_FIELD] = "The ID may not contain spaces or other whitespace."
    filled: list[tuple[str, str]] = []
    for segment in organism.segments:
        parsed = sequences.get(segment) or ParsedSequence()
        if parsed.problem:
            errors[f"sequence-{segment}"] = parsed.problem
        elif parsed.sequence:
            filled.append((segment, parsed.sequence))
    if organism.consensus_sequences and not filled and not any(k.startswith("sequence-") for k in errors):
        first = organism.segments[0]
        errors[f"sequence-{first}"] = (
            "Please enter at least one segment's sequence."
            if organism.is_multi_segment
            else "Please enter sequence data."
        )
    if errors:
        return Checked(None, errors, warnings)
    if organism.is_multi_segment:
        records = tuple((f"{submission_id}_{segment}", sequence) for segment, sequence in filled)
        fasta_ids = tuple(fasta_id for fasta_id, _ in records)
    else:
        records = tuple((submission_id, sequence) for _, sequence in filled)
        fasta_ids = ()
    metadata = {name: value for name, value in cleaned.items() if name != ID_FIELD}
    return Checked(Entry(submission_id, metadata, records, fasta_ids), warnings=warnings)


def _check_field(input_field: InputField, value: str, errors: dict[str, str], warnings: dict[str, str]) -> None:
    """A required field left empty, or a value's problem (dates, options) as the bulk check judges it."""
    if input_field.required and not value:
        errors[input_field.name] = f"{input_field.display_name} is required."
    elif (found := check_value(input_field, value)) is not None:
        (errors if found.level == "error" else warnings)[input_field.name] = found.message


def check_edit(
    organism: Organism, submission_id: str, values: Mapping[str, str], sequences: Mapping[str, ParsedSequence]
) -> Checked:
    """An edited entry: its fields judged as in `check_entry`, its sequences kept under their submitted FASTA ids.

    `sequences` maps each submitted FASTA id to its (edited) box; an emptied box is left out, as the
    Loculus website does. The entry's metadata holds only the fields an edit changes (`edit_fields`).
    """
    errors: dict[str, str] = {}
    warnings: dict[str, str] = {}
    fields = edit_fields(organism)
    cleaned = {f.name: (values.get(f.name) or "").strip() for f in fields}
    for input_field in fields:
        _check_field(input_field, cleaned[input_field.name], errors, warnings)
    records: list[tuple[str, str]] = []
    for fasta_id, parsed in sequences.items():
        if parsed.problem:
            errors[f"sequence-{fasta_id}"] = parsed.problem
        elif parsed.sequence:
            records.append((fasta_id, parsed.sequence))
    if (
        organism.consensus_sequences
        and sequences
        and not records
        and not errors.keys() & {f"sequence-{fasta_id}" for fasta_id in sequences}
    ):
        errors[f"sequence-{next(iter(sequences))}"] = "Please enter a sequence."
    if errors:
        return Checked(None, errors, warnings)
    return Checked(Entry(submission_id, cleaned, tuple(records)), warnings=warnings)
