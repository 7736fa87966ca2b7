"""An organism's submission schema, read from its entry in /loculus-info's `organisms`.

The fields a submitter fills in, the file categories an entry may link, the sequence segments and
the metadata template, in the shapes the Loculus website has published (backend-contract §7).
Plain Python, no Django and no HTTP: the parsing and checking code (submitportal.bulkfiles,
single_entry, linking) needs only these types, so it can be tested and benchmarked alone.
submitportal.loculus.instance fetches and caches /loculus-info and builds its organisms here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

ID_FIELD = "id"
ACCESSION_FIELD = "accession"  # a revision's column: the released accession it revises
# An accession as Loculus's revision form accepts it, and one with its version (`ACC.N`).
ACCESSION = re.compile(r"[A-Za-z0-9_]+")
ACCESSION_VERSION = re.compile(r"([A-Za-z0-9_]+)\.([0-9]+)")
FASTA_IDS_FIELD = "fastaIds"
ACCESSION_FIELD = "accession"  # what a revision's metadata names the entry it revises by


@dataclass(frozen=True)
class InputField:
    name: str
    display_name: str
    definition: str = ""
    guidance: str = ""
    example: str = ""
    required: bool = False
    desired: bool = False
    no_edit: bool = False
    options: tuple[str, ...] = ()
    header: str = ""
    type: str = "string"


@dataclass(frozen=True)
class FileCategory:
    name: str
    display_name: str


@dataclass(frozen=True)
class Organism:
    key: str
    display_name: str
    input_fields: tuple[InputField, ...]
    consensus_sequences: bool
    segments: tuple[str, ...]
    max_sequences_per_entry: int | None
    files_enabled: bool
    file_categories: tuple[FileCategory, ...]
    metadata_template: tuple[str, ...] = ()
    # Every metadata field's display name (schema.metadata), processed-only fields included.
    display_names: tuple[tuple[str, str], ...] = ()

    def display_name_of(self, name: str) -> str:
        return next((display for field, display in self.display_names if field == name), name)

    @property
    def is_multi_segment(self) -> bool:
        return len(self.segments) > 1

    @property
    def required_fields(self) -> tuple[InputField, ...]:
        return tuple(f for f in self.input_fields if f.required)

    def file_category(self, name: str) -> FileCategory | None:
        return next((c for c in self.file_categories if c.name == name), None)


def as_text(value: Any) -> str:
    """A JSON value as text; a missing one (None) is empty."""
    return "" if value is None else str(value)


def _segments(raw: Any) -> tuple[str, ...]:
    """Segment names from referenceGenomes, in either shape Loculus has used.

    Newer websites: a list of {name, references: [...]}; older: {nucleotideSequences: [{name}]}.
    """
    if isinstance(raw, list):
        return tuple(as_text(item.get("name")) for item in raw if isinstance(item, dict) and item.get("name"))
    if isinstance(raw, dict):
        sequences = raw.get("nucleotideSequences") or []
        return tuple(as_text(item.get("name")) for item in sequences if isinstance(item, dict) and item.get("name"))
    return ()


def parse_organism(key: str, raw: dict[str, Any]) -> Organism:
    """One organism from /loculus-info's `organisms[key]`; what is missing gets the website's default."""
    schema = raw.get("schema") or {}
    headers = {m.get("name"): as_text(m.get("header")) for m in schema.get("metadata") or [] if isinstance(m, dict)}
    types = {
        m.get("name"): as_text(m.get("type") or "string") for m in schema.get("metadata") or [] if isinstance(m, dict)
    }
    fields = []
    for item in schema.get("inputFields") or []:
        name = as_text(item.get("name"))
        if not name:
            continue
        fields.append(
            InputField(
                name=name,
                display_name=as_text(item.get("displayName")) or ("ID" if name == ID_FIELD else name),
                definition=as_text(item.get("definition")),
                guidance=as_text(item.get("guidance")),
                example=as_text(item.get("example")),
                required=bool(item.get("required")),
                desired=bool(item.get("desired")),
                no_edit=bool(item.get("noEdit")),
                options=tuple(as_text(o.get("name")) for o in item.get("options") or [] if isinstance(o, dict)),
                header=headers.get(name, ""),
                type=types.get(name, "string"),
            )
        )
    data_types = schema.get("submissionDataTypes") or {}
    files = data_types.get("files") or {}
    categories = tuple(
        FileCategory(name=as_text(c.get("name")), display_name=as_text(c.get("displayName")) or as_text(c.get("name")))
        for c in files.get("categories") or []
        if isinstance(c, dict) and c.get("name")
    )
    consensus = bool(data_types.get("consensusSequences", True))
    segments = _segments(raw.get("referenceGenomes"))
    if consensus and not segments:
        segments = ("main",)
    max_per_entry = data_types.get("maxSequencesPerEntry")
    return Organism(
        key=key,
        display_name=as_text(schema.get("organismName")) or key,
        input_fields=tuple(fields),
        consensus_sequences=consensus,
        segments=segments if consensus else (),
        max_sequences_per_entry=int(max_per_entry) if isinstance(max_per_entry, int) else None,
        files_enabled=bool(files.get("enabled")) and bool(categories),
        file_categories=categories if files.get("enabled") else (),
        metadata_template=tuple(as_text(n) for n in schema.get("metadataTemplate") or []),
        display_names=tuple(
            (as_text(m.get("name")), as_text(m.get("displayName")) or as_text(m.get("name")))
            for m in schema.get("metadata") or []
            if isinstance(m, dict) and m.get("name")
        ),
    )
