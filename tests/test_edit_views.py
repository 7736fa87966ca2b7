"""The edit page against the sandbox: prefilled from get-data-to-edit, processing's findings placed, edits sent."""

from __future__ import annotations

import datetime as dt
import html
import io
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.test import Client
from django.utils import timezone

from sandbox.launcher import RunningSandbox
from submitportal.loculus import client
from submitportal.models import Draft, ExtraFile

pytestmark = pytest.mark.django_db

NEXT_YEAR = dt.datetime.now(dt.UTC).year + 1
FUTURE = f"{NEXT_YEAR}-03-04"


def token_of(sandbox: RunningSandbox, username: str) -> str:
    return str(sandbox.password_token(username, username)["access_token"])


def signed_in_as(django_client: Client, sandbox: RunningSandbox, username: str) -> Client:
    """A Django test client whose session holds the user's real sandbox token."""
    from django.contrib.auth import get_user_model

    from submitportal.models import TokenSet

    user = get_user_model().objects.create(username=username)
    django_client.force_login(user)
    TokenSet.objects.create(
        session_id=django_client.session.session_key,
        user=user,
        access_token=token_of(sandbox, username),
        access_expires_at=timezone.now() + timedelta(hours=1),
    )
    return django_client


@pytest.fixture
def at_once(loculus: RunningSandbox) -> RunningSandbox:
    loculus.configure(processing_delay_seconds=0)
    return loculus


@pytest.fixture
def editor(client: Client, at_once: RunningSandbox) -> Client:
    return signed_in_as(client, at_once, "testuser")


def submit_one(
    token: str, *, date: str = FUTURE, country: str = "Uganda", sequence: str = "ACGTACGTAC", group_id: int = 1
) -> str:
    metadata = f"id\tsampleCollectionDate\tgeoLocCountry\nsample1\t{date}\t{country}\n"
    (entry,) = client.submit(
        token,
        "ebola-sudan",
        group_id=group_id,
        metadata=client.UploadPart("metadata.tsv", io.BytesIO(metadata.encode())),
        sequences=client.UploadPart("sequences.fasta", io.BytesIO(f">sample1\n{sequence}\n".encode())),
        data_use_terms=client.DataUseTerms("OPEN"),
    )
    client.get_sequences(token, "ebola-sudan")  # the sandbox processes what is read (delay 0)
    return entry.accession


def uploaded_file(token: str, content: bytes) -> str:
    (target,) = client.request_upload(token, group_id=1, number_files=1)
    response = requests.put(target.url, data=content, headers=dict(target.headers), timeout=10)
    assert response.status_code == 200
    return target.file_id


def new_upload(token: str, draft: Draft, name: str, content: bytes) -> str:
    """A new raw reads file of the draft as the upload engine leaves it: uploaded to S3 by the browser,
    recorded with its method. Its file ID."""
    file_id = uploaded_file(token, content)
    ExtraFile.objects.create(
        draft=draft,
        category="rawReads",
        path=name,
        size=len(content),
        group_id=draft.group_id,
        file_id=file_id,
        method=ExtraFile.Method.SINGLE,
        status=ExtraFile.Status.UPLOADED,
        uploaded_at=timezone.now(),
    )
    return file_id


def edit_url(accession: str, version: int = 1) -> str:
    return f"/ebola-sudan/submission/edit/{accession}/{version}/"


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def edited(values: dict[str, str], **changes: str) -> dict[str, str]:
    return {**values, **changes}


FIXED = {"sampleCollectionDate": "2024-03-04", "geoLocCountry": "Uganda", "sequence-sample1": "ACGTACGTAC"}


def test_the_page_shows_the_submitted_data_with_each_error_beside_its_field(
    editor: Client, at_once: RunningSandbox
) -> None:
    accession = submit_one(token_of(at_once, "testuser"), sequence="ACGTXXACGT")
    response = editor.get(edit_url(accession))
    assert response.status_code == 200
    page = text(response)
    assert f"<h1>Edit {accession}.1</h1>" in page
    assert "<caption>Original data</caption>" in page
    assert '<th scope="row">ID:</th><td id="submission-id">sample1</td>' in page
    assert f'name="sampleCollectionDate" value="{FUTURE}"' in page
    assert 'name="geoLocCountry" value="Uganda"' in page
    # The date's error beside the date field; the sequence's (no form field) at the top.
    date_field = page[
        page.index('id="processing-sampleCollectionDate"') : page.index('id="field-sampleCollectionDate"')
    ]
    assert f"Metadata field sampleCollectionDate:'{FUTURE}' is in the future." in date_field
    summary = page[page.index('id="processing-summary"') : page.index('id="edit-form"')]
    assert "sample1: Sequence sample1 contains characters that are not IUPAC nucleotide codes: X." in summary
    assert 'id="processing-geoLocCountry"' not in page
    assert '<label for="field-sequence-sample1">sample1</label>' in page
    assert ">ACGTXXACGT</textarea>" in page
    assert 'name="id"' not in page  # the ID is Loculus's: shown, not edited
    assert "Submit edits and proceed to Approval" in page
    assert "fake" not in page and token_of(at_once, "testuser")[:40] not in page
    draft = Draft.objects.get()
    assert (draft.kind, draft.accession, draft.version, draft.group_id) == ("edit", accession, 1, 1)


def test_submitted_edits_send_the_entry_back_to_processing(editor: Client, at_once: RunningSandbox) -> None:
    token = token_of(at_once, "testuser")
    accession = submit_one(token, sequence="ACGTXXACGT")
    assert editor.get(edit_url(accession)).status_code == 200
    at_once.configure(processing_delay_seconds=60)  # stays RECEIVED while the test looks
    response = editor.post(edit_url(accession), FIXED)
    assert response.status_code == 302
    assert response.headers["Location"] == "/ebola-sudan/submission/1/review/"
    (entry,) = client.get_sequences(token, "ebola-sudan").entries
    assert (entry.accession, entry.status) == (accession, "RECEIVED")
    at_once.configure(processing_delay_seconds=0)
    data = client.get_data_to_edit(token, "ebola-sudan", accession, 1)
    assert data.metadata == {"sampleCollectionDate": "2024-03-04", "geoLocCountry": "Uganda"}
    assert data.sequences == {"sample1": "ACGTACGTAC"}
    assert (data.errors, data.warnings) == ((), ())
    assert Draft.objects.get().status == Draft.Status.SUBMITTED
    # Opened again, the page starts from what Loculus now has.
    again = text(editor.get(edit_url(accession)))
    assert 'name="sampleCollectionDate" value="2024-03-04"' in again
    assert Draft.objects.filter(status=Draft.Status.OPEN).count() == 1


def test_kept_files_are_sent_again_removed_ones_not_and_new_ones_added(editor: Client, at_once: RunningSandbox) -> None:
    token = token_of(at_once, "testuser")
    accession = submit_one(token, date="2024-03-04")
    keep, drop = uploaded_file(token, b"keep me"), uploaded_file(token, b"drop me")
    client.submit_edited_data(
        token,
        "ebola-sudan",
        accession,
        1,
        {"sampleCollectionDate": "2024-03-04", "geoLocCountry": "Uganda"},
        {"sample1": "ACGT"},
        {"rawReads": [(keep, "keep.fq"), (drop, "drop.fq")]},
    )
    client.get_sequences(token, "ebola-sudan")  # processed again
    page = text(editor.get(edit_url(accession)))
    assert page.count("already attached") == 2
    assert 'data-testid="status_rawReads_keep.fq">✓' in page
    rows = {f.path: f for f in ExtraFile.objects.all()}
    assert {name: (f.file_id, f.kept) for name, f in rows.items()} == {
        "keep.fq": (keep, True),
        "drop.fq": (drop, True),
    }
    draft = Draft.objects.get()
    assert editor.post(f"/drafts/{draft.pk}/file/{rows['drop.fq'].pk}/remove").status_code == 200
    new = new_upload(token, draft, "new.fq", b"new reads")
    response = editor.post(edit_url(accession), edited(FIXED, **{"sequence-sample1": "ACGT"}))
    assert response.status_code == 302, text(response)
    data = client.get_data_to_edit(token, "ebola-sudan", accession, 1)
    assert data.files == {"rawReads": ((new, "new.fq"), (keep, "keep.fq"))} or data.files == {
        "rawReads": ((keep, "keep.fq"), (new, "new.fq"))
    }


def test_a_file_still_uploading_holds_the_edit_back(editor: Client, at_once: RunningSandbox) -> None:
    accession = submit_one(token_of(at_once, "testuser"), date="2024-03-04")
    editor.get(edit_url(accession))
    ExtraFile.objects.create(draft=Draft.objects.get(), category="rawReads", path="big.bam", size=5, group_id=1)
    response = editor.post(edit_url(accession), FIXED)
    assert response.status_code == 409
    assert "1 extra file(s) are not uploaded yet (big.bam)" in text(response)
    assert Draft.objects.get().status == Draft.Status.OPEN


def test_the_portals_own_checks_come_first_and_nothing_is_sent(editor: Client, at_once: RunningSandbox) -> None:
    token = token_of(at_once, "testuser")
    accession = submit_one(token)
    editor.get(edit_url(accession))
    response = editor.post(edit_url(accession), edited(FIXED, **{"sequence-sample1": "AC GT 12"}))
    assert response.status_code == 400
    page = text(response)
    assert "The sequence sample1 contains “1” on line 1, which is not a nucleotide code." in page
    assert "Nothing has been sent to Loculus yet." in page
    assert ">AC GT 12</textarea>" in page  # kept as typed
    assert f"Metadata field sampleCollectionDate:'{FUTURE}' is in the future." in page  # processing's words stay
    (entry,) = client.get_sequences(token, "ebola-sudan").entries
    assert entry.status == "PROCESSED"


def test_another_groups_entry_is_refused_in_plain_words(client: Client, at_once: RunningSandbox) -> None:
    accession = submit_one(token_of(at_once, "otheruser"), group_id=3)
    editor = signed_in_as(client, at_once, "testuser")
    response = editor.get(edit_url(accession))
    assert response.status_code == 403
    page = text(response)
    assert "You can only edit entries of your own submitting groups" in page
    assert 'id="edit-form"' not in page
    assert not Draft.objects.exists()


def test_a_user_in_no_group_cannot_edit(client: Client, at_once: RunningSandbox) -> None:
    accession = submit_one(token_of(at_once, "testuser"))
    response = signed_in_as(client, at_once, "newuser").get(edit_url(accession))
    assert response.status_code == 403
    assert "You can only edit entries of your own submitting groups" in text(response)


def test_an_entry_awaiting_processing_cannot_be_opened_yet(editor: Client, at_once: RunningSandbox) -> None:
    at_once.configure(processing_delay_seconds=60)
    accession = submit_one(token_of(at_once, "testuser"))
    response = editor.get(edit_url(accession))
    assert response.status_code == 502
    assert "This happens while an entry is awaiting processing or in processing" in text(response)


def test_an_entry_that_went_back_to_processing_meanwhile_refuses_the_edit_and_keeps_it(
    editor: Client, at_once: RunningSandbox
) -> None:
    token = token_of(at_once, "testuser")
    accession = submit_one(token)
    editor.get(edit_url(accession))
    at_once.configure(processing_delay_seconds=60)
    # Edited from another tab (or the Loculus website) meanwhile: the entry awaits processing again.
    client.submit_edited_data(token, "ebola-sudan", accession, 1, {"geoLocCountry": "Uganda"}, {"sample1": "A"}, None)
    response = editor.post(edit_url(accession), edited(FIXED, geoLocCountry="Kenya"))
    assert response.status_code == 400
    page = text(response)
    assert (
        f"Loculus takes edits only of processed entries, and {accession}.1 is awaiting processing now. Nothing was "
        "changed in Loculus; what you typed is kept here."
    ) in page
    assert 'name="geoLocCountry" value="Kenya"' in page
    assert Draft.objects.get().values["geoLocCountry"] == "Kenya"
    assert Draft.objects.get().status == Draft.Status.OPEN


def test_a_malformed_accession_is_not_found(editor: Client) -> None:
    assert editor.get("/ebola-sudan/submission/edit/LOC-1/1/").status_code == 404
    assert editor.get("/ebola-sudan/submission/edit/LOC%201/1/").status_code == 404


def test_processing_warnings_sit_beside_their_field_too(editor: Client, at_once: RunningSandbox) -> None:
    accession = submit_one(token_of(at_once, "testuser"), date="2024-03")
    page = text(editor.get(edit_url(accession)))
    found = page[page.index('id="processing-sampleCollectionDate"') : page.index('id="field-sampleCollectionDate"')]
    assert '<li class="field-warning"><span class="visually-hidden">Processing warning: </span>' in found
    assert "Metadata field sampleCollectionDate:'2024-03' - " in found
    assert "field-error" not in found


def test_autosave_keeps_the_edit_fields_and_sequence_boxes_only(editor: Client, at_once: RunningSandbox) -> None:
    accession = submit_one(token_of(at_once, "testuser"))
    editor.get(edit_url(accession))
    draft = Draft.objects.get()
    posted = {"geoLocCountry": "Kenya", "sequence-sample1": "GGGG", "sequence-other": "TTTT", "id": "renamed"}
    assert editor.post(f"/drafts/{draft.pk}/save", posted).status_code == 204
    draft.refresh_from_db()
    assert (draft.values["geoLocCountry"], draft.values["sequence-sample1"]) == ("Kenya", "GGGG")
    assert draft.values["id"] == "sample1"
    assert "sequence-other" not in draft.values
    page = text(editor.get(edit_url(accession)))  # the page shows what was kept, not Loculus's data again
    assert 'name="geoLocCountry" value="Kenya"' in page
    assert ">GGGG</textarea>" in page


def test_my_drafts_lists_an_unsent_edit_with_a_link_back(editor: Client, at_once: RunningSandbox) -> None:
    accession = submit_one(token_of(at_once, "testuser"))
    editor.get(edit_url(accession))
    page = text(editor.get("/drafts/"))
    assert f"Edits of {accession}.1 (sample1)" in page
    assert f'href="{edit_url(accession)}"' in page


def test_an_edits_group_is_its_entrys_and_cannot_be_changed(editor: Client, at_once: RunningSandbox) -> None:
    accession = submit_one(token_of(at_once, "testuser"))
    editor.get(edit_url(accession))
    draft = Draft.objects.get()
    assert editor.post(f"/drafts/{draft.pk}/group", {"group": "2"}).status_code == 302
    draft.refresh_from_db()
    assert draft.group_id == 1


def test_a_file_loculus_does_not_have_is_refused_in_plain_words_and_nothing_changes(
    editor: Client, at_once: RunningSandbox
) -> None:
    token = token_of(at_once, "testuser")
    accession = submit_one(token, date="2024-03-04")
    editor.get(edit_url(accession))
    (never_uploaded,) = client.request_upload(token, group_id=1, number_files=1)  # URL handed out, no bytes sent
    ExtraFile.objects.create(
        draft=Draft.objects.get(),
        category="rawReads",
        path="lost.fq",
        size=4,
        group_id=1,
        file_id=never_uploaded.file_id,
        method=ExtraFile.Method.SINGLE,
        status=ExtraFile.Status.UPLOADED,
    )
    response = editor.post(edit_url(accession), edited(FIXED, geoLocCountry="Kenya"))
    assert response.status_code == 400
    page = text(response)
    assert "Loculus no longer has an uploaded file" in page
    assert "Loculus request ID:" in page
    assert 'name="geoLocCountry" value="Kenya"' in page
    assert Draft.objects.get().status == Draft.Status.OPEN
    data = client.get_data_to_edit(token, "ebola-sudan", accession, 1)
    assert (data.status, data.metadata["geoLocCountry"]) == ("PROCESSED", "Uganda")


def test_an_entry_changed_in_loculus_meanwhile_is_said_and_the_edit_can_start_again(
    editor: Client, at_once: RunningSandbox
) -> None:
    token = token_of(at_once, "testuser")
    accession = submit_one(token)
    assert "changed-in-loculus" not in text(editor.get(edit_url(accession)))
    editor.post(f"/drafts/{Draft.objects.get().pk}/save", {"geoLocCountry": "Kenya"})
    # Edited on the Loculus website meanwhile, and processed again.
    client.submit_edited_data(
        token, "ebola-sudan", accession, 1, {"sampleCollectionDate": "2023-01-01"}, {"sample1": "ACGT"}, None
    )
    page = text(editor.get(edit_url(accession)))
    assert "This entry has changed in Loculus since you started editing it here" in page
    assert 'name="geoLocCountry" value="Kenya"' in page  # the user's edits stay until they choose
    response = editor.post(edit_url(accession), {"start_again": "yes"})
    assert (response.status_code, response.headers["Location"]) == (302, edit_url(accession))
    page = text(editor.get(edit_url(accession)))
    assert "changed-in-loculus" not in page
    assert 'name="sampleCollectionDate" value="2023-01-01"' in page
    assert 'name="geoLocCountry" value=""' in page
    assert Draft.objects.count() == 1


def test_a_multi_segment_entry_has_one_box_per_submitted_fasta_id(editor: Client, at_once: RunningSandbox) -> None:
    token = token_of(at_once, "testuser")
    metadata = "id\tsampleCollectionDate\tgeoLocCountry\tfastaIds\niso1\t2024-03-04\tUganda\tiso1_L iso1_S\n"
    (entry,) = client.submit(
        token,
        "cchf",
        group_id=1,
        metadata=client.UploadPart("metadata.tsv", io.BytesIO(metadata.encode())),
        sequences=client.UploadPart("sequences.fasta", io.BytesIO(b">iso1_L\nACGT\n>iso1_S\nGGCC\n")),
        data_use_terms=client.DataUseTerms("OPEN"),
    )
    client.get_sequences(token, "cchf")
    url = f"/cchf/submission/edit/{entry.accession}/1/"
    page = text(editor.get(url))
    assert '<label for="field-sequence-iso1_L">iso1_L</label>' in page
    assert '<label for="field-sequence-iso1_S">iso1_S</label>' in page
    posted = {"sampleCollectionDate": "2024-03-04", "geoLocCountry": "Uganda", "sequence-iso1_L": "TTTT"}
    response = editor.post(url, {**posted, "sequence-iso1_S": ""})  # the S segment left out
    assert response.status_code == 302, text(response)
    data = client.get_data_to_edit(token, "cchf", entry.accession, 1)
    assert data.sequences == {"iso1_L": "TTTT"}


def test_the_metadata_sent_keeps_what_the_form_does_not_show_and_leaves_out_fields_never_filled(
    at_once: RunningSandbox, django_user_model: Any
) -> None:
    from submitportal.loculus import instance
    from submitportal.single_entry import Entry
    from submitportal.submission_parts import edited_data

    organism = instance.get_instance().organisms["ebola-sudan"]
    user = django_user_model.objects.create(username="testuser")
    draft = Draft.objects.create(user=user, organism="ebola-sudan", kind=Draft.Kind.EDIT, group_id=1)
    entry = Entry("sample1", {"geoLocCountry": "", "hostNameScientific": "", "authors": "Smith, Anna"}, (("s", "A"),))
    sent = edited_data(draft, organism, entry, {"geoLocCountry": "Uganda", "labOnly": "x"})
    # An emptied field that was submitted is sent empty; one never filled is left out, as the website does.
    assert sent.metadata == {"geoLocCountry": "", "labOnly": "x", "authors": "Smith, Anna"}
    assert (sent.sequences, sent.files) == ({"s": "A"}, {})
