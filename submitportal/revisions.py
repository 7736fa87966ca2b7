"""Revising released entries: which version of an accession a revision starts from, and what Loculus
says to a revision, in words a lab can act on (backend-contract §4.2, §4.4 rows 12 to 12d).

Loculus takes a revision of an accession only while its latest version is released (a revocation
that was approved counts: revising it makes the accession current again). The revision keeps the
entry's group and data use terms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from submitportal.bulkfiles.revision import RELEASED
from submitportal.loculus import client, plain_words
from submitportal.loculus.schema import ACCESSION, ACCESSION_VERSION, Organism

BAD_FORMAT = "Please enter a valid accession format."
NOT_FOUND = "Could not find that sequence entry. Please check the accession and version and try again."
REVOCATION = (
    "Could not load that sequence as it is a revocation entry. Please choose an earlier entry for this sequence "
    "to revise from."
)
OTHER_GROUP = "Failed to fetch sequence. Please make sure the accession belongs to your group."


@dataclass
class Finding:
    """What "Find sequence entry" found: the version to revise from (`accession`, `version`), or why not."""

    accession: str = ""
    version: int | None = None
    problem: str = ""
    hint: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)  # (words, url) that help with the problem


def _versions(token: str, organism: str, accession: str, group_ids: list[int]) -> list[client.SequenceEntry]:
    page = client.get_sequences(token, organism, group_ids=group_ids)
    return sorted((e for e in page.entries if e.accession == accession), key=lambda e: e.version)


def _revisable(entries: list[client.SequenceEntry]) -> client.SequenceEntry | None:
    """The newest released version that is not a revocation: what a revision starts from."""
    return next((e for e in reversed(entries) if e.status == RELEASED and not e.is_revocation), None)


def _review_url(organism: str, group_id: int) -> str:
    return reverse("review-group", kwargs={"organism": organism, "group_id": group_id})


def find(token: str, organism: Organism, text: str, group: client.Group, groups: list[client.Group]) -> Finding:
    """The released version of the user's group that "ACC" or "ACC.N" names, or the website's words for why not."""
    text = text.strip()
    # What the Loculus website accepts in "Accession of sequence to revise": ACC or ACC.N.
    versioned = ACCESSION_VERSION.fullmatch(text)
    if not (versioned or ACCESSION.fullmatch(text)):
        return Finding(
            problem=BAD_FORMAT,
            hint="An accession is letters, digits and underscores, such as LOC_0001234; add .2 for its version 2.",
        )
    accession, asked = (versioned.group(1), int(versioned.group(2))) if versioned else (text, None)
    entries = _versions(token, organism.key, accession, [g.group_id for g in groups])
    if asked is not None and not any(e.version == asked for e in entries):
        entries = []
    if not entries:
        names = ", ".join(f"“{g.group_name}”" for g in groups)
        return Finding(
            problem=NOT_FOUND,
            hint=f"Only the {organism.display_name} entries of your groups ({names}) can be revised here.",
        )
    owner = entries[-1].group_id
    if owner != group.group_id:
        name = next((g.group_name for g in groups if g.group_id == owner), str(owner))
        return Finding(
            problem=OTHER_GROUP,
            hint=f"{accession} belongs to your group “{name}”, not to “{group.group_name}”. Choose “{name}” as "
            "your submitting group on the organism page to revise it.",
            links=[("Choose the submitting group", reverse("organism-submission", kwargs={"organism": organism.key}))],
        )
    latest = entries[-1]
    if latest.status != RELEASED:
        return Finding(
            problem=f"{accession}.{latest.version} is awaiting review, so {accession} cannot be revised now.",
            hint=f"Loculus takes a revision only once the latest version is released: approve or discard "
            f"{accession}.{latest.version} on the review page first.",
            links=[("Review pending submissions", _review_url(organism.key, owner))],
        )
    chosen = next(e for e in entries if e.version == asked) if asked is not None else _revisable(entries)
    if chosen is None or chosen.is_revocation:
        return Finding(problem=REVOCATION)
    if chosen.status != RELEASED:
        return Finding(problem=NOT_FOUND, hint=f"{accession}.{chosen.version} was never released.")
    return Finding(accession=accession, version=chosen.version)


def versions_note(token: str, organism: Organism, data: client.EntryToEdit) -> dict[str, Any]:
    """For the revision page of a released version: the website's warning when it is not the latest one,
    and a notice when a newer version awaits review (Loculus would refuse the revision then)."""
    try:
        entries = _versions(token, organism.key, data.accession, [data.group_id])
    except client.Unauthorized:
        raise
    except client.LoculusError as exc:
        plain_words.explain(exc, doing=f"reading the versions of {data.accession}")  # the page works without
        return {}
    if not entries or entries[-1].version == data.version:
        return {}
    note: dict[str, Any] = {}
    latest = entries[-1]
    if latest.status != RELEASED:
        note["pending_version"] = latest.version
        note["review_url"] = _review_url(organism.key, data.group_id)
    newest = _revisable(entries)
    if newest is not None and newest.version > data.version:
        note["latest_url"] = reverse(
            "entry-edit", kwargs={"organism": organism.key, "accession": data.accession, "version": newest.version}
        )
    return note


_WRONG_STATE = re.compile(r"not in one of the states \[[A-Z_, ]+\]: (\S+?)\.(\d+) - ([A-Z_]+)")
_UNKNOWN = re.compile(r"Accessions (.+) do not exist")


def explain(exc: client.LoculusError, organism: Organism) -> str | None:
    """Loculus's refusal of a revision in words, or None where a submit's words fit (files, groups, checks)."""
    if isinstance(exc, client.Forbidden):
        return (
            "You can only revise entries of your own submitting groups, and an accession here belongs to a group "
            "you are not (or no longer) a member of. Ask that group's administrator to add you if you should "
            f"revise it. ({exc.detail})"
        )
    if not isinstance(exc, client.Rejected):
        return None
    detail = exc.detail
    if wrong := _WRONG_STATE.search(detail):
        return (
            f"Loculus takes a revision only once an accession's latest version is released, and "
            f"{wrong.group(1)}.{wrong.group(2)} is not released yet: approve or discard it on the review page "
            "first, then submit again. Nothing was changed in Loculus; what you entered is kept."
        )
    if unknown := _UNKNOWN.search(detail):
        return (
            f"Loculus has no accession {unknown.group(1)}. Please check the accession column: it must hold "
            "accessions of released entries, such as those in a download of your group's released sequences."
        )
    if "are not of organism" in detail:
        return (
            f"Some accessions are not {organism.display_name} entries: revise them from their own organism's page. "
            f"({detail})"
        )
    if "does not contain the header 'accession'" in detail:
        return (
            "The revised metadata file has no “accession” column. For revisions, your metadata file must contain "
            'an "accession" column, containing for each row the accession already in the database.'
        )
    return None
