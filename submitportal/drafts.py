"""Drafts: the one way to change one, what expires, what an unclear submit may already have done, clean-up.

A draft is the portal's own record of a submission in progress. The browser sends several requests
for one draft at once (two file inputs, autosave, upload reports, a second tab), served by several
threads and processes: every change to a draft happens inside `changing`, which locks the draft's
row for one short transaction, and changes only its own part of the draft.

Loculus forgets uploaded files no submission uses after about 7 days, so files older than that must
be uploaded again. After a submit whose outcome is unclear (a timeout), the portal asks Loculus which
of the draft's IDs it already holds before it offers to submit again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from submitportal.loculus import client
from submitportal.models import BulkCheck, BulkFile, Draft, ExtraFile

log = logging.getLogger("submitportal.drafts")

# Loculus's garbage collector marks unreferenced uploads after 7 days (gc-orphan-retention-period).
LOCULUS_UPLOAD_RETENTION = timedelta(days=7)
STALE_REASON = (
    "Uploaded more than 7 days ago: Loculus discards uploaded files that no submission uses after 7 days. "
    "Please upload this file again."
)


# --- Changing a draft ----------------------------------------------------------------------------


class DraftGone(Http404):
    """The draft was deleted while this request worked on it."""


@dataclass
class Locked:
    """A draft locked for one change: `draft` is read fresh under the lock."""

    draft: Draft
    doomed: list[str] = field(default_factory=list)

    def delete_later(self, stored: str) -> None:
        """Delete this stored file once the change is committed (never while it may still be rolled back)."""
        if stored:
            self.doomed.append(stored)


# What every change to a draft that is no longer open is told, wherever it is refused.
CLOSED = "This draft has been submitted; it can no longer change."


@contextlib.contextmanager
def changing(draft: Draft) -> Iterator[Locked]:
    """Lock the draft for one change and give it fresh; files given up are deleted after the commit.

    PostgreSQL locks the draft's row (other changes of the same draft wait; reads do not); SQLite
    takes its database-wide write lock at the start of the transaction (settings: IMMEDIATE). Keep
    the block short: no backend calls, no checks of big files inside it.
    """
    with transaction.atomic():
        fresh = Draft.objects.select_for_update().filter(pk=draft.pk).first()
        if fresh is None:
            raise DraftGone("This draft has been deleted.")
        locked = Locked(fresh)
        yield locked
    delete_stored(locked.doomed)


def delete_stored(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # a leftover file harms nothing; the operator learns of it, the user's change stands
            log.exception("Could not delete the draft file %s", name)


def keep_values(draft: Draft, typed: Mapping[str, str]) -> Draft:
    """Keep what the user typed (merged into what the draft has), unless the draft is no longer open."""
    with changing(draft) as locked:
        if locked.draft.status == Draft.Status.OPEN:
            locked.draft.values = {**locked.draft.values, **typed}
            locked.draft.save(update_fields=["values", "updated_at"])
    return locked.draft


# --- Unfinished drafts: continue one, or start anew --------------------------------------------------


def with_content(drafts: QuerySet[Draft]) -> QuerySet[Draft]:
    """Drafts the user put something into: a typed value, a data file or an extra file.

    A draft is made when a form is opened, but counts (in My drafts, as one to continue) only from
    then on.
    """
    return drafts.annotate(
        has_data_files=Exists(BulkFile.objects.filter(draft=OuterRef("pk"))),
        has_extra_files=Exists(ExtraFile.objects.filter(draft=OuterRef("pk"))),
    ).filter(Q(has_data_files=True) | Q(has_extra_files=True) | ~Q(values={}))


def unfinished(user: object, organism: str, kind: str, group_id: int, *, revise: bool = False) -> list[Draft]:
    """The user's open drafts with content of this kind and purpose (submit or revise), organism and group
    (or no group yet), newest first."""
    mine = Draft.objects.filter(user=user, organism=organism, kind=kind, revise=revise, status=Draft.Status.OPEN)
    mine = mine.filter(Q(group_id=group_id) | Q(group_id__isnull=True))
    return [d for d in with_content(mine).order_by("-updated_at")[:20] if has_content(d)]


def has_content(draft: Draft) -> bool:
    """For a draft from `with_content`: something typed (not only emptied fields) or a file."""
    return bool(draft.has_data_files or draft.has_extra_files or any(draft.values.values()))  # type: ignore[attr-defined]


def start(user: object, organism: str, kind: str, group_id: int, *, revise: bool = False) -> Draft:
    """A new, empty draft; an empty one of the same kind and purpose left from an earlier visit is used again."""
    empty = Draft.objects.filter(user=user, organism=organism, kind=kind, revise=revise, status=Draft.Status.OPEN)
    empty = empty.filter(extra_files__isnull=True, bulk_files__isnull=True, values={})
    draft = empty.order_by("-updated_at").first()
    if draft is None:
        return Draft.objects.create(user=user, organism=organism, kind=kind, group_id=group_id, revise=revise)
    Draft.objects.filter(pk=draft.pk).update(group_id=group_id, updated_at=timezone.now())
    draft.refresh_from_db()
    return draft


def holds(draft: Draft) -> str:
    """What a draft holds, in a few words (for "Continue …" and My drafts)."""
    parts = []
    if draft.kind == Draft.Kind.FORM:
        if draft.values.get("id"):
            parts.append(f"entry “{str(draft.values['id'])[:60]}”")
    elif draft.kind == Draft.Kind.EDIT:
        parts.append(f"{'a revision' if draft.revise else 'edits'} of {draft.accession}.{draft.version}")
    else:
        for bulk_file in sorted(draft.bulk_files.all(), key=lambda f: f.kind):
            parts.append(f"“{bulk_file.name[:60]}”")
        check = BulkCheck.objects.filter(draft=draft).only("summary").first()
        entries = check.summary.get("entries") if check else None
        if entries:
            parts.append(f"{entries} entr{'y' if entries == 1 else 'ies'}")
    count = draft.extra_files.count()
    if count:
        parts.append(f"{count} extra file{'' if count == 1 else 's'}")
    return ", ".join(parts) or "values typed in the form"


# --- Over time -----------------------------------------------------------------------------------


def expire_stale_files(draft: Draft) -> int:
    """Mark files uploaded longer ago than Loculus keeps them as needing a new upload."""
    if draft.status != Draft.Status.OPEN:
        return 0
    cutoff = timezone.now() - LOCULUS_UPLOAD_RETENTION
    if not draft.extra_files.filter(status=ExtraFile.Status.UPLOADED, uploaded_at__lt=cutoff).exists():
        return 0
    with changing(draft) as locked:
        if locked.draft.status != Draft.Status.OPEN:
            return 0
        stale = locked.draft.extra_files.filter(status=ExtraFile.Status.UPLOADED, uploaded_at__lt=cutoff)
        return stale.update(status=ExtraFile.Status.FAILED, error=STALE_REASON, urls=[])


def mark_unclear(draft: Draft) -> None:
    Draft.objects.filter(pk=draft.pk).update(unclear_submit_at=timezone.now())
    draft.unclear_submit_at = timezone.now()


def is_unclear(draft: Draft) -> bool:
    return draft.unclear_submit_at is not None


@dataclass(frozen=True)
class Found:
    submission_id: str
    accession: str
    version: int
    status: str


def already_received(token: str, draft: Draft, submission_ids: list[str]) -> list[Found]:
    """The draft's submission IDs that Loculus already holds for the draft's group (latest versions)."""
    wanted = set(submission_ids)
    page = client.get_sequences(token, draft.organism, group_ids=[int(draft.group_id or 0)])
    latest: dict[str, client.SequenceEntry] = {}
    for entry in page.entries:
        if entry.submission_id in wanted and entry.status != "APPROVED_FOR_RELEASE" and not entry.is_revocation:
            current = latest.get(entry.submission_id)
            if current is None or entry.version > current.version:
                latest[entry.submission_id] = entry
    return [Found(e.submission_id, e.accession, e.version, e.status) for e in latest.values()]


def settle_unclear(token: str, draft: Draft, submission_ids: list[str]) -> list[Found]:
    """After an unclear submit: what Loculus has. Everything there → the draft counts as submitted."""
    found = already_received(token, draft, submission_ids)
    with changing(draft) as locked:
        if locked.draft.status != Draft.Status.OPEN:
            pass  # another request settled it meanwhile
        elif found and {f.submission_id for f in found} == set(submission_ids):
            locked.draft.status = Draft.Status.SUBMITTED
            locked.draft.result = {
                "entries": [
                    {"submissionId": f.submission_id, "accession": f.accession, "version": f.version} for f in found
                ],
                "groupId": locked.draft.group_id,
                "foundAfterTimeout": True,
            }
            locked.draft.save(update_fields=["status", "result", "updated_at"])
            log.info("draft %s: all %d entries found in Loculus after an unclear submit", draft.pk, len(found))
        elif not found:
            locked.draft.unclear_submit_at = None
            locked.draft.save(update_fields=["unclear_submit_at", "updated_at"])
    draft.status, draft.result, draft.unclear_submit_at = (
        locked.draft.status,
        locked.draft.result,
        locked.draft.unclear_submit_at,
    )
    return found


def remove(draft: Draft) -> None:
    """Delete a draft with its stored files (its uploads in Loculus expire by themselves)."""
    with changing(draft) as locked:
        for stored, summary in BulkFile.objects.filter(draft=draft).values_list("stored", "summary"):
            locked.delete_later(stored)
            locked.delete_later(summary)
        for stored in BulkCheck.objects.filter(draft=draft).values_list("backend_metadata", flat=True):
            locked.delete_later(stored)
        locked.draft.delete()


def remove_empty_older_than(days: int) -> int:
    """Drafts nobody put anything into (a form opened and left), untouched for `days` days."""
    cutoff = timezone.now() - timedelta(days=days)
    old = Draft.objects.filter(updated_at__lt=cutoff, status=Draft.Status.OPEN)
    ids = set(old.values_list("pk", flat=True)) - {d.pk for d in with_content(old) if has_content(d)}
    removed = 0
    for draft in Draft.objects.filter(pk__in=ids):
        with contextlib.suppress(DraftGone):
            remove(draft)
            removed += 1
    return removed


def remove_older_than(days: int) -> int:
    cutoff = timezone.now() - timedelta(days=days)
    removed = 0
    for draft in Draft.objects.filter(updated_at__lt=cutoff):
        with contextlib.suppress(DraftGone):  # deleted by its user meanwhile: gone either way
            remove(draft)
            removed += 1
    return removed
