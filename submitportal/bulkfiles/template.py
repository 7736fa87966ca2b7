"""The metadata template for an organism, as the Loculus website offers it (TSV and XLSX).

Columns: (`accession` first in the revision template), `id`, `fastaIds` for multi-segment organisms,
the input fields (in the schema's `metadataTemplate` order when it has one), then one
`files.<category>` column per file category.
The XLSX has a `Data` sheet (what the user fills in and what the reader reads), a hidden `_lists`
sheet holding the dropdown values and a `Guidance` sheet that explains every column.
"""

from __future__ import annotations

from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from submitportal import tsv
from submitportal.bulkfiles.filerefs import FILES_PREFIX
from submitportal.loculus.schema import ACCESSION_FIELD, FASTA_IDS_FIELD, ID_FIELD, InputField, Organism

DATA_SHEET = "Data"
LISTS_SHEET = "_lists"
GUIDANCE_SHEET = "Guidance"
LAST_TEMPLATE_ROW = 100_000
# The website's tier colours.
REQUIRED_FILL = "FFFCE4D6"
PRIORITY_FILL = "FFDDEBF7"
OPTIONAL_FILL = "FFF2F2F2"


def template_columns(organism: Organism, *, revise: bool = False) -> list[str]:
    columns = [ACCESSION_FIELD, ID_FIELD] if revise else [ID_FIELD]
    if organism.is_multi_segment:
        columns.append(FASTA_IDS_FIELD)
    names = organism.metadata_template or tuple(f.name for f in organism.input_fields)
    columns += [name for name in dict.fromkeys(names) if name not in (ID_FIELD, FASTA_IDS_FIELD)]
    columns += [FILES_PREFIX + category.name for category in organism.file_categories]
    return columns


def template_tsv(organism: Organism, *, revise: bool = False) -> str:
    return "\t".join(tsv.quote(column) for column in template_columns(organism, revise=revise)) + "\n"


def _tier(input_field: InputField | None, column: str) -> tuple[str, str]:
    if column in (ID_FIELD, ACCESSION_FIELD) or (input_field is not None and input_field.required):
        return "Required field", REQUIRED_FILL
    if input_field is not None and input_field.desired:
        return "Priority field", PRIORITY_FILL
    return "Optional — opt in by filling the column", OPTIONAL_FILL


def _describe(organism: Organism, column: str) -> tuple[str, str, str, str]:
    """Display name, definition, guidance and example of a template column."""
    input_field = next((f for f in organism.input_fields if f.name == column), None)
    if input_field is not None:
        return input_field.display_name, input_field.definition, input_field.guidance, input_field.example
    if column == ID_FIELD:
        return "ID", "Your own unique ID for the entry.", "No spaces or tabs; unique within the file.", "sample1"
    if column == ACCESSION_FIELD:
        return (
            "Accession",
            "The accession of the released entry this row revises.",
            "Without version; each accession once in the file.",
            "LOC_000001Y",
        )
    if column == FASTA_IDS_FIELD:
        return (
            "FASTA IDs",
            "The FASTA IDs (the text after “>”) of this entry's sequences.",
            "Separate several IDs by spaces, one per segment.",
            "sample1_L sample1_M sample1_S",
        )
    category = organism.file_category(column[len(FILES_PREFIX) :])
    display = category.display_name if category else column
    return (
        display,
        f"Extra files of the category {display}.",
        "Space-separated file names as uploaded (name), name::path for a file in a subfolder, "
        "or name:fileId to keep a file already in Loculus.",
        "reads_1.fastq reads_2.fastq",
    )


def write_template_xlsx(organism: Organism, out: BinaryIO, *, revise: bool = False) -> None:
    workbook = Workbook()
    data = workbook.active
    data.title = DATA_SHEET
    lists = workbook.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    lists.protection.sheet = True
    guidance = workbook.create_sheet(GUIDANCE_SHEET)
    guidance.append(["Field name", "Display name", "Required", "Definition", "Guidance", "Example", "Allowed values"])
    for cell in guidance[1]:
        cell.font = Font(bold=True)

    fields = {f.name: f for f in organism.input_fields}
    list_column = 0
    for index, column in enumerate(template_columns(organism, revise=revise), start=1):
        input_field = fields.get(column)
        display, definition, guidance_text, example = _describe(organism, column)
        tier, fill = _tier(input_field, column)
        letter = get_column_letter(index)
        cell = data.cell(row=1, column=index, value=column)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=fill)
        note = "\n".join(
            part
            for part in (display, definition, guidance_text, f"Example: {example}" if example else "", tier)
            if part
        )
        cell.comment = Comment(note, "Loculus")
        data.column_dimensions[letter].width = max(12, min(40, len(column) + 4))
        if input_field is not None and input_field.type == "date":
            data.column_dimensions[letter].number_format = "yyyy-mm-dd"
        options = input_field.options if input_field is not None else ()
        if options:
            list_column += 1
            list_letter = get_column_letter(list_column)
            for row, option in enumerate(options, start=1):
                lists.cell(row=row, column=list_column, value=option)
            # A warning, not a stop: Loculus accepts free text in option fields, so Excel should too.
            validation = DataValidation(
                type="list",
                formula1=f"{quote_sheetname(LISTS_SHEET)}!${list_letter}$1:${list_letter}${len(options)}",
                allow_blank=True,
                errorStyle="warning",
                showErrorMessage=True,
                errorTitle="Invalid value",
                error=f'"{column}" must be one of the values in the dropdown list.',
            )
            validation.add(f"{letter}2:{letter}{LAST_TEMPLATE_ROW}")
            data.add_data_validation(validation)
        guidance.append(
            [
                column,
                display,
                "yes" if tier == "Required field" else "no",
                definition,
                guidance_text,
                example,
                ", ".join(options) if options else "free text",
            ]
        )
    data.freeze_panes = "A2"
    guidance.append([])
    guidance.append(["Colour key"])
    for label, fill in (
        ("Required field", REQUIRED_FILL),
        ("Priority fields", PRIORITY_FILL),
        ("Optional — opt in by filling the column", OPTIONAL_FILL),
    ):
        guidance.append([label])
        guidance.cell(row=guidance.max_row, column=1).fill = PatternFill("solid", fgColor=fill)
    guidance.protection.sheet = True
    workbook.save(out)
