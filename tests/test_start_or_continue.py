"""Opening a submission page never resumes a draft silently; empty drafts are not drafts; My drafts tells the truth."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from submitportal.loculus import client as loculus_client
from submitportal.models import Draft, ExtraFile, GroupChoice
from tests.test_bad_input import FASTA, GOOD, send

pytestmark = pytest.mark.django_db


def text(response: Any) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def open_kind(signed_in: Client, kind: str) -> Any:
    return signed_in.get(f"/ebola-sudan/submission/{kind}/")


def test_the_first_visit_starts_a_draft_for_the_chosen_group(signed_in: Client, loculus_info: dict[str, Any]) -> None:
    user = Draft._meta.get_field("user").related_model.objects.get()
    GroupChoice.objects.create(user=user, organism="ebola-sudan", group_id=2)
    response = open_kind(signed_in, "form")
    draft = Draft.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/form/{draft.pk}/")
    assert draft.group_id == 2


def test_an_empty_draft_is_used_again_not_offered(signed_in: Client, loculus_info: dict[str, Any]) -> None:
    first = open_kind(signed_in, "form")["Location"]
    assert open_kind(signed_in, "form")["Location"] == first  # nothing typed: the same empty draft
    assert Draft.objects.count() == 1
    assert "You have no drafts." in text(signed_in.get("/drafts/"))


def test_an_unfinished_draft_is_offered_and_a_new_one_can_be_started(
    signed_in: Client, loculus_info: dict[str, Any]
) -> None:
    open_kind(signed_in, "form")
    draft = Draft.objects.get()
    signed_in.post(f"/drafts/{draft.pk}/save", {"id": "sample-7"})
    choice = open_kind(signed_in, "form")
    assert choice.status_code == 200
    shown = text(choice)
    assert "You have an unfinished single-entry submission of Ebola Sudan for Sandbox Lab Berlin." in shown
    link = re.search(r'<a href="([^"]+)">(Continue[^<]*)</a>', html.unescape(choice.content.decode()))
    assert link and link.group(1).endswith(f"/form/{draft.pk}/")
    assert "last changed" in link.group(2) and "entry “sample-7”" in link.group(2)
    assert "Start a new submission" in shown
    started = signed_in.post("/ebola-sudan/submission/form/")
    new = Draft.objects.exclude(pk=draft.pk).get()
    assert started["Location"].endswith(f"/form/{new.pk}/")
    assert new.values == {} and Draft.objects.get(pk=draft.pk).values["id"] == "sample-7"  # nothing lost


def test_a_bulk_draft_says_what_it_holds(signed_in: Client, loculus_info: dict[str, Any]) -> None:
    open_kind(signed_in, "bulk")
    draft = Draft.objects.get()
    send(signed_in, draft, "sequences", "reads.fasta", FASTA.encode(), raw=True)
    send(signed_in, draft, "metadata", "batch-12.tsv", GOOD.encode(), raw=True)
    ExtraFile.objects.create(draft=draft, category="rawReads", path="s1/a.fq", size=3)
    shown = text(open_kind(signed_in, "bulk"))
    assert "Continue the submission last changed" in shown
    assert "“batch-12.tsv”, “reads.fasta”, 2 entries, 1 extra file" in shown


def test_drafts_of_another_group_are_not_offered(signed_in: Client, loculus_info: dict[str, Any]) -> None:
    user = Draft._meta.get_field("user").related_model.objects.get()
    Draft.objects.create(user=user, organism="ebola-sudan", kind="form", group_id=2, values={"id": "kampala-1"})
    assert open_kind(signed_in, "form").status_code == 302  # Berlin is chosen: nothing to continue


def test_without_a_group_the_organism_page_explains(
    signed_in: Client, loculus_info: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loculus_client, "get_user_groups", lambda token: [])
    response = open_kind(signed_in, "bulk")
    assert response.status_code == 302 and response["Location"] == "/ebola-sudan/submission/"
    assert not Draft.objects.exists()


def test_my_drafts_lists_submitted_ones_apart_with_their_accessions(
    signed_in: Client, loculus_info: dict[str, Any], settings: Any
) -> None:
    settings.DRAFT_RETENTION_DAYS = 45
    user = Draft._meta.get_field("user").related_model.objects.get()
    Draft.objects.create(user=user, organism="ebola-sudan", kind="form", group_id=1)  # empty: not a draft yet
    Draft.objects.create(user=user, organism="ebola-sudan", kind="form", group_id=1, values={"id": "open-1"})
    entries = [{"submissionId": f"s{i}", "accession": f"LOC_{i:07d}", "version": 1} for i in range(5)]
    done = Draft.objects.create(
        user=user, organism="ebola-sudan", kind="bulk", group_id=1, status="submitted", result={"entries": entries}
    )
    page = signed_in.get("/drafts/")
    shown = text(page)
    assert "deleted with its files 45 days after it was last changed" in shown
    in_progress, submitted = shown.split("In progress", 1)[1].split("Submitted Organism", 1)
    assert "open-1" in in_progress and "(no ID yet)" not in shown
    assert "LOC_0000000.1 , LOC_0000001.1 , LOC_0000002.1 and 2 more (5 entries)" in submitted
    assert f"/ebola-sudan/submission/bulk/{done.pk}/result" in page.content.decode()


def test_cleanup_removes_old_drafts_and_empty_ones_after_a_day(signed_in: Client, settings: Any) -> None:
    settings.DRAFT_RETENTION_DAYS = 10
    user = Draft._meta.get_field("user").related_model.objects.get()
    old = Draft.objects.create(user=user, organism="ebola-sudan", kind="form", values={"id": "old"})
    empty = Draft.objects.create(user=user, organism="ebola-sudan", kind="form")
    fresh_empty = Draft.objects.create(user=user, organism="ebola-sudan", kind="form")
    kept = Draft.objects.create(user=user, organism="ebola-sudan", kind="form", values={"id": "kept"})
    Draft.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=11))
    Draft.objects.filter(pk__in=[empty.pk, kept.pk]).update(updated_at=timezone.now() - timedelta(days=2))
    out = io.StringIO()
    call_command("cleanup_drafts", stdout=out)
    assert set(Draft.objects.values_list("pk", flat=True)) == {fresh_empty.pk, kept.pk}
    assert (
        "Removed 1 draft(s) untouched for more than 10 days, and 1 empty draft(s) older than a day." in out.getvalue()
    )
