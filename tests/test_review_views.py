"""Review pending submissions, against the sandbox: the organism page's card, the group and batch views,
the self-refreshing list, and the actions with what Loculus answered (contract §5.1-5.5)."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from django.test import Client

from sandbox.launcher import RunningSandbox
from submitportal.models import Draft
from tests.sandbox.helpers import Backend, fasta, tsv

pytestmark = pytest.mark.django_db

NEXT_YEAR = str(dt.datetime.now(dt.UTC).year + 1)
REVIEW = "/ebola-sudan/submission/1/review/"
ACTION = "/ebola-sudan/submission/1/review/action"


def text(response: Any) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def submit(backend: Backend, rows: list[tuple[str, str, str]], group_id: int = 1) -> list[str]:
    """Submit (id, date, country) rows to ebola-sudan as testuser; the accessions, in row order."""
    metadata = tsv(["id", "sampleCollectionDate", "geoLocCountry"], *[list(row) for row in rows])
    response = backend.submit(
        "ebola-sudan", metadata, fasta(*[(row[0], "ACGT" * 10) for row in rows]), group_id=group_id
    )
    assert response.status_code == 200, response.text
    return [item["accession"] for item in response.json()]


def statuses(backend: Backend) -> dict[str, str]:
    """accession -> status, of testuser's entries in the sandbox."""
    body = backend.get("/ebola-sudan/get-sequences").json()
    return {e["accession"]: e["status"] for e in body["sequenceEntries"]}


def batch_draft(client: Client, accessions: list[str], submission_ids: list[str]) -> Draft:
    """A submitted draft whose result names these entries (what the submit records)."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="testuser")
    entries = [
        {"accession": a, "version": 1, "submissionId": s} for a, s in zip(accessions, submission_ids, strict=True)
    ]
    return Draft.objects.create(
        user=user,
        organism="ebola-sudan",
        kind=Draft.Kind.BULK,
        group_id=1,
        status=Draft.Status.SUBMITTED,
        result={"entries": entries, "groupId": 1},
    )


def act(client: Client, **fields: str) -> Any:
    return client.post(ACTION, {"confirmed": "1", **fields}, HTTP_HX_REQUEST="true")


def test_the_organism_page_has_a_review_card_with_the_count_awaiting_review(portal: Client, backend: Backend) -> None:
    assert "sequences awaiting review" not in text(portal.get("/ebola-sudan/submission/"))
    submit(backend, [("s1", "2024-03-18", "Uganda"), ("s2", "2024-03-18", "Kenya")])
    page = text(portal.get("/ebola-sudan/submission/"))
    assert "Review Review your group's unreleased submissions. 2 sequences awaiting review" in page
    assert portal.get("/ebola-sudan/submission/review/")["Location"] == REVIEW
    assert "Review for another of your groups: Sandbox Lab Kampala" in text(portal.get(REVIEW))


def test_each_entry_shows_its_status_metadata_errors_and_warnings_in_the_websites_words(
    portal: Client, backend: Backend
) -> None:
    ok, warned, wrong = submit(
        backend, [("s1", "2024-03-18", "Uganda"), ("s2", "2024-03", "Kenya"), ("s3", f"{NEXT_YEAR}-01-02", "Kenya")]
    )
    page = text(portal.get(REVIEW))
    assert "Review pending submissions" in page
    assert "3 of 3 sequences processed" in page
    assert (
        "1 awaiting processing" not in page
        and "0 awaiting processing 1 no issues 1 with warnings 1 with errors" in page
    )
    assert f"{ok}.1 s1 Passed QC To be released as open data" in page
    assert f"{warned}.1 s2 Passed QC with warnings" in page
    assert f"{wrong}.1 s3 Error detected" in page
    assert "Collection date 2024-03-18 Collection country Uganda" in page  # processed metadata, display names
    assert re.search(r"Collection date: .*2024-03.*", page)  # the warning names its field by display name
    assert re.search(rf"Collection date: .*{NEXT_YEAR}-01-02.*", page)
    assert "Approve 2 valid sequence(s)" in page
    assert "Discard 1 sequence(s) with errors" in page
    assert "Discard all 3 processed sequences" in page
    assert "You need to fix the errors before approving this sequence entry" in page  # s3's Approve is disabled


def test_the_filters_narrow_the_list_while_the_counts_stay_totals(portal: Client, backend: Backend) -> None:
    ok, warned, wrong = submit(
        backend, [("s1", "2024-03-18", "Uganda"), ("s2", "2024-03", "Kenya"), ("s3", f"{NEXT_YEAR}-01-02", "Kenya")]
    )
    page = text(portal.get(REVIEW, {"f": "1", "errors": "1"}))
    assert f"{wrong}.1" in page and f"{ok}.1" not in page and f"{warned}.1" not in page
    assert "0 awaiting processing 1 no issues 1 with warnings 1 with errors" in page
    nothing = text(portal.get(REVIEW, {"f": "1"}))
    assert "No sequence entries match the chosen filters." in nothing


def test_a_large_group_is_paged(portal: Client, backend: Backend) -> None:
    accessions = submit(backend, [(f"s{i:02}", "2024-03-18", "Uganda") for i in range(25)])
    first = portal.get(REVIEW, {"size": "10"})
    assert "Page 1 of 3" in text(first)
    assert text(first).count("Passed QC ") == 10
    last = text(
        portal.get(
            REVIEW,
            {"f": "1", "awaiting": "1", "noIssues": "1", "warnings": "1", "errors": "1", "page": "2", "size": "10"},
        )
    )
    assert "Page 3 of 3" in last and sorted(accessions)[-1] in last and sorted(accessions)[0] not in last


def test_the_list_refreshes_itself_only_while_something_is_unprocessed(
    portal: Client, backend: Backend, loculus: RunningSandbox
) -> None:
    loculus.configure(processing_delay_seconds=600)
    (accession,) = submit(backend, [("s1", "2024-03-18", "Uganda")])
    page = portal.get(REVIEW).content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert "Awaiting processing" in text(portal.get(REVIEW))
    state = html.unescape(re.search(r"hx-vals='(.*?)'", page).group(1))
    import json

    shown = json.loads(state)["state"]
    assert portal.get(REVIEW, {"poll": "1", "state": shown}, HTTP_HX_REQUEST="true").status_code == 204
    loculus.configure(processing_delay_seconds=0)
    changed = portal.get(REVIEW, {"poll": "1", "state": shown}, HTTP_HX_REQUEST="true")
    assert changed.status_code == 200
    assert f"{accession}.1 s1 Passed QC" in text(changed)
    assert 'hx-trigger="every 2s"' not in changed.content.decode()  # all processed: the polling stops
    assert "<html" not in changed.content.decode()  # the live region only


def test_approving_a_batch_approves_its_valid_entries_only(portal: Client, backend: Backend) -> None:
    mine = submit(backend, [("a1", "2024-03-18", "Uganda"), ("a2", f"{NEXT_YEAR}-01-02", "Kenya")])
    other = submit(backend, [("b1", "2024-03-18", "Uganda")])
    draft = batch_draft(portal, mine, ["a1", "a2"])
    result = f"/ebola-sudan/submission/bulk/{draft.pk}/result"
    page = text(portal.get(result))
    assert "1 of 2" not in page and "2 of 2 sequences processed in this submission" in page
    assert other[0] not in page.split("Review this submission")[1]
    answer = act(portal, action="approve", what="valid", batch=str(draft.pk))
    assert "🎉 1 sequence(s) approved. They will appear on the website shortly." in text(answer)
    assert statuses(backend) == {mine[0]: "APPROVED_FOR_RELEASE", mine[1]: "PROCESSED", other[0]: "PROCESSED"}
    again = text(portal.get(result))
    assert f"{mine[0]}.1 a1 Approved for release" in again
    assert "1 of 1 sequences processed in this submission" in again


def test_a_refused_action_shows_the_backends_words_next_to_the_entry_and_changes_nothing(
    portal: Client, backend: Backend
) -> None:
    (wrong,) = submit(backend, [("s3", f"{NEXT_YEAR}-01-02", "Kenya")])
    answer = text(act(portal, action="approve", what="entry", entry=f"{wrong}.1"))
    assert f"Failed to approve processed sequence entries: Has errors: {wrong}.1." in answer
    assert f"{wrong}.1 s3 Error detected" in answer
    assert statuses(backend) == {wrong: "PROCESSED"}


def test_discarding_all_processed_leaves_those_awaiting_processing(
    portal: Client, backend: Backend, loculus: RunningSandbox
) -> None:
    processed = submit(backend, [("s1", "2024-03-18", "Uganda"), ("s2", f"{NEXT_YEAR}-01-02", "Kenya")])
    assert set(statuses(backend).values()) == {"PROCESSED"}
    loculus.configure(processing_delay_seconds=600)
    (waiting,) = submit(backend, [("s3", "2024-03-18", "Uganda")])
    answer = text(act(portal, action="discard", what="processed"))
    assert "2 sequence(s) discarded." in answer
    assert statuses(backend) == {waiting: "RECEIVED"}
    assert processed[0] not in answer


def test_discarding_errors_and_one_entry(portal: Client, backend: Backend) -> None:
    ok, _ = submit(backend, [("s1", "2024-03-18", "Uganda"), ("s2", f"{NEXT_YEAR}-01-02", "Kenya")])
    assert "1 sequence(s) with errors discarded." in text(act(portal, action="discard", what="errors"))
    assert statuses(backend) == {ok: "PROCESSED"}
    assert f"{ok}.1 discarded." in text(act(portal, action="discard", what="entry", entry=f"{ok}.1"))
    assert statuses(backend) == {}
    assert "You do not currently have any unreleased sequences awaiting review." in text(portal.get(REVIEW))


def test_without_script_an_action_is_confirmed_on_a_page_of_its_own(portal: Client, backend: Backend) -> None:
    (ok,) = submit(backend, [("s1", "2024-03-18", "Uganda")])
    asked = portal.post(ACTION, {"action": "approve", "what": "entry", "entry": f"{ok}.1"})
    assert f"Are you sure you want to approve {ok}.1?" in text(asked)
    assert statuses(backend) == {ok: "PROCESSED"}
    done = portal.post(ACTION, {"action": "approve", "what": "entry", "entry": f"{ok}.1", "confirmed": "1"})
    assert done.status_code == 302
    assert statuses(backend) == {ok: "APPROVED_FOR_RELEASE"}
    assert "Sequence approved. It will appear on the website shortly." in text(portal.get(done["Location"]))


def test_another_groups_review_is_not_found(portal: Client) -> None:
    assert portal.get("/ebola-sudan/submission/999/review/").status_code == 404
    assert act(portal, action="approve", what="valid").status_code == 200  # own group: fine, nothing to do
    refused = portal.post(
        "/ebola-sudan/submission/999/review/action", {"action": "approve", "what": "valid", "confirmed": "1"}
    )
    assert refused.status_code == 404


def test_an_unknown_action_or_entry_is_refused_in_words(portal: Client) -> None:
    unknown = portal.post(ACTION, {"action": "release", "what": "valid"})
    assert (unknown.status_code, unknown.content.decode()) == (400, "Unknown review action.")
    bad = portal.post(ACTION, {"action": "approve", "what": "entry", "entry": "<b>x</b>"})
    assert (bad.status_code, bad.content.decode()) == (400, "Unknown sequence entry.")


def test_an_action_of_many_whose_count_changed_since_the_user_looked_does_nothing(
    portal: Client, backend: Backend
) -> None:
    first = submit(backend, [("s1", "2024-03-18", "Uganda")])
    assert "Approve 1 valid sequence(s)" in text(portal.get(REVIEW))
    second = submit(backend, [("s2", "2024-03-18", "Uganda")])  # processed while the dialog was open
    answer = text(act(portal, action="approve", what="valid", n="1"))
    assert "The list changed while you were deciding: 2 sequence(s) now, not 1. Nothing was done" in answer
    assert statuses(backend) == {first[0]: "PROCESSED", second[0]: "PROCESSED"}
    assert "🎉 2 sequence(s) approved." in text(act(portal, action="approve", what="valid", n="2"))
    assert statuses(backend) == {first[0]: "APPROVED_FOR_RELEASE", second[0]: "APPROVED_FOR_RELEASE"}


def test_a_card_shows_its_extra_files_and_restricted_terms(portal: Client, backend: Backend) -> None:
    file_id = backend.uploaded_file()
    until = (dt.date.today() + dt.timedelta(days=90)).isoformat()
    metadata = tsv(["id", "sampleCollectionDate", "geoLocCountry"], ["f1", "2024-03-18", "Uganda"])
    response = backend.submit(
        "ebola-sudan",
        metadata,
        fasta(("f1", "ACGT" * 10)),
        terms="RESTRICTED",
        restricted_until=until,
        files={"f1": {"rawReads": [("reads_R1.fastq", file_id)]}},
    )
    assert response.status_code == 200, response.text
    (accession,) = [item["accession"] for item in response.json()]
    page = text(portal.get(REVIEW))
    assert f"{accession}.1 f1 Passed QC Under the Restricted Use Terms until {until}" in page
    assert "Files: Raw reads: reads_R1.fastq" in page


def test_a_user_in_no_group_is_led_to_the_page_that_says_how_to_get_one(
    portal: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from submitportal.loculus import client

    monkeypatch.setattr(client, "get_user_groups", lambda token: [])
    assert portal.get("/ebola-sudan/submission/review/")["Location"] == "/ebola-sudan/submission/"
    assert portal.get(REVIEW).status_code == 404


def test_the_result_page_keeps_the_accessions_when_loculus_cannot_say_how_they_are_doing(
    portal: Client, backend: Backend, settings: Any
) -> None:
    accessions = submit(backend, [("s1", "2024-03-18", "Uganda")])
    draft = batch_draft(portal, accessions, ["s1"])
    settings.LOCULUS_BACKEND_URL = "http://127.0.0.1:9"  # nothing listens there
    response = portal.get(f"/ebola-sudan/submission/bulk/{draft.pk}/result")
    assert response.status_code == 200
    page = text(response)
    assert f"s1 {accessions[0]}.1" in page
    assert "Review this submission" in page and "Reload this page to try again." in page


def test_a_poll_compares_the_groups_counts_first_and_the_list_at_least_every_half_minute(
    portal: Client, backend: Backend, loculus: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from submitportal import review
    from submitportal.loculus import client

    loculus.configure(processing_delay_seconds=600)
    (accession,) = submit(backend, [("s1", "2024-03-18", "Uganda")])
    sent = json.loads(html.unescape(re.search(r"hx-vals='(.*?)'", portal.get(REVIEW).content.decode()).group(1)))
    assert set(sent) == {"state", "digest", "keys"}
    calls: list[dict[str, Any]] = []
    real = client.get_sequences

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(client, "get_sequences", counted)
    poll = {"poll": "1", **sent}
    assert portal.get(REVIEW, poll, HTTP_HX_REQUEST="true").status_code == 204  # the first poll looks at the list
    assert len(calls) == 1 and calls[0]["page"] == 0 and calls[0]["size"] == 50
    calls.clear()
    assert portal.get(REVIEW, poll, HTTP_HX_REQUEST="true").status_code == 204
    assert calls == [{"group_ids": [1], "page": 0, "size": 0}]  # then the counts alone, for half a minute
    calls.clear()
    review.cache().clear()  # as if half a minute had passed
    assert portal.get(REVIEW, poll, HTTP_HX_REQUEST="true").status_code == 204
    assert len(calls) == 1 and calls[0]["size"] == 50  # the list again
    loculus.configure(processing_delay_seconds=0)
    changed = portal.get(REVIEW, poll, HTTP_HX_REQUEST="true")
    assert changed.status_code == 200
    assert f"{accession}.1 s1 Passed QC" in text(changed)


def test_a_poll_that_finds_one_entry_changed_sends_that_card_and_the_counts_only(
    portal: Client, backend: Backend, loculus: RunningSandbox
) -> None:
    import json

    done = submit(backend, [("s1", "2024-03-18", "Uganda")])
    backend.get("/ebola-sudan/get-sequences")  # processed at once
    loculus.configure(processing_delay_seconds=600)
    (waiting,) = submit(backend, [("s2", "2024-03-18", "Uganda")])
    page = portal.get(REVIEW).content.decode()
    sent = json.loads(html.unescape(re.search(r"hx-vals='(.*?)'", page).group(1)))
    assert sent["keys"] == f"{done[0]}.1,{waiting}.1"
    loculus.configure(processing_delay_seconds=0)
    answer = portal.get(REVIEW, {"poll": "1", **sent}, HTTP_HX_REQUEST="true")
    body = answer.content.decode()
    assert answer.status_code == 200 and "HX-Retarget" not in answer
    assert re.findall(r'<li class="review-card[^>]*id="entry-([^"]+)" hx-swap-oob="true"', body) == [
        f"{waiting}1".lower()
    ]
    assert 'id="review-progress" role="status" hx-swap-oob="true">2 of 2 sequences processed' in body
    assert '<span id="count-noIssues" hx-swap-oob="true">2 no issues</span>' in body
    assert '<div id="review-poll" hidden hx-swap-oob="true"></div>' in body  # all processed: polling stops
    assert "<section" not in body
    # Another entry on the page (here: one discarded elsewhere) changes the list: it comes whole.
    assert backend.post("/ebola-sudan/approve-processed-data", json={"groupIdsFilter": [1], "scope": "ALL"}).ok
    whole = portal.get(REVIEW, {"poll": "1", **sent}, HTTP_HX_REQUEST="true")
    assert (whole["HX-Retarget"], whole["HX-Reswap"]) == ("#review-live", "outerHTML")
    assert "You do not currently have any unreleased sequences awaiting review." in text(whole)
