"""The backend's messages that a user can cause, said in plain words.

The backend answers in a developer's terms ("Required parameter 'groupId' is not present."). A user
who reads that cannot act on it, so every place that shows a backend refusal goes through
`explain`: a known message becomes a sentence saying what happened and what to do; the original is
always written to the log with the backend's request id, for the operator. Messages already written
for users (the metadata and FASTA checks, "Metadata file contains 1 FASTA ids …") are shown as they
are, as the Loculus website shows them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from submitportal.loculus.client import LoculusError

log = logging.getLogger("submitportal.loculus")

NO_GROUP = (
    "No submitting group is chosen for this submission. Please choose your submitting group at the top of "
    "the page; if you are not in any group yet, create one or ask a group administrator to add you."
)

_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]

_RULES: list[_Rule] = [
    (
        re.compile(r"Required parameter 'groupId' is not present|Failed to convert 'groupId'"),
        lambda m: NO_GROUP,
    ),
    (
        re.compile(r"Group\(s\) ([\d, ]+) do\(es\) not exist|Group (\d+) does not exist"),
        lambda m: (
            f"The submitting group (number {(m.group(1) or m.group(2)).strip()}) no longer exists in Loculus. "
            "Please choose another of your groups at the top of the page."
        ),
    ),
    (
        re.compile(r"User \S+ is not a member of group\(s\) ([\d, ]+)\. Action not allowed\.(.*)", re.S),
        lambda m: (
            f"You are not (or no longer) a member of the submitting group (number {m.group(1).strip()}). "
            "Please choose one of your groups at the top of the page, or ask a group administrator to add "
            "you again."
        ),
    ),
    (
        re.compile(r"The date 'restrictedUntil' must be"),
        lambda m: (
            "The date until which the data are restricted must be from today to one year ahead. "
            "Please choose such a date under “Data use terms”."
        ),
    ),
    (
        re.compile(r"NoSuchKey|The following file IDs do not exist|No file uploaded for file IDs"),
        lambda m: (
            "Loculus no longer has an uploaded file (it deletes uploads that no submission uses after a few "
            "days). Please upload the files marked ✗ again."
        ),
    ),
    (
        re.compile(r"File \S+ does not belong to group (\d+)"),
        lambda m: (
            "A file was uploaded for another submitting group than the one chosen now. "
            "Please upload the files marked ✗ again, for the group chosen at the top of the page."
        ),
    ),
    (
        re.compile(r"The following multipart uploads have not been completed"),
        lambda m: "Some files have not finished uploading. Please wait until every file shows ✓, then submit.",
    ),
]


def plain(detail: str) -> str | None:
    """A plain sentence for a backend message a user can cause, or None when it has none."""
    for pattern, say in _RULES:
        match = pattern.search(detail)
        if match:
            return say(match)
    return None


def explain(exc: LoculusError, *, doing: str) -> str | None:
    """`plain(exc.detail)`, logging the original message (with what was being done) either way."""
    said = plain(exc.detail)
    log.warning(
        "Loculus answered %s with %s %s: %s (x-request-id %s)%s",
        doing,
        exc.status or "-",
        exc.title,
        exc.detail,
        exc.request_id or "-",
        " — shown to the user in plain words" if said else "",
    )
    return said
