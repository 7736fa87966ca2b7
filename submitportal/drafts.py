"""Drafts over time: what expires, what an unclear submit may already have done, and clean-up.

A draft is the portal's own record of a submission in progress. Loculus forgets uploaded files no
submission uses after about 7 days, so files older than that must be uploaded again. After a
submit whose outcome is unclear (a timeout), the portal asks Loculus which of the draft's IDs it
already holds before it offers to submit again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from submitportal import draft_files
from submitportal.loculus import client
from submitportal.models import Draft, ExtraFile

log = logging.getLogger("submitportal.drafts")

# Loculus's garbage collector marks unreferenced uploads after 7 days (gc-orphan-retention-period).
LOCULUS_UPLOAD_RETENTION = timedelta(days=7)
STALE_REASON = (
    "Uploaded more than 7 days ago: Loculus discards uploaded files that no submission uses after 7 days. "
    "Please upload this file again."
)
UNCLEAR = "unclearSubmitAt"


def expire_stale_files(draft: Draft) -> int:
    """Mark files uploaded longer ago than Loculus keeps them as needing a new upload."""
    if draft.status != Draft.Status.OPEN:
        return 0
    cutoff = timezone.now() - LOCULUS_UPLOAD_RETENTION
    stale = draft.files.filter(status=ExtraFile.Status.UPLOADED, uploaded_at__lt=cutoff)
    return stale.update(status=ExtraFile.Status.FAILED, error=STALE_REASON, urls=[])


def mark_unclear(draft: Draft) -> None:
    draft.values = {**draft.values, UNCLEAR: timezone.now().isoformat()}
    draft.save(update_fields=["values", "updated_at"])


def is_unclear(draft: Draft) -> bool:
    return UNCLEAR in draft.values


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
    if found and {f.submission_id for f in found} == set(submission_ids):
        draft.status = Draft.Status.SUBMITTED
        draft.result = {
            "entries": [
                {"submissionId": f.submission_id, "accession": f.accession, "version": f.version} for f in found
            ],
            "groupId": draft.group_id,
            "foundAfterTimeout": True,
        }
        draft.save(update_fields=["status", "result", "updated_at"])
        log.info("draft %s: all %d entries found in Loculus after an unclear submit", draft.pk, len(found))
    elif not found:
        draft.values = {key: value for key, value in draft.values.items() if key != UNCLEAR}
        draft.save(update_fields=["values", "updated_at"])
    return found


def remove(draft: Draft) -> None:
    """Delete a draft with its stored files (its uploads in Loculus expire by themselves)."""
    draft_files.remove_all(draft)
    draft.delete()


def remove_older_than(days: int) -> int:
    cutoff = timezone.now() - timedelta(days=days)
    old = list(Draft.objects.filter(updated_at__lt=cutoff))
    for draft in old:
        remove(draft)
    return len(old)
