"""The pages of the Loculus website the portal links to: their addresses are built here, and only here."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from submitportal.loculus import instance


def create_group_url(organism: str) -> str:
    """Where a user creates a submitting group, coming back to this organism's submission afterwards."""
    return (
        f"{instance.get_instance().website_url}/user/createGroup?{urlencode({'continueSubmissionOrganism': organism})}"
    )


def review_url(organism: str, group_id: object) -> str:
    """The group's review page of this organism (where submitted entries are approved)."""
    return f"{instance.get_instance().website_url}/{quote(organism)}/submission/{quote(str(group_id))}/review"
