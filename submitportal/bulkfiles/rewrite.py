"""Writing the metadata TSV the Loculus backend receives, from whatever table the user uploaded.

Values pass through unchanged and are quoted as the website quotes them (submitportal.tsv). The
`files.<category>` columns are the one thing rewritten: the user wrote `name` or `name::path`, the
backend needs `name:fileId`, so the caller supplies those cells once the files are uploaded.
Rows are streamed from the input to the output; the file is never held in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO

from submitportal import tsv
from submitportal.bulkfiles.compression import UnreadableFile
from submitportal.bulkfiles.filerefs import FILES_PREFIX
from submitportal.bulkfiles.limits import Limits, resolve, short
from submitportal.bulkfiles.metadata import open_metadata
from submitportal.bulkfiles.validate import ALTERNATE_ID_FIELD, ID_FIELD


class BackendRows:
    """Writes the backend's TSV row by row to `out`: for `write_backend_tsv`, or as `check_metadata`'s
    row sink, so that one read of the metadata both checks it and prepares what the submit sends.

    `problem` says why the rows cannot be sent (then stop and drop what was written); the check
    reports the same as an error, so a sink's output is only kept for a report without errors.
    """

    def __init__(
        self, out: IO[str], metadata_name: str, extra_columns: list[str], cells_for: Callable[[str], list[str]]
    ) -> None:
        self.out = out
        self.name = metadata_name
        self.extra_columns = list(extra_columns)
        self.cells_for = cells_for
        self.problem: str | None = None
        self.written = 0
        self._kept: list[int] = []
        self._keep_all = True
        self._width = 0
        self._id_index: int | None = None

    def header(self, columns: list[str]) -> None:
        self._kept = [index for index, column in enumerate(columns) if not column.startswith(FILES_PREFIX)]
        names = (ID_FIELD, ALTERNATE_ID_FIELD)
        self._id_index = next((columns.index(name) for name in names if name in columns), None)
        if self._id_index is None:
            self.problem = f"“{short(self.name)}” has no “id” column, so its entries cannot be submitted."
            return
        self._width = len(columns)
        self._keep_all = len(self._kept) == self._width
        tsv.write_row(self.out, [columns[index] for index in self._kept] + self.extra_columns)

    def row(self, number: int, values: list[str]) -> None:
        if self.problem is not None or self._id_index is None:
            return
        width = self._width
        if len(values) > width:
            self.problem = f"Row {number} of “{short(self.name)}” has more values than the header has columns."
            return
        if len(values) < width:
            values = values + [""] * (width - len(values))
        extra = self.cells_for(values[self._id_index])
        if len(extra) != len(self.extra_columns):
            raise ValueError(
                f"cells_for({short(values[self._id_index])!r}) gave {len(extra)} values for "
                f"{len(self.extra_columns)} columns"
            )
        tsv.write_row(self.out, (values if self._keep_all else [values[index] for index in self._kept]) + list(extra))
        self.written += 1


def write_backend_tsv(
    metadata_path: str | Path,
    metadata_name: str,
    out_path: str | Path,
    extra_columns: list[str],
    cells_for: Callable[[str], list[str]],
    *,
    max_bytes: int | None = None,
    limits: Limits | None = None,
) -> int:
    """Write the backend's TSV to `out_path` and return the number of rows written.

    `extra_columns` (e.g. `files.rawReads`) replace every `files.*` column of the input;
    `cells_for(entry_id)` gives each row's values for them, in the same order. Meant for metadata
    that passed `validate`; a row it would have refused raises UnreadableFile.
    """
    with open_metadata(metadata_path, metadata_name, limits=resolve(limits, max_bytes)) as table:
        with open(out_path, "w", encoding="utf-8", newline="") as out:
            rows = BackendRows(out, metadata_name, extra_columns, cells_for)
            rows.header(table.columns)
            for row in table.rows():
                if rows.problem is not None:
                    break
                rows.row(row.number, row.values)
            if rows.problem is not None:
                raise UnreadableFile(rows.problem)
    return rows.written
