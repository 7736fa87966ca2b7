"""Which uploaded extra file belongs to which entry, in either layout a bulk submission may use.

- Metadata columns (current Loculus websites): a `files.<category>` column names each entry's files,
  as `name` (the file of that name in the chosen folder), `name::path` (the file at that path), or
  `name:fileId` (a file already stored in Loculus, reused).
- Folders (the seed layout, "one subfolder per submission ID"): `<id>/<file>` belongs to entry `<id>`.

The column decides when the metadata has one for the category; otherwise the folders do. Plain
Python, no Django: `plan` is given the metadata's entries and references and the files' paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


class Ref(Protocol):
    name: str
    path: str | None
    file_id: str | None


@dataclass
class CategoryPlan:
    category: str
    layout: str  # "columns" or "folders"
    linked: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # path → [(entry id, name)]
    missing: list[str] = field(default_factory=list)  # named in the metadata, not among the files
    unreferenced: dict[str, str] = field(default_factory=dict)  # path → why no entry takes it
    reused: list[tuple[str, str, str]] = field(default_factory=list)  # (entry id, name, Loculus file id)

    @property
    def blocking(self) -> bool:
        return bool(self.missing or self.unreferenced)


def plan(
    category: str,
    entry_ids: Sequence[str],
    refs: Mapping[str, Mapping[str, Sequence[Ref]]],
    has_column: bool,
    paths: Iterable[str],
) -> CategoryPlan:
    """Link the files at `paths` (relative to the chosen folder) to entries, and say what does not fit."""
    if has_column:
        return _by_column(category, refs, paths)
    return _by_folder(category, set(entry_ids), paths)


def _by_column(category: str, refs: Mapping[str, Mapping[str, Sequence[Ref]]], paths: Iterable[str]) -> CategoryPlan:
    result = CategoryPlan(category, "columns")
    expected: dict[str, list[tuple[str, str]]] = {}
    for entry_id, categories in refs.items():
        for ref in categories.get(category, ()):
            if ref.file_id:
                result.reused.append((entry_id, ref.name, ref.file_id))
            elif ref.path:
                expected.setdefault(ref.path, []).append((entry_id, ref.name))
    seen: set[str] = set()
    for path in paths:
        seen.add(path)
        if path in expected:
            result.linked[path] = expected[path]
        else:
            result.unreferenced[path] = (
                f"No entry names this file in the files.{category} column of the metadata "
                "(as its name, or as name::path). Remove it, or add it to the metadata."
            )
    result.missing = [path for path in expected if path not in seen]
    return result


def _by_folder(category: str, ids: set[str], paths: Iterable[str]) -> CategoryPlan:
    result = CategoryPlan(category, "folders")
    for path in paths:
        parts = path.split("/")
        if len(parts) == 1:
            result.unreferenced[path] = (
                f"The metadata has no files.{category} column, so files must sit in a subfolder named after "
                "their entry's ID (e.g. sample1/reads.fastq). This one is not in a subfolder."
            )
        elif parts[0] not in ids:
            result.unreferenced[path] = f"The folder “{parts[0]}” matches no ID in the metadata."
        elif len(parts) > 2:
            result.unreferenced[path] = (
                f"Files must sit directly in their entry's folder “{parts[0]}”, not in a folder inside it."
            )
        else:
            result.linked[path] = [(parts[0], parts[1])]
    return result
