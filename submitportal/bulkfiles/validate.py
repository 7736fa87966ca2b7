"""Checking a bulk submission (metadata table, FASTA file) before anything is uploaded or sent.

Everything the Loculus backend would refuse is an error here, in words a lab scientist understands
and naming the row, column or ID, plus what Loculus would accept but never release (an empty
required field). Each value of a date field or a field with options is judged as the pipeline
will judge it (`field_checks`, shared with the single-entry form): a date it cannot read or one in
the future is an error, a partial date or a value outside the options a warning. Columns that are
no metadata field of the organism get one warning naming them, as do the sheets of a workbook left unread.
Both files are streamed once; what is kept per row is the entry's ID and its file references.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from submitportal.bulkfiles.compression import UnreadableFile, human_size
from submitportal.bulkfiles.fasta_summary import FastaSummary, summarize_fasta
from submitportal.bulkfiles.field_checks import ValueCheck, value_check
from submitportal.bulkfiles.filerefs import FILES_PREFIX, FileEntryProblem, FileRef, parse_file_entry
from submitportal.bulkfiles.limits import KEPT_OVERHEAD, Limits, resolve, short
from submitportal.bulkfiles.metadata import MetadataTable, Row, open_metadata
from submitportal.bulkfiles.report import (
    Entries,
    Entry,
    Problem,
    ProblemCollector,
    ProblemCounts,
    Report,
)
from submitportal.loculus.schema import (
    ACCESSION,
    ACCESSION_FIELD,
    ACCESSION_VERSION,
    FASTA_IDS_FIELD,
    ID_FIELD,
    InputField,
    Organism,
)

ALTERNATE_ID_FIELD = "submissionId"

__all__ = [
    "Entries",
    "Entry",
    "FastaSummary",
    "FileRef",
    "Limits",
    "MetadataCheck",
    "Problem",
    "ProblemCounts",
    "Report",
    "check_metadata",
    "combine",
    "summarize_fasta",
    "validate",
]


@dataclass(frozen=True)
class MetadataCheck:
    """The metadata table checked alone: its part of the report, and its FASTA IDs for `combine`.

    `report` holds the metadata's problems (the first `max_problems` kept, all counted), entries,
    file references and columns; `fasta_ids` maps each FASTA ID the metadata expects to its row
    (None when the file is unreadable or has no usable ID column). `combine` copies, never changes it.
    """

    report: Report
    fasta_ids: dict[str, int] | None
    max_problems: int


def validate(
    organism: Organism,
    metadata_path: str | Path,
    metadata_name: str,
    sequences_path: str | Path | None = None,
    sequences_name: str | None = None,
    *,
    max_problems: int = 100,
    max_bytes: int | None = None,
    limits: Limits | None = None,
) -> Report:
    """Check the metadata table and (if given) the FASTA file against `organism`; never raises for bad input.

    The same as `combine(organism, check_metadata(…), summarize_fasta(…))`, which lets a caller read
    the FASTA when it arrives and keep its summary. `limits` bound the reading (`max_bytes`, if given, wins).
    """
    limits = resolve(limits, max_bytes)
    metadata = check_metadata(organism, metadata_path, metadata_name, max_problems=max_problems, limits=limits)
    if sequences_path is None:
        return combine(organism, metadata, None)
    name = sequences_name or Path(sequences_path).name
    if not organism.consensus_sequences:
        return combine(organism, metadata, FastaSummary(name, limits))  # refused unread
    return combine(organism, metadata, summarize_fasta(sequences_path, name, limits=limits))


class RowSink(Protocol):
    """Gets the table's header and then every data row as `check_metadata` reads them (rewrite.BackendRows)."""

    def header(self, columns: list[str]) -> None: ...

    def row(self, number: int, values: list[str]) -> None: ...


def check_metadata(
    organism: Organism,
    path: str | Path,
    name: str,
    *,
    max_problems: int = 100,
    max_bytes: int | None = None,
    limits: Limits | None = None,
    rows_to: RowSink | None = None,
    revise: bool = False,
) -> MetadataCheck:
    """Check the metadata table alone; never raises for bad input.

    `revise`: the table revises released entries, so each row needs its `accession` (present,
    well-formed, once in the file); the report keeps them (`Report.accessions`) for the check against
    Loculus (`bulkfiles.revision`).

    `rows_to` also gets the header and each row (shorter rows padded) in the same read, e.g. to
    write what the backend receives; what it made is worth keeping only if the report has no errors.
    Past `limits.max_rows` rows, or once the IDs and file names it keeps exceed `limits.max_kept`, the
    check stops with an error (the entries up to there are kept).
    """
    limits = resolve(limits, max_bytes)
    report = Report(has_files_columns={category.name: False for category in organism.file_categories})
    if revise:
        report.accessions = []
    problems = ProblemCollector(report, max_problems)
    fasta_ids: dict[str, int] | None = None
    try:
        with open_metadata(path, name, limits=limits) as table:
            fasta_ids = _MetadataCheck(organism, table, report, problems, rows_to, limits.max_kept, revise).run()
    except UnreadableFile as exc:
        problems.add("error", "metadata", "unreadable_file", exc.message, always=True)
        fasta_ids = None
    return MetadataCheck(report, fasta_ids, max_problems)


def combine(organism: Organism, metadata: MetadataCheck, sequences: FastaSummary | None) -> Report:
    """The report of the metadata and the FASTA file together, as `validate` gives it.

    `sequences` is None when the submission has no FASTA file. For an organism that takes no
    sequences only its name is used. Neither argument is changed, so each can be combined again.
    """
    report = _copy(metadata.report)
    problems = ProblemCollector(report, metadata.max_problems)
    if sequences is None:
        if organism.consensus_sequences:
            problems.add(
                "error",
                "sequences",
                "sequences_missing",
                f"{organism.display_name} entries need sequences. Please add the FASTA file with the sequences "
                "of the entries in your metadata.",
            )
        return report
    if not organism.consensus_sequences:
        problems.add(
            "error",
            "sequences",
            "sequences_not_allowed",
            f"{organism.display_name} takes no sequences, only metadata (and extra files). "
            f"Please remove the sequence file “{short(sequences.name)}”.",
        )
        return report
    _check_fasta(sequences, metadata.fasta_ids, report, problems)
    return report


def _copy(report: Report) -> Report:
    entries = Entries()
    entries._ids = report.entries.ids()
    return Report(
        problems=list(report.problems),
        counts=ProblemCounts(Counter(report.counts.by_level), Counter(report.counts.by_kind)),
        entries=entries,
        file_refs=dict(report.file_refs),  # per entry, never changed after the metadata check
        has_files_columns=dict(report.has_files_columns),
        id_column=report.id_column,
        columns=list(report.columns),
        sequence_count=report.sequence_count,
        accessions=None if report.accessions is None else list(report.accessions),
    )


class _MetadataCheck:
    """The header checks, then one pass over the rows. Returns the metadata's FASTA IDs (id → row)."""

    def __init__(
        self,
        organism: Organism,
        table: MetadataTable,
        report: Report,
        problems: ProblemCollector,
        rows_to: RowSink | None = None,
        max_kept: int = Limits.max_kept,
        revise: bool = False,
    ) -> None:
        self.organism = organism
        self.revise = revise
        self.max_kept = max_kept
        self.kept = 0  # the size of what is kept to compare: IDs, FASTA IDs, file names (see Limits.max_kept)
        self.table = table
        self.report = report
        self.problems = problems
        self.columns = table.columns
        self.rows_to = rows_to
        report.columns = list(table.columns)
        if rows_to is not None:
            rows_to.header(list(table.columns))

    def header_problem(self, kind: str, message: str, column: str | None = None) -> None:
        self.problems.add("error", "metadata", kind, message, column=column)

    def run(self) -> dict[str, int] | None:
        columns = self.columns
        positions: dict[str, int] = {}
        for index, column in enumerate(columns):
            if not column:
                self.header_problem(
                    "unnamed_column",
                    f"Column {index + 1} of the header has no name. Please name it (e.g. “country”) or delete it.",
                )
            elif column in positions:
                self.header_problem(
                    "duplicate_column",
                    f"The column “{short(column)}” appears twice in the header (columns {positions[column] + 1} and "
                    f"{index + 1}). Please delete or rename one of them.",
                    column,
                )
            else:
                positions[column] = index
        self.id_index = self._id_column(positions)
        self.accession_index = self._accession_column(positions) if self.revise else None
        self.fasta_ids_index = positions.get(FASTA_IDS_FIELD)
        self.required = self._required_columns(positions)
        self.value_checks: list[tuple[int, InputField, ValueCheck]] = [
            (positions[f.name], f, check)
            for f in self.organism.input_fields
            if f.name in positions and (check := value_check(f)) is not None
        ]
        self.file_columns = self._file_columns(positions)
        self._unknown_columns(positions)
        return self._rows()

    def _unknown_columns(self, positions: dict[str, int]) -> None:
        known = {f.name for f in self.organism.input_fields} | {ID_FIELD, ALTERNATE_ID_FIELD, FASTA_IDS_FIELD}
        if self.revise:
            known.add(ACCESSION_FIELD)
        unknown = [c for c in positions if c not in known and not c.startswith(FILES_PREFIX)]
        if not unknown:
            return
        by_lower = {f.name.lower(): f.name for f in self.organism.input_fields}
        named = [
            f"“{short(c)}”" + (f" (did you mean “{by_lower[c.lower()]}”?)" if c.lower() in by_lower else "")
            for c in unknown[:20]
        ]
        listed = _and_list(named + ([f"{len(unknown) - 20} more"] if len(unknown) > 20 else []))
        organism = self.organism.display_name
        if len(unknown) == 1:
            message = (
                f"Column {listed} is not part of the {organism} metadata; Loculus will ignore it (it keeps the "
                "column with the submitted data, but never processes or releases it). If it should be one of the "
                "metadata fields, please rename it as in the template; otherwise you may leave it or delete it."
            )
        else:
            message = (
                f"Columns {listed} are not part of the {organism} metadata; Loculus will ignore them (it keeps the "
                "columns with the submitted data, but never processes or releases them). If one should be a "
                "metadata field, please rename it as in the template; otherwise you may leave them or delete them."
            )
        self.problems.add(
            "warning", "metadata", "unknown_column", message, column=unknown[0] if len(unknown) == 1 else None
        )

    def _id_column(self, positions: dict[str, int]) -> int | None:
        if ID_FIELD in positions and ALTERNATE_ID_FIELD in positions:
            self.header_problem(
                "both_id_columns",
                "The metadata has both an “id” and a “submissionId” column, but Loculus allows only one. "
                "Please delete one of them (“id” is the current name).",
            )
            return None
        for name in (ID_FIELD, ALTERNATE_ID_FIELD):
            if name in positions:
                self.report.id_column = name
                return positions[name]
        self.header_problem(
            "no_id_column",
            "The metadata has no ID column. Please add a column named “id” holding a unique ID for each entry "
            "(for example the sample's name in your lab).",
        )
        return None

    def _accession_column(self, positions: dict[str, int]) -> int | None:
        if ACCESSION_FIELD in positions:
            return positions[ACCESSION_FIELD]
        # The backend's words (contract §4.4, 5e), then what to do.
        self.header_problem(
            "no_accession_column",
            f"The revised metadata file does not contain the header '{ACCESSION_FIELD}'. Please add a column named "
            "“accession” holding, for each row, the accession of the released entry it revises (e.g. LOC_000001Y), "
            "as in the revision template.",
        )
        return None

    def _check_accession(self, number: int, where: str, entry_id: str, value: str, row_of: dict[str, int]) -> str:
        """One row's accession: the accession to check against Loculus, or "" if the row has none usable."""
        problems = self.problems
        details = {"row": number, "column": ACCESSION_FIELD, "entry_id": entry_id or None}
        if not value:
            problems.add(
                "error",
                "metadata",
                "empty_accession",
                f"{where}: the accession (column “{ACCESSION_FIELD}”) is empty. Each row of a revision needs the "
                "accession of the released entry it revises; please fill it in or delete the row.",
                **details,
            )
            return ""
        versioned = ACCESSION_VERSION.fullmatch(value)
        if versioned:
            problems.add(
                "error",
                "metadata",
                "accession_with_version",
                f"{where}: “{short(value)}” is an accession with a version. Please give the accession without the "
                f"version: {short(versioned.group(1))} (the revision becomes its next version).",
                **details,
            )
            return ""
        if not ACCESSION.fullmatch(value):
            problems.add(
                "error",
                "metadata",
                "malformed_accession",
                f"{where}: “{short(value)}” is not an accession. Accessions consist of letters, digits and "
                "underscores only (e.g. LOC_000001Y); please correct it.",
                **details,
            )
            return ""
        self.kept += len(value) + KEPT_OVERHEAD
        first = row_of.setdefault(value, number)
        if first != number:
            # The backend's words (contract §4.4, 7b), then where and what to do.
            problems.add(
                "error",
                "metadata",
                "duplicate_accession",
                f"{where}: Duplicate accession found in metadata file: {short(value)} (also in row {first}). "
                "An accession can be revised once per upload; please keep one of the rows.",
                **details,
            )
            return ""
        return value

    def _required_columns(self, positions: dict[str, int]) -> list[tuple[int, InputField]]:
        required = []
        for input_field in self.organism.input_fields:
            if not input_field.required or input_field.name in (ID_FIELD, FASTA_IDS_FIELD):
                continue
            if input_field.name in positions:
                required.append((positions[input_field.name], input_field))
            else:
                self.header_problem(
                    "missing_required_column",
                    f"The required column “{input_field.name}” ({input_field.display_name}) is missing. Loculus "
                    "would accept the entries but could never release them without it; please add the column "
                    "and fill it in for every entry.",
                    input_field.name,
                )
        return required

    def _file_columns(self, positions: dict[str, int]) -> list[tuple[int, str, str]]:
        known = {category.name: category for category in self.organism.file_categories}
        chosen = []
        seen: set[str] = set()
        for index, column in enumerate(self.columns):
            if not column.startswith(FILES_PREFIX):
                continue
            category = column[len(FILES_PREFIX) :]
            if column in seen:
                continue  # already reported as a duplicate column
            seen.add(column)
            if category in known:
                self.report.has_files_columns[category] = True
                chosen.append((index, column, category))
            elif not known:
                self.header_problem(
                    "unknown_file_category",
                    f"The column “{short(column)}” is for extra files, but {self.organism.display_name} takes no extra "
                    "files. Please delete the column.",
                    column,
                )
            else:
                listed = ", ".join(f"files.{c.name} ({c.display_name})" for c in known.values())
                self.header_problem(
                    "unknown_file_category",
                    f"The column “{short(column)}” is not one of {self.organism.display_name}'s file categories. "
                    f"Its file columns are: {listed}. Please rename or delete the column.",
                    column,
                )
        return chosen

    def _rows(self) -> dict[str, int] | None:
        report, problems = self.report, self.problems
        width = len(self.columns)
        id_index = self.id_index
        fasta_ids_index = self.fasta_ids_index
        row_of_id: dict[str, int] = {}
        row_of_fasta_id: dict[str, int] = {}
        row_of_accession: dict[str, int] = {}
        accession_index = self.accession_index
        rows_to = self.rows_to
        for row in self.table.rows():
            if rows_to is not None:
                rows_to.row(row.number, row.values)
            values = row.values
            if len(values) < width:
                values = values + [""] * (width - len(values))
            elif len(values) > width:
                problems.add(
                    "error",
                    "metadata",
                    "too_many_values",
                    f"Row {row.number} has {len(values)} values but the header names only {width} columns. "
                    "Please remove the extra values (often stray tabs) or add names for the extra columns.",
                    row=row.number,
                )
            entry_id = values[id_index] if id_index is not None else ""
            report.entries.append(entry_id)
            self.kept += len(entry_id) + KEPT_OVERHEAD
            where = f"Row {row.number} (ID “{short(entry_id)}”)" if entry_id else f"Row {row.number}"
            if id_index is not None:
                self._check_id(row, entry_id, row_of_id)
            if report.accessions is not None:
                accession = values[accession_index] if accession_index is not None else ""
                if accession_index is not None:
                    accession = self._check_accession(row.number, where, entry_id, accession, row_of_accession)
                report.accessions.append(accession)
            for index, input_field in self.required:
                if not values[index]:
                    problems.add(
                        "error",
                        "metadata",
                        "missing_required_value",
                        f"{where}: {input_field.display_name} (“{input_field.name}”) is empty but required. Loculus "
                        "would accept the entry but could never release it; please fill it in.",
                        row=row.number,
                        column=input_field.name,
                        entry_id=entry_id or None,
                    )
            for index, input_field, check in self.value_checks:
                found = check(values[index])
                if found is not None:
                    problems.add(
                        found.level,
                        "metadata",
                        found.kind,
                        f"{where}: {found.message}",
                        row=row.number,
                        column=input_field.name,
                        entry_id=entry_id or None,
                    )
            if fasta_ids_index is not None:
                self._fasta_ids(row.number, where, entry_id, values[fasta_ids_index], row_of_fasta_id)
            for index, column, category in self.file_columns:
                if values[index]:
                    self._file_cell(row.number, where, entry_id, column, category, values[index])
            if self.kept > self.max_kept:
                raise UnreadableFile(
                    f"The IDs and file names of “{short(self.table.name)}” add up to more than "
                    f"{human_size(self.max_kept)} by row {row.number}. The portal keeps them all to compare them, "
                    "so it stops there; please split the submission into several smaller ones."
                )
        if not report.entries:
            problems.add(
                "error",
                "metadata",
                "no_rows",
                f"“{short(self.table.name)}” has a header but no entries. Please add one row per entry under the "
                "header.",
            )
        if self.table.other_sheets:
            self._unread_sheets(len(report.entries))
        # Without a fastaIds column, each entry's one sequence carries the entry's ID (as in Loculus).
        if fasta_ids_index is not None:
            return row_of_fasta_id
        # With no usable ID column either, comparing would only call every sequence an orphan.
        return row_of_id if id_index is not None else None

    def _check_id(self, row: Row, entry_id: str, row_of_id: dict[str, int]) -> None:
        column = self.report.id_column
        if not entry_id:
            self.problems.add(
                "error",
                "metadata",
                "empty_id",
                f"Row {row.number}: the ID (column “{short(column)}”) is empty. Every entry needs an ID; please fill "
                "it "
                "in or delete the row.",
                row=row.number,
                column=column,
            )
            return
        if entry_id.split() != [entry_id]:
            self.problems.add(
                "error",
                "metadata",
                "id_with_whitespace",
                f"Row {row.number}: the ID “{short(entry_id)}” contains {_whitespace_kind(entry_id)}; IDs may not "
                "contain "
                "spaces or tabs.",
                row=row.number,
                column=column,
                entry_id=entry_id,
            )
        first = row_of_id.setdefault(entry_id, row.number)
        if first != row.number:
            self.problems.add(
                "error",
                "metadata",
                "duplicate_id",
                f"Row {row.number}: the ID “{short(entry_id)}” is already used in row {first}; each entry needs its "
                "own ID.",
                row=row.number,
                column=column,
                entry_id=entry_id,
            )

    def _unread_sheets(self, rows: int) -> None:
        # The website's words ("The file contains 3 sheets, only the 'Data' sheet (12 rows) was processed."),
        # with what to do.
        table = self.table
        others = _and_list([f"“{short(name)}”" for name in table.other_sheets[:10]])
        self.problems.add(
            "warning",
            "metadata",
            "sheets_not_read",
            f"“{short(table.name)}” contains {table.sheet_count} sheets, only the “{short(table.sheet or '')}” sheet "
            f"({rows} row{'' if rows == 1 else 's'}) was processed. The portal and Loculus read one sheet of a "
            f"workbook; if entries are on {others}, please move them to “{short(table.sheet or '')}” or submit them "
            "separately.",
        )

    def _fasta_ids(self, number: int, where: str, entry_id: str, cell: str, row_of_fasta_id: dict[str, int]) -> None:
        if not cell:
            self.problems.add(
                "error",
                "metadata",
                "empty_fasta_ids",
                f"{where}: the column “{FASTA_IDS_FIELD}” is empty. Please list the FASTA IDs of this entry's "
                "sequences (the text after “>” in the FASTA file), separated by spaces.",
                row=number,
                column=FASTA_IDS_FIELD,
                entry_id=entry_id or None,
            )
            return
        listed: set[str] = set()
        for fasta_id in cell.split():
            if fasta_id in listed:
                self.problems.add(
                    "error",
                    "metadata",
                    "duplicate_fasta_id_in_row",
                    f"{where}: the FASTA ID “{short(fasta_id)}” is listed twice in “{FASTA_IDS_FIELD}”. Please list "
                    "it once.",
                    row=number,
                    column=FASTA_IDS_FIELD,
                    entry_id=entry_id or None,
                )
                continue
            listed.add(fasta_id)
            self.kept += len(fasta_id) + KEPT_OVERHEAD
            first = row_of_fasta_id.setdefault(fasta_id, number)
            if first != number:
                self.problems.add(
                    "error",
                    "metadata",
                    "duplicate_fasta_id_across_rows",
                    f"{where}: the FASTA ID “{short(fasta_id)}” is already listed in row {first}; a sequence can "
                    "belong "
                    "to only one entry.",
                    row=number,
                    column=FASTA_IDS_FIELD,
                    entry_id=entry_id or None,
                )

    def _file_cell(self, number: int, where: str, entry_id: str, column: str, category: str, cell: str) -> None:
        refs: list[FileRef] = []
        names: set[str] = set()
        for token in cell.split():
            parsed = parse_file_entry(token)
            if isinstance(parsed, FileEntryProblem):
                self.problems.add(
                    "error",
                    "metadata",
                    parsed.kind,
                    f"{where}, column “{short(column)}”: {parsed.message}",
                    row=number,
                    column=column,
                    entry_id=entry_id or None,
                )
                continue
            if parsed.name in names:
                self.problems.add(
                    "error",
                    "metadata",
                    "duplicate_file_name",
                    f"{where}, column “{short(column)}”: the file name “{short(parsed.name)}” appears twice. The "
                    "files of one "
                    "entry in one category need different names.",
                    row=number,
                    column=column,
                    entry_id=entry_id or None,
                )
                continue
            names.add(parsed.name)
            refs.append(parsed)
            self.kept += len(token) + 2 * KEPT_OVERHEAD
        if refs and entry_id:
            self.report.file_refs.setdefault(entry_id, {})[category] = refs


def _and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _whitespace_kind(value: str) -> str:
    if " " in value:
        return "a space"
    if "\t" in value:
        return "a tab"
    return "a line break or other whitespace"


def _check_fasta(
    summary: FastaSummary, metadata_fasta_ids: dict[str, int] | None, report: Report, problems: ProblemCollector
) -> None:
    name = summary.name
    line_of: dict[str, int] = {}
    has_fasta_ids_column = FASTA_IDS_FIELD in report.columns
    where = "in the “fastaIds” column" if has_fasta_ids_column else "as its ID"
    empty = summary.empty
    for index, (fasta_id, line) in enumerate(zip(summary.ids, summary.lines, strict=True)):
        report.sequence_count += 1
        if not fasta_id:
            problems.add(
                "error",
                "sequences",
                "fasta_header_without_id",
                f"Line {line} of “{short(name)}”: the header has no ID. The ID is the text right after “>”, "
                "up to the first space (e.g. “>sample1 description”).",
                row=report.sequence_count,
            )
            continue
        first = line_of.setdefault(fasta_id, line)
        if first != line:
            problems.add(
                "error",
                "sequences",
                "duplicate_fasta_id",
                f"Line {line} of “{short(name)}”: the FASTA ID “{short(fasta_id)}” is used again (first on line "
                f"{first}). Each sequence needs its own ID.",
                row=report.sequence_count,
                entry_id=fasta_id,
            )
        if index in empty:
            problems.add(
                "error",
                "sequences",
                "empty_sequence",
                f"Line {line} of “{short(name)}”: the sequence “{short(fasta_id)}” is empty (its header is followed by "
                "no sequence). Please add the sequence or remove the header.",
                row=report.sequence_count,
                entry_id=fasta_id,
            )
        if metadata_fasta_ids is not None and fasta_id not in metadata_fasta_ids and first == line:
            problems.add(
                "error",
                "sequences",
                "sequence_without_entry",
                f"Line {line} of “{short(name)}”: the sequence “{short(fasta_id)}” belongs to no entry; no row of the "
                f"metadata has it {where}. Please add it to the metadata or remove it from the FASTA file.",
                row=report.sequence_count,
                entry_id=fasta_id,
            )
    if summary.unreadable is not None:
        problems.add("error", "sequences", "unreadable_file", summary.unreadable, always=True)
        return
    for oddity in summary.oddities:
        problems.add("error", "sequences", oddity.kind, oddity.message)
    if metadata_fasta_ids is None:
        return
    for fasta_id, number in metadata_fasta_ids.items():
        if fasta_id in line_of:
            continue
        entry_id = report.entries[number - 1].id
        where = f"Row {number} (ID “{short(entry_id)}”)" if entry_id else f"Row {number}"
        problems.add(
            "error",
            "metadata",
            "sequence_missing",
            f"{where}: “{short(name)}” has no sequence with the FASTA ID “{short(fasta_id)}”"
            + (", which the row lists in “fastaIds”." if has_fasta_ids_column else " (the entry's ID).")
            + " Please add the sequence, or correct the ID.",
            row=number,
            column=FASTA_IDS_FIELD if has_fasta_ids_column else report.id_column,
            entry_id=entry_id or None,
        )
