"""Revising one released entry against the sandbox: found by accession with the website's messages, the
form prefilled from the released version with its files kept, sent to /revise on both generations."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from sandbox.launcher import RunningSandbox
from submitportal.loculus import client
from submitportal.models import Draft, ExtraFile
from tests.test_edit_views import edit_url, new_upload, signed_in_as, submit_one, text, token_of, uploaded_file

pytestmark = pytest.mark.django_db

FIND = "/ebola-sudan/submission/revise/form/"
REVISED = {"sampleCollectionDate": "2024-03-05", "geoLocCountry": "Kenya", "sequence-sample1": "ACGTACGTAA"}


@pytest.fixture
def reviser(client: Client, loculus_any: RunningSandbox) -> Client:
    loculus_any.configure(processing_delay_seconds=0)
    return signed_in_as(client, loculus_any, "testuser")


def released_one(token: str, *, group_id: int = 1, files: dict[str, list[tuple[str, str]]] | None = None) -> str:
    """A released ebola-sudan entry of testuser's group, with `files` attached (category -> [(fileId, name)])."""
    accession = submit_one(token, date="2024-03-04", group_id=group_id)
    if files:
        client.submit_edited_data(
            token,
            "ebola-sudan",
            accession,
            1,
            {"sampleCollectionDate": "2024-03-04", "geoLocCountry": "Uganda"},
            {"sample1": "ACGTACGTAC"},
            files,
        )
        client.get_sequences(token, "ebola-sudan")  # processed again (delay 0)
    client.approve_processed_data(token, "ebola-sudan", accession_versions=[(accession, 1)])
    return accession


def found_problem(response: object) -> str:
    page = text(response)
    match = re.search(r'<p class="field-error" id="accession-error" role="alert">(.*?)</p>', page, re.S)
    assert match, page
    return re.sub(r"<[^>]+>", " ", match.group(1))


def test_finding_an_entry_says_what_is_wrong_in_the_websites_words(
    reviser: Client, loculus_any: RunningSandbox
) -> None:
    token = token_of(loculus_any, "testuser")
    accession = released_one(token)
    page = text(reviser.get(FIND))
    assert "<h1>Revise sequences</h1>" in page
    assert 'aria-current="page">Revise individual sequence entry using a form</a>' in page
    assert '<label for="revise-accession-version-search">Accession of sequence to revise</label>' in page
    assert "Find sequence entry" in page

    bad = reviser.get(FIND, {"accession": "LOC 1"})
    assert bad.status_code == 400
    assert found_problem(bad).startswith("Please enter a valid accession format.")
    assert 'value="LOC 1"' in text(bad)  # what was typed stays
    unknown = reviser.get(FIND, {"accession": "LOC_NOPE"})
    assert found_problem(unknown).startswith(
        "Could not find that sequence entry. Please check the accession and version and try again."
    )
    assert "Only the Ebola Sudan entries of your groups" in found_problem(unknown)
    no_such_version = reviser.get(FIND, {"accession": f"{accession}.7"})
    assert found_problem(no_such_version).startswith("Could not find that sequence entry.")

    for asked in (accession, f"{accession}.1", f" {accession} "):
        found = reviser.get(FIND, {"accession": asked})
        assert found.status_code == 302, asked
        assert found["Location"] == edit_url(accession, 1)


def test_another_groups_entry_a_pending_version_and_a_revocation_are_refused(
    reviser: Client, loculus_any: RunningSandbox
) -> None:
    token = token_of(loculus_any, "testuser")
    kampala = released_one(token, group_id=2)
    other = reviser.get(FIND, {"accession": kampala})
    said = found_problem(other)
    assert said.startswith("Failed to fetch sequence. Please make sure the accession belongs to your group.")
    assert f"{kampala} belongs to your group “Sandbox Lab Kampala”, not to “Sandbox Lab Berlin”." in said

    pending = released_one(token)
    client.revoke(token, "ebola-sudan", [pending], "wrong sample")  # version 2 waits for approval
    waiting = found_problem(reviser.get(FIND, {"accession": pending}))
    assert f"{pending}.2 is awaiting review, so {pending} cannot be revised now." in waiting
    assert "approve or discard" in waiting and "Review pending submissions" in waiting

    client.approve_processed_data(token, "ebola-sudan", accession_versions=[(pending, 2)])
    revocation = found_problem(reviser.get(FIND, {"accession": f"{pending}.2"}))
    assert revocation.startswith("Could not load that sequence as it is a revocation entry.")
    # Without a version, a revoked accession is revised from its last version that is not a revocation.
    assert reviser.get(FIND, {"accession": pending})["Location"] == edit_url(pending, 1)

    outsider = released_one(token_of(loculus_any, "otheruser"), group_id=3)
    assert found_problem(reviser.get(FIND, {"accession": outsider})).startswith("Could not find that sequence entry.")


def test_a_revision_keeps_the_files_not_removed_adds_new_ones_and_lands_on_its_batch(
    reviser: Client, loculus_any: RunningSandbox
) -> None:
    token = token_of(loculus_any, "testuser")
    keep, drop = uploaded_file(token, b"keep me"), uploaded_file(token, b"drop me")
    accession = released_one(token, files={"rawReads": [(keep, "keep.fq"), (drop, "drop.fq")]})
    page = text(reviser.get(edit_url(accession)))
    assert f"<h1>Create new revision from {accession}.1</h1>" in page
    assert "Upload and proceed to Approval" in page and "Submit edits and proceed to Approval" not in page
    assert 'name="geoLocCountry" value="Uganda"' in page
    assert "not the latest version" not in page
    draft = Draft.objects.get()
    assert (draft.kind, draft.revise, draft.accession, draft.version, draft.group_id) == ("edit", True, accession, 1, 1)
    assert draft.kind_words == "Revision of an entry"
    rows = {f.path: f for f in ExtraFile.objects.all()}
    assert {name: (f.file_id, f.kept) for name, f in rows.items()} == {"keep.fq": (keep, True), "drop.fq": (drop, True)}
    assert reviser.post(f"/drafts/{draft.pk}/file/{rows['drop.fq'].pk}/remove").status_code == 200
    new = new_upload(token, draft, "new.fq", b"new reads")

    sent = reviser.post(edit_url(accession), REVISED)
    assert sent.status_code == 302, text(sent)
    assert sent["Location"] == f"/ebola-sudan/submission/form/{draft.pk}/result"
    versions = {(e.accession, e.version): e for e in client.get_sequences(token, "ebola-sudan").entries}
    assert versions[(accession, 1)].status == "APPROVED_FOR_RELEASE"
    assert versions[(accession, 2)].submission_id == "sample1"
    revised = client.get_data_to_edit(token, "ebola-sudan", accession, 2)
    assert revised.metadata == {"sampleCollectionDate": "2024-03-05", "geoLocCountry": "Kenya"}
    assert revised.sequences == {"sample1": "ACGTACGTAA"}
    assert sorted(revised.files["rawReads"]) == sorted([(keep, "keep.fq"), (new, "new.fq")])
    assert client.get_data_to_edit(token, "ebola-sudan", accession, 1).files["rawReads"] == (
        (keep, "keep.fq"),
        (drop, "drop.fq"),
    )  # the released version is untouched
    result = text(reviser.get(sent["Location"]))
    assert f"{accession}.2" in result and "Passed QC" in result


def test_an_older_version_warns_and_a_pending_one_is_said_before_and_after_sending(
    reviser: Client, loculus_any: RunningSandbox
) -> None:
    token = token_of(loculus_any, "testuser")
    accession = released_one(token)
    reviser.get(edit_url(accession))
    sent = reviser.post(edit_url(accession), REVISED)
    assert sent.status_code == 302 and "/result" in sent["Location"]
    # Version 2 awaits review: the form from version 1 says so, and Loculus's refusal is said in words.
    again = text(reviser.get(edit_url(accession)))
    assert f"{accession}.2 is awaiting review." in again
    refused = reviser.post(edit_url(accession), REVISED)
    assert refused.status_code == 400
    said = text(refused)
    assert "Loculus takes a revision only once an accession's latest version is released" in said
    assert f"{accession}.2 is not released yet" in said
    assert 'name="geoLocCountry" value="Kenya"' in said  # nothing typed is lost
    open_draft = Draft.objects.get(status=Draft.Status.OPEN)
    assert open_draft.revise

    client.approve_processed_data(token, "ebola-sudan", accession_versions=[(accession, 2)])
    older = text(reviser.get(edit_url(accession)))
    assert "This is not the latest version of this sequence entry." in older
    assert "By revising from this version, existing changes from later versions will be lost." in older
    assert f'To revise from the latest version, <a href="{edit_url(accession, 2)}">click here</a>.' in older


def test_my_drafts_names_a_revision_and_an_edit_draft_of_a_released_entry_becomes_a_revision(
    reviser: Client, loculus_any: RunningSandbox
) -> None:
    token = token_of(loculus_any, "testuser")
    accession = submit_one(token, date="2024-03-04")
    reviser.get(edit_url(accession))  # an edit while processed
    reviser.post(f"/drafts/{Draft.objects.get().pk}/save", {"geoLocCountry": "Kenya"})
    client.approve_processed_data(token, "ebola-sudan", accession_versions=[(accession, 1)])
    page = text(reviser.get(edit_url(accession)))  # released now: a revision, not the old edit
    assert f"<h1>Create new revision from {accession}.1</h1>" in page
    assert sorted(Draft.objects.values_list("revise", flat=True)) == [False, True]
    reviser.post(f"/drafts/{Draft.objects.get(revise=True).pk}/save", {"geoLocCountry": "Kenya"})
    drafts_page = text(reviser.get("/drafts/"))
    assert "Revision of an entry" in drafts_page and f"Revision of {accession}.1 (sample1)" in drafts_page
