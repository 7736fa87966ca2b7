"""The pages of the Loculus website the portal links to: their addresses are built here, and only here."""

from __future__ import annotations

from urllib.parse import urlencode

from submitportal.loculus import instance


def create_group_url(organism: str) -> str:
    """Where a user creates a submitting group, coming back to this organism's submission afterwards."""
    return (
        f"{instance.get_instance().website_url}/user/createGroup?{urlencode({'continueSubmissionOrganism': organism})}"
    )
