"""What the review page shows: a group's unreleased entries, or one batch of them, in the website's words.

A *batch* is what one draft submitted (its `result`). The backend cannot filter get-sequences by
accession, so a batch is read from the group's unreleased entries (one call, no paging) and narrowed
here; a group is read a page at a time. The processed metadata, errors and warnings of each processed
entry on the page come from get-data-to-edit (what the website fetches per card too), fetched in
parallel and cached while the entry stays processed: an entry that is edited leaves PROCESSED, and
seeing it so drops its cached details.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.core.cache import caches

from submitportal.loculus import client, schema

log = logging.getLogger("submitportal.review")

PENDING = ("RECEIVED", "IN_PROCESSING", "PROCESSED")
AWAITING = ("RECEIVED", "IN_PROCESSING")
PAGE_SIZES = (10, 20, 50, 100)
DEFAULT_PAGE_SIZE = 50
DETAILS_SECONDS = 60  # how long a processed entry's details are reused without asking again
FULL_CHECK_SECONDS = 30  # a poll whose group counts did not change still looks at the list after this
DETAILS_THREADS = 8  # get-data-to-edit calls at once for one page

# The filter boxes of the website's control panel: name -> (label words, what it selects).
FILTERS = {
    "awaiting": "awaiting processing",
    "noIssues": "no issues",
    "warnings": "with warnings",
    "errors": "with errors",
}
RESULT_OF_FILTER = {"noIssues": "NO_ISSUES", "warnings": "HAS_WARNINGS", "errors": "HAS_ERRORS"}


@dataclass(frozen=True)
class Filters:
    """Which kinds of entries are listed (all by default, as on the website)."""

    shown: frozenset[str] = frozenset(FILTERS)

    @classmethod
    def from_query(cls, query: Mapping[str, str], *, submitted: bool) -> Filters:
        """`submitted`: the filter form was sent (an unticked box is then absent); otherwise all are shown."""
        if not submitted:
            return cls()
        return cls(frozenset(name for name in FILTERS if query.get(name)))

    def statuses(self) -> list[str]:
        chosen = list(AWAITING) if "awaiting" in self.shown else []
        if self.results():
            chosen.append("PROCESSED")
        return chosen

    def results(self) -> list[str]:
        return [RESULT_OF_FILTER[name] for name in RESULT_OF_FILTER if name in self.shown]

    def admits(self, entry: client.SequenceEntry) -> bool:
        if entry.status in AWAITING:
            return "awaiting" in self.shown
        return entry.processing_result in self.results()


@dataclass(frozen=True)
class Counts:
    awaiting: int = 0
    no_issues: int = 0
    warnings: int = 0
    errors: int = 0

    @property
    def processed(self) -> int:
        return self.no_issues + self.warnings + self.errors

    @property
    def total(self) -> int:
        return self.awaiting + self.processed

    @property
    def valid(self) -> int:
        """What "Approve {n} valid sequence(s)" approves: processed without errors."""
        return self.no_issues + self.warnings

    def by_filter(self) -> dict[str, int]:
        return {"awaiting": self.awaiting, "noIssues": self.no_issues, "warnings": self.warnings, "errors": self.errors}

    @classmethod
    def of_page(cls, page: client.SequencesPage) -> Counts:
        status, result = page.status_counts, page.processing_result_counts
        return cls(
            awaiting=int(status.get("RECEIVED", 0)) + int(status.get("IN_PROCESSING", 0)),
            no_issues=int(result.get("NO_ISSUES", 0)),
            warnings=int(result.get("HAS_WARNINGS", 0)),
            errors=int(result.get("HAS_ERRORS", 0)),
        )

    @classmethod
    def of_entries(cls, entries: Iterable[client.SequenceEntry]) -> Counts:
        tally = {"awaiting": 0, "NO_ISSUES": 0, "HAS_WARNINGS": 0, "HAS_ERRORS": 0}
        for entry in entries:
            if entry.status in AWAITING:
                tally["awaiting"] += 1
            elif entry.status == "PROCESSED" and entry.processing_result in tally:
                tally[entry.processing_result] += 1
        return cls(tally["awaiting"], tally["NO_ISSUES"], tally["HAS_WARNINGS"], tally["HAS_ERRORS"])


@dataclass(frozen=True)
class Message:
    """An error or warning line: `{fields}: {message}` with the fields' display names."""

    fields: str
    text: str


@dataclass
class Card:
    """One entry as the review page shows it."""

    entry: client.SequenceEntry | None
    accession: str
    version: int
    submission_id: str
    details: client.ReviewDetails | None = None
    details_failed: str = ""
    gone: str = ""  # set for a batch entry no longer unreleased: what became of it
    problem: str = ""  # what the backend said when an action on this entry failed
    metadata: list[tuple[str, str, str]] = field(default_factory=list)  # (display name, value, "error"/"warning"/"")
    errors: list[Message] = field(default_factory=list)
    warnings: list[Message] = field(default_factory=list)
    files: list[tuple[str, list[str]]] = field(default_factory=list)  # (category display name, file names)

    @property
    def key(self) -> str:
        return f"{self.accession}.{self.version}"

    @property
    def status(self) -> str:
        return self.entry.status if self.entry else ""

    @property
    def result(self) -> str | None:
        return self.entry.processing_result if self.entry else None

    @property
    def words(self) -> str:
        """The status in the website's words."""
        if self.gone:
            return self.gone
        if self.status == "RECEIVED":
            return "Awaiting processing"
        if self.status == "IN_PROCESSING":
            return "In processing"
        if self.result == "HAS_ERRORS":
            return "Error detected"
        if self.result == "HAS_WARNINGS":
            return "Passed QC with warnings"
        return "Passed QC"

    @property
    def tone(self) -> str:
        if self.gone or self.status in AWAITING:
            return "pending"
        return {"HAS_ERRORS": "error", "HAS_WARNINGS": "warning"}.get(self.result or "", "ok")

    @property
    def processed(self) -> bool:
        return self.status == "PROCESSED"

    @property
    def approvable(self) -> bool:
        return self.processed and self.result != "HAS_ERRORS"

    @property
    def is_revocation(self) -> bool:
        return bool(self.entry and self.entry.is_revocation)

    @property
    def state(self) -> str:
        """What changes the card: the poll replaces a card only when this differs."""
        return f"{self.status}/{self.result or ''}/{self.gone and 'gone'}/{'d' if self.details else ''}"

    @property
    def data_use(self) -> str:
        terms = self.entry.data_use_terms if self.entry else None
        if terms is None:
            return ""
        if terms.type == "RESTRICTED":
            return f"Under the Restricted Use Terms until {terms.restricted_until}"
        return "To be released as open data"


def cache():  # type: ignore[no-untyped-def]
    """The review's own cache (settings.CACHES["review"]): in each process's memory, bounded, never the database's
    (whose every write counts its rows)."""
    return caches["review"]


def digest(page: client.SequencesPage) -> str:
    """The group's counts, which change whenever an entry of it changes status: what a poll compares first."""
    status = ",".join(f"{k}={page.status_counts[k]}" for k in sorted(page.status_counts))
    results = ",".join(f"{k}={page.processing_result_counts[k]}" for k in sorted(page.processing_result_counts))
    return f"{status};{results}"


def group_digest(token: str, organism: str, group_id: int) -> str:
    """The counts alone (no entries): one small call."""
    return digest(client.get_sequences(token, organism, group_ids=[group_id], page=0, size=0))


def _details_key(organism: str, accession: str, version: int) -> str:
    return f"review-details:{organism}:{accession}.{version}"


def _fetch_details(token: str, organism: str, cards: Sequence[Card]) -> None:
    """Fill each processed card's details: from the cache, or from get-data-to-edit, several at once."""
    wanted = [card for card in cards if card.processed and not card.is_revocation]
    cached = cache().get_many([_details_key(organism, c.accession, c.version) for c in wanted])
    missing = []
    for card in wanted:
        found = cached.get(_details_key(organism, card.accession, card.version))
        if found is not None:
            card.details = found
        else:
            missing.append(card)
    if not missing:
        return

    def one(card: Card) -> None:
        try:
            card.details = client.review_details(token, organism, card.accession, card.version)
        except client.LoculusError as exc:
            log.warning("Could not read the processed data of %s: %s", card.key, exc)
            card.details_failed = f"Could not load its processed data: {exc.detail}"

    with ThreadPoolExecutor(max_workers=min(DETAILS_THREADS, len(missing))) as pool:
        list(pool.map(one, missing))
    found = {_details_key(organism, c.accession, c.version): c.details for c in missing if c.details}
    if found:
        cache().set_many(found, DETAILS_SECONDS)


def forget_details(organism: str, keys: Iterable[tuple[str, int]]) -> None:
    cache().delete_many([_details_key(organism, accession, version) for accession, version in keys])


def _display(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _describe(card: Card, organism: schema.Organism) -> None:
    """The card's chips and lines from its details, with the organism's display names."""
    details = card.details
    if details is None:
        return
    names = dict(organism.display_names)

    def fields(annotation: client.Annotation) -> str:
        return ", ".join(names.get(name, name) for name in annotation.processed_fields)

    flagged: dict[str, str] = {}
    for annotation in details.warnings:
        for name in annotation.processed_fields:
            flagged[name] = "warning"
    for annotation in details.errors:
        for name in annotation.processed_fields:
            flagged[name] = "error"
    card.metadata = [
        (names.get(name, name), _display(value), flagged.get(name, ""))
        for name, value in details.metadata.items()
        if value is not None and value != ""
    ]
    card.errors = [Message(fields(a), a.message) for a in details.errors]
    card.warnings = [Message(fields(a), a.message) for a in details.warnings]
    categories = {c.name: c.display_name for c in organism.file_categories}
    card.files = [(categories.get(cat, cat), list(names_)) for cat, names_ in details.files.items() if names_]


@dataclass
class Listing:
    """One page of the review list."""

    cards: list[Card]
    counts: Counts  # of the whole scope (group or batch), whatever the filters
    page: int
    size: int
    matching: int  # entries the filters admit, over all pages
    digest: str = ""  # the group's counts when it was read (see `digest`)

    @property
    def pages(self) -> int:
        return max(1, -(-self.matching // self.size))

    @property
    def unprocessed(self) -> bool:
        return self.counts.awaiting > 0

    @property
    def shown_state(self) -> str:
        return ",".join(f"{card.key}={card.state}" for card in self.cards)


def group_listing(
    token: str, organism: schema.Organism, group_id: int, filters: Filters, page: int, size: int
) -> Listing:
    """A page of the group's unreleased entries (one get-sequences call, plus the page's details)."""
    statuses = filters.statuses()
    if not statuses:  # nothing ticked: the counts still matter
        answer = client.get_sequences(token, organism.key, group_ids=[group_id], statuses=PENDING, page=0, size=0)
        return Listing([], Counts.of_page(answer), 0, size, 0, digest(answer))
    answer = client.get_sequences(
        token,
        organism.key,
        group_ids=[group_id],
        statuses=statuses,
        processing_results=filters.results() if "PROCESSED" in statuses else (),
        page=page,
        size=size,
    )
    counts = Counts.of_page(answer)
    matching = sum(count for name, count in counts.by_filter().items() if name in filters.shown)
    cards = [Card(e, e.accession, e.version, e.submission_id) for e in answer.entries if e.status in PENDING]
    forget_details(organism.key, [(c.accession, c.version) for c in cards if not c.processed])
    _fetch_details(token, organism.key, cards)
    for card in cards:
        _describe(card, organism)
    return Listing(cards, counts, page, size, matching, digest(answer))


def batch_listing(
    token: str,
    organism: schema.Organism,
    group_id: int,
    submitted: Sequence[Mapping[str, object]],
    outcomes: Mapping[str, str],
    filters: Filters,
    page: int,
    size: int,
) -> Listing:
    """The entries one draft submitted, as they stand now. `outcomes`: what the portal did to some of them
    ("approved", "discarded"), to say what became of those no longer unreleased."""
    answer = client.get_sequences(token, organism.key, group_ids=[group_id], statuses=PENDING)
    pending = {(e.accession, e.version): e for e in answer.entries}
    cards: list[Card] = []
    for item in submitted:
        accession, version = str(item.get("accession", "")), int(str(item.get("version", 0)))
        entry = pending.get((accession, version))
        card = Card(entry, accession, version, str(item.get("submissionId", "")))
        if entry is None:
            card.gone = {
                "approved": "Approved for release",
                "discarded": "Discarded",
            }.get(outcomes.get(card.key, ""), "No longer awaiting review (approved or discarded)")
        cards.append(card)
    live = [card.entry for card in cards if card.entry is not None]
    counts = Counts.of_entries(live)
    admitted = [card for card in cards if card.entry is None or filters.admits(card.entry)]
    if len(filters.shown) < len(FILTERS):  # a filter narrows to entries still pending
        admitted = [card for card in admitted if card.entry is not None]
    shown = admitted[page * size : (page + 1) * size]
    forget_details(organism.key, [(c.accession, c.version) for c in shown if c.entry and not c.processed])
    _fetch_details(token, organism.key, shown)
    for card in shown:
        _describe(card, organism)
    return Listing(shown, counts, page, size, len(admitted), digest(answer))


def batch_keys(listing_entries: Iterable[client.SequenceEntry], *, want: str) -> list[tuple[str, int]]:
    """The batch's entries an action acts on: "valid" (processed, no errors), "errors", "processed"."""
    chosen = []
    for entry in listing_entries:
        if entry.status != "PROCESSED":
            continue
        if (
            want == "processed"
            or (want == "errors" and entry.processing_result == "HAS_ERRORS")
            or (want == "valid" and entry.processing_result != "HAS_ERRORS")
        ):
            chosen.append((entry.accession, entry.version))
    return chosen
