"""The single-entry form's server side: what the user sees for each backend problem, and nothing lost."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from submitportal.loculus import client
from submitportal.models import Draft

pytestmark = pytest.mark.django_db

VALID = {
    "id": "sample-7",
    "sampleCollectionDate": "2024-05-01",
    "geoLocCountry": "Uganda",
    "sequence-main": ">x\nACGTACGT",
    "data_use_terms": "OPEN",
    "confirmation-no-pii": "on",
    "confirmation-INSDC-upload-terms": "on",
    "confirm_open": "yes",
}


@pytest.fixture
def form_url(signed_in: Client, loculus_info: dict[str, Any], settings: Any) -> str:
    settings.LOCULUS_FILES_PROTOCOL = "metadataColumns"
    response = signed_in.get("/ebola-sudan/submission/form/")
    assert response.status_code == 302
    return str(response.headers["Location"])


def values_for_required_fields() -> dict[str, str]:
    from submitportal.loculus import instance

    values = dict(VALID)
    for field in instance.get_instance().organisms["ebola-sudan"].required_fields:
        values.setdefault(field.name, field.example or "x")
    return values


def problem(
    status: int | None, detail: str, cls: type[client.LoculusError], title: str = "Problem"
) -> client.LoculusError:
    return cls(status=status, title=title, detail=detail, request_id="req-123")


@pytest.mark.parametrize(
    ("error", "status", "shown"),
    [
        (
            problem(
                None, "The portal could not connect to the Loculus backend at http://x.", client.BackendUnreachable
            ),
            502,
            "Loculus could not be reached, so nothing was submitted",
        ),
        (
            problem(
                None, "The Loculus backend at http://x did not answer in time (ReadTimeout).", client.BackendTimeout
            ),
            502,
            "It may still have received the submission",
        ),
        (
            problem(403, "User testuser is not a member of group(s) 1. Action not allowed.", client.Forbidden),
            400,
            "You are not (or no longer) a member of the submitting group (number 1). Please choose one of your "
            "groups at the top of the page, or ask a group administrator to add you again.",
        ),
        (
            problem(404, "Group(s) 1 do(es) not exist.", client.NotFound),
            400,
            "The submitting group (number 1) no longer exists in Loculus. Please choose another of your groups",
        ),
        (
            problem(400, "Required parameter 'groupId' is not present.", client.Rejected),
            400,
            "No submitting group is chosen for this submission. Please choose your submitting group at the top",
        ),
        (
            problem(
                400,
                "The date 'restrictedUntil' must be in the future, up to a maximum of 1 year from now.",
                client.Rejected,
            ),
            400,
            "The date until which the data are restricted must be from today to one year ahead.",
        ),
        (
            problem(422, "The following file IDs do not exist: 0f2f4a4e-3c1b-4d59-9f0e-b6a0b0b0b0b0", client.Rejected),
            400,
            "Loculus no longer has an uploaded file (it deletes uploads that no submission uses after a few days).",
        ),
        (
            problem(400, "Sequence file has wrong extension.", client.Rejected),
            400,
            "Failed to submit sequence entries: Sequence file has wrong extension.",
        ),
        (
            problem(422, "Metadata file contains at least one duplicate submissionId", client.Rejected),
            400,
            "The submitted file content was invalid: Metadata file contains at least one duplicate submissionId",
        ),
        (
            problem(
                503,
                "This Loculus instance is in read-only mode; write requests are disabled.",
                client.BackendFailed,
                "Service Unavailable",
            ),
            502,
            "Loculus had a problem with this submission (503 Service Unavailable): This Loculus instance",
        ),
    ],
)
def test_each_backend_problem_is_shown_in_words_and_the_form_keeps_its_values(
    signed_in: Client,
    form_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: client.LoculusError,
    status: int,
    shown: str,
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise error

    monkeypatch.setattr(client, "submit", refuse)
    response = signed_in.post(form_url, values_for_required_fields())
    page = html.unescape(response.content.decode())
    assert response.status_code == status
    # The operator finds Loculus's own words in the log, whatever the user was shown.
    assert any(error.detail in r.getMessage() and "req-123" in r.getMessage() for r in caplog.records)
    assert '<div class="problem" role="alert" id="problem">' in response.content.decode()
    assert shown in page
    assert "req-123" in page
    assert 'value="sample-7"' in page
    assert ">&gt;x\nACGTACGT</textarea>" in response.content.decode()  # the sequence as typed, header and all
    assert Draft.objects.get().status == Draft.Status.OPEN


def test_a_401_at_submit_sends_the_user_to_sign_in_and_keeps_what_they_typed(
    signed_in: Client, form_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise problem(401, "Bearer", client.Unauthorized)

    monkeypatch.setattr(client, "submit", refuse)
    response = signed_in.post(form_url, values_for_required_fields())
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/signin?next=")
    assert Draft.objects.get().values["id"] == "sample-7"


def test_a_submission_goes_out_once_and_then_shows_its_result(
    signed_in: Client, form_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []

    def accept(token: str, organism: str, **kwargs: Any) -> list[client.SubmittedEntry]:
        calls.append({"organism": organism, **kwargs, "metadata": kwargs["metadata"].stream.read().decode()})
        return [client.SubmittedEntry("LOC_000001Y", 1, "sample-7")]

    monkeypatch.setattr(client, "submit", accept)
    response = signed_in.post(form_url, values_for_required_fields())
    assert response.status_code == 302
    assert response.headers["Location"] == form_url + "result"
    again = signed_in.post(form_url, values_for_required_fields())
    assert again.status_code == 302  # a second post shows the first result; nothing is sent again
    assert len(calls) == 1
    assert calls[0]["group_id"] == 1
    assert calls[0]["metadata"].startswith("id\t")
    result = signed_in.get(form_url + "result").content.decode()
    assert "LOC_000001Y.1" in result


def test_open_terms_are_confirmed_once_more_before_anything_is_sent(
    signed_in: Client, form_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client, "submit", lambda *a, **k: pytest.fail("submitted without confirmation"))
    values = values_for_required_fields()
    del values["confirm_open"]
    page = signed_in.post(form_url, values).content.decode()
    assert "You have selected the Open Data Use Terms." in page
    assert "Continue under Open terms" in page


def test_another_users_draft_is_not_found(signed_in: Client, form_url: str) -> None:
    from django.contrib.auth import get_user_model

    other = get_user_model().objects.create(username="otheruser")
    theirs = Draft.objects.create(user=other, organism="ebola-sudan", kind=Draft.Kind.FORM)
    assert signed_in.get(f"/ebola-sudan/submission/form/{theirs.pk}/").status_code == 404
    assert signed_in.post(f"/drafts/{theirs.pk}/files/rawReads/", {"files": "[]"}).status_code == 404


def test_after_a_timeout_the_portal_asks_loculus_before_submitting_again(
    signed_in: Client, form_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[int] = []

    def time_out(*args: Any, **kwargs: Any) -> None:
        attempts.append(1)
        raise problem(
            None, "The Loculus backend at http://x did not answer in time (ReadTimeout).", client.BackendTimeout
        )

    monkeypatch.setattr(client, "submit", time_out)
    first = signed_in.post(form_url, values_for_required_fields())
    assert "It may still have received the submission" in html.unescape(first.content.decode())
    assert Draft.objects.get().unclear_submit_at is not None
    page = signed_in.get(form_url).content.decode()
    assert "the portal will ask Loculus which of its entries it already has" in page

    received = client.SequencesPage(
        entries=(
            client.SequenceEntry("LOC_00000AB", 1, "RECEIVED", None, 1, "testuser", "sample-7", False, None),
            client.SequenceEntry("LOC_00000CD", 1, "RECEIVED", None, 1, "testuser", "someone-else", False, None),
        ),
        status_counts={"RECEIVED": 2},
        processing_result_counts={},
    )
    monkeypatch.setattr(client, "get_sequences", lambda *a, **k: received)
    second = signed_in.post(form_url, values_for_required_fields())
    assert second.status_code == 302
    assert second.headers["Location"] == form_url + "result"
    assert len(attempts) == 1  # nothing was sent a second time
    result = signed_in.get(form_url + "result").content.decode()
    assert "LOC_00000AB.1" in result
    assert "Loculus had received it" in result


def test_after_a_timeout_with_nothing_received_the_submit_goes_ahead(
    signed_in: Client, form_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Draft.objects.update(unclear_submit_at=datetime(2026, 11, 28, tzinfo=UTC))
    monkeypatch.setattr(
        client,
        "get_sequences",
        lambda *a, **k: client.SequencesPage(entries=(), status_counts={}, processing_result_counts={}),
    )
    sent: list[int] = []

    def accept(*args: Any, **kwargs: Any) -> list[client.SubmittedEntry]:
        sent.append(1)
        return [client.SubmittedEntry("LOC_000001Y", 1, "sample-7")]

    monkeypatch.setattr(client, "submit", accept)
    assert signed_in.post(form_url, values_for_required_fields()).status_code == 302
    assert sent == [1]
    assert Draft.objects.get().unclear_submit_at is None


def test_autosave_changes_only_what_it_was_sent(signed_in: Client, form_url: str) -> None:
    draft = Draft.objects.get()
    save = f"/drafts/{draft.pk}/save"
    terms = {"data_use_terms": "OPEN", "confirmation-INSDC-upload-terms": "on"}
    assert signed_in.post(save, {**terms, "confirmation-no-pii": "on"}).status_code == 204
    assert signed_in.post(save, {"id": "sample-9"}).status_code == 204  # the fields alone: the terms stay
    values = Draft.objects.get().values
    assert (values["id"], values["confirmation-no-pii"]) == ("sample-9", "on")
    assert signed_in.post(save, terms).status_code == 204  # the terms sent with the no-PII box unticked
    values = Draft.objects.get().values
    assert (values["id"], values["confirmation-no-pii"], values["confirmation-INSDC-upload-terms"]) == (
        "sample-9",
        "",
        "on",
    )


# --- dates and options, judged as in the bulk check (issue 18, item 6) ---


def page_text(response: Any) -> str:
    return html.unescape(response.content.decode())


def test_a_date_loculus_cannot_read_blocks_the_submit_with_the_message_beside_the_field(
    signed_in: Client, form_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client, "submit", lambda *a, **k: pytest.fail("submitted a date Loculus cannot read"))
    values = {**values_for_required_fields(), "sampleCollectionDate": "18/03/2024"}
    response = signed_in.post(form_url, values)
    page = page_text(response)
    message = (
        "Collection date (“sampleCollectionDate”) “18/03/2024”: the date format is not recognized. Loculus reads "
        "dates as YYYY-MM-DD (e.g. 2024-03-18), or YYYY-MM or YYYY when the day or month is not known. "
        "Did you mean 2024-03-18?"
    )
    assert response.status_code == 400
    assert f'<p class="field-error" id="error-sampleCollectionDate">{message}</p>' in page
    assert 'value="18/03/2024"' in page  # what they typed is kept
    assert Draft.objects.get().values["sampleCollectionDate"] == "18/03/2024"


@pytest.mark.parametrize("value", ["2024-13-01", "2999-01-01"])
def test_an_impossible_or_future_date_blocks_the_submit(
    signed_in: Client, form_url: str, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setattr(client, "submit", lambda *a, **k: pytest.fail("submitted a date the pipeline refuses"))
    response = signed_in.post(form_url, {**values_for_required_fields(), "sampleCollectionDate": value})
    assert response.status_code == 400
    expected = "the date format is not recognized" if value == "2024-13-01" else "is in the future"
    assert expected in page_text(response).split('id="error-sampleCollectionDate">')[1].split("</p>")[0]


def test_warnings_are_shown_beside_their_fields_once_and_the_second_submit_sends_the_entry(
    signed_in: Client, form_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []

    def accept(token: str, organism: str, **kwargs: Any) -> list[client.SubmittedEntry]:
        sent.append(kwargs["metadata"].stream.read().decode())
        return [client.SubmittedEntry("LOC_000001Y", 1, "sample-7")]

    monkeypatch.setattr(client, "submit", accept)
    values = {**values_for_required_fields(), "sampleCollectionDate": "2024-03", "geoLocCountry": "Ugnda"}
    first = signed_in.post(form_url, values)
    page = page_text(first)
    assert first.status_code == 200
    assert sent == []
    assert (
        '<p class="field-warning" id="warning-geoLocCountry"><span class="visually-hidden">Warning: </span>'
        "“Ugnda” is not one of the listed values of Collection country (“geoLocCountry”). Loculus accepts it "
        "as free text, but please check it.</p>"
    ) in page
    assert (
        "Collection date (“sampleCollectionDate”) “2024-03”: the day is missing. Loculus will assume the 1st "
        "(2024-03-01); if you know the day, please give the full date (YYYY-MM-DD)."
    ) in page
    assert "Please check 2 values" in page
    assert 'value="Ugnda"' in page and 'value="2024-03"' in page
    seen = page.split('name="warnings_seen" value="')[1].split('"')[0]
    # The same values again, with the warnings seen: the entry goes out as typed.
    second = signed_in.post(form_url, {**values, "warnings_seen": seen})
    assert second.status_code == 302
    assert len(sent) == 1 and "\t2024-03\t" in sent[0] and "Ugnda" in sent[0]


def test_a_changed_value_with_a_new_warning_is_shown_again(
    signed_in: Client, form_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client, "submit", lambda *a, **k: pytest.fail("submitted past an unseen warning"))
    values = {**values_for_required_fields(), "geoLocCountry": "Ugnda"}
    page = page_text(signed_in.post(form_url, values))
    seen = page.split('name="warnings_seen" value="')[1].split('"')[0]
    again = signed_in.post(form_url, {**values, "geoLocCountry": "Ugandaa", "warnings_seen": seen})
    assert again.status_code == 200
    assert "“Ugandaa” is not one of the listed values of Collection country" in page_text(again)
