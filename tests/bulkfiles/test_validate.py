"""Checking a bulk submission: every check, its message, and what the report keeps."""

from __future__ import annotations

import datetime
import gzip
from pathlib import Path

import openpyxl
import pytest

from submitportal.bulkfiles.filerefs import FileRef
from submitportal.bulkfiles.validate import Entry, Problem, Report
from submitportal.loculus.schema import FileCategory, Organism
from tests.bulkfiles.helpers import organism, validate_all_ways, write

UUID = "8d8ac610-566d-4ef0-9c22-186b2a5ed793"
HEADER = "id\tsampleCollectionDate\tgeoLocCountry\n"


def check(
    tmp_path: Path,
    metadata: str | bytes,
    sequences: str | None = None,
    *,
    of: Organism | None = None,
    metadata_name: str = "metadata.tsv",
    sequences_name: str = "sequences.fasta",
    max_problems: int = 100,
) -> Report:
    metadata_path = write(tmp_path, metadata_name, metadata)
    sequences_path = write(tmp_path, sequences_name, sequences) if sequences is not None else None
    # Every check here is also a differential test: the parts combined give what `validate` gives.
    return validate_all_ways(
        of or organism(),
        metadata_path,
        metadata_name,
        sequences_path,
        sequences_name if sequences is not None else None,
        max_problems=max_problems,
    )


def only(report: Report, kind: str) -> list[Problem]:
    return [problem for problem in report.problems if problem.kind == kind]


def messages(report: Report) -> list[str]:
    return [problem.message for problem in report.problems]


def test_a_clean_submission_has_no_problems_and_lists_its_entries(tmp_path: Path) -> None:
    report = check(tmp_path, HEADER + "s1\t2024-03-01\tUganda\ns2\t2024-03-02\tSpain\n", ">s1\nACGT\n>s2\nAC\n")
    assert report.problems == []
    assert report.ok
    assert list(report.entries) == [Entry("s1", 1), Entry("s2", 2)]
    assert report.entries[-1] == Entry("s2", 2)
    assert (report.id_column, report.sequence_count) == ("id", 2)
    assert report.has_files_columns == {"rawReads": False}


def test_it_accepts_the_old_submission_id_column(tmp_path: Path) -> None:
    report = check(tmp_path, "submissionId\tsampleCollectionDate\tgeoLocCountry\ns1\t2024-03-01\tSpain\n", ">s1\nA\n")
    assert (report.problems, report.id_column) == ([], "submissionId")


@pytest.mark.parametrize("name", ["metadata.tsv.gz", "metadata.csv.zst", "metadata.tsv.zip"])
def test_it_validates_compressed_and_csv_metadata(tmp_path: Path, name: str) -> None:
    text = (HEADER + "s1\t2024-03-01\tSpain\n").replace("\t", "," if ".csv" in name else "\t")
    report = check(tmp_path, text, ">s1\nA\n", metadata_name=name, sequences_name="sequences.fa.xz")
    assert report.problems == []


# --- the ID column ---


def test_no_id_column_is_an_error(tmp_path: Path) -> None:
    report = check(tmp_path, "name\tsampleCollectionDate\tgeoLocCountry\ns1\t2024-03-01\tSpain\n", ">s1\nA\n")
    assert [problem for problem in report.problems if problem.level == "error"] == [
        Problem(
            "error",
            "metadata",
            None,
            None,
            None,
            "The metadata has no ID column. Please add a column named “id” holding a unique ID for each entry (for "
            "example the sample's name in your lab).",
            "no_id_column",
        )
    ]


def test_both_id_columns_are_an_error_as_in_loculus(tmp_path: Path) -> None:
    report = check(tmp_path, "id\tsubmissionId\tsampleCollectionDate\tgeoLocCountry\ns1\ts1\t2024-03-01\tSpain\n")
    assert only(report, "both_id_columns")[0].message == (
        "The metadata has both an “id” and a “submissionId” column, but Loculus allows only one. Please delete one "
        "of them (“id” is the current name)."
    )


def test_an_empty_id_is_an_error(tmp_path: Path) -> None:
    report = check(tmp_path, HEADER + "\t2024-03-01\tSpain\n", ">s1\nA\n")
    assert only(report, "empty_id") == [
        Problem(
            "error",
            "metadata",
            1,
            "id",
            None,
            "Row 1: the ID (column “id”) is empty. Every entry needs an ID; please fill it in or delete the row.",
            "empty_id",
        )
    ]


def test_an_id_with_a_space_or_tab_is_an_error(tmp_path: Path) -> None:
    report = check(tmp_path, HEADER + '"sample 7"\t2024-03-01\tSpain\n"s\t8"\t2024-03-01\tSpain\n')
    assert [p.message for p in only(report, "id_with_whitespace")] == [
        "Row 1: the ID “sample 7” contains a space; IDs may not contain spaces or tabs.",
        "Row 2: the ID “s\t8” contains a tab; IDs may not contain spaces or tabs.",
    ]


def test_a_duplicate_id_names_both_rows(tmp_path: Path) -> None:
    report = check(
        tmp_path, HEADER + "s1\t2024-03-01\tSpain\ns2\t2024-03-01\tSpain\ns1\t2024-03-01\tSpain\n", ">s1\nA\n>s2\nA\n"
    )
    assert report.problems == [
        Problem(
            "error",
            "metadata",
            3,
            "id",
            "s1",
            "Row 3: the ID “s1” is already used in row 1; each entry needs its own ID.",
            "duplicate_id",
        )
    ]


# --- the header ---


def test_duplicate_and_unnamed_columns_are_errors(tmp_path: Path) -> None:
    report = check(
        tmp_path, "id\tsampleCollectionDate\t\tgeoLocCountry\tgeoLocCountry\ns1\t2024-03-01\tx\tSpain\tSpain\n"
    )
    assert messages(report)[:2] == [
        "Column 3 of the header has no name. Please name it (e.g. “country”) or delete it.",
        "The column “geoLocCountry” appears twice in the header (columns 4 and 5). Please delete or rename one of "
        "them.",
    ]


def test_more_values_than_columns_is_an_error(tmp_path: Path) -> None:
    report = check(tmp_path, HEADER + "s1\t2024-03-01\tSpain\tstray\n", ">s1\nA\n")
    assert messages(report) == [
        "Row 1 has 4 values but the header names only 3 columns. Please remove the extra values (often stray tabs) "
        "or add names for the extra columns."
    ]


def test_a_header_only_file_is_an_error(tmp_path: Path) -> None:
    report = check(tmp_path, HEADER, ">s1\nA\n")
    assert only(report, "no_rows")[0].message == (
        "“metadata.tsv” has a header but no entries. Please add one row per entry under the header."
    )


def test_an_unreadable_file_is_one_problem_not_an_exception(tmp_path: Path) -> None:
    report = check(tmp_path, b"\x00\x01binary", ">s1\nA\n")
    assert report.problems == [
        Problem(
            "error",
            "metadata",
            None,
            None,
            None,
            "“metadata.tsv” does not look like a text table: it contains binary data. Please save your table as "
            "tab-separated text (.tsv) or as an Excel workbook (.xlsx or .xls).",
            "unreadable_file",
        )
    ]


# --- required fields and options ---


def test_a_missing_required_column_is_an_error(tmp_path: Path) -> None:
    report = check(tmp_path, "id\tgeoLocCountry\ns1\tSpain\n", ">s1\nA\n")
    assert report.problems == [
        Problem(
            "error",
            "metadata",
            None,
            "sampleCollectionDate",
            None,
            "The required column “sampleCollectionDate” (Collection date) is missing. Loculus would accept the "
            "entries but could never release them without it; please add the column and fill it in for every entry.",
            "missing_required_column",
        )
    ]


def test_an_empty_required_value_is_an_error(tmp_path: Path) -> None:
    report = check(tmp_path, HEADER + "s1\t\tSpain\n", ">s1\nA\n")
    assert report.problems == [
        Problem(
            "error",
            "metadata",
            1,
            "sampleCollectionDate",
            "s1",
            "Row 1 (ID “s1”): Collection date (“sampleCollectionDate”) is empty but required. Loculus would accept "
            "the entry but could never release it; please fill it in.",
            "missing_required_value",
        )
    ]


def test_a_short_row_counts_its_missing_cells_as_empty(tmp_path: Path) -> None:
    report = check(tmp_path, HEADER + "s1\t2024-03-01\n", ">s1\nA\n")
    assert [(p.kind, p.column) for p in report.problems] == [("missing_required_value", "geoLocCountry")]


def test_a_value_outside_the_options_is_a_warning_with_a_suggestion_when_only_the_case_differs(tmp_path: Path) -> None:
    report = check(tmp_path, HEADER + "s1\t2024-03-01\tuganda\ns2\t2024-03-01\tAtlantis\n", ">s1\nA\n>s2\nA\n")
    assert report.ok
    assert report.problems == [
        Problem(
            "warning",
            "metadata",
            1,
            "geoLocCountry",
            "s1",
            "Row 1 (ID “s1”): “uganda” is not one of the listed values of Country (“geoLocCountry”). Did you mean "
            "“Uganda”?",
            "value_not_in_options",
        ),
        Problem(
            "warning",
            "metadata",
            2,
            "geoLocCountry",
            "s2",
            "Row 2 (ID “s2”): “Atlantis” is not one of the listed values of Country (“geoLocCountry”). Loculus "
            "accepts it as free text, but please check it.",
            "value_not_in_options",
        ),
    ]


# --- sequences ---


def test_fasta_ids_must_match_the_ids_both_ways(tmp_path: Path) -> None:
    report = check(
        tmp_path, HEADER + "s1\t2024-03-01\tSpain\ns2\t2024-03-01\tSpain\n", ">s1 description\nACGT\n>s3\nA\n"
    )
    assert report.problems == [
        Problem(
            "error",
            "sequences",
            2,
            None,
            "s3",
            "Line 3 of “sequences.fasta”: the sequence “s3” belongs to no entry; no row of the metadata has it as "
            "its ID. Please add it to the metadata or remove it from the FASTA file.",
            "sequence_without_entry",
        ),
        Problem(
            "error",
            "metadata",
            2,
            "id",
            "s2",
            "Row 2 (ID “s2”): “sequences.fasta” has no sequence with the FASTA ID “s2” (the entry's ID). Please add "
            "the sequence, or correct the ID.",
            "sequence_missing",
        ),
    ]


def test_duplicate_and_empty_sequences_are_errors(tmp_path: Path) -> None:
    report = check(tmp_path, HEADER + "s1\t2024-03-01\tSpain\ns2\t2024-03-01\tSpain\n", ">s1\nACGT\n>s2\n\n>s1\nA\n")
    assert messages(report) == [
        "Line 3 of “sequences.fasta”: the sequence “s2” is empty (its header is followed by no sequence). Please add "
        "the sequence or remove the header.",
        "Line 5 of “sequences.fasta”: the FASTA ID “s1” is used again (first on line 1). Each sequence needs its own "
        "ID.",
    ]


def test_text_before_the_first_header_and_headers_without_id_are_errors(tmp_path: Path) -> None:
    report = check(tmp_path, HEADER + "s1\t2024-03-01\tSpain\n", "ACGT\n>s1\nA\n> s1\nC\n")
    assert [(p.kind, p.file) for p in report.problems] == [
        ("fasta_header_without_id", "sequences"),
        ("text_before_first_header", "sequences"),
    ]
    assert report.problems[0].message == (
        "Line 4 of “sequences.fasta”: the header has no ID. The ID is the text right after “>”, up to the first "
        "space (e.g. “>sample1 description”)."
    )


def test_a_missing_sequence_file_is_an_error_for_organisms_with_sequences(tmp_path: Path) -> None:
    report = check(tmp_path, HEADER + "s1\t2024-03-01\tSpain\n")
    assert messages(report) == [
        "Ebola Sudan entries need sequences. Please add the FASTA file with the sequences of the entries in your "
        "metadata."
    ]


def test_a_sequence_file_is_refused_for_organisms_without_sequences(tmp_path: Path) -> None:
    report = check(tmp_path, HEADER + "s1\t2024-03-01\tSpain\n", ">s1\nA\n", of=organism(consensus=False))
    assert messages(report) == [
        "Ebola Sudan takes no sequences, only metadata (and extra files). Please remove the sequence file "
        "“sequences.fasta”."
    ]


def test_metadata_alone_is_fine_for_organisms_without_sequences(tmp_path: Path) -> None:
    assert check(tmp_path, HEADER + "s1\t2024-03-01\tSpain\n", of=organism(consensus=False)).problems == []


def test_an_unreadable_sequence_file_is_one_problem(tmp_path: Path) -> None:
    report = check(tmp_path, HEADER + "s1\t2024-03-01\tSpain\n", ">s1\nA\n", sequences_name="sequences.fasta.rar")
    assert [(p.file, p.kind) for p in report.problems] == [("sequences", "unreadable_file")]


# --- multi-segment organisms and fastaIds ---

MULTI = organism(segments=("L", "M", "S"))
MULTI_HEADER = "id\tsampleCollectionDate\tgeoLocCountry\tfastaIds\n"


def test_fasta_ids_list_each_entrys_sequences(tmp_path: Path) -> None:
    report = check(
        tmp_path,
        MULTI_HEADER + "s1\t2024-03-01\tSpain\ts1_L s1_M  s1_S\ns2\t2024-03-01\tSpain\ts2_L\n",
        ">s1_L\nA\n>s1_M\nA\n>s1_S\nA\n>s2_L\nA\n",
        of=MULTI,
    )
    assert report.problems == []


def test_without_a_fasta_ids_column_the_fasta_id_is_the_entry_id(tmp_path: Path) -> None:
    report = check(tmp_path, HEADER + "s1\t2024-03-01\tSpain\n", ">s1\nA\n", of=MULTI)
    assert report.problems == []


def test_fasta_ids_problems_are_errors(tmp_path: Path) -> None:
    report = check(
        tmp_path,
        MULTI_HEADER + "s1\t2024-03-01\tSpain\ta a b\ns2\t2024-03-01\tSpain\t\ns3\t2024-03-01\tSpain\tb c\n",
        ">a\nA\n>b\nA\n>c\nA\n>d\nA\n",
        of=MULTI,
    )
    assert messages(report) == [
        "Row 1 (ID “s1”): the FASTA ID “a” is listed twice in “fastaIds”. Please list it once.",
        "Row 2 (ID “s2”): the column “fastaIds” is empty. Please list the FASTA IDs of this entry's sequences (the "
        "text after “>” in the FASTA file), separated by spaces.",
        "Row 3 (ID “s3”): the FASTA ID “b” is already listed in row 1; a sequence can belong to only one entry.",
        "Line 7 of “sequences.fasta”: the sequence “d” belongs to no entry; no row of the metadata has it in the "
        "“fastaIds” column. Please add it to the metadata or remove it from the FASTA file.",
    ]


def test_a_fasta_id_missing_from_the_file_names_the_row_and_the_id(tmp_path: Path) -> None:
    report = check(tmp_path, MULTI_HEADER + "s1\t2024-03-01\tSpain\ts1_L s1_S\n", ">s1_L\nA\n", of=MULTI)
    assert report.problems == [
        Problem(
            "error",
            "metadata",
            1,
            "fastaIds",
            "s1",
            "Row 1 (ID “s1”): “sequences.fasta” has no sequence with the FASTA ID “s1_S”, which the row lists in "
            "“fastaIds”. Please add the sequence, or correct the ID.",
            "sequence_missing",
        )
    ]


# --- files.<category> columns ---

FILES_HEADER = "id\tsampleCollectionDate\tgeoLocCountry\tfiles.rawReads\n"


def test_file_cells_become_file_references_per_entry_and_category(tmp_path: Path) -> None:
    report = check(
        tmp_path,
        FILES_HEADER
        + "s1\t2024-03-01\tSpain\tr1.fq  r2.fq::s1/r2.fq\n"
        + f"s2\t2024-03-01\tSpain\t\ns3\t2024-03-01\tSpain\told.fq:{UUID}\n",
        ">s1\nA\n>s2\nA\n>s3\nA\n",
    )
    assert report.problems == []
    assert report.has_files_columns == {"rawReads": True}
    assert report.file_refs == {
        "s1": {"rawReads": [FileRef("r1.fq", "r1.fq"), FileRef("r2.fq", "s1/r2.fq")]},
        "s3": {"rawReads": [FileRef("old.fq", None, UUID)]},
    }


def test_unknown_and_duplicate_file_columns_are_errors(tmp_path: Path) -> None:
    report = check(
        tmp_path,
        "id\tsampleCollectionDate\tgeoLocCountry\tfiles.rawReads\tfiles.rawReads\tfiles.images\n"
        "s1\t2024-03-01\tSpain\t\t\t\n",
        ">s1\nA\n",
    )
    assert messages(report) == [
        "The column “files.rawReads” appears twice in the header (columns 4 and 5). Please delete or rename one "
        "of them.",
        "The column “files.images” is not one of Ebola Sudan's file categories. Its file columns are: "
        "files.rawReads (Raw reads). Please rename or delete the column.",
    ]


def test_file_columns_are_refused_for_organisms_without_extra_files(tmp_path: Path) -> None:
    report = check(tmp_path, FILES_HEADER + "s1\t2024-03-01\tSpain\t\n", ">s1\nA\n", of=organism(categories=()))
    assert messages(report) == [
        "The column “files.rawReads” is for extra files, but Ebola Sudan takes no extra files. Please delete the "
        "column."
    ]
    assert report.has_files_columns == {}


def test_file_entry_problems_name_row_id_and_column(tmp_path: Path) -> None:
    report = check(
        tmp_path,
        FILES_HEADER + "s1\t2024-03-01\tSpain\tr1.fq r1.fq::other/r1.fq a::../b r|x.fq\n",
        ">s1\nA\n",
    )
    assert [(p.kind, p.row, p.column, p.entry_id) for p in report.problems] == [
        ("duplicate_file_name", 1, "files.rawReads", "s1"),
        ("unsafe_file_path", 1, "files.rawReads", "s1"),
        ("invalid_file_name", 1, "files.rawReads", "s1"),
    ]
    assert messages(report)[0] == (
        "Row 1 (ID “s1”), column “files.rawReads”: the file name “r1.fq” appears twice. The files of one entry in "
        "one category need different names."
    )
    assert messages(report)[1] == (
        "Row 1 (ID “s1”), column “files.rawReads”: the path “../b” in “a::../b” contains “..”. Paths must stay "
        "inside the folder you upload, e.g. sample1/reads.fastq."
    )
    assert report.file_refs == {"s1": {"rawReads": [FileRef("r1.fq", "r1.fq")]}}


def test_a_malformed_file_entry_says_that_names_may_not_contain_whitespace(tmp_path: Path) -> None:
    report = check(tmp_path, FILES_HEADER + "s1\t2024-03-01\tSpain\tmy reads.fq::\n", ">s1\nA\n")
    assert messages(report) == [
        "Row 1 (ID “s1”), column “files.rawReads”: the file entry “reads.fq::” has an empty path. Please write it "
        "as name::path, e.g. reads.fastq::sample1/reads.fastq. File names and paths may not contain whitespace, so "
        "spaces separate one file entry from the next."
    ]


# --- limits and counts ---


def test_only_the_first_problems_are_kept_but_all_are_counted(tmp_path: Path) -> None:
    rows = "".join(f"s{n}\t\tAtlantis\n" for n in range(1, 11))
    sequences = "".join(f">s{n}\nA\n" for n in range(1, 11))
    report = check(tmp_path, HEADER + rows, sequences, max_problems=5)
    assert len(report.problems) == 5
    assert (report.counts.errors, report.counts.warnings, report.counts.total) == (10, 10, 20)
    assert report.counts.by_kind == {"missing_required_value": 10, "value_not_in_options": 10}
    assert report.problems_left_out == 15
    assert not report.ok


def test_entries_stay_compact(tmp_path: Path) -> None:
    rows = "".join(f"s{n}\t2024-03-01\tSpain\n" for n in range(1, 1001))
    report = check(tmp_path, HEADER + rows, of=organism(consensus=False))
    assert len(report.entries) == 1000
    assert report.entries[999] == Entry("s1000", 1000)
    assert report.entries.ids()[:2] == ["s1", "s2"]
    # One list of strings and nothing per row: the row number is the position.
    assert set(vars(report.entries)) == {"_ids"}


@pytest.mark.parametrize("categories", [(FileCategory("rawReads", "Raw reads"), FileCategory("images", "Images"))])
def test_has_files_columns_lists_every_category_of_the_organism(tmp_path: Path, categories: tuple) -> None:
    report = check(tmp_path, FILES_HEADER + "s1\t2024-03-01\tSpain\t\n", ">s1\nA\n", of=organism(categories=categories))
    assert report.has_files_columns == {"rawReads": True, "images": False}


def test_a_decompression_bomb_is_one_problem_at_the_callers_limit(tmp_path: Path) -> None:
    path = tmp_path / "metadata.tsv.gz"
    with gzip.open(path, "wt", compresslevel=1) as out:
        out.write(HEADER)
        for number in range(200_000):
            out.write(f"s{number}\t2024-03-01\tSpain\n")
    report = validate_all_ways(organism(consensus=False), path, path.name, max_bytes=1024 * 1024)
    assert [p.kind for p in report.problems if p.kind == "unreadable_file"] == ["unreadable_file"]
    assert report.problems[-1].message == (
        "“metadata.tsv.gz” unpacks to more than 1 MiB, the most the portal accepts. "
        "Please split it into several submissions."
    )


def test_it_validates_a_workbook(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["id", "sampleCollectionDate", "geoLocCountry"])
    workbook.active.append(["s1", None, "Spain"])
    workbook.save(tmp_path / "metadata.xlsx")
    report = validate_all_ways(
        organism(), tmp_path / "metadata.xlsx", "metadata.xlsx", write(tmp_path, "s.fa", ">s1\nA\n")
    )
    assert [(p.kind, p.row, p.column) for p in report.problems] == [
        ("missing_required_value", 1, "sampleCollectionDate")
    ]


# --- dates, columns outside the metadata, and the sheets of a workbook (issue 18, items 6 and 7) ---

FIXTURES = Path(__file__).parent / "fixtures"


def test_each_date_is_judged_as_the_pipeline_judges_it(tmp_path: Path) -> None:
    today = datetime.datetime.now(datetime.UTC).date()
    future = (today + datetime.timedelta(days=30)).isoformat()
    rows = ["s1\t2024-03-18\tUganda", "s2\t2024-03\tUganda", "s3\t2024\tUganda", "s4\t18/03/2024\tUganda"]
    rows += ["s5\t2024-13-01\tUganda", f"s6\t{future}\tUganda"]
    sequences = "".join(f">s{n}\nA\n" for n in range(1, 7))
    report = check(tmp_path, HEADER + "\n".join(rows) + "\n", sequences)
    label = "Collection date (“sampleCollectionDate”)"
    assert [(p.level, p.row, p.column, p.entry_id, p.kind, p.message) for p in report.problems] == [
        (
            "warning",
            2,
            "sampleCollectionDate",
            "s2",
            "date_incomplete",
            f"Row 2 (ID “s2”): {label} “2024-03”: the day is missing. Loculus will assume the 1st (2024-03-01); "
            "if you know the day, please give the full date (YYYY-MM-DD).",
        ),
        (
            "warning",
            3,
            "sampleCollectionDate",
            "s3",
            "date_incomplete",
            f"Row 3 (ID “s3”): {label} “2024”: the month and day are missing. Loculus will assume January 1st "
            "(2024-01-01); if you know them, please give the full date (YYYY-MM-DD).",
        ),
        (
            "error",
            4,
            "sampleCollectionDate",
            "s4",
            "date_not_recognized",
            f"Row 4 (ID “s4”): {label} “18/03/2024”: the date format is not recognized. Loculus reads dates as "
            "YYYY-MM-DD (e.g. 2024-03-18), or YYYY-MM or YYYY when the day or month is not known. "
            "Did you mean 2024-03-18?",
        ),
        (
            "error",
            5,
            "sampleCollectionDate",
            "s5",
            "date_not_recognized",
            f"Row 5 (ID “s5”): {label} “2024-13-01”: the date format is not recognized. Loculus reads dates as "
            "YYYY-MM-DD (e.g. 2024-03-18), or YYYY-MM or YYYY when the day or month is not known.",
        ),
        (
            "error",
            6,
            "sampleCollectionDate",
            "s6",
            "date_in_future",
            f"Row 6 (ID “s6”): {label} “{future}” is in the future (today is {today.isoformat()}). Please check "
            "the date (YYYY-MM-DD).",
        ),
    ]
    assert (report.counts.errors, report.counts.warnings, report.ok) == (3, 2, False)


def test_a_column_outside_the_metadata_gets_one_warning_naming_it(tmp_path: Path) -> None:
    report = check(tmp_path, "id\tsampleCollectionDate\tgeoLocCountry\tfoo\ns1\t2024-03-01\tSpain\tbar\n", ">s1\nA\n")
    assert report.ok
    assert report.problems == [
        Problem(
            "warning",
            "metadata",
            None,
            "foo",
            None,
            "Column “foo” is not part of the Ebola Sudan metadata; Loculus will ignore it (it keeps the column with "
            "the submitted data, but never processes or releases it). If it should be one of the metadata fields, "
            "please rename it as in the template; otherwise you may leave it or delete it.",
            "unknown_column",
        )
    ]


def test_columns_outside_the_metadata_are_named_in_one_warning_with_a_suggestion(tmp_path: Path) -> None:
    header = "id\tsampleCollectionDate\tgeoLocCountry\tfastaIds\tfiles.rawReads\tHostNameScientific\tnotes\tlab\n"
    report = check(tmp_path, header + "s1\t2024-03-01\tSpain\ts1\t\tHomo sapiens\tx\ty\n", ">s1\nA\n")
    assert [(p.kind, p.message) for p in report.problems] == [
        (
            "unknown_column",
            "Columns “HostNameScientific” (did you mean “hostNameScientific”?), “notes” and “lab” are not part of "
            "the Ebola Sudan metadata; Loculus will ignore them (it keeps the columns with the submitted data, but "
            "never processes or releases them). If one should be a metadata field, please rename it as in the "
            "template; otherwise you may leave them or delete them.",
        )
    ]


def test_it_validates_an_xls_workbook_with_the_same_checks(tmp_path: Path) -> None:
    report = validate_all_ways(
        organism(),
        FIXTURES / "metadata.xls",
        "metadata.xls",
        write(tmp_path, "s.fa", ">s1\nA\n>s2\nA\n>s3\nA\n>s4\nA\n"),
    )
    assert report.entries.ids() == ["s1", "s2", "s3", "s4"]
    assert [(p.level, p.row, p.kind) for p in report.problems] == [
        ("error", 2, "date_not_recognized"),
        ("warning", 2, "value_not_in_options"),
        ("warning", 3, "date_incomplete"),
        ("warning", 4, "date_incomplete"),
        ("warning", 4, "value_not_in_options"),  # TRUE as the host
    ]
    assert report.problems[0].message.startswith("Row 2 (ID “s2”): Collection date (“sampleCollectionDate”) “18/03")


def test_an_xls_with_more_than_one_sheet_gets_a_warning_that_only_one_was_read(tmp_path: Path) -> None:
    report = validate_all_ways(organism(consensus=False), FIXTURES / "two_sheets.xls", "two_sheets.xls")
    assert report.problems[-1] == Problem(
        "warning",
        "metadata",
        None,
        None,
        None,
        "“two_sheets.xls” contains 3 sheets, only the “Samples” sheet (4 rows) was processed. The portal and "
        "Loculus read one sheet of a workbook; if entries are on “Notes”, please move them to “Samples” or submit "
        "them separately.",
        "sheets_not_read",
    )


def test_an_xlsx_with_more_than_one_sheet_gets_the_same_warning(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Batch 1"
    workbook.active.append(["id", "sampleCollectionDate", "geoLocCountry"])
    workbook.active.append(["s1", "2024-03-01", "Spain"])
    workbook.create_sheet("Batch 2").append(["id"])
    workbook.create_sheet("Batch 3").append(["id"])
    workbook.create_sheet("_lists").append(["Spain"])
    workbook.save(tmp_path / "metadata.xlsx")
    report = validate_all_ways(organism(consensus=False), tmp_path / "metadata.xlsx", "metadata.xlsx")
    assert [(p.level, p.message) for p in report.problems] == [
        (
            "warning",
            "“metadata.xlsx” contains 4 sheets, only the “Batch 1” sheet (1 row) was processed. The portal and "
            "Loculus read one sheet of a workbook; if entries are on “Batch 2” and “Batch 3”, please move them to "
            "“Batch 1” or submit them separately.",
        )
    ]


def test_the_template_workbook_gets_no_sheet_warning(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Guidance"
    data = workbook.create_sheet("Data")
    data.append(["id", "sampleCollectionDate", "geoLocCountry"])
    data.append(["s1", "2024-03-01", "Spain"])
    workbook.create_sheet("_lists")
    workbook.save(tmp_path / "metadata.xlsx")
    report = validate_all_ways(organism(consensus=False), tmp_path / "metadata.xlsx", "metadata.xlsx")
    assert report.problems == []


def test_a_broken_xls_is_one_unreadable_file_problem(tmp_path: Path) -> None:
    damaged = (FIXTURES / "metadata.xls").read_bytes()[:3000]
    report = validate_all_ways(organism(consensus=False), write(tmp_path, "metadata.xls", damaged), "metadata.xls")
    assert [(p.kind, p.message) for p in report.problems] == [
        (
            "unreadable_file",
            "“metadata.xls” could not be read as an Excel 97-2003 workbook (.xls): it is damaged or not laid out as "
            "Excel lays out a workbook. Please save it again as .xlsx, or export it as TSV.",
        )
    ]
