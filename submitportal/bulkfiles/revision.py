"""A revision's accessions judged against what Loculus holds, before anything is sent.

`/revise` takes an accession only if it exists for the organism, the user is in its group and its
latest version is released (contract §4.2). The portal asks for more: that it belongs to the group
the draft submits for (extra files are uploaded for that group, and Loculus refuses files of another
group, §4.4 13j), and it says so when the accession is revoked. Each problem names its row, as the
other checks do. Plain Python: the caller reads the user's entries from Loculus once and passes their
latest versions here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from submitportal.bulkfiles.limits import short
from submitportal.bulkfiles.report import ProblemCollector, Report
from submitportal.loculus.schema import ACCESSION_FIELD

RELEASED = "APPROVED_FOR_RELEASE"
# The website's words for a version's status (review page).
_STATUS_WORDS = {
    "RECEIVED": "awaiting processing",
    "IN_PROCESSING": "being processed",
    "PROCESSED": "processed, awaiting approval",
}


@dataclass(frozen=True)
class LatestVersion:
    """The latest version of an accession in Loculus, as get-sequences lists it."""

    accession: str
    version: int
    status: str
    group_id: int
    is_revocation: bool


def latest_versions(entries: list[LatestVersion], wanted: set[str]) -> dict[str, LatestVersion]:
    """The latest version of each wanted accession among all versions listed."""
    latest: dict[str, LatestVersion] = {}
    for entry in entries:
        if entry.accession in wanted:
            known = latest.get(entry.accession)
            if known is None or entry.version > known.version:
                latest[entry.accession] = entry
    return latest


def check_accessions(
    report: Report,
    max_problems: int,
    latest: Mapping[str, LatestVersion],
    *,
    group_id: int,
    group_names: Mapping[int, str],
    organism_name: str,
) -> None:
    """Add a problem to `report` for each row whose accession Loculus would refuse, or that needs a word.

    `latest`: the latest version of each accession found among the user's entries of the organism.
    """
    if report.accessions is None:
        return
    problems = ProblemCollector(report, max_problems)
    group = group_names.get(group_id, f"group {group_id}")
    for entry, accession in zip(report.entries, report.accessions, strict=True):
        if not accession:
            continue  # missing or malformed: already reported
        where = f"Row {entry.row} (ID “{short(entry.id)}”)" if entry.id else f"Row {entry.row}"
        details = {"row": entry.row, "column": ACCESSION_FIELD, "entry_id": entry.id or None}
        found = latest.get(accession)
        if found is None:
            problems.add(
                "error",
                "metadata",
                "unknown_accession",
                f"{where}: the accession {short(accession)} is not among the {organism_name} sequences of your "
                "groups. Please check it (your group's accessions are listed under Released sequences), or delete "
                "the row.",
                **details,
            )
            continue
        if found.group_id != group_id:
            owner = group_names.get(found.group_id)
            named = f"your group {owner}" if owner else f"group {found.group_id}, not one of yours"
            problems.add(
                "error",
                "metadata",
                "accession_of_another_group",
                f"{where}: the accession {short(accession)} belongs to {named}, and this revision is for {group}. "
                f"Please revise it separately{' as ' + owner if owner else ''}, or delete the row.",
                **details,
            )
            continue
        display = f"{found.accession}.{found.version}"
        if found.status != RELEASED:
            words = _STATUS_WORDS.get(found.status, found.status)
            problems.add(
                "error",
                "metadata",
                "accession_awaiting_review",
                f"{where}: the accession {short(accession)} has a version awaiting review ({display}, {words}). "
                f"Loculus only takes a revision of a released version: please approve or discard {display} on the "
                "review page first, or delete the row.",
                **details,
            )
            continue
        if found.is_revocation:
            problems.add(
                "warning",
                "metadata",
                "revoked_accession",
                f"{where}: the accession {short(accession)} is revoked (its latest version {display} is a "
                f"revocation). Loculus accepts the revision: version {found.version + 1} makes the sequence "
                "available again. If it should stay revoked, delete the row.",
                **details,
            )
