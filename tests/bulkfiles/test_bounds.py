"""Hostile and oversized bulk files (issue 17): every one is refused with a sentence, and reading stops early.

"Stops early" is asserted by what was read (bytes unpacked, lines handed to Python, rows yielded),
never by timing; bench/bombs.py measures the time and memory.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile
from pathlib import Path

import openpyxl.xml
import pytest
import zstandard

from submitportal.bulkfiles import metadata
from submitportal.bulkfiles.compression import UnreadableFile, open_decompressed, open_decompressed_stream
from submitportal.bulkfiles.fasta import FastaReader
from submitportal.bulkfiles.fasta_summary import summarize_fasta
from submitportal.bulkfiles.limits import Limits, short
from submitportal.bulkfiles.metadata import Row, open_metadata
from submitportal.bulkfiles.validate import check_metadata, validate
from tests.bulkfiles.helpers import organism, write

MIB = 1024 * 1024
# The ratio is judged from 1 MiB here, so a bomb takes a few MiB to build rather than 64.
SMALL = Limits(ratio_from=MIB)

BOMB_MESSAGE = (
    "unpacks to more than 500 times its compressed size, far more than real metadata or sequences do, so the "
    "portal stopped reading it (it looks like a decompression bomb). If it really holds your data, please "
    "compress it with gzip (.gz) instead, or upload it uncompressed."
)


def unpack(data: bytes, suffix: str) -> bytes:
    if suffix == ".gz":
        return gzip.compress(data, 9)
    if suffix == ".zst":
        return zstandard.ZstdCompressor(level=19).compress(data)
    if suffix == ".xz":
        return lzma.compress(data)
    return bz2.compress(data)


def read_all(stream: io.BufferedReader) -> None:
    while stream.read(MIB):
        pass


# --- The compression ratio -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "stops_by"), [(".gz", 17 * MIB), (".zst", 5 * MIB), (".xz", 5 * MIB), (".bz2", 5 * MIB)]
)
def test_a_decompression_bomb_is_refused_by_its_ratio_after_a_few_mebibytes(
    tmp_path: Path, suffix: str, stops_by: int
) -> None:
    path = tmp_path / f"m.tsv{suffix}"
    path.write_bytes(unpack(b"\n" * (48 * MIB), suffix))
    with open_decompressed(path, path.name, limits=SMALL) as stream, pytest.raises(UnreadableFile) as caught:
        read_all(stream)
    assert caught.value.message == f"“m.tsv{suffix}” {BOMB_MESSAGE}"
    # gzip reads 16 KiB of packed input ahead of what it used, so a gzip bomb (1,000-fold at most) shows its
    # ratio only from ~16 MiB unpacked: below the 64 MiB the ratio is judged from by default.
    assert stream.raw.bytes_read <= stops_by  # type: ignore[attr-defined]


def test_a_bomb_followed_as_it_arrives_is_refused_the_same_way(tmp_path: Path) -> None:
    data = unpack(b"\n" * (32 * MIB), ".zst")
    with (
        open_decompressed_stream(io.BytesIO(data), "s.fasta.zst", limits=SMALL) as stream,
        pytest.raises(UnreadableFile) as caught,
    ):
        read_all(stream)
    assert caught.value.message == f"“s.fasta.zst” {BOMB_MESSAGE}"
    assert stream.raw.bytes_read <= 2 * MIB  # type: ignore[attr-defined]


def test_a_file_that_compresses_well_but_is_small_is_never_refused_by_its_ratio(tmp_path: Path) -> None:
    path = tmp_path / "m.tsv.zst"
    path.write_bytes(unpack(b"\n" * (MIB - 1), ".zst"))
    assert len(path.read_bytes()) * 500 < MIB  # the ratio is over the limit …
    with open_decompressed(path, path.name, limits=SMALL) as stream:
        assert len(stream.read()) == MIB - 1  # … but the file is below ratio_from


def test_a_file_within_the_ratio_is_read_whole(tmp_path: Path) -> None:
    data = b"".join(b"%d\tsample %d\n" % (n, n * 7919 % 10007) for n in range(400_000))
    path = tmp_path / "m.tsv.zst"
    path.write_bytes(unpack(data, ".zst"))
    assert len(data) > 4 * MIB
    with open_decompressed(path, path.name, limits=SMALL) as stream:
        assert stream.read() == data


def test_a_zip_bomb_is_refused_from_its_directory_before_any_unpacking(tmp_path: Path) -> None:
    path = tmp_path / "m.tsv.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("m.tsv", b"\n" * (8 * MIB))
    with pytest.raises(UnreadableFile) as caught:
        open_decompressed(path, path.name, limits=SMALL)  # raises on opening: nothing was unpacked
    assert caught.value.message == f"“m.tsv.zip” {BOMB_MESSAGE}"


def test_a_zip_member_over_the_size_limit_is_refused_from_its_directory(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv.zip", b"id\n" + b"s\n" * 5000)
    with pytest.raises(UnreadableFile) as caught:
        open_decompressed(path, path.name, max_bytes=1000)
    assert caught.value.message.startswith("“m.tsv.zip” unpacks to more than 1000 bytes, the most the portal accepts.")


def test_the_ratio_limit_applies_to_a_check_as_the_portal_runs_it(tmp_path: Path) -> None:
    path = tmp_path / "m.tsv.gz"
    path.write_bytes(gzip.compress(b"id\n" + b"\n" * (16 * MIB), 9))
    report = check_metadata(organism(consensus=False), path, path.name, limits=SMALL).report
    assert [p.message for p in report.problems if p.kind == "unreadable_file"] == [f"“m.tsv.gz” {BOMB_MESSAGE}"]
    fasta = tmp_path / "s.fasta.gz"
    fasta.write_bytes(gzip.compress(b">a\nACGT\n" + b"\n" * (16 * MIB), 9))
    summary = summarize_fasta(fasta, fasta.name, limits=SMALL)
    assert summary.unreadable == f"“s.fasta.gz” {BOMB_MESSAGE}"


# --- Lines that make no row cost next to nothing ------------------------------------------------------


def count_decoded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the lines the reader decodes in Python, one call each."""
    calls = [0]
    decoded = metadata._decoded

    def counting(*args: object) -> str:
        calls[0] += 1
        return decoded(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(metadata, "_decoded", counting)
    return calls


@pytest.mark.parametrize(
    ("name", "filler"),
    [
        ("m.tsv", b"\n"),
        ("m.tsv", b"\r\n"),
        ("m.tsv", b" \t \t\x0b\r\n"),
        ("m.csv", b"\n"),
        ("m.csv", b",,,,\r\n"),
    ],
)
def test_runs_of_lines_without_values_are_skipped_without_a_python_step_per_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, filler: bytes
) -> None:
    monkeypatch.setattr(metadata, "BLOCK", 4096)  # many block boundaries inside the runs
    separator = b"\t" if name.endswith("tsv") else b","
    data = b"id" + separator + b"country\n" + filler * 50_000 + b"s1" + separator + b"Uganda\n" + filler * 50_000
    data += b"s2" + separator + b"Spain\n"
    path = write(tmp_path, name, data)
    calls = count_decoded(monkeypatch)
    with open_metadata(path, name) as table:
        rows = list(table.rows())
    assert rows == [Row(1, 50_002, ["s1", "Uganda"]), Row(2, 100_003, ["s2", "Spain"])]
    assert calls[0] <= 10  # the header, two rows and a few partial lines at block ends


def test_blank_lines_inside_a_quoted_value_are_kept(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", 'id\tnote\n\n\ns1\t"a\n\n\nb"\n\n\ns2\tx\n')
    with open_metadata(path, "m.tsv") as table:
        assert list(table.rows()) == [Row(1, 4, ["s1", "a\n\n\nb"]), Row(2, 10, ["s2", "x"])]


def test_a_csv_line_with_a_carriage_return_before_a_comma_is_a_row(tmp_path: Path) -> None:
    # As before: inside a line, a CR is a value in CSV; only at the line's end is it part of the line break.
    path = write(tmp_path, "m.csv", b"id,note\n,,\n\r,x\n,,\r\n")
    with open_metadata(path, "m.csv") as table:
        assert list(table.rows()) == [Row(1, 3, ["\r", "x"])]


def test_a_line_of_spaces_longer_than_a_row_is_refused_not_held(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", b"id\n" + b" " * 5000)
    with pytest.raises(UnreadableFile) as caught, open_metadata(path, "m.tsv", limits=Limits(max_row=1000)) as table:
        list(table.rows())
    assert caught.value.message.startswith("Line 2 of “m.tsv” is longer than 1000 bytes.")


def test_a_fasta_of_blank_lines_has_no_records(tmp_path: Path) -> None:
    path = write(tmp_path, "s.fasta.gz", b"\n" * (4 * MIB) + b">a\nAC\n\n\n \n\t\nGT\n" + b"\n" * MIB)
    reader = FastaReader(path, "s.fasta.gz")
    assert [(r.id, r.line, r.length) for r in reader] == [("a", 4 * MIB + 1, 4)]


# --- Rows and records -----------------------------------------------------------------------------------


def test_a_table_over_the_row_limit_is_refused_and_reading_stops_at_the_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv.gz", "id\n" + "".join(f"s{n}\n" for n in range(50_000)))
    read: list[Row] = []
    with pytest.raises(UnreadableFile) as caught, open_metadata(path, path.name, limits=Limits(max_rows=100)) as t:
        read.extend(t.rows())
    assert caught.value.message == (
        "“m.tsv.gz” has more than 100 entries (rows), the most the portal checks in one submission. "
        "Please split it into several submissions of at most 100 entries each."
    )
    assert len(read) == 100


def test_a_check_over_the_row_limit_keeps_only_the_entries_up_to_it(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", "id\n" + "".join(f"s{n}\n" for n in range(1000)))
    report = check_metadata(organism(consensus=False), path, "m.tsv", limits=Limits(max_rows=250)).report
    assert len(report.entries) == 250
    assert report.counts.by_kind["unreadable_file"] == 1
    assert "has more than 250 entries (rows)" in report.problems[-1].message


def test_a_workbook_over_the_row_limit_is_refused(tmp_path: Path) -> None:
    rows = "".join(f'<row r="{n}"><c t="inlineStr"><is><t>s{n}</t></is></c></row>' for n in range(2, 40))
    path = hostile_workbook(
        tmp_path, sheet=sheet_xml('<row r="1"><c t="inlineStr"><is><t>id</t></is></c></row>' + rows)
    )
    with pytest.raises(UnreadableFile) as caught, open_metadata(path, "m.xlsx", limits=Limits(max_rows=10)) as t:
        list(t.rows())
    assert caught.value.message.startswith("“m.xlsx” has more than 10 entries (rows)")


def test_a_fasta_over_the_record_limit_keeps_the_records_up_to_it(tmp_path: Path) -> None:
    path = write(tmp_path, "s.fasta", "".join(f">s{n}\nACGT\n" for n in range(100)))
    summary = summarize_fasta(path, "s.fasta", limits=Limits(max_records=10))
    assert summary.count == 10
    assert summary.unreadable == (
        "“s.fasta” holds more than 10 sequences (the header on line 21 is one too many), the most the portal "
        "checks in one submission. Please split it into several submissions."
    )


def test_what_the_metadata_check_keeps_is_bounded(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", "id\n" + "".join(f"{'x' * 500}{n}\n" for n in range(100)))
    report = check_metadata(organism(consensus=False), path, "m.tsv", limits=Limits(max_kept=10_000)).report
    assert report.problems[-1].message == (
        "The IDs and file names of “m.tsv” add up to more than 9.8 KiB by row 18. The portal keeps them all to "
        "compare them, so it stops there; please split the submission into several smaller ones."
    )
    assert len(report.entries) == 18


def test_what_the_fasta_summary_keeps_is_bounded(tmp_path: Path) -> None:
    path = write(tmp_path, "s.fasta", "".join(f">{'y' * 1000}{n}\nA\n" for n in range(100)))
    summary = summarize_fasta(path, "s.fasta", limits=Limits(max_kept=10_000))
    assert summary.count == 10
    assert summary.unreadable is not None
    assert summary.unreadable.startswith(
        "The FASTA IDs of “s.fasta” add up to more than 9.8 KiB by the header on line 19."
    )


# --- Messages quote a short prefix --------------------------------------------------------------------------


def test_short_keeps_sixty_characters() -> None:
    assert short("a" * 60) == "a" * 60
    assert short("a" * 61) == "a" * 60 + "…"


def test_no_message_repeats_a_whole_value(tmp_path: Path) -> None:
    long = "L" * 5000
    metadata_path = write(
        tmp_path,
        "m.tsv",
        f"id\tsampleCollectionDate\tgeoLocCountry\tfiles.rawReads\t{long}\t{long}\n"
        f"{long}\t2024-01-01\t{long}\t{long}/x.fq {long}:{long}\n"
        f"{long}\t2024-01-01\tUganda\t\n"
        f"{long} b\t2024-01-01\tUganda\t\n",
    )
    sequences_path = write(tmp_path, "s.fasta", f">{long}2\nACGT\n>{long}2\nAC\n>\nA\n")
    report = validate(organism(), metadata_path, "m.tsv", sequences_path, long + ".fasta")
    assert {p.kind for p in report.problems} >= {
        "duplicate_column",
        "duplicate_id",
        "id_with_whitespace",
        "value_not_in_options",
        "invalid_file_name",
        "invalid_file_id",
        "duplicate_fasta_id",
        "sequence_without_entry",
        "sequence_missing",
    }
    for problem in report.problems:
        assert "L" * 61 not in problem.message, problem.message
        assert len(problem.message) < 600, problem.message


# --- XLSX ---------------------------------------------------------------------------------------------------

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
PACKAGE_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)
SHARED_STRINGS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>id</t></si>'
    "<si><t>Uganda</t></si></sst>"
)
GOOD_ROWS = (
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>geoLocCountry</t></is></c></row>'
    '<row r="2"><c r="A2" t="inlineStr"><is><t>s1</t></is></c><c r="B2" t="s"><v>1</v></c></row>'
)
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{n + 1} "{f"&lol{n};" * 10 if n else "&lol;" * 10}">' for n in range(9))
    + "]>"
)


def sheet_xml(rows: str = GOOD_ROWS, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>') -> str:
    return (
        f'{prolog}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{rows}</sheetData></worksheet>"
    )


def hostile_workbook(folder: Path, name: str = "m.xlsx", **parts: str | bytes | None) -> Path:
    """A workbook written part by part: the good parts, with `parts` (by short name) replaced or left out (None)."""
    chosen: dict[str, str | bytes | None] = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": PACKAGE_RELS,
        "xl/workbook.xml": parts.get("workbook", WORKBOOK),
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
        "xl/worksheets/sheet1.xml": parts.get("sheet", sheet_xml()),
        "xl/sharedStrings.xml": parts.get("strings", SHARED_STRINGS),
    }
    path = folder / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, data in chosen.items():
            if data is not None:
                archive.writestr(part, data)
    return path


def workbook_problem(path: Path, limits: Limits | None = None) -> str:
    with pytest.raises(UnreadableFile) as caught, open_metadata(path, path.name, limits=limits) as table:
        list(table.rows())
    return caught.value.message


def refused(reason: str, name: str = "m.xlsx") -> str:
    return (
        f"“{name}” could not be read as an Excel workbook: {reason}. "
        "Please save it again as .xlsx, or export it as TSV."
    )


def test_a_hand_written_workbook_is_read(tmp_path: Path) -> None:
    with open_metadata(hostile_workbook(tmp_path), "m.xlsx") as table:
        assert (table.columns, list(table.rows())) == (["id", "geoLocCountry"], [Row(1, 2, ["s1", "Uganda"])])


def test_openpyxl_parses_with_defusedxml() -> None:
    assert openpyxl.xml.DEFUSEDXML is True


ENTITIES = refused("it declares XML entities or a document type, which real workbooks never contain")


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ({"sheet": sheet_xml(prolog=LAUGHS)}, ENTITIES),
        ({"strings": SHARED_STRINGS.replace("?>", "?>" + LAUGHS.removeprefix('<?xml version="1.0"?>'), 1)}, ENTITIES),
        ({"workbook": WORKBOOK.replace("?>", '?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>', 1)}, ENTITIES),
        ({"sheet": sheet_xml(GOOD_ROWS.replace('t="s"><v>1</v>', 't="inlineStr"><is><t>&x;</t></is>'))}, None),
        ({"workbook": "<workbook><sheets>"}, None),
        ({"sheet": sheet_xml(GOOD_ROWS)[:-30]}, None),
        ({"workbook": None}, refused("a part every workbook has is missing")),
        (
            {"workbook": WORKBOOK.replace('<sheet name="Data" sheetId="1" r:id="rId1"/>', "")},
            refused("it has no worksheet"),
        ),
        (
            {"sheet": sheet_xml('<row r="x"><c/></row>')},
            refused("its content is not laid out as Excel lays out a workbook"),
        ),
        ({"strings": "\x00\x01binary"}, None),
    ],
    ids=[
        "billion laughs in the sheet",
        "billion laughs in the shared strings",
        "external entity in the workbook",
        "undefined entity",
        "malformed workbook XML",
        "sheet cut short",
        "no workbook part",
        "no sheets",
        "a row number that is no number",
        "binary shared strings",
    ],
)
def test_a_hostile_or_broken_workbook_is_refused_with_a_sentence(
    tmp_path: Path, parts: dict[str, str | None], message: str | None
) -> None:
    problem = workbook_problem(hostile_workbook(tmp_path, **parts))
    if message is None:
        assert problem.startswith(
            refused("part of its XML is malformed (").removesuffix(
                ". Please save it again as .xlsx, or export it as TSV."
            )
        )
        assert problem.endswith("). Please save it again as .xlsx, or export it as TSV.")
    else:
        assert problem == message


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert workbook_problem(path) == refused("a part every workbook has is missing")


def test_a_workbook_part_that_would_unpack_as_a_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    strings = SHARED_STRINGS.replace("Uganda", "A" * (4 * MIB))
    path = hostile_workbook(tmp_path, strings=strings)
    assert path.stat().st_size < 20_000
    assert workbook_problem(path, SMALL) == refused(
        "its part xl/sharedStrings.xml unpacks to more than 500 times its compressed size, far more than a real "
        "table does (it looks like a decompression bomb)"
    )


def test_a_large_workbook_part_besides_the_sheets_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metadata, "MAX_WORKBOOK_PART", 1000)
    strings = SHARED_STRINGS.replace("Uganda", "".join(f"{n:x}" for n in range(1000)))
    assert workbook_problem(hostile_workbook(tmp_path, strings=strings)) == refused(
        "its part xl/sharedStrings.xml unpacks to 2.8 KiB, more than the 1000 bytes the portal reads of a "
        "workbook's parts besides its sheets"
    )


def test_a_long_cell_is_refused_naming_the_cell(tmp_path: Path) -> None:
    strings = SHARED_STRINGS.replace("Uganda", "U" * (70 * 1024))
    assert workbook_problem(hostile_workbook(tmp_path, strings=strings)) == (
        "Cell B2 of the sheet “Data” in “m.xlsx” (row 1, column “geoLocCountry”): the value is longer than 64 KiB "
        f"(it starts “{'U' * 60}…”). No metadata value is that long; please shorten it."
    )


def test_a_long_row_of_a_sheet_is_refused_while_it_is_read(tmp_path: Path) -> None:
    cells = "".join(f'<c t="inlineStr"><is><t>{"v" * 50}</t></is></c>' for _ in range(100))
    path = hostile_workbook(tmp_path, sheet=sheet_xml(GOOD_ROWS + f'<row r="3">{cells}</row>'))
    assert workbook_problem(path, Limits(max_row=2048)) == (
        "Row 3 of the sheet “Data” in “m.xlsx” is longer than 2 KiB in all. No metadata row is that long; "
        "please check that you chose the right file."
    )


def test_far_away_rows_and_columns_cost_one_row_each(tmp_path: Path) -> None:
    far = '<row r="2000000000"><c r="C2000000000" t="inlineStr"><is><t>late</t></is></c></row>'
    dimension = sheet_xml(GOOD_ROWS + far).replace("<sheetData>", '<dimension ref="A1:XFD1048576"/><sheetData>')
    with open_metadata(hostile_workbook(tmp_path, sheet=dimension), "m.xlsx") as table:
        assert list(table.rows()) == [Row(1, 2, ["s1", "Uganda"]), Row(2, 2_000_000_000, ["", "", "late"])]


def test_a_workbook_is_refused_when_openpyxl_would_not_use_defusedxml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(openpyxl.xml, "DEFUSEDXML", False)
    assert workbook_problem(hostile_workbook(tmp_path)) == (
        "Excel workbooks cannot be read on this portal at the moment, so “m.xlsx” was not read. "
        "Please export the sheet as tab-separated text (.tsv) and upload that."
    )


def test_trailing_empty_values_are_dropped_however_many(tmp_path: Path) -> None:
    path = write(
        tmp_path, "m.tsv", "id\tnote\ns1" + "\t" * 100_000 + "\ns2\tx\t\t\ty" + "\t" * 50 + "\ns3\t\t\t\n\t\t\n"
    )
    with open_metadata(path, "m.tsv") as table:
        assert [row.values for row in table.rows()] == [["s1", ""], ["s2", "x", "", "", "y"], ["s3", ""]]


def test_what_stopped_the_reading_is_kept_even_after_the_first_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", "id\tsampleCollectionDate\tgeoLocCountry\n" + "same\t2024-01-01\tUganda\n" * 50)
    report = check_metadata(organism(consensus=False), path, "m.tsv", max_problems=5, limits=Limits(max_rows=20)).report
    assert [p.kind for p in report.problems] == ["duplicate_id"] * 5 + ["unreadable_file"]
    assert report.problems[-1].message.startswith("“m.tsv” has more than 20 entries (rows)")
    assert (report.counts.by_kind["duplicate_id"], report.problems_left_out) == (19, 14)
