"""Which uploaded extra file belongs to which entry, by the rule each entry follows.

An entry whose `files.<category>` cell names files takes those files: `name` (the file of that name
in the chosen folder), `name::path` (the file at that path) or `name:fileId` (a file already stored
in Loculus, reused). An entry whose cell is empty, or whose metadata has no such column, takes the
files of the subfolder named after its ID (the seed layout, "one subfolder per submission ID"):
`<id>/<file>` belongs to entry `<id>`. A file a cell names belongs to the entries that name it,
whatever folder it sits in.

The plan is judged afresh from the current metadata and files every time it is asked for, so a row
never keeps a verdict about files or metadata the draft no longer has. Plain Python, no Django:
`plan` is given the metadata's entries and references and the files' paths and upload states.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

COLUMN = "column"
FOLDER = "folder"
UPLOADED, PENDING, FAILED = "uploaded", "pending", "failed"  # ExtraFile.Status values, without Django


class Ref(Protocol):
    name: str
    path: str | None
    file_id: str | None


class Link(NamedTuple):
    entry: str
    name: str  # the name Loculus stores the file under for this entry
    rule: str  # COLUMN or FOLDER


@dataclass
class CategoryPlan:
    category: str
    has_column: bool
    linked: dict[str, list[Link]] = field(default_factory=dict)  # path → the entries it belongs to
    missing: list[str] = field(default_factory=list)  # named in the metadata, not among the files
    unreferenced: dict[str, str] = field(default_factory=dict)  # path → why no entry takes it
    reused: list[tuple[str, str, str]] = field(default_factory=list)  # (entry id, name, Loculus file id)
    by_column: list[str] = field(default_factory=list)  # entries whose cell names their files
    by_folder: list[str] = field(default_factory=list)  # entries with files from their subfolder
    without_files: list[str] = field(default_factory=list)  # entries with no file of this category
    states: dict[str, str] = field(default_factory=dict)  # path → upload state, as the rows show it

    @property
    def blocking(self) -> bool:
        return bool(self.missing or self.unreferenced)

    def linked_in(self, state: str) -> list[str]:
        """The linked files whose upload is in this state (UPLOADED, PENDING or FAILED), by path."""
        return [path for path in self.linked if self.states.get(path) == state]


def plan(
    category: str,
    entry_ids: Sequence[str],
    refs: Mapping[str, Mapping[str, Sequence[Ref]]],
    has_column: bool,
    files: Mapping[str, str],
) -> CategoryPlan:
    """Link the files (path relative to the chosen folder → upload state) to entries, and say what does not fit."""
    result = CategoryPlan(category, has_column, states=dict(files))
    named: dict[str, list[Link]] = {}
    naming: set[str] = set()
    for entry_id, categories in refs.items():
        for ref in categories.get(category, ()):
            naming.add(entry_id)
            if ref.file_id:
                result.reused.append((entry_id, ref.name, ref.file_id))
            elif ref.path:
                named.setdefault(ref.path, []).append(Link(entry_id, ref.name, COLUMN))
    ids = set(entry_ids)
    from_folder: set[str] = set()
    for path in files:
        if path in named:
            result.linked[path] = named[path]
            continue
        parts = path.split("/")
        owner = parts[0] if len(parts) > 1 else None
        if owner in ids and owner not in naming and len(parts) == 2:
            result.linked[path] = [Link(owner, parts[1], FOLDER)]
            from_folder.add(owner)
        else:
            result.unreferenced[path] = _why_not(category, has_column, ids, naming, parts)
    result.missing = [path for path in named if path not in files]
    result.by_column = [entry for entry in entry_ids if entry in naming]
    result.by_folder = [entry for entry in entry_ids if entry in from_folder]
    result.without_files = [entry for entry in entry_ids if entry not in naming and entry not in from_folder]
    return result


def _why_not(category: str, has_column: bool, ids: set[str], naming: set[str], parts: list[str]) -> str:
    column = f"files.{category}"
    if len(parts) == 1:
        if not has_column:
            return (
                f"The metadata has no {column} column, so files must sit in a subfolder named after their entry's "
                "ID (e.g. sample1/reads.fastq). This one is not in a subfolder."
            )
        return (
            f"No entry names this file in the {column} column, and it is not in a subfolder named after an "
            "entry's ID. Name it in the metadata (as its name, or as name::path), or remove it."
        )
    folder = parts[0]
    if folder not in ids:
        unnamed = f" and no entry names this file in the {column} column" if has_column else ""
        return f"The folder “{folder}” matches no ID in the metadata{unnamed}."
    if folder in naming:
        return (
            f"Entry “{folder}” names its files in the {column} column, and this file is not among them. "
            f"Name it there (as name::path), or empty that cell to take every file of the folder “{folder}”."
        )
    return f"Files must sit directly in their entry's folder “{folder}”, not in a folder inside it."
