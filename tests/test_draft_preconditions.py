"""Every change to a draft that is no longer open gets the one answer, and every page of a draft finds its way."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sandbox.launcher import RunningSandbox
from submitportal.models import Draft, ExtraFile

pytestmark = pytest.mark.django_db

CLOSED = "This draft has been submitted; it can no longer change."


@pytest.fixture
def drafts_of_both_kinds(signed_in: Client, loculus: RunningSandbox) -> dict[str, Draft]:
    assert signed_in.get("/ebola-sudan/submission/form/").status_code == 302
    assert signed_in.get("/ebola-sudan/submission/bulk/").status_code == 302
    return {draft.kind: draft for draft in Draft.objects.all()}


def changes(draft: Draft, file_pk: int) -> list[tuple[str, dict[str, str]]]:
    """Every request that changes a draft, as the page's script sends it (URL, form data)."""
    files = f"/drafts/{draft.pk}/file/{file_pk}"
    return [
        (f"/drafts/{draft.pk}/save", {"id": "late"}),
        (f"/drafts/{draft.pk}/group", {"group": "2"}),
        (f"/drafts/{draft.pk}/files/rawReads/", {"files": json.dumps([{"path": "late.fq", "size": 3}])}),
        (f"/drafts/{draft.pk}/files/done", {"reports": "[]"}),
        (f"{files}/done", {"etags": "[]", "fileId": ""}),
        (f"{files}/failed", {"reason": "late"}),
        (f"{files}/retry", {}),
        (f"{files}/remove", {}),
        (f"/drafts/{draft.pk}/bulk/metadata/discard", {}),
    ]


@pytest.mark.parametrize("status", [Draft.Status.SUBMITTING, Draft.Status.SUBMITTED])
@pytest.mark.parametrize("kind", [Draft.Kind.FORM, Draft.Kind.BULK])
def test_every_change_to_a_closed_draft_gets_the_same_answer_and_changes_nothing(
    signed_in: Client, drafts_of_both_kinds: dict[str, Draft], kind: str, status: str
) -> None:
    draft = drafts_of_both_kinds[kind]
    upload = ExtraFile.objects.create(draft=draft, category="rawReads", path="a.fq", size=3, group_id=draft.group_id)
    Draft.objects.filter(pk=draft.pk).update(status=status, values={"id": "kept"})
    for url, data in changes(draft, upload.pk):
        response = signed_in.post(url, data, HTTP_HX_REQUEST="true")
        assert (response.status_code, response.content.decode()) == (409, CLOSED), url
        assert response["Content-Type"] == "text/plain; charset=utf-8", url
    prepare = signed_in.post(
        f"/drafts/{draft.pk}/files/prepare", {"files": json.dumps([upload.pk])}, HTTP_ACCEPT="application/json"
    )
    assert (prepare.status_code, prepare.json()) == (409, {"error": CLOSED})
    sent = signed_in.post(
        f"/drafts/{draft.pk}/bulk/metadata",
        {"file": SimpleUploadedFile("late.tsv", b"id\n1\n")},
        HTTP_HX_REQUEST="true",
    )
    assert (sent.status_code, sent.content.decode()) == (409, CLOSED)
    draft.refresh_from_db()
    assert (draft.status, draft.values, draft.group_id) == (status, {"id": "kept"}, drafts_of_both_kinds[kind].group_id)
    assert list(draft.extra_files.values_list("path", "status")) == [("a.fq", "pending")]


def test_a_closed_drafts_change_from_a_page_without_script_goes_back_to_the_draft(
    signed_in: Client, drafts_of_both_kinds: dict[str, Draft]
) -> None:
    draft = drafts_of_both_kinds[Draft.Kind.BULK]
    Draft.objects.filter(pk=draft.pk).update(status=Draft.Status.SUBMITTED, result={"entries": [], "groupId": 1})
    response = signed_in.post(f"/drafts/{draft.pk}/bulk/metadata/discard")
    assert response.status_code == 302
    assert response["Location"] == f"/ebola-sudan/submission/bulk/{draft.pk}/"
    assert signed_in.get(response["Location"])["Location"] == f"/ebola-sudan/submission/bulk/{draft.pk}/result"


def test_a_drafts_page_of_the_other_kind_or_after_submit_leads_to_the_right_one(
    signed_in: Client, drafts_of_both_kinds: dict[str, Draft]
) -> None:
    form, bulk = drafts_of_both_kinds[Draft.Kind.FORM], drafts_of_both_kinds[Draft.Kind.BULK]
    assert signed_in.get(f"/ebola-sudan/submission/bulk/{form.pk}/")["Location"] == (
        f"/ebola-sudan/submission/form/{form.pk}/"
    )
    assert signed_in.get(f"/ebola-sudan/submission/form/{bulk.pk}/")["Location"] == (
        f"/ebola-sudan/submission/bulk/{bulk.pk}/"
    )
    Draft.objects.filter(pk=form.pk).update(status=Draft.Status.SUBMITTED, result={"entries": [], "groupId": 1})
    assert signed_in.get(f"/ebola-sudan/submission/form/{form.pk}/")["Location"] == (
        f"/ebola-sudan/submission/form/{form.pk}/result"
    )
    # One result view for both kinds: an open draft's result is its page.
    assert signed_in.get(f"/ebola-sudan/submission/bulk/{bulk.pk}/result")["Location"] == (
        f"/ebola-sudan/submission/bulk/{bulk.pk}/"
    )


def test_anyone_elses_draft_is_not_found_before_anything_else(
    signed_in: Client, drafts_of_both_kinds: dict[str, Draft], django_user_model: type
) -> None:
    other = django_user_model.objects.create(username="someone-else")
    Draft.objects.update(user=other, status=Draft.Status.SUBMITTED)
    for draft in drafts_of_both_kinds.values():
        for url, data in changes(draft, 1):
            assert signed_in.post(url, data, HTTP_HX_REQUEST="true").status_code == 404, url
