"""Organism configuration of the sandbox instance.

One definition per organism feeds two views, as Helm does for a real instance:
the website config served at ``/loculus-info`` (contract §7.3) and the few
settings the backend checks at submit time (contract §7.2).

Two sets: the hand-written test organisms below (TEST_ORGANISMS, which the tests are written
against), and the organisms generated from Loculus's Helm values (sandbox.helm_organisms), which
``python -m sandbox`` serves by default. The sandbox picks one at start (``--organisms``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COUNTRIES = [
    "Brazil",
    "Democratic Republic of the Congo",
    "Germany",
    "India",
    "Kenya",
    "Nigeria",
    "South Africa",
    "Sudan",
    "Switzerland",
    "Uganda",
    "United Kingdom",
    "USA",
]

HOSTS = ["Homo sapiens", "Rousettus aegyptiacus", "Hyalomma marginatum", "Bos taurus", "Sus scrofa"]

INSTRUMENTS = [
    "Illumina MiSeq",
    "Illumina NextSeq 2000",
    "Illumina NovaSeq 6000",
    "Oxford Nanopore MinION",
    "Oxford Nanopore GridION",
    "PacBio Sequel II",
]


@dataclass(frozen=True)
class Field:
    """One metadata field: both its schema entry and (optionally) its input field."""

    name: str
    display_name: str
    type: str = "string"
    header: str | None = None
    definition: str = ""
    guidance: str | None = None
    example: str = ""
    required: bool = False
    desired: bool = False
    options: tuple[str, ...] = ()
    input: bool = True

    def metadata_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": self.name, "displayName": self.display_name, "type": self.type}
        if self.header:
            entry["header"] = self.header
        if self.required:
            entry["required"] = True
        if self.options:
            entry["options"] = [{"name": option} for option in self.options]
        return entry

    def input_field(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "name": self.name,
            "displayName": self.display_name,
            "definition": self.definition,
            "example": self.example,
        }
        if self.guidance:
            entry["guidance"] = self.guidance
        if self.required:
            entry["required"] = True
        if self.desired:
            entry["desired"] = True
        if self.options:
            entry["options"] = [{"name": option} for option in self.options]
        return entry


SAMPLE = "Sample details"
HOST = "Host"
SEQUENCING = "Sequencing"
AUTHORS = "Authors"

COMMON_FIELDS: list[Field] = [
    Field(
        "sampleCollectionDate",
        "Collection date",
        type="date",
        header=SAMPLE,
        definition="The date on which the sample was collected.",
        guidance="Use ISO 8601 (YYYY-MM-DD). If only the month or year is known, give YYYY-MM or YYYY.",
        example="2024-03-18",
        required=True,
    ),
    Field(
        "geoLocCountry",
        "Collection country",
        header=SAMPLE,
        definition="The country where the sample was collected.",
        guidance="Pick the country from the list; use the country the sample was taken in, not the lab's.",
        example="Uganda",
        required=True,
        options=tuple(COUNTRIES),
    ),
    Field(
        "geoLocAdmin1",
        "Collection subdivision level 1",
        header=SAMPLE,
        definition="The first-level administrative region (state, province, region) of the collection place.",
        example="Central Region",
        desired=True,
    ),
    Field(
        "specimenCollectorSampleId",
        "Specimen collector sample ID",
        header=SAMPLE,
        definition="The identifier the sample collector gave the specimen.",
        guidance="Do not use personally identifying information.",
        example="UVRI-2024-0042",
    ),
    Field(
        "hostNameScientific",
        "Host (scientific name)",
        header=HOST,
        definition="The scientific name of the host organism the sample was taken from.",
        example="Homo sapiens",
        desired=True,
        options=tuple(HOSTS),
    ),
    Field(
        "sequencingInstrument",
        "Sequencing instrument",
        header=SEQUENCING,
        definition="The model of the sequencing instrument used.",
        example="Illumina MiSeq",
        options=tuple(INSTRUMENTS),
    ),
    Field(
        "sequencingProtocol",
        "Sequencing protocol",
        header=SEQUENCING,
        definition="A short description of the library preparation and sequencing protocol.",
        example="Amplicon tiling, 400 bp amplicons, ARTIC-style",
    ),
    Field(
        "authors",
        "Authors",
        type="authors",
        header=AUTHORS,
        definition="The names of the sequence authors, in the order they should be cited.",
        guidance="Separate authors with ';' and write each as 'Surname, Given names'.",
        example="Smith, Anna; Okello, James",
        desired=True,
    ),
    Field(
        "authorAffiliations",
        "Author affiliations",
        header=AUTHORS,
        definition="The institutions the authors are affiliated with.",
        example="Uganda Virus Research Institute, Entebbe, Uganda",
        desired=True,
    ),
]

ID_INPUT_FIELD: dict[str, Any] = {
    "name": "id",
    "displayName": "ID",
    "definition": "A unique identifier of the entry within this submission; it links metadata, sequences and files.",
    "guidance": "Letters, digits, '-', '_' and '.' only; no whitespace.",
    "example": "sample_001",
    "required": True,
    "noEdit": True,
}

# Helm adds this input field when maxSequencesPerEntry != 1 (contract §7.3).
FASTA_IDS_INPUT_FIELD: dict[str, Any] = {
    "name": "fastaIds",
    "displayName": "FASTA IDs",
    "definition": "The FASTA headers (IDs) of the sequences of this entry, separated by spaces.",
    "guidance": "List one FASTA ID per segment, e.g. 'iso1_L iso1_M iso1_S'.",
    "example": "sample_001_L sample_001_M sample_001_S",
    "desired": True,
}

WASTEWATER_FIELDS: list[Field] = [
    Field(
        "sampleCollectionDate",
        "Collection date",
        type="date",
        header=SAMPLE,
        definition="The date on which the wastewater sample was collected.",
        guidance="Use ISO 8601 (YYYY-MM-DD).",
        example="2024-05-02",
        required=True,
    ),
    Field(
        "geoLocCountry",
        "Collection country",
        header=SAMPLE,
        definition="The country of the sampling site.",
        example="Switzerland",
        required=True,
        options=tuple(COUNTRIES),
    ),
    Field(
        "samplingSite",
        "Sampling site",
        header=SAMPLE,
        definition="The name of the treatment plant or sampling point.",
        example="ARA Werdhölzli, Zürich",
        required=True,
    ),
    Field(
        "flowRate",
        "Flow rate (m³/day)",
        type="float",
        header=SAMPLE,
        definition="The daily inflow of the treatment plant on the sampling day.",
        example="250000",
    ),
    Field(
        "sequencingInstrument",
        "Sequencing instrument",
        header=SEQUENCING,
        definition="The model of the sequencing instrument used.",
        example="Illumina NovaSeq 6000",
        desired=True,
        options=tuple(INSTRUMENTS),
    ),
    Field(
        "authors",
        "Authors",
        type="authors",
        header=AUTHORS,
        definition="The names of the data authors, in the order they should be cited.",
        guidance="Separate authors with ';' and write each as 'Surname, Given names'.",
        example="Meier, Lea; Rossi, Marco",
        desired=True,
    ),
    Field(
        "authorAffiliations",
        "Author affiliations",
        header=AUTHORS,
        definition="The institutions the authors are affiliated with.",
        example="Eawag, Dübendorf, Switzerland",
    ),
]

# Fields every Loculus schema has but that are not submitted (filled by the backend/pipeline).
SYSTEM_METADATA: list[dict[str, Any]] = [
    {"name": "accessionVersion", "displayName": "Accession version", "type": "string", "header": "Submission details"},
    {
        "name": "submittedAtTimestamp",
        "displayName": "Date submitted",
        "type": "timestamp",
        "header": "Submission details",
    },
    {"name": "versionComment", "displayName": "Version comment", "type": "string", "header": "Submission details"},
]


@dataclass(frozen=True)
class Organism:
    key: str
    display_name: str
    consensus_sequences: bool
    segments: tuple[str, ...]
    file_categories: tuple[tuple[str, str], ...]
    fields: list[Field] = field(default_factory=list)
    max_sequences_per_entry: int | None = None
    # Hidden organisms exist in the backend only (for contract tests), not in /loculus-info.
    hidden: bool = False
    # Organisms generated from Helm values carry their website config as the templates render it.
    rendered_schema: dict[str, Any] | None = None
    rendered_reference_genomes: list[dict[str, Any]] | None = None

    @property
    def files_enabled(self) -> bool:
        return bool(self.file_categories)

    @property
    def category_names(self) -> list[str]:
        return [name for name, _ in self.file_categories]

    def input_fields(self) -> list[dict[str, Any]]:
        fields = [dict(ID_INPUT_FIELD)]
        if self.max_sequences_per_entry != 1 and self.consensus_sequences:
            fields.append(dict(FASTA_IDS_INPUT_FIELD))
        fields.extend(f.input_field() for f in self.fields if f.input)
        return fields

    def website_schema(self) -> dict[str, Any]:
        if self.rendered_schema is not None:
            return self.rendered_schema
        categories = [{"name": name, "displayName": display} for name, display in self.file_categories]
        submission_data_types: dict[str, Any] = {
            "consensusSequences": self.consensus_sequences,
            "files": {"enabled": self.files_enabled, "categories": categories},
        }
        if self.max_sequences_per_entry is not None:
            submission_data_types["maxSequencesPerEntry"] = self.max_sequences_per_entry
        return {
            "organismName": self.display_name,
            "metadata": [f.metadata_entry() for f in self.fields] + SYSTEM_METADATA,
            "inputFields": self.input_fields(),
            "metadataTemplate": [f.name for f in self.fields if f.input],
            "submissionDataTypes": submission_data_types,
            "files": categories,
            "primaryKey": "accessionVersion",
            "tableColumns": [f.name for f in self.fields[:3]],
            "defaultOrderBy": "sampleCollectionDate",
            "defaultOrder": "descending",
        }

    def reference_genomes(self) -> list[dict[str, Any]]:
        if self.rendered_reference_genomes is not None:
            return self.rendered_reference_genomes
        return [
            {
                "name": segment,
                "displayName": segment,
                "references": [{"name": segment, "sequence": REFERENCE_STUB, "genes": []}],
            }
            for segment in self.segments
        ]


# A short stand-in; the real reference genomes are tens of kilobases and not needed at submit time.
REFERENCE_STUB = "ATGGATAAACGGGTGAGAGGTTCATGGGCCCTGGGAGGACAATCTGAAGTTGATCTTGACTACCACAAAATATTAACAGCC"

TEST_ORGANISMS: dict[str, Organism] = {
    "ebola-sudan": Organism(
        key="ebola-sudan",
        display_name="Ebola Sudan",
        consensus_sequences=True,
        segments=("main",),
        file_categories=(("rawReads", "Raw reads"),),
        fields=COMMON_FIELDS,
        max_sequences_per_entry=1,
    ),
    "cchf": Organism(
        key="cchf",
        display_name="Crimean-Congo Hemorrhagic Fever Virus",
        consensus_sequences=True,
        segments=("L", "M", "S"),
        file_categories=(("rawReads", "Raw reads"),),
        fields=COMMON_FIELDS,
        max_sequences_per_entry=3,
    ),
    "wastewater": Organism(
        key="wastewater",
        display_name="Wastewater metagenomics",
        consensus_sequences=False,
        segments=(),
        file_categories=(("rawReads", "Raw reads"), ("qcReports", "QC reports")),
        fields=WASTEWATER_FIELDS,
    ),
    # Backend-only organism with consensus sequences and files disabled; it exists so the
    # "organism does not support file submission" rows (contract §4.4 #13, §4.6) can be tested.
    "nofiles": Organism(
        key="nofiles",
        display_name="Sandbox organism without files",
        consensus_sequences=True,
        segments=("main",),
        file_categories=(),
        fields=COMMON_FIELDS,
        max_sequences_per_entry=1,
        hidden=True,
    ),
}


# The organisms the running sandbox serves; modules hold this dict, so use_organisms changes it in place.
ORGANISMS: dict[str, Organism] = dict(TEST_ORGANISMS)


def use_organisms(chosen: dict[str, Organism]) -> None:
    ORGANISMS.clear()
    ORGANISMS.update(chosen)


def public_organisms() -> dict[str, Organism]:
    return {key: organism for key, organism in ORGANISMS.items() if not organism.hidden}
