"""The metadata template the Loculus website serves at ``/{organism}/submission/template``.

Built from the website schema the sandbox serves in ``/loculus-info``, in the column order of
the website's ``getMetadataTemplateFields`` (TSV) and ``getOrderedTemplateInputFields`` (XLSX),
``website/src/config.ts``; the route itself is ``pages/[organism]/submission/template/index.ts``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from sandbox.state import ACCESSION_PREFIX

TSV_TYPE = "text/tab-separated-values"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATA_SHEET, GUIDANCE_SHEET, LISTS_SHEET = "Data", "Guidance", "_lists"
MAX_DATA_ROWS = 100000  # dropdowns cover rows 2..100000, as on the website
INSTANCE_NAME = "Loculus sandbox"
FILES_DEFINITION = (
    "The {what} files associated with this submission. Entries must be space separated, and each entry must have "
    "a file name; this is the name as it will appear on the website. If the desired name differs from the uploaded "
    "file's name, or the uploaded folder uses subdirectories, then each entry will also require a file path "
    "(formatted `name::path`).  If a previously uploaded file is being reused, then the entry must instead have a "
    "file ID (formatted `name:fileId`)."
)
# Header colours by tier (ARGB), and the legend on the Guidance sheet.
TIERS = {
    "required": ("FFFCE4D6", "Required field"),
    "default": ("FFDDEBF7", "Priority fields"),
    "optional": ("FFF2F2F2", "Optional — opt in by filling the column"),
}


@dataclass
class Template:
    filename: str
    content_type: str
    body: bytes


def build(schema: dict[str, Any], action: str, file_type: str) -> Template:
    """``action`` is "submit" or "revise"; ``file_type`` is "tsv" or "xlsx" (already checked)."""
    display = schema["organismName"].replace(" ", "_")
    filename = f"{display}_metadata_{'revision_' if action == 'revise' else ''}template.{file_type}"
    if file_type == "xlsx":
        return Template(filename, XLSX_TYPE, _xlsx(ordered_fields(schema, action)))
    return Template(filename, TSV_TYPE, ("\t".join(tsv_columns(schema, action)) + "\n").encode())


def _id_fields(schema: dict[str, Any]) -> list[dict[str, Any]]:
    by_name = {field["name"]: field for field in schema["inputFields"]}
    return [by_name["id"]] + ([by_name["fastaIds"]] if "fastaIds" in by_name else [])


def _file_fields(schema: dict[str, Any]) -> list[dict[str, Any]]:
    files = schema.get("submissionDataTypes", {}).get("files") or {}
    if files.get("enabled") is not True:
        return []
    return [
        {
            "name": f"files.{category['name']}",
            "displayName": category.get("displayName"),
            "definition": FILES_DEFINITION.format(what=(category.get("displayName") or category["name"]).lower()),
            "example": "fileName fileName::filePath fileName:fileId",
        }
        for category in files.get("categories") or []
    ]


def _accession_field() -> dict[str, Any]:
    return {
        "name": "accession",
        "displayName": "Accession",
        "definition": f"The {INSTANCE_NAME} accession (without version) of the sequence you would like to revise.",
        "example": f"{ACCESSION_PREFIX}000P97Y",
        "noEdit": True,
        "required": True,
    }


def tsv_columns(schema: dict[str, Any], action: str) -> list[str]:
    """The TSV's one header row: id fields (accession first on revise), template, files columns."""
    base = schema.get("metadataTemplate")
    if base is None:
        base = [field["name"] for field in schema["inputFields"]]
    extra = [field["name"] for field in _id_fields(schema)]
    if action == "revise":
        extra = ["accession", *extra]
    columns = dict.fromkeys([*extra, *base])
    columns.update(dict.fromkeys(field["name"] for field in _file_fields(schema)))
    return list(columns)


def ordered_fields(schema: dict[str, Any], action: str) -> list[dict[str, Any]]:
    """The XLSX's fields, each with ``isTemplateField`` and ``metadataType``: required internal
    fields, template fields, files columns, then the remaining opt-in fields."""
    required = ([_accession_field()] if action == "revise" else []) + _id_fields(schema)
    required_names = {field["name"] for field in required}
    others = [field for field in schema["inputFields"] if field["name"] not in required_names]
    types = {entry["name"]: entry.get("type") for entry in schema["metadata"]}

    def decorate(field: dict[str, Any], is_template: bool) -> dict[str, Any]:
        return {**field, "isTemplateField": is_template, "metadataType": types.get(field["name"])}

    head = [decorate(field, True) for field in required]
    files = [decorate(field, True) for field in _file_fields(schema)]
    template = schema.get("metadataTemplate")
    if template is None:
        return head + [decorate(field, True) for field in others] + files
    by_name = {field["name"]: field for field in others}
    chosen = [decorate(by_name[name], True) for name in template if name in by_name]
    rest = [decorate(field, False) for field in others if field["name"] not in set(template)]
    return head + chosen + files + rest


def _tier(field: dict[str, Any]) -> str:
    if field.get("required") is True:
        return "required"
    return "default" if field["isTemplateField"] else "optional"


def _fill(argb: str) -> PatternFill:
    return PatternFill(fill_type="solid", fgColor=argb)


def _note(field: dict[str, Any]) -> str:
    lines = []
    if field.get("displayName") is not None and field["displayName"] != field["name"]:
        lines.append(field["displayName"])
    lines += [field[key] for key in ("definition", "guidance") if field.get(key) is not None]
    if field.get("example") not in (None, ""):
        lines.append(f"Example: {field['example']}")
    lines.append(TIERS[_tier(field)][1])
    return "\n".join(lines)


def _xlsx(fields: list[dict[str, Any]]) -> bytes:
    workbook = Workbook()
    data = workbook.active
    data.title = DATA_SHEET
    data.append([field["name"] for field in fields])
    data.freeze_panes = "A2"
    for index, field in enumerate(fields, start=1):
        letter = get_column_letter(index)
        data.column_dimensions[letter].width = min(45, max(16, len(field["name"]) + 2))
        if field.get("metadataType") == "date":
            data.column_dimensions[letter].number_format = "yyyy-mm-dd"
        cell = data.cell(row=1, column=index)
        cell.font = Font(bold=True)
        cell.fill = _fill(TIERS[_tier(field)][0])
        cell.comment = Comment(_note(field), INSTANCE_NAME)

    with_options = [field for field in fields if field.get("options")]
    if with_options:
        lists = workbook.create_sheet(LISTS_SHEET)
        lists.sheet_state = "hidden"
        for column, field in enumerate(with_options, start=1):
            lists.cell(row=1, column=column, value=field["name"])
            for row, option in enumerate(field["options"], start=2):
                lists.cell(row=row, column=column, value=option["name"])
        lists.protection.sheet = True
        sheet = f"'{LISTS_SHEET}'"
        for field in with_options:
            letter = get_column_letter(fields.index(field) + 1)
            # Looks its own header up in _lists, so the dropdown follows a renamed or moved column.
            match = f"MATCH({letter}$1,{sheet}!$1:$1,0)-1"
            source = f"OFFSET({sheet}!$A$1,1,{match},COUNTA(OFFSET({sheet}!$A$1,1,{match},{MAX_DATA_ROWS},1)),1)"
            validation = DataValidation(
                type="list",
                formula1=source,
                allow_blank=True,
                showErrorMessage=True,
                errorStyle="stop",
                errorTitle="Invalid value",
                error=f'"{field["name"]}" must be one of the values in the dropdown list.',
            )
            validation.add(f"{letter}2:{letter}{MAX_DATA_ROWS}")
            data.add_data_validation(validation)

    _guidance(workbook, fields)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _guidance(workbook: Workbook, fields: list[dict[str, Any]]) -> None:
    guidance = workbook.create_sheet(GUIDANCE_SHEET)
    guidance.freeze_panes = "A2"
    guidance.append(["Field name", "Display name", "Required", "Definition", "Guidance", "Example", "Allowed values"])
    for cell in guidance[1]:
        cell.font = Font(bold=True)
        cell.fill = _fill("FFD9D9D9")
    for index, width in enumerate([28, 24, 10, 55, 55, 22, 55], start=1):
        guidance.column_dimensions[get_column_letter(index)].width = width
    wrap = Alignment(wrap_text=True, vertical="top")
    for field in fields:
        guidance.append(
            [
                field["name"],
                field.get("displayName") or "",
                "Yes" if field.get("required") is True else "No",
                field.get("definition") or "",
                field.get("guidance") or "",
                str(field["example"]) if field.get("example") is not None else "",
                ", ".join(option["name"] for option in field.get("options") or []) or "free text",
            ]
        )
        row = guidance.max_row
        guidance.cell(row=row, column=1).fill = _fill(TIERS[_tier(field)][0])
        for column in (4, 5, 7):
            guidance.cell(row=row, column=column).alignment = wrap
    guidance.append([])
    guidance.append(["Colour key"])
    guidance.cell(row=guidance.max_row, column=1).font = Font(bold=True)
    for argb, label in TIERS.values():
        guidance.append(["", label])
        guidance.cell(row=guidance.max_row, column=1).fill = _fill(argb)
    guidance.protection.sheet = True
