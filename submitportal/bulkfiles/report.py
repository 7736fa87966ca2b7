"""What `validate` returns: the problems found (the first few kept, all counted), the entries, the file references."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from submitportal.bulkfiles.filerefs import FileRef

Level = Literal["error", "warning"]
FileKind = Literal["metadata", "sequences"]


@dataclass(frozen=True, slots=True)
class Problem:
    level: Level
    file: FileKind
    # Metadata: 1 = the first data row (as Loculus numbers records). Sequences: 1 = the first FASTA
    # record (the message gives its line). None: the whole file or the header.
    row: int | None
    column: str | None
    entry_id: str | None  # the entry's ID; for sequence problems, the FASTA ID
    message: str
    kind: str


@dataclass
class ProblemCounts:
    """Every problem counted, including those not kept in the report's list."""

    by_level: Counter[str] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)

    @property
    def errors(self) -> int:
        return self.by_level["error"]

    @property
    def warnings(self) -> int:
        return self.by_level["warning"]

    @property
    def total(self) -> int:
        return sum(self.by_level.values())


class Entry(NamedTuple):
    id: str
    row: int


class Entries:
    """The metadata's entries in file order: one string per row, nothing else (100,000 rows stay small)."""

    def __init__(self) -> None:
        self._ids: list[str] = []

    def append(self, entry_id: str) -> None:
        self._ids.append(entry_id)

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, index: int) -> Entry:
        # Every data row is an entry, so the row number is the position (rows are numbered from 1).
        position = range(len(self._ids))[index]
        return Entry(self._ids[position], position + 1)

    def __iter__(self) -> Iterator[Entry]:
        return (Entry(entry_id, index) for index, entry_id in enumerate(self._ids, start=1))

    def ids(self) -> list[str]:
        return list(self._ids)


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    counts: ProblemCounts = field(default_factory=ProblemCounts)
    entries: Entries = field(default_factory=Entries)
    file_refs: dict[str, dict[str, list[FileRef]]] = field(default_factory=dict)
    has_files_columns: dict[str, bool] = field(default_factory=dict)
    id_column: str | None = None
    columns: list[str] = field(default_factory=list)
    sequence_count: int = 0
    # A revision's `accession` per row, in file order ("" where it is missing or malformed); None unless revising.
    accessions: list[str] | None = None

    @property
    def ok(self) -> bool:
        """No errors (warnings allowed): the submission may go ahead."""
        return self.counts.errors == 0

    @property
    def problems_left_out(self) -> int:
        return self.counts.total - len(self.problems)


class ProblemCollector:
    """Keeps the first `max_problems` problems in the report and counts every one.

    A problem added with `always=True` is kept even past `max_problems`: what stopped the reading of a
    file (e.g. the row limit, after a hundred duplicate IDs) must be seen, not only counted.
    """

    def __init__(self, report: Report, max_problems: int) -> None:
        self.report = report
        self.max_problems = max_problems

    def add(
        self,
        level: Level,
        file: FileKind,
        kind: str,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        entry_id: str | None = None,
        always: bool = False,
    ) -> None:
        counts = self.report.counts
        counts.by_level[level] += 1
        counts.by_kind[kind] += 1
        if always or len(self.report.problems) < self.max_problems:
            self.report.problems.append(Problem(level, file, row, column, entry_id, message, kind))
