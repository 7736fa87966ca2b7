"""Writing the metadata TSV the Loculus backend receives, from whatever table the user uploaded.

Values pass through unchanged and are quoted as the website quotes them (submitportal.tsv). The
`files.<category>` columns are the one thing rewritten: the user wrote `name` or `name::path`, the
backend needs `name:fileId`, so the caller supplies those cells once the files are uploaded.
Rows are streamed from the input to the output; the file is never held in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from submitportal import tsv
from submitportal.bulkfiles.compression import MAX_DECOMPRESSED_BYTES, UnreadableFile
from submitportal.bulkfiles.filerefs import FILES_PREFIX
from submitportal.bulkfiles.metadata import open_metadata
from submitportal.bulkfiles.validate import ALTERNATE_ID_FIELD, ID_FIELD


def write_backend_tsv(
    metadata_path: str | Path,
    metadata_name: str,
    out_path: str | Path,
    extra_columns: list[str],
    cells_for: Callable[[str], list[str]],
    *,
    max_bytes: int = MAX_DECOMPRESSED_BYTES,
) -> int:
    """Write the backend's TSV to `out_path` and return the number of rows written.

    `extra_columns` (e.g. `files.rawReads`) replace every `files.*` column of the input;
    `cells_for(entry_id)` gives each row's values for them, in the same order. Meant for metadata
    that passed `validate`; a row it would have refused raises UnreadableFile.
    """
    with open_metadata(metadata_path, metadata_name, max_bytes=max_bytes) as table:
        columns = table.columns
        kept = [index for index, column in enumerate(columns) if not column.startswith(FILES_PREFIX)]
        id_index = next((columns.index(name) for name in (ID_FIELD, ALTERNATE_ID_FIELD) if name in columns), None)
        if id_index is None:
            raise UnreadableFile(f"“{metadata_name}” has no “id” column, so its entries cannot be submitted.")
        width = len(columns)
        keep_all = len(kept) == width
        written = 0
        with open(out_path, "w", encoding="utf-8", newline="") as out:
            tsv.write_row(out, [columns[index] for index in kept] + list(extra_columns))
            for row in table.rows():
                values = row.values
                if len(values) > width:
                    raise UnreadableFile(
                        f"Row {row.number} of “{metadata_name}” has more values than the header has columns."
                    )
                if len(values) < width:
                    values = values + [""] * (width - len(values))
                extra = cells_for(values[id_index])
                if len(extra) != len(extra_columns):
                    raise ValueError(
                        f"cells_for({values[id_index]!r}) gave {len(extra)} values for {len(extra_columns)} columns"
                    )
                tsv.write_row(out, (values if keep_all else [values[index] for index in kept]) + list(extra))
                written += 1
    return written
