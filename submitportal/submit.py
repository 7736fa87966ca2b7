"""Sending a draft to Loculus, and what came of it: the one path both kinds of draft take.

`submit` is what a view calls: it settles an earlier attempt that ended unclear, sends, and turns
what happened into an `Outcome` to show. `send` is the send itself: the draft is claimed (OPEN →
SUBMITTING) in one UPDATE before anything is sent, so a double click or a second tab cannot submit
it twice; then its parts are streamed to /submit and the result recorded. What the parts are is
each kind's own (submitportal.submission_parts.entry_parts for one entry from the form,
submitportal.bulk.parts for files), built once the draft is claimed, with nothing of this module.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from submitportal import drafts, review, revisions
from submitportal.loculus import client, files_protocol, plain_words
from submitportal.loculus.schema import Organism
from submitportal.models import Draft
from submitportal.submission_parts import EditedData, PartsMaker, SubmitRefused

log = logging.getLogger("submitportal.submit")


def claim(draft: Draft) -> None:
    """OPEN → SUBMITTING, or SubmitRefused. From here on nothing of the draft changes but its outcome."""
    claimed = Draft.objects.filter(pk=draft.pk, status=Draft.Status.OPEN).update(status=Draft.Status.SUBMITTING)
    draft.refresh_from_db()
    if not claimed:
        if draft.status == Draft.Status.SUBMITTED:
            raise SubmitRefused("This entry has already been submitted.")
        raise SubmitRefused("This entry is being submitted right now (perhaps from another tab). Please wait.")


def release(draft: Draft) -> None:
    Draft.objects.filter(pk=draft.pk, status=Draft.Status.SUBMITTING).update(status=Draft.Status.OPEN)


def record_result(draft: Draft, result: list[client.SubmittedEntry], wire: files_protocol.Wire) -> None:
    draft.status = Draft.Status.SUBMITTED
    draft.result = {
        "entries": [{"submissionId": e.submission_id, "accession": e.accession, "version": e.version} for e in result],
        "groupId": draft.group_id,
        "filesProtocol": wire.protocol.value if wire.protocol else None,
    }
    draft.unclear_submit_at = None
    Draft.objects.filter(pk=draft.pk, status=Draft.Status.SUBMITTING).update(
        status=draft.status, result=draft.result, unclear_submit_at=None, updated_at=timezone.now()
    )


@dataclass(frozen=True)
class Outcome:
    """What came of a submit: sent (show the result), or why not, with the status to answer."""

    sent: bool
    status: int = 200
    problem: str = ""
    request_id: str | None = None


def submit(
    token: str,
    draft: Draft,
    organism: Organism,
    terms: client.DataUseTerms | None,
    parts: PartsMaker,
    submission_ids: Callable[[], list[str]],
) -> Outcome:
    """Settle an unclear earlier attempt, send the draft, and say what came of it.

    `submission_ids`: the draft's entries, asked for only when an earlier attempt ended unclear (a
    timeout): Loculus is then asked which of them it already has, so nothing is sent twice.
    client.Unauthorized goes up: the user signs in again and the middleware keeps what was posted.
    """
    try:
        if drafts.is_unclear(draft):
            found = drafts.settle_unclear(token, draft, submission_ids())
            if draft.status == Draft.Status.SUBMITTED:
                return Outcome(sent=True)
            if found:
                return Outcome(sent=False, status=409, problem=found_message(found))
        send(token, draft, organism, terms, parts)
    except SubmitRefused as exc:
        return Outcome(sent=False, status=409, problem=str(exc))
    except client.Unauthorized:
        raise
    except client.LoculusError as exc:
        if isinstance(exc, client.BackendTimeout):
            drafts.mark_unclear(draft)
        problem = explain(exc)  # logs the original either way
        if draft.revise:
            problem = revisions.explain(exc, organism) or problem
        return Outcome(sent=False, status=_status_for(exc), problem=problem, request_id=exc.request_id)
    return Outcome(sent=True)


def send(
    token: str, draft: Draft, organism: Organism, terms: client.DataUseTerms | None, parts: PartsMaker
) -> list[client.SubmittedEntry]:
    """Claim the draft, send its parts, record the result. Raises SubmitRefused or a client.LoculusError.

    A revise draft goes to /revise, without terms (a revision keeps its entry's); a submit needs them.
    """
    if terms is None and not draft.revise:
        raise ValueError("a submission needs its data use terms")
    claim(draft)
    try:
        with contextlib.ExitStack() as stack:
            sending = parts(stack)
            if draft.revise:
                result = client.revise(
                    token,
                    organism.key,
                    metadata=sending.metadata,
                    sequences=sending.sequences,
                    file_mapping=sending.wire.file_mapping(),
                )
            else:
                result = client.submit(
                    token,
                    organism.key,
                    group_id=int(draft.group_id or 0),
                    metadata=sending.metadata,
                    sequences=sending.sequences,
                    data_use_terms=terms,
                    file_mapping=sending.wire.file_mapping(),
                )
    except BaseException:
        release(draft)
        raise
    record_result(draft, result, sending.wire)
    log.info(
        "draft %s %s: %s",
        draft.pk,
        "revised" if draft.revise else "submitted",
        ", ".join(f"{e.submission_id}={e.accession}.{e.version}" for e in result),
    )
    return result


def found_message(found: list[drafts.Found]) -> str:
    listed = ", ".join(f"{f.submission_id} ({f.accession}.{f.version}, {f.status})" for f in found[:20])
    more = f" and {len(found) - 20} more" if len(found) > 20 else ""
    return (
        f"Loculus already has {len(found)} of these entries from your group, probably from the attempt that timed out: "
        f"{listed}{more}. Submitting again would create duplicates: remove those entries from the metadata, or "
        "discard them on Loculus's review page first."
    )


def _status_for(exc: client.LoculusError) -> int:
    return 502 if exc.status is None or exc.status >= 500 else 400


def explain(exc: client.LoculusError) -> str:
    """A backend problem in words: plain words for those a user can cause, else with Loculus's own detail."""
    said = plain_words.explain(exc, doing="a submission")  # logs the original
    if said:
        return said
    if isinstance(exc, client.BackendTimeout):
        return (
            f"Loculus did not answer in time ({exc.detail}) It may still have received the submission. "
            "When you submit again, the portal first asks Loculus which of these entries it already has, "
            "so nothing is sent twice."
        )
    if isinstance(exc, client.BackendUnreachable):
        return (
            f"Loculus could not be reached, so nothing was submitted: {exc.detail} Please try again in a few minutes."
        )
    if isinstance(exc, client.Forbidden):
        return f"Loculus did not allow this submission: {exc.detail}"
    if isinstance(exc, client.NotFound):
        return f"Loculus could not find what this submission refers to: {exc.detail}"
    if isinstance(exc, client.Rejected):
        if exc.status == 422:
            return f"The submitted file content was invalid: {exc.detail}"
        return f"Failed to submit sequence entries: {exc.detail}"
    return (
        f"Loculus had a problem with this submission ({exc.status} {exc.title}): {exc.detail} "
        "Nothing you entered is lost; please try again in a few minutes."
    )


# --- Edits of one entry --------------------------------------------------------------------------


def send_edit(token: str, draft: Draft, organism: Organism, edited: Callable[[], EditedData]) -> None:
    """Claim an edit draft, send it to submit-edited-data, record it. Raises SubmitRefused or a LoculusError.

    `edited` is built once the draft is claimed (its files cannot change after that), as a submit's parts are.
    """
    claim(draft)
    try:
        data = edited()
        client.submit_edited_data(
            token, organism.key, draft.accession, int(draft.version or 0), data.metadata, data.sequences, data.files
        )
    except BaseException:
        release(draft)
        raise
    draft.status = Draft.Status.SUBMITTED
    draft.result = {
        "entries": [
            {"submissionId": draft.values.get("id", ""), "accession": draft.accession, "version": draft.version}
        ],
        "groupId": draft.group_id,
        "edited": True,
    }
    Draft.objects.filter(pk=draft.pk, status=Draft.Status.SUBMITTING).update(
        status=draft.status, result=draft.result, updated_at=timezone.now()
    )
    review.forget_details(organism.key, [(draft.accession, int(draft.version or 0))])  # processed afresh
    log.info("draft %s: edits of %s.%s sent", draft.pk, draft.accession, draft.version)


def submit_edit(token: str, draft: Draft, organism: Organism, edited: Callable[[], EditedData]) -> Outcome:
    """Send an edit draft and say what came of it (client.Unauthorized goes up, as for a submit)."""
    try:
        send_edit(token, draft, organism, edited)
    except SubmitRefused as exc:
        return Outcome(sent=False, status=409, problem=str(exc))
    except client.Unauthorized:
        raise
    except client.LoculusError as exc:
        return Outcome(
            sent=False, status=edit_status(exc), problem=explain_edit(exc, organism), request_id=exc.request_id
        )
    return Outcome(sent=True)


_STATUS_WORDS = {
    "RECEIVED": "awaiting processing",
    "IN_PROCESSING": "in processing",
    "APPROVED_FOR_RELEASE": "approved for release",
}
_WRONG_STATE = re.compile(r"not in one of the states \[[A-Z_, ]+\]: (\S+) - ([A-Z_]+)")


def edit_status(exc: client.LoculusError) -> int:
    if isinstance(exc, client.Forbidden):
        return 403
    return _status_for(exc)


def explain_edit(exc: client.LoculusError, organism: Organism) -> str:
    """A backend problem with an edit (reading the entry, or sending it) in words a user can act on."""
    said = plain_words.explain(exc, doing="an edit")  # logs the original either way
    own = _edit_words(exc, organism)
    if own or said:
        return own or str(said)
    if isinstance(exc, client.BackendUnreachable):
        return f"Loculus could not be reached, so nothing was sent: {exc.detail} Please try again in a few minutes."
    if isinstance(exc, client.Rejected):
        return f"Loculus refused the edits: {exc.detail}"
    return (
        f"Loculus had a problem with these edits ({exc.status} {exc.title}): {exc.detail} "
        "Nothing you entered is lost; please try again in a few minutes."
    )


def _edit_words(exc: client.LoculusError, organism: Organism) -> str | None:
    """What only an edit can run into. Checked before plain_words, whose words for a 403 speak of a submit."""
    detail = exc.detail
    if isinstance(exc, client.Forbidden):
        return (
            "You can only edit entries of your own submitting groups, and this entry belongs to a group you are "
            "not (or no longer) a member of. Ask that group's administrator to add you if you should edit it."
        )
    if isinstance(exc, client.BackendTimeout):
        return (
            f"Loculus did not answer in time ({exc.detail}) It may still have received the edits: if the review "
            "page shows the entry awaiting processing again, they arrived."
        )
    if isinstance(exc, client.BackendFailed) and exc.status == 500:
        # The backend fails so for an entry without processed data yet (contract §5.2).
        return (
            "Loculus could not give this entry's data to edit. This happens while an entry is awaiting processing "
            "or in processing: please wait until it is processed, then open this page again."
        )
    if not isinstance(exc, client.Rejected):
        return None
    if wrong := _WRONG_STATE.search(detail):
        words = _STATUS_WORDS.get(wrong.group(2), wrong.group(2).lower().replace("_", " "))
        return (
            f"Loculus takes edits only of processed entries, and {wrong.group(1)} is {words} now. Nothing was "
            "changed in Loculus; what you typed is kept here. Wait until the entry is processed, then submit again."
        )
    if "Accession versions" in detail and "do not exist" in detail:
        return "Loculus has no such entry (perhaps it was discarded). Please check the accession and version."
    if "is a revocation" in detail:
        return "This entry is a revocation, which cannot be edited."
    if "are not of organism" in detail:
        return f"This entry is not a {organism.display_name} entry: please open it from its own organism's pages."
    if "but the attached file" in detail:
        return (
            "A file was uploaded for another submitting group than this entry's. Please remove it and upload it "
            "again here."
        )
    return None
