"""What the portal sends for one entry: the metadata TSV, the FASTA, and the file links in both generations."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest

from submitportal import single_entry, tsv
from submitportal.loculus.files_protocol import FileLink, FilesProtocol, Wire
from submitportal.loculus.schema import FileCategory, InputField, Organism
from submitportal.submission_parts import write_revision, write_single_entry

EBOLA = Organism(
    key="ebola-sudan",
    display_name="Ebola Sudan",
    input_fields=(
        InputField("id", "ID", required=True),
        InputField("sampleCollectionDate", "Collection date", required=True),
        InputField("authors", "Authors", desired=True),
    ),
    consensus_sequences=True,
    segments=("main",),
    max_sequences_per_entry=1,
    files_enabled=True,
    file_categories=(FileCategory("rawReads", "Raw reads"), FileCategory("qcReports", "QC reports")),
)
CCHF = Organism(
    key="cchf",
    display_name="CCHF",
    input_fields=(InputField("id", "ID", required=True), InputField("fastaIds", "FASTA IDs", desired=True)),
    consensus_sequences=True,
    segments=("L", "M", "S"),
    max_sequences_per_entry=3,
    files_enabled=False,
    file_categories=(),
)
LINKS = [
    FileLink("s1", "rawReads", "r1.fq", "8d8ac610-566d-4ef0-9c22-186b2a5ed793"),
    FileLink("s1", "rawReads", "r2.fq", "2ea137d0-8773-4e0a-a9aa-5591de12ff23"),
]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("plain", "plain"),
        ("two words", "two words"),
        ("tab\there", '"tab\there"'),
        ('say "hi"', '"say ""hi"""'),
        ("line\nbreak", '"line\nbreak"'),
        (" leading space", '" leading space"'),
        ("trailing space ", '"trailing space "'),
        ("", ""),
    ],
)
def test_values_are_quoted_as_the_loculus_website_quotes_them(value: str, written: str) -> None:
    assert tsv.quote(value) == written


def test_a_row_is_written_as_its_values_quoted_one_by_one() -> None:
    """write_row checks the joined line and quotes value by value only when needed: same bytes either way."""
    rng = random.Random(8)  # noqa: S311 - reproducible test data
    pieces = ["a", "b c", " ", "\t", '"', "\n", "\r", "", "x"]
    for _ in range(2000):
        values = ["".join(rng.choice(pieces) for _ in range(rng.randrange(0, 4))) for _ in range(rng.randrange(0, 5))]
        out = io.StringIO()
        tsv.write_row(out, iter(values))
        assert out.getvalue() == "\t".join(tsv.quote(value) for value in values) + "\n", values


def entry(organism: Organism, values: dict[str, str], sequences: dict[str, str]) -> single_entry.Entry:
    parsed = {s: single_entry.parse_sequence(text.splitlines(), s) for s, text in sequences.items()}
    checked = single_entry.check_entry(organism, values, parsed)
    assert checked.entry is not None, checked.errors
    return checked.entry


def test_the_current_generation_gets_files_columns_of_name_and_id(tmp_path: Path) -> None:
    one = entry(
        EBOLA, {"id": "s1", "sampleCollectionDate": "2024-05-01", "authors": 'Doe, J.; "Smith"'}, {"main": ">x\nACGT"}
    )
    wire = Wire(FilesProtocol.METADATA_COLUMNS, ["rawReads", "qcReports"], LINKS)
    metadata, fasta = write_single_entry(EBOLA, one, wire, tmp_path)
    assert metadata.read_text() == (
        "id\tsampleCollectionDate\tauthors\tfiles.rawReads\tfiles.qcReports\n"
        's1\t2024-05-01\t"Doe, J.; ""Smith"""\t'
        "r1.fq:8d8ac610-566d-4ef0-9c22-186b2a5ed793 r2.fq:2ea137d0-8773-4e0a-a9aa-5591de12ff23\t\n"
    )
    assert fasta is not None and fasta.read_text() == ">s1\nACGT\n"
    assert wire.file_mapping() is None


def test_the_legacy_generation_gets_a_file_mapping_and_no_files_columns(tmp_path: Path) -> None:
    one = entry(EBOLA, {"id": "s1", "sampleCollectionDate": "2024-05-01"}, {"main": "ACGT"})
    wire = Wire(FilesProtocol.FILE_MAPPING, ["rawReads", "qcReports"], LINKS)
    metadata, _ = write_single_entry(EBOLA, one, wire, tmp_path)
    assert metadata.read_text().splitlines()[0] == "id\tsampleCollectionDate\tauthors"
    assert json.loads(wire.file_mapping() or "") == {
        "s1": {
            "rawReads": [
                {"fileId": "8d8ac610-566d-4ef0-9c22-186b2a5ed793", "name": "r1.fq"},
                {"fileId": "2ea137d0-8773-4e0a-a9aa-5591de12ff23", "name": "r2.fq"},
            ]
        }
    }


def test_without_files_the_legacy_generation_sends_no_file_mapping(tmp_path: Path) -> None:
    assert Wire(FilesProtocol.FILE_MAPPING, ["rawReads"], []).file_mapping() is None


def test_links_cannot_be_sent_when_the_protocol_is_unknown() -> None:
    with pytest.raises(ValueError, match="protocol is unknown"):
        Wire(None, ["rawReads"], LINKS)
    assert Wire(None, ["rawReads"], []).columns == []


def test_a_multi_segment_entry_lists_its_fasta_ids(tmp_path: Path) -> None:
    one = entry(CCHF, {"id": "iso1"}, {"L": "acgt\r\n\r\nAC", "S": ">seg S\r\nGG"})
    metadata, fasta = write_single_entry(CCHF, one, Wire(FilesProtocol.METADATA_COLUMNS, [], []), tmp_path)
    assert metadata.read_text() == "id\tfastaIds\niso1\tiso1_L iso1_S\n"
    assert fasta is not None and fasta.read_text() == ">iso1_L\nacgtAC\n>iso1_S\nGG\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (">a\nAC\n>b\nGG", "Nucleotide sequence contains more than one FASTA header (line 3)."),
        ("ACGT1", "Nucleotide sequence contains “1” on line 1, which is not a nucleotide code."),
        (">only a header", "Nucleotide sequence has a header but no sequence."),
    ],
)
def test_sequence_mistakes_are_explained(text: str, problem: str) -> None:
    parsed = single_entry.parse_sequence(text.splitlines(), "Nucleotide sequence")
    assert parsed.problem is not None and parsed.problem.startswith(problem)


def test_crlf_blank_lines_lowercase_and_one_header_are_fine() -> None:
    assert single_entry.parse_sequence(">h\r\nac gt\r\n\r\nNN-\r\n".splitlines(), "x").sequence == "acgtNN-"


def test_the_form_checks_required_fields_id_whitespace_and_sequence() -> None:
    checked = single_entry.check_entry(EBOLA, {"id": "my sample"}, {})
    assert checked.entry is None
    assert checked.errors == {
        "id": "The ID may not contain spaces or other whitespace.",
        "sampleCollectionDate": "Collection date is required.",
        "sequence-main": "Please enter sequence data.",
    }


def test_fields_are_grouped_as_on_the_loculus_website() -> None:
    organism = Organism(
        key="x",
        display_name="X",
        input_fields=(
            InputField("id", "ID", required=True),
            InputField("country", "Country", required=True, header="Sample details"),
            InputField("host", "Host", desired=True, header="Host"),
            InputField("lab", "Lab", header="Submitter"),
            InputField("notes", "Notes"),
            InputField("fastaIds", "FASTA IDs", desired=True),
        ),
        consensus_sequences=True,
        segments=("L", "S"),
        max_sequences_per_entry=2,
        files_enabled=False,
        file_categories=(),
    )
    groups = [(g.title, [f.name for f in g.fields]) for g in single_entry.field_groups(organism)]
    assert groups == [
        ("Required fields", ["id", "country"]),
        ("Desired fields", ["host"]),
        ("Submitter", ["lab"]),
        ("Uncategorized", ["notes"]),
    ]


def test_a_revision_writes_the_accession_first_and_every_submitted_field_again(tmp_path: Path) -> None:
    one = single_entry.Entry("s1", {"sampleCollectionDate": "2024-03-05", "authors": ""}, (("s1", "ACGT"),))
    submitted = {"sampleCollectionDate": "2024-03-04", "hostNameScientific": "Homo sapiens", "authors": "A, B."}
    wire = Wire(FilesProtocol.METADATA_COLUMNS, ["rawReads", "qcReports"], LINKS)
    metadata, fasta = write_revision(EBOLA, "LOC_000001Y", one, submitted, wire, tmp_path)
    # The form's emptied field is sent empty (not left out, which Loculus would read the same), the
    # field the form does not show is sent as submitted; the FASTA id is the entry's ID: no fastaIds.
    assert metadata.read_text().splitlines() == [
        "accession\tid\tauthors\thostNameScientific\tsampleCollectionDate\tfiles.rawReads\tfiles.qcReports",
        "LOC_000001Y\ts1\t\tHomo sapiens\t2024-03-05\t"
        "r1.fq:8d8ac610-566d-4ef0-9c22-186b2a5ed793 r2.fq:2ea137d0-8773-4e0a-a9aa-5591de12ff23\t",
    ]
    assert fasta is not None and fasta.read_text() == ">s1\nACGT\n"
    legacy = Wire(FilesProtocol.FILE_MAPPING, ["rawReads", "qcReports"], LINKS)
    metadata, _ = write_revision(EBOLA, "LOC_000001Y", one, submitted, legacy, tmp_path)
    assert metadata.read_text().splitlines()[0] == "accession\tid\tauthors\thostNameScientific\tsampleCollectionDate"
    assert json.loads(legacy.file_mapping() or "") == {
        "s1": {
            "rawReads": [
                {"fileId": "8d8ac610-566d-4ef0-9c22-186b2a5ed793", "name": "r1.fq"},
                {"fileId": "2ea137d0-8773-4e0a-a9aa-5591de12ff23", "name": "r2.fq"},
            ]
        }
    }


def test_a_multi_segment_revision_names_the_fasta_ids_it_still_has(tmp_path: Path) -> None:
    one = single_entry.Entry("iso1", {}, (("iso1_L", "AC"), ("iso1_S", "GG")))  # the M box was emptied
    metadata, fasta = write_revision(
        CCHF, "LOC_2", one, {"country": "Uganda"}, Wire(FilesProtocol.METADATA_COLUMNS, [], []), tmp_path
    )
    assert metadata.read_text() == "accession\tid\tcountry\tfastaIds\nLOC_2\tiso1\tUganda\tiso1_L iso1_S\n"
    assert fasta is not None and fasta.read_text() == ">iso1_L\nAC\n>iso1_S\nGG\n"
