"""Review pending submissions: a group's unreleased entries, or one batch (a draft's submit), and the
actions on them (approve, discard), each behind a confirmation and reporting what Loculus said.

The list refreshes itself while anything in it is unprocessed: the page polls the live region, and the
portal answers 204 (nothing to swap) until what it would show differs from what the page shows.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from submitportal import review, signin
from submitportal.loculus import client, instance, plain_words, schema
from submitportal.models import Draft
from submitportal.views.draft_pages import (
    RESULT_SHOWN,
    RESULT_URL_NAMES,
    chosen_group,
    draft_or_404,
    draft_url,
    organism_or_404,
)

log = logging.getLogger("submitportal.review")

TEMPLATE = "submitportal/review.html"
ACCESSION_VERSION = re.compile(r"^([A-Za-z0-9_]+)\.(\d{1,9})$")


GROUPS_SECONDS = 60


def _user_groups(request: HttpRequest) -> list[client.Group]:
    """The user's groups; a refresh of the list (htmx) reuses them for a minute (the backend checks the
    membership of every call anyway, so a stale list can show a page, never its data)."""
    key = f"review-groups:{request.user.pk}"
    if request.htmx:  # type: ignore[attr-defined]
        groups = review.cache().get(key)
        if groups is not None:
            return list(groups)
    groups = client.get_user_groups(signin.access_token(request))
    review.cache().set(key, groups, GROUPS_SECONDS)
    return groups


def groups_and_group(request: HttpRequest, group_id: int) -> tuple[list[client.Group], client.Group]:
    """The user's groups and the one asked for; a group the user is not in is not found."""
    groups = _user_groups(request)
    group = next((g for g in groups if g.group_id == group_id), None)
    if group is None:
        raise Http404("Group not found: you are not a member of this group.")
    return groups, group


def _group_or_404(request: HttpRequest, group_id: int) -> client.Group:
    return groups_and_group(request, group_id)[1]


def bounded_int(value: str | None, default: int, *, low: int, high: int) -> int:
    try:
        return min(max(int(value or default), low), high)
    except ValueError:
        return default


class Scope:
    """What one review view covers: a group, or a batch of it, with the filters and page asked for."""

    def __init__(self, request: HttpRequest, organism: schema.Organism, group: client.Group, draft: Draft | None):
        self.request = request
        self.organism = organism
        self.group = group
        self.draft = draft
        query = request.POST if request.method == "POST" else request.GET
        self.filters = review.Filters.from_query(query, submitted=bool(query.get("f")))
        self.page = bounded_int(query.get("page"), 0, low=0, high=1_000_000)
        size = bounded_int(query.get("size"), review.DEFAULT_PAGE_SIZE, low=1, high=max(review.PAGE_SIZES))
        self.size = size if size in review.PAGE_SIZES else review.DEFAULT_PAGE_SIZE

    @property
    def url(self) -> str:
        if self.draft is not None:
            name = RESULT_URL_NAMES.get(self.draft.kind, "entry-result")
            return reverse(name, kwargs={"organism": self.organism.key, "draft_id": self.draft.pk})
        return reverse("review-group", kwargs={"organism": self.organism.key, "group_id": self.group.group_id})

    def query(self, **changes: Any) -> str:
        params: dict[str, Any] = {"f": "1"} | {name: "1" for name in sorted(self.filters.shown)}
        params.update(page=self.page, size=self.size)
        params.update(changes)
        return urlencode(params)

    def listing(self, token: str) -> review.Listing:
        if self.draft is None:
            return review.group_listing(token, self.organism, self.group.group_id, self.filters, self.page, self.size)
        result = self.draft.result or {}
        return review.batch_listing(
            token,
            self.organism,
            self.group.group_id,
            result.get("entries", []),
            result.get("reviewed", {}),
            self.filters,
            self.page,
            self.size,
        )


def loculus_name() -> str:
    return instance.get_instance().title or "Loculus"


def _edit_url(organism: str, card: review.Card) -> str:
    return reverse("entry-edit", kwargs={"organism": organism, "accession": card.accession, "version": card.version})


def live_context(scope: Scope, listing: review.Listing, **extra: Any) -> dict[str, Any]:
    for card in listing.cards:
        card.edit_url = _edit_url(scope.organism.key, card)  # type: ignore[attr-defined]
    state = f"{listing.counts}|{listing.shown_state}"
    keys = ",".join(card.key for card in listing.cards)
    return {
        "organism": scope.organism,
        "group": scope.group,
        "draft": scope.draft,
        "scope": scope,
        "listing": listing,
        "counts": listing.counts,
        "filters": [
            (name, words, listing.counts.by_filter()[name], name in scope.filters.shown)
            for name, words in review.FILTERS.items()
        ],
        "page_sizes": review.PAGE_SIZES,
        "state": state,
        "keys": keys,
        "digest": listing.digest,
        "action_url": reverse(
            "review-action", kwargs={"organism": scope.organism.key, "group_id": scope.group.group_id}
        ),
        "previous_page": scope.query(page=listing.page - 1) if listing.page > 0 else "",
        "next_page": scope.query(page=listing.page + 1) if listing.page + 1 < listing.pages else "",
        **extra,
    }


def render_live(request: HttpRequest, scope: Scope, **extra: Any) -> HttpResponse:
    """The live region alone (htmx), or 204 when a poll finds nothing changed.

    A poll first asks for the group's counts alone (one small call): unchanged, nothing in the group
    changed status, and the answer is 204 without reading the list. At most every FULL_CHECK_SECONDS a
    page's polls (the same query: the same state shown) read the list anyway and compare what it would
    show, so nothing stays stale for longer, even where two changes left the counts as they were.
    """
    token = signin.access_token(request)
    poll = request.GET.get("poll")
    if poll and request.GET.get("digest"):
        page_key = f"review-checked:{request.user.pk}:{hashlib.sha256(request.get_full_path().encode()).hexdigest()}"
        due = review.cache().add(page_key, True, review.FULL_CHECK_SECONDS)
        if not due and review.group_digest(token, scope.organism.key, scope.group.group_id) == request.GET["digest"]:
            return HttpResponse(status=204)
    listing = scope.listing(token)
    ctx = live_context(scope, listing, **extra)
    if not poll:
        return render(request, f"{TEMPLATE}#live", ctx)
    if request.GET.get("state") == ctx["state"]:
        return HttpResponse(status=204)
    if request.GET.get("keys") == ctx["keys"]:  # the same entries: only what changed, out of band
        shown = _card_states(request.GET.get("state", ""))
        ctx["changed"] = [card for card in listing.cards if shown.get(card.key) != card.state]
        return render(request, "submitportal/_review_poll.html", ctx)
    response = render(request, f"{TEMPLATE}#live", ctx)  # other entries now: the whole list
    response["HX-Retarget"] = "#review-live"
    response["HX-Reswap"] = "outerHTML"
    return response


def _card_states(state: str) -> dict[str, str]:
    """The per-card part of a page's state (see live_context): entry key -> the card's state."""
    cards = state.partition("|")[2]
    return dict(item.split("=", 1) for item in cards.split(",") if "=" in item)


@login_required
@require_GET
def review_chosen(request: HttpRequest, organism: str) -> HttpResponse:
    """The review page of the user's chosen group for this organism."""
    organism_or_404(organism)
    groups = client.get_user_groups(signin.access_token(request))
    if not groups:
        return redirect("organism-submission", organism=organism)
    group = chosen_group(request, organism, groups)
    return redirect("review-group", organism=organism, group_id=group.group_id)


@login_required
@require_GET
def review_group(request: HttpRequest, organism: str, group_id: int) -> HttpResponse:
    chosen = organism_or_404(organism)
    groups, group = groups_and_group(request, group_id)
    scope = Scope(request, chosen, group, None)
    if request.htmx:  # type: ignore[attr-defined]
        return render_live(request, scope)
    listing = scope.listing(signin.access_token(request))
    others = [g for g in groups if g.group_id != group.group_id]
    ctx = live_context(scope, listing, loculus=instance.get_instance(), other_groups=others)
    return render(request, TEMPLATE, ctx)


def batch_scope(request: HttpRequest, organism: schema.Organism, draft: Draft) -> Scope | None:
    """The review scope of a submitted draft, or None when its group is no longer the user's."""
    group_id = (draft.result or {}).get("groupId", draft.group_id)
    groups = _user_groups(request)
    group = next((g for g in groups if g.group_id == group_id), None)
    return Scope(request, organism, group, draft) if group else None


@login_required
@require_GET
def result(request: HttpRequest, organism: str, draft_id: object) -> HttpResponse:
    """What Loculus answered to a draft's submit, either kind: its entries, its files, and the batch's review."""
    chosen = organism_or_404(organism)
    draft = draft_or_404(request, draft_id, organism)
    if draft.status != Draft.Status.SUBMITTED or not draft.result:
        return redirect(draft_url(draft))
    if request.htmx:  # type: ignore[attr-defined]
        scope = batch_scope(request, chosen, draft)
        return render_live(request, scope) if scope else HttpResponse(status=204)
    entries = draft.result.get("entries", [])
    ctx: dict[str, Any] = {
        "loculus": instance.get_instance(),
        "organism": chosen,
        "draft": draft,
        "entries": entries[:RESULT_SHOWN],
        "entry_count": len(entries),
        "files": list(draft.extra_files.all()[:RESULT_SHOWN]),
    }
    try:
        scope = batch_scope(request, chosen, draft)
        if scope is not None:
            ctx.update(live_context(scope, scope.listing(signin.access_token(request))))
    except client.Unauthorized:
        raise
    except client.LoculusError as exc:  # what Loculus accepted is known; how it is doing can wait
        said = plain_words.explain(exc, doing=f"reading the review of draft {draft.pk}")
        ctx["review_problem"] = said or f"{loculus_name()} could not be asked how these entries are doing: {exc.detail}"
    return render(request, "submitportal/entry_result.html", ctx)


# --- Actions ------------------------------------------------------------------------------------

CONFIRM = {
    ("approve", "entry"): "Are you sure you want to approve {entry}?",
    ("approve", "valid"): "Are you sure you want to approve all valid sequences for release?",
    ("discard", "entry"): "Are you sure you want to discard {entry}?",
    ("discard", "errors"): "Are you sure you want to discard all sequences with errors?",
    ("discard", "processed"): "Are you sure you want to discard all {n} processed sequences?",
}

_REVIEW_RULES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"not in one of the states \[PROCESSED\]: (.*)"),
        "Not processed yet: {0}. Wait until it has passed QC (the list refreshes itself), then try again.",
    ),
    (
        re.compile(r"not in one of the states \[RECEIVED, PROCESSED\]: (.*)"),
        "Already released or still in processing: {0}. Released entries are revised or revoked, not discarded.",
    ),
    (
        re.compile(r"Accession versions have errors: (.*)"),
        "Has errors: {0}. Fix them with “Edit this sequence entry” before approving.",
    ),
    (
        re.compile(r"Accession versions (.*) do not exist"),
        "Loculus no longer has {0}: it was approved or discarded meanwhile (perhaps in another tab).",
    ),
    (
        re.compile(r"is not a member of group", re.S),
        "You are not (or no longer) a member of this entry's group, so Loculus refused. Ask a group "
        "administrator to add you again.",
    ),
]


def _said(exc: client.LoculusError, doing: str) -> str:
    """What the backend said about a failed action, in the website's words, plainly when we know how."""
    plain_words.explain(exc, doing=doing)  # logs the original with its request id
    for pattern, words in _REVIEW_RULES:
        match = pattern.search(exc.detail)
        if match:
            return words.format(*[g.strip() for g in match.groups()])
    return exc.detail or exc.title


def _record(draft: Draft | None, keys: list[tuple[str, int]], outcome: str) -> None:
    """Note in the batch's draft what the portal did to its entries (to say so once they leave the list)."""
    if draft is None or not keys:
        return
    with transaction.atomic():
        fresh = Draft.objects.select_for_update().filter(pk=draft.pk).first()
        if fresh is None or not fresh.result:
            return
        reviewed = dict(fresh.result.get("reviewed", {}))
        reviewed.update({f"{a}.{v}": outcome for a, v in keys})
        fresh.result = {**fresh.result, "reviewed": reviewed}
        fresh.save(update_fields=["result"])
        draft.result = fresh.result


class Changed(Exception):
    """The entries an action of many would act on are not as many as the user was shown: nothing is done."""


def _targets(token: str, scope: Scope, what: str) -> list[tuple[str, int]]:
    """The processed entries of the scope an action of many acts on ("valid", "errors", "processed"), now."""
    answer = client.get_sequences(token, scope.organism.key, group_ids=[scope.group.group_id], statuses=["PROCESSED"])
    entries = answer.entries
    if scope.draft is not None:
        submitted = {
            (str(e.get("accession")), int(str(e.get("version", 0))))
            for e in (scope.draft.result or {}).get("entries", [])
        }
        entries = tuple(e for e in entries if (e.accession, e.version) in submitted)
    return review.batch_keys(entries, want=what)


def _act(
    token: str, scope: Scope, action: str, what: str, entry: tuple[str, int] | None, seen: int | None
) -> tuple[str, list]:
    """Do the action; (what to tell the user, the entries Loculus acted on).

    An action of many acts on exactly the entries it names (never the website's whole-group scopes, which
    would take entries that finished processing after the user looked), and only if they are as many as
    the user was shown (`seen`); otherwise Changed, and nothing is done.
    """
    organism = scope.organism.key
    if entry is not None:
        if action == "approve":
            done = client.approve_processed_data(token, organism, accession_versions=[entry])
            return "Sequence approved. It will appear on the website shortly.", done
        done = client.delete_sequence_entry_versions(token, organism, accession_versions=[entry])
        return f"{entry[0]}.{entry[1]} discarded.", done
    targets = _targets(token, scope, what)
    if seen is not None and len(targets) != seen:
        raise Changed(
            f"The list changed while you were deciding: {len(targets)} sequence(s) now, not {seen}. "
            "Nothing was done; please look at the list again."
        )
    if not targets:
        return "There was nothing to do: no such sequences now.", []
    if action == "approve":
        done = client.approve_processed_data(token, organism, accession_versions=targets)
        return f"🎉 {len(done)} sequence(s) approved. They will appear on the website shortly.", done
    done = client.delete_sequence_entry_versions(token, organism, accession_versions=targets)
    if what == "errors":
        return f"{len(done)} sequence(s) with errors discarded.", done
    return f"{len(done)} sequence(s) discarded.", done


@login_required
@require_POST
def review_action(request: HttpRequest, organism: str, group_id: int) -> HttpResponse:
    """Approve or discard: one entry, or every valid / erroneous / processed one of the group or the batch."""
    chosen = organism_or_404(organism)
    action, what = request.POST.get("action", ""), request.POST.get("what", "")
    if (action, what) not in CONFIRM:
        return HttpResponse("Unknown review action.", status=400, content_type="text/plain; charset=utf-8")
    entry = None
    if what == "entry":
        match = ACCESSION_VERSION.match(request.POST.get("entry", ""))
        if match is None:
            return HttpResponse("Unknown sequence entry.", status=400, content_type="text/plain; charset=utf-8")
        entry = (match.group(1), int(match.group(2)))
    draft = None
    if request.POST.get("batch"):
        draft = draft_or_404(request, request.POST["batch"], organism)
        if draft.status != Draft.Status.SUBMITTED:
            raise Http404("This draft has not been submitted.")
    group = _group_or_404(request, group_id)
    scope = Scope(request, chosen, group, draft)
    if not request.POST.get("confirmed"):  # no script: ask on a page of its own
        question = CONFIRM[(action, what)].format(entry=request.POST.get("entry", ""), n=request.POST.get("n", ""))
        return render(
            request,
            "submitportal/review_confirm.html",
            {
                "organism": chosen,
                "question": question,
                "post": request.POST,
                "back": f"{scope.url}?{scope.query()}",
                "button": "Approve" if action == "approve" else "Discard",
                "action_url": request.path,
            },
        )
    token = signin.access_token(request)
    doing = f"{action} {what} {request.POST.get('entry', '')}".strip()
    problem = notice = ""
    try:
        seen = bounded_int(request.POST.get("n"), -1, low=-1, high=10**9)
        notice, done = _act(token, scope, action, what, entry, seen if seen >= 0 else None)
        review.forget_details(chosen.key, done)
        _record(draft, done, "approved" if action == "approve" else "discarded")
        log.info("%s by %s in group %s: %d entries", doing, request.user, group_id, len(done))
    except client.Unauthorized:
        raise
    except Changed as exc:
        problem = str(exc)
    except client.LoculusError as exc:
        verb = "approve processed sequence entries" if action == "approve" else "delete sequence entries"
        problem = f"Failed to {verb}: {_said(exc, doing)}"
    if not request.htmx:  # type: ignore[attr-defined]
        (messages.error if problem else messages.success)(request, problem or notice)
        return redirect(f"{scope.url}?{scope.query()}")
    listing = scope.listing(token)
    entry_problem = ""
    if problem and entry is not None:
        card = next((c for c in listing.cards if (c.accession, c.version) == entry), None)
        if card is not None:
            card.problem, entry_problem = problem, problem
    ctx = live_context(scope, listing, notice=notice, problem="" if entry_problem else problem)
    return render(request, f"{TEMPLATE}#live", ctx)


def awaiting_review(token: str, organism: str, group_id: int) -> int | None:
    """How many of the group's entries await review (the organism page's Review card); None if unknown."""
    try:
        page = client.get_sequences(token, organism, group_ids=[group_id], page=0, size=0)
    except client.LoculusError as exc:
        log.warning("Could not count the entries awaiting review in group %s: %s", group_id, exc)
        return None
    counts: Mapping[str, int] = page.status_counts
    return sum(int(n) for status, n in counts.items() if status != "APPROVED_FOR_RELEASE")
