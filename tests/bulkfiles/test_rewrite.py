"""Writing the TSV the backend receives: values unchanged, files.* columns replaced by the caller's."""

from __future__ import annotations

import datetime
from pathlib import Path

import openpyxl
import pytest

from submitportal.bulkfiles.compression import UnreadableFile
from submitportal.bulkfiles.metadata import open_metadata
from submitportal.bulkfiles.rewrite import BackendRows, write_backend_tsv
from submitportal.bulkfiles.validate import check_metadata
from tests.bulkfiles.helpers import organism, write

UUID = "8d8ac610-566d-4ef0-9c22-186b2a5ed793"


def test_it_replaces_the_files_columns_with_the_callers_cells(tmp_path: Path) -> None:
    source = write(
        tmp_path,
        "m.tsv",
        "submissionId\tfiles.rawReads\tcountry\tnote\n"
        's1\tr1.fq\tUganda\t" padded "\n'
        's2\t\tSpain\t"two\nlines"\n'
        "\t\t\t\n",
    )
    out = tmp_path / "backend.tsv"
    asked: list[str] = []

    def cells_for(entry_id: str) -> list[str]:
        asked.append(entry_id)
        return [f"r1.fq:{UUID}" if entry_id == "s1" else ""]

    written = write_backend_tsv(source, "m.tsv", out, ["files.rawReads"], cells_for)
    assert written == 2
    assert asked == ["s1", "s2"]
    assert out.read_text() == (
        "submissionId\tcountry\tnote\tfiles.rawReads\n"
        f's1\tUganda\t" padded "\tr1.fq:{UUID}\n'
        's2\tSpain\t"two\nlines"\t\n'
    )


def test_the_output_reads_back_to_the_same_values(tmp_path: Path) -> None:
    source = write(tmp_path, "m.csv", 'id,note,quote\ns1,"tab\there"," say ""hi"" "\n')
    out = tmp_path / "backend.tsv"
    write_backend_tsv(source, "m.csv", out, [], lambda entry_id: [])
    with open_metadata(out, "backend.tsv") as table:
        assert table.columns == ["id", "note", "quote"]
        assert [row.values for row in table.rows()] == [["s1", "tab\there", ' say "hi" ']]


def test_it_turns_a_compressed_workbook_into_tsv(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Data"
    sheet.append(["id", "date", "count"])
    sheet.append(["s1", datetime.datetime(2024, 3, 1), 3.0])
    workbook.save(tmp_path / "plain.xlsx")
    source = write(tmp_path, "m.xlsx.gz", (tmp_path / "plain.xlsx").read_bytes())
    out = tmp_path / "backend.tsv"
    assert write_backend_tsv(source, "m.xlsx.gz", out, [], lambda entry_id: []) == 1
    assert out.read_text() == "id\tdate\tcount\ns1\t2024-03-01\t3\n"


def test_short_rows_are_padded_so_every_row_has_every_column(tmp_path: Path) -> None:
    source = write(tmp_path, "m.tsv", "id\tcountry\tdate\ns1\tUganda\n")
    out = tmp_path / "backend.tsv"
    write_backend_tsv(source, "m.tsv", out, ["files.rawReads"], lambda entry_id: ["a.fq:" + UUID])
    assert out.read_text() == f"id\tcountry\tdate\tfiles.rawReads\ns1\tUganda\t\ta.fq:{UUID}\n"


def test_it_refuses_rows_that_validation_would_have_refused(tmp_path: Path) -> None:
    source = write(tmp_path, "m.tsv", "id\tcountry\ns1\tUganda\textra\n")
    with pytest.raises(UnreadableFile) as caught:
        write_backend_tsv(source, "m.tsv", tmp_path / "out.tsv", [], lambda entry_id: [])
    assert caught.value.message == "Row 1 of “m.tsv” has more values than the header has columns."


def test_it_refuses_a_callback_that_gives_the_wrong_number_of_cells(tmp_path: Path) -> None:
    source = write(tmp_path, "m.tsv", "id\ns1\n")
    with pytest.raises(ValueError, match=r"cells_for\('s1'\) gave 0 values for 1 columns"):
        write_backend_tsv(source, "m.tsv", tmp_path / "out.tsv", ["files.rawReads"], lambda entry_id: [])


# --- the same rows written during the metadata's check (one read for both) ---


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("m.tsv", "id\tsampleCollectionDate\tgeoLocCountry\ns1\t2024\tUganda\ns2\t 2024 \n\n"),
        ("m.tsv", 'submissionId\tfiles.rawReads\tgeoLocCountry\ns1\tr1.fq\t" padded "\ns2\t\t"two\nlines"\n'),
        ("m.csv.gz", "id,geoLocCountry,sampleCollectionDate\ns1,Uganda,2024\ns2,,\n"),
    ],
)
def test_rows_written_during_the_check_equal_the_rows_written_after_it(tmp_path: Path, name: str, text: str) -> None:
    source = write(tmp_path, name, text)
    columns = ["files.rawReads"]

    def cells_for(entry_id: str) -> list[str]:
        return [f"x.fq:{UUID}" if entry_id == "s1" else ""]

    after = tmp_path / "after.tsv"
    write_backend_tsv(source, name, after, columns, cells_for)
    during = tmp_path / "during.tsv"
    with during.open("w", encoding="utf-8", newline="") as out:
        rows = BackendRows(out, name, columns, cells_for)
        checked = check_metadata(organism(), source, name, rows_to=rows)
    assert rows.problem is None
    assert rows.written == len(checked.report.entries) == 2
    assert during.read_text() == after.read_text()


def test_rows_the_check_refuses_leave_a_problem_not_an_exception(tmp_path: Path) -> None:
    source = write(tmp_path, "m.tsv", "id\tgeoLocCountry\ns1\tUganda\textra\n")
    with (tmp_path / "during.tsv").open("w", encoding="utf-8", newline="") as out:
        rows = BackendRows(out, "m.tsv", [], lambda entry_id: [])
        checked = check_metadata(organism(), source, "m.tsv", rows_to=rows)
    assert rows.problem == "Row 1 of “m.tsv” has more values than the header has columns."
    assert not checked.report.ok
    no_id = write(tmp_path, "n.tsv", "name\tgeoLocCountry\ns1\tUganda\n")
    with (tmp_path / "during2.tsv").open("w", encoding="utf-8", newline="") as out:
        rows = BackendRows(out, "n.tsv", [], lambda entry_id: [])
        check_metadata(organism(), no_id, "n.tsv", rows_to=rows)
    assert rows.problem == "“n.tsv” has no “id” column, so its entries cannot be submitted."
