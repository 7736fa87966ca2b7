"""The data use terms and acknowledgements both submission pages post, read by one Django form."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from submitportal.loculus import client

NO_PII = "confirmation-no-pii"
NO_INSDC = "confirmation-INSDC-upload-terms"
# What a submission page posts about terms: kept with the draft as typed, whatever the form makes of it.
KEYS = ("data_use_terms", "restricted_until", NO_PII, NO_INSDC)


def restricted_window() -> tuple[dt.date, dt.date]:
    """The dates a restriction may end on: from today to one year from today (UTC), as Loculus allows."""
    today = timezone.now().astimezone(dt.UTC).date()
    try:
        latest = today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year + 1, day=28)
    return today, latest


class TermsForm(forms.Form):
    """The terms and acknowledgements of a submit. Valid: `terms` is what goes to Loculus.

    Without data use terms on the instance (LOCULUS_DATA_USE_TERMS off) nothing is asked: Open.
    `revise`: a revision keeps its entries' terms, so only the acknowledgements are asked (as on the website).
    """

    data_use_terms = forms.CharField(required=False)
    restricted_until = forms.CharField(required=False)

    def __init__(self, data: Any, *, revise: bool = False) -> None:
        super().__init__(data)
        self.revise = revise
        # The website's names, which are no Python names.
        self.fields[NO_PII] = forms.BooleanField(required=False)
        self.fields[NO_INSDC] = forms.BooleanField(required=False)
        self.terms = client.DataUseTerms("OPEN")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not settings.LOCULUS_DATA_USE_TERMS:
            return data
        if not data.get(NO_PII):
            self.add_error(
                NO_PII,
                "Please confirm the data you submitted does not include restricted or personally identifiable "
                "information.",
            )
        if not data.get(NO_INSDC):
            self.add_error(
                NO_INSDC,
                "Please tick the box to agree that you will not independently submit these sequences to INSDC.",
            )
        if self.revise or data.get("data_use_terms") != "RESTRICTED":
            return data
        earliest, latest = restricted_window()
        try:
            until: dt.date | None = dt.date.fromisoformat(data.get("restricted_until", ""))
        except ValueError:
            until = None
        if until is None or not earliest <= until <= latest:
            self.add_error(
                "restricted_until",
                f"Please choose a date from {earliest.isoformat()} to {latest.isoformat()} (at most one year from "
                "today).",
            )
            self.terms = client.DataUseTerms("RESTRICTED")
        else:
            self.terms = client.DataUseTerms("RESTRICTED", until)
        return data

    def open_unconfirmed(self) -> bool:
        """Open terms not yet confirmed once more, as the Loculus website asks ("Continue under Open terms")."""
        if self.revise:
            return False
        return self.terms.type == "OPEN" and settings.LOCULUS_DATA_USE_TERMS and self.data.get("confirm_open") != "yes"

    def open_dialog(self) -> bool:
        """Whether to ask (again): not after "Cancel", which just returns to the page."""
        return self.data.get("confirm_open") != "no"

    def messages(self) -> dict[str, str]:
        """Each field's problem, by the name the page shows it under."""
        return {name: str(problems[0]) for name, problems in self.errors.items()}
