"""Reading metadata tables: TSV as the backend reads it, CSV, XLSX as the website reads it."""

from __future__ import annotations

import datetime
import zipfile
from pathlib import Path

import openpyxl
import pytest

from submitportal.bulkfiles.compression import UnreadableFile
from submitportal.bulkfiles.limits import Limits
from submitportal.bulkfiles.metadata import Row, open_metadata
from tests.bulkfiles.helpers import write


def read(path: Path, name: str | None = None) -> tuple[list[str], list[Row]]:
    with open_metadata(path, name or path.name) as table:
        return table.columns, list(table.rows())


def values(path: Path, name: str | None = None) -> list[list[str]]:
    columns, rows = read(path, name)
    return [columns] + [row.values for row in rows]


def unreadable(path: Path, name: str | None = None) -> str:
    with pytest.raises(UnreadableFile) as caught:
        read(path, name)
    return caught.value.message


def test_it_reads_a_plain_tsv_with_row_and_line_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", "id\tcountry\ns1\tUganda\n\ns2\tSpain\n")
    columns, rows = read(path)
    assert columns == ["id", "country"]
    assert rows == [Row(1, 2, ["s1", "Uganda"]), Row(2, 4, ["s2", "Spain"])]


def test_it_drops_a_bom_and_crlf_line_endings(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", b"\xef\xbb\xbfid\tcountry\r\ns1\tUganda\r\n")
    assert values(path) == [["id", "country"], ["s1", "Uganda"]]


def test_it_trims_surrounding_spaces_unless_the_value_is_quoted(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", 'id\tnote\n  s1 \t" keep my spaces "\n')
    assert values(path)[1] == ["s1", " keep my spaces "]


def test_it_reads_quoted_values_with_tabs_line_breaks_and_doubled_quotes(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", 'id\tnote\tx\ns1\t"a\tb\nsecond ""line"""\tz\ns2\tplain "quote" inside\t\n')
    _, rows = read(path)
    assert rows == [
        Row(1, 2, ["s1", 'a\tb\nsecond "line"', "z"]),
        Row(2, 4, ["s2", 'plain "quote" inside', ""]),
    ]


def test_it_drops_rows_that_are_all_empty_and_stray_trailing_tabs(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", "id\tcountry\t\t\n\t\t\t\ns1\tUganda\t\t\n   \n")
    assert values(path) == [["id", "country"], ["s1", "Uganda"]]


def test_it_keeps_extra_values_so_the_caller_can_report_them(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", "id\tcountry\ns1\tUganda\textra\n")
    assert values(path)[1] == ["s1", "Uganda", "extra"]


def test_it_reads_csv_without_trimming(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", 'id,authors\ns1,"Smith, A; Okello, B"\ns2, spaced \n')
    assert values(path) == [["id", "authors"], ["s1", "Smith, A; Okello, B"], ["s2", " spaced "]]


def test_it_reads_txt_as_tsv(tmp_path: Path) -> None:
    path = write(tmp_path, "m.txt", "id\tcountry\ns1\tUganda\n")
    assert values(path)[1] == ["s1", "Uganda"]


@pytest.mark.parametrize("suffix", [".gz", ".zst", ".xz", ".bz2", ".zip"])
def test_it_reads_compressed_tables(tmp_path: Path, suffix: str) -> None:
    path = write(tmp_path, f"m.tsv{suffix}", "id\tcountry\ns1\tUganda\n")
    assert values(path) == [["id", "country"], ["s1", "Uganda"]]


def test_it_refuses_binary_data_named_tsv(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", b"id\tcountry\n\x00\x01\x02\x03binary")
    assert unreadable(path) == (
        "“m.tsv” does not look like a text table: it contains binary data. "
        "Please save your table as tab-separated text (.tsv) or as an Excel workbook (.xlsx or .xls)."
    )


def test_it_recognises_a_workbook_named_tsv(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.save(tmp_path / "m.tsv")
    assert unreadable(tmp_path / "m.tsv") == (
        "“m.tsv” looks like an Excel workbook or a ZIP archive, not text. "
        "Please name it .xlsx if it is a workbook, or add .zip to its name if it is a ZIP archive."
    )


def test_it_recognises_a_gzipped_file_without_gz_in_its_name(tmp_path: Path) -> None:
    write(tmp_path, "m.tsv.gz", "id\ns1\n").rename(tmp_path / "m.tsv")
    assert unreadable(tmp_path / "m.tsv") == (
        "“m.tsv” looks gzip-compressed, but its name does not say so. "
        "Please add the matching extension (e.g. .gz) to its name, or upload it uncompressed."
    )


def test_it_names_the_line_and_row_of_invalid_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", b"id\tcountry\ns1\tUganda\n" + b"s2\tC\xf4te d'Ivoire\n")
    assert unreadable(path) == (
        "Line 3 of “m.tsv” (row 2, byte 5 of the line) is not valid UTF-8 text. Please save the file with the "
        "encoding “UTF-8” (in Excel: “Tab-delimited Text” then “UTF-8”, or “CSV UTF-8”)."
    )


def test_it_names_the_line_of_a_quote_that_is_never_closed(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", 'id\tnote\ns1\tfine\ns2\t"never closed\ns3\tx\n')
    assert unreadable(path) == (
        'A quoted value that starts on line 3 of “m.tsv” is never closed: its opening quote (") has no '
        "closing quote. Please close it, or remove the quote."
    )


def test_it_names_the_line_of_text_after_a_closing_quote(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", 'id\tnote\ns1\t"quoted" and more\n')
    assert unreadable(path) == (
        'Line 2 of “m.tsv” has text after a closing quote ("): …s1\t"quoted" and more…. A quoted value must '
        'end at the next tab; to write a quote inside a value, double it ("").'
    )


def test_it_refuses_an_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", "\n\n")
    assert unreadable(path) == (
        "“m.tsv” is empty. Please upload a table with a header line (column names) and one row per entry."
    )


def test_a_header_only_file_has_columns_and_no_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", "id\tcountry\n")
    assert read(path) == (["id", "country"], [])


def bounded(path: Path, limits: Limits) -> str:
    with pytest.raises(UnreadableFile) as caught, open_metadata(path, path.name, limits=limits) as table:
        list(table.rows())
    return caught.value.message


def test_it_refuses_an_absurdly_long_line(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", "id\tnote\ns1\t" + "x" * 2000 + "\n")
    assert bounded(path, Limits(max_row=1000, max_value=500)) == (
        "Line 2 of “m.tsv” is longer than 1000 bytes. That is not a metadata table; please check that you "
        "chose the right file and that its lines end with line breaks."
    )


def test_it_refuses_an_absurdly_long_value_naming_its_row_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", "id\tnote\ns1\tshort\ns2\t" + "x" * 200 + "\n")
    assert bounded(path, Limits(max_value=100)) == (
        f"Row 2 of “m.tsv” (line 3), column “note”: the value is longer than 100 bytes (it starts “{'x' * 60}…”). "
        'No metadata value is that long; perhaps a quote (") is never closed. Please check the file.'
    )


def test_it_refuses_a_long_header_name(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", "id," + "c" * 200 + "\ns1,x\n")
    assert bounded(path, Limits(max_value=100)) == (
        f"The header of “m.csv” (line 1), column 2: the name is longer than 100 bytes (it starts “{'c' * 60}…”). "
        'No metadata value is that long; perhaps a quote (") is never closed. Please check the file.'
    )


def test_it_refuses_a_quoted_value_that_runs_on_past_the_row_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", 'id\tnote\ns1\t"open\n' + ("x" * 60 + "\n") * 5)
    assert bounded(path, Limits(max_row=100, max_value=100)) == (
        "The row that starts on line 2 of “m.tsv” is longer than 100 bytes: a quoted value in it runs on to "
        'line 4. No metadata row is that long; perhaps a quote (") is never closed. Please check the file.'
    )


def test_a_long_quoted_value_within_the_row_limit_is_refused_as_a_value(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", 'id\tnote\ns1\t"' + "y" * 150 + '"\n')
    assert bounded(path, Limits(max_value=100)).startswith(
        "Row 1 of “m.tsv” (line 2), column “note”: the value is longer than 100 bytes"
    )


def test_a_row_over_several_lines_is_bounded_as_a_whole(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", 'id\tnote\tmore\ns1\t"' + "a" * 50 + "\n" + "b" * 40 + '"\t' + "c" * 50 + "\n")
    assert bounded(path, Limits(max_row=100, max_value=100)) == (
        "Row 1 of “m.tsv” (line 2) is longer than 100 bytes in all. No metadata row is that long; please check "
        "that you chose the right file."
    )


def test_the_default_limits_are_64_kib_per_value_and_a_mebibyte_per_row() -> None:
    assert (Limits().max_value, Limits().max_row) == (64 * 1024, 1024 * 1024)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "m.ods",
            "“m.ods” is not a metadata table the portal can read. Please upload tab-separated text (.tsv), "
            "comma-separated text (.csv) or an Excel workbook (.xlsx or .xls), optionally compressed.",
        ),
        (
            "m.json",
            "“m.json” is not a metadata table the portal can read. Please upload tab-separated text (.tsv), "
            "comma-separated text (.csv) or an Excel workbook (.xlsx or .xls), optionally compressed.",
        ),
    ],
)
def test_it_refuses_formats_it_cannot_read(tmp_path: Path, name: str, message: str) -> None:
    assert unreadable(write(tmp_path, name, "id\n"), name) == message


# --- XLSX ---


def workbook_file(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def test_it_reads_the_data_sheet_of_a_workbook_and_renders_cells_as_the_website_does(tmp_path: Path) -> None:
    path = workbook_file(
        tmp_path / "m.xlsx",
        {
            "Guidance": [["Field name"], ["id"]],
            "Data": [
                ["id", "date", "count", "ratio", "flag", "when"],
                ["s1", datetime.datetime(2024, 3, 1), 12.0, 0.25, True, datetime.datetime(2024, 3, 1, 14, 5)],
                [None, None, None],
                ["  s2 ", datetime.date(2023, 12, 31), 7, None],
            ],
        },
    )
    columns, rows = read(path)
    assert columns == ["id", "date", "count", "ratio", "flag", "when"]
    assert rows == [
        Row(1, 2, ["s1", "2024-03-01", "12", "0.25", "TRUE", "2024-03-01 14:05:00"]),
        Row(2, 4, ["s2", "2023-12-31", "7"]),
    ]


def test_it_reads_the_first_sheet_when_there_is_no_data_sheet(tmp_path: Path) -> None:
    path = workbook_file(tmp_path / "m.xlsx", {"Samples": [["id"], ["s1"]], "Other": [["x"], ["y"]]})
    assert values(path) == [["id"], ["s1"]]


@pytest.mark.parametrize("suffix", [".gz", ".zip", ".zst"])
def test_it_reads_a_compressed_workbook(tmp_path: Path, suffix: str) -> None:
    plain = workbook_file(tmp_path / "plain.xlsx", {"Data": [["id", "country"], ["s1", "Uganda"]]})
    path = write(tmp_path, f"m.xlsx{suffix}", plain.read_bytes())
    assert values(path) == [["id", "country"], ["s1", "Uganda"]]


def test_it_refuses_an_empty_sheet(tmp_path: Path) -> None:
    path = workbook_file(tmp_path / "m.xlsx", {"Data": []})
    assert unreadable(path) == (
        "The sheet “Data” of “m.xlsx” is empty. Please fill in a header row (column names) and one row per entry."
    )


def test_it_refuses_a_text_file_named_xlsx(tmp_path: Path) -> None:
    path = write(tmp_path, "m.xlsx", "id\tcountry\n")
    assert unreadable(path) == (
        "“m.xlsx” could not be read as an Excel workbook: it is not a ZIP archive, as every .xlsx file is. "
        "Please save it again as .xlsx, or export it as TSV."
    )


def test_it_names_the_header_when_the_header_is_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", b"id\tpa\xefs\ns1\tx\n")
    assert unreadable(path).startswith("Line 1 of “m.tsv” (the header, byte 6 of the line) is not valid UTF-8 text.")


def test_a_csv_quote_error_speaks_of_commas(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", 'id,note\ns1,"quoted"x\n')
    assert unreadable(path) == (
        'Line 2 of “m.csv” has text after a closing quote ("): …s1,"quoted"x…. A quoted value must end at the '
        'next comma; to write a quote inside a value, double it ("").'
    )


def test_it_refuses_a_workbook_whose_sheet_is_damaged(tmp_path: Path) -> None:
    good = workbook_file(tmp_path / "good.xlsx", {"Data": [["id"], ["s1"]]})
    damaged = tmp_path / "m.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            target.writestr(item, data)
    message = unreadable(damaged)
    assert message.startswith("“m.xlsx” could not be read as an Excel workbook: part of its XML is malformed (")
    assert message.endswith("). Please save it again as .xlsx, or export it as TSV.")


# --- XLS (Excel 97-2003), read with xlrd ---

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_copy(tmp_path: Path, fixture: str, name: str) -> Path:
    return write(tmp_path, name, (FIXTURES / fixture).read_bytes())


def test_it_reads_an_xls_rendering_cells_as_the_website_does() -> None:
    columns, rows = read(FIXTURES / "metadata.xls")
    assert columns == ["id", "sampleCollectionDate", "geoLocCountry", "hostNameScientific"]
    # A date cell as YYYY-MM-DD, 2024.0 as 2024, a value trimmed, an empty row dropped, TRUE as TRUE.
    assert rows == [
        Row(1, 2, ["s1", "2024-03-18", "Uganda", "Homo sapiens"]),
        Row(2, 3, ["s2", "18/03/2024", "Ugnda"]),
        Row(3, 4, ["s3", "2024", "Spain"]),
        Row(4, 6, ["s4", "2024-03", "Spain", "TRUE"]),
    ]


def test_it_names_the_sheets_of_an_xls_it_did_not_read() -> None:
    with open_metadata(FIXTURES / "two_sheets.xls", "two_sheets.xls") as table:
        assert (table.format, table.sheet, table.sheet_count, table.other_sheets) == ("xls", "Samples", 3, ["Notes"])


def test_a_single_sheet_workbook_has_no_other_sheets() -> None:
    with open_metadata(FIXTURES / "metadata.xls", "metadata.xls") as table:
        assert (table.sheet, table.sheet_count, table.other_sheets) == ("Samples", 1, [])


@pytest.mark.parametrize("suffix", [".gz", ".zip", ".zst"])
def test_it_reads_a_compressed_xls(tmp_path: Path, suffix: str) -> None:
    path = fixture_copy(tmp_path, "metadata.xls", f"m.xls{suffix}")
    assert values(path)[1] == ["s1", "2024-03-18", "Uganda", "Homo sapiens"]


def test_it_reads_an_xlsx_named_xls(tmp_path: Path) -> None:
    path = workbook_file(tmp_path / "m.xls", {"Data": [["id", "country"], ["s1", "Uganda"]]})
    assert values(path) == [["id", "country"], ["s1", "Uganda"]]


def test_it_refuses_text_named_xls_saying_what_to_do(tmp_path: Path) -> None:
    assert unreadable(write(tmp_path, "m.xls", "id\tcountry\ns1\tUganda\n")) == (
        "“m.xls” could not be read as an Excel 97-2003 workbook (.xls): it is not in Excel's binary format (if it is "
        "text, as some programs write under this name, please rename it .tsv or .csv). Please save it again as "
        ".xlsx, or export it as TSV."
    )


def test_it_refuses_an_empty_xls(tmp_path: Path) -> None:
    assert unreadable(write(tmp_path, "m.xls", b"")) == (
        "“m.xls” could not be read as an Excel 97-2003 workbook (.xls): it is empty. Please save it again as "
        ".xlsx, or export it as TSV."
    )


def test_it_refuses_a_damaged_xls(tmp_path: Path) -> None:
    damaged = bytearray((FIXTURES / "metadata.xls").read_bytes())
    damaged[600:1400] = bytes(800)
    assert "could not be read as an Excel 97-2003 workbook (.xls)" in unreadable(write(tmp_path, "m.xls", damaged))


def test_it_refuses_an_xls_larger_than_it_reads_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from submitportal.bulkfiles import metadata

    monkeypatch.setattr(metadata, "MAX_XLS_BYTES", 4096)
    assert unreadable(fixture_copy(tmp_path, "metadata.xls", "m.xls")) == (
        "“m.xls” is larger than 4 KiB, the most the portal reads of an Excel 97-2003 workbook (.xls). "
        "Please save it as .xlsx, or export it as TSV."
    )
    assert "unpacks to more than 4 KiB" in unreadable(fixture_copy(tmp_path, "metadata.xls", "m.xls.gz"))


def test_an_xls_is_bounded_as_an_xlsx_is(tmp_path: Path) -> None:
    path = fixture_copy(tmp_path, "metadata.xls", "m.xls")
    assert bounded(path, Limits(max_rows=3)).startswith("“m.xls” has more than 3 entries (rows)")
    assert bounded(path, Limits(max_value=8)).startswith(
        "Cell B1 of the sheet “Samples” in “m.xls” (the header, column 2): the name is longer than 8 bytes"
    )
