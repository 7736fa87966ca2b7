"""The metadata templates (TSV and XLSX) as the Loculus website offers them."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl

from submitportal.bulkfiles.metadata import open_metadata
from submitportal.bulkfiles.template import template_columns, template_tsv, write_template_xlsx
from submitportal.bulkfiles.validate import validate
from tests.bulkfiles.helpers import organism

COLUMNS = ["id", "sampleCollectionDate", "geoLocCountry", "hostNameScientific", "authors", "files.rawReads"]


def test_the_tsv_template_is_one_header_line() -> None:
    assert template_tsv(organism()) == "\t".join(COLUMNS) + "\n"


def test_multi_segment_organisms_get_a_fasta_ids_column_after_the_id() -> None:
    assert template_columns(organism(segments=("L", "M", "S")))[:3] == ["id", "fastaIds", "sampleCollectionDate"]


def test_the_schemas_metadata_template_decides_the_order() -> None:
    chosen = organism(template=("geoLocCountry", "id", "sampleCollectionDate"), categories=())
    assert template_columns(chosen) == ["id", "geoLocCountry", "sampleCollectionDate"]


def xlsx(tmp_path: Path) -> Path:
    out = io.BytesIO()
    write_template_xlsx(organism(), out)
    path = tmp_path / "template.xlsx"
    path.write_bytes(out.getvalue())
    return path


def test_the_xlsx_template_has_data_lists_and_guidance_sheets(tmp_path: Path) -> None:
    workbook = openpyxl.load_workbook(xlsx(tmp_path))
    assert workbook.sheetnames == ["Data", "_lists", "Guidance"]
    data = workbook["Data"]
    assert [cell.value for cell in data[1]] == COLUMNS
    assert data.freeze_panes == "A2"
    assert all(cell.font.bold for cell in data[1])
    assert workbook["_lists"].sheet_state == "hidden"


def test_required_headers_are_coloured_and_explained_in_a_note(tmp_path: Path) -> None:
    data = openpyxl.load_workbook(xlsx(tmp_path))["Data"]
    fills = {cell.value: cell.fill.fgColor.rgb for cell in data[1]}
    assert fills["id"] == fills["sampleCollectionDate"] == "FFFCE4D6"
    assert fills["hostNameScientific"] == "FFDDEBF7"
    assert fills["authors"] == "FFF2F2F2"
    assert data["B1"].comment.text == (
        "Collection date\nWhen the sample was taken.\nYYYY-MM-DD\nExample: 2024-03-01\nRequired field"
    )


def test_option_fields_get_a_dropdown_from_the_hidden_lists_sheet(tmp_path: Path) -> None:
    workbook = openpyxl.load_workbook(xlsx(tmp_path))
    validations = workbook["Data"].data_validations.dataValidation
    assert [(str(v.sqref), v.formula1, v.type) for v in validations] == [
        ("C2:C100000", "'_lists'!$A$1:$A$3", "list"),
        ("D2:D100000", "'_lists'!$B$1:$B$1", "list"),
    ]
    lists = workbook["_lists"]
    assert [cell.value for cell in lists["A"]] == ["Uganda", "Spain", "Côte d'Ivoire"]


def test_the_guidance_sheet_explains_every_column(tmp_path: Path) -> None:
    guidance = openpyxl.load_workbook(xlsx(tmp_path))["Guidance"]
    rows = [[cell.value for cell in row] for row in guidance.iter_rows(max_row=7)]
    assert rows[0] == ["Field name", "Display name", "Required", "Definition", "Guidance", "Example", "Allowed values"]
    assert rows[3] == [
        "geoLocCountry",
        "Country",
        "yes",
        None,
        None,
        None,
        "Uganda, Spain, Côte d'Ivoire",
    ]
    assert rows[5][0] == "authors" and rows[5][6] == "free text"


def test_the_xlsx_template_round_trips_through_the_reader(tmp_path: Path) -> None:
    path = xlsx(tmp_path)
    workbook = openpyxl.load_workbook(path)
    workbook["Data"].append(["s1", "2024-03-01", "Uganda", "Homo sapiens", "A. Smith", "r1.fq"])
    workbook.save(path)
    with open_metadata(path, "filled.xlsx") as table:
        assert table.columns == COLUMNS
        assert [row.values for row in table.rows()] == [
            ["s1", "2024-03-01", "Uganda", "Homo sapiens", "A. Smith", "r1.fq"]
        ]
    report = validate(organism(consensus=False), path, "filled.xlsx")
    assert report.problems == []
    assert report.has_files_columns == {"rawReads": True}
