"""What every page of a draft shares: finding the user's own draft, its group, its page's context,
the answer for a user in no group, the choice between continuing and starting anew, and the result.

Both kinds of draft (one entry from the form, bulk files) use these; neither view module reaches
into the other.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from submitportal import drafts, extra_file_uploads, forms, signin, single_entry
from submitportal.loculus import client, instance, schema, website
from submitportal.models import Draft, ExtraFile, GroupChoice

RESULT_SHOWN = 1000  # entries and files listed on a result page; the accessions TSV has them all
log = logging.getLogger("submitportal.drafts")


def organism_or_404(key: str) -> schema.Organism:
    organism = instance.get_instance().organism(key)
    if organism is None:
        raise Http404(f"This Loculus instance has no organism called {key!r}.")
    return organism


def draft_or_404(request: HttpRequest, draft_id: object, organism: str | None = None) -> Draft:
    """The user's own draft; anyone else's is simply not found."""
    draft = get_object_or_404(Draft, pk=draft_id, user=request.user)
    if organism is not None and draft.organism != organism:
        raise Http404("This draft belongs to another organism.")
    return draft


def closed(request: HttpRequest, draft: Draft) -> HttpResponse:
    """The one answer to a change of a draft that is no longer open: 409 and drafts.CLOSED, as JSON to a
    request that reads JSON, as plain text to htmx (the page's script shows it where the user looks);
    a plain form post (no script) goes back to the draft's page, which leads to its result."""
    log.info("%s %s refused: draft %s is %s", request.method, request.path, draft.pk, draft.status)
    if not request.htmx and "application/json" not in request.headers.get("Accept", ""):  # type: ignore[attr-defined]
        return redirect(draft_url(draft))  # a page's plain form (no script): the draft's page says where it stands
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"error": drafts.CLOSED}, status=409)
    return HttpResponse(drafts.CLOSED, status=409, content_type="text/plain; charset=utf-8")


def open_draft(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For a view that changes a draft: the user's own draft (404 for anyone else's) in place of its ID,
    and, while the draft is not open (submitted, or being submitted), the one answer `closed`."""

    @functools.wraps(view)
    def checked(request: HttpRequest, draft_id: object, *args: Any, **kwargs: Any) -> HttpResponse:
        draft = draft_or_404(request, draft_id)
        if draft.status != Draft.Status.OPEN:
            return closed(request, draft)
        return view(request, draft, *args, **kwargs)

    return checked


def draft_page(kind: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """For a draft's page: the organism and the user's own draft in place of their keys. A draft of the
    other kind goes to its own page, a submitted one to its result."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def checked(request: HttpRequest, organism: str, draft_id: object) -> HttpResponse:
            chosen = organism_or_404(organism)
            draft = draft_or_404(request, draft_id, organism)
            if draft.kind != kind:
                return redirect(draft_url(draft))
            if draft.status == Draft.Status.SUBMITTED:
                return redirect(result_url(draft))
            return view(request, chosen, draft)

        return checked

    return decorate


def draft_url(draft: Draft) -> str:
    if draft.kind == Draft.Kind.EDIT:
        kwargs = {"organism": draft.organism, "accession": draft.accession, "version": draft.version}
        return reverse("entry-edit", kwargs=kwargs)
    name = "entry-form" if draft.kind == Draft.Kind.FORM else "bulk-form"
    return reverse(name, kwargs={"organism": draft.organism, "draft_id": draft.pk})


# The page of a submitted draft's batch, by kind (a single entry and a revision of one: entry-result).
RESULT_URL_NAMES = {Draft.Kind.BULK: "bulk-result", Draft.Kind.REVOCATION: "revocation-result"}


def result_url(draft: Draft) -> str:
    """Where a submitted draft is seen: its batch's result page; for an edit, the group's review page, where
    the entry is seen going back through processing (a revision of one entry is a batch of its own)."""
    if draft.kind == Draft.Kind.EDIT and not draft.revise:
        return reverse("review-group", kwargs={"organism": draft.organism, "group_id": draft.group_id})
    name = RESULT_URL_NAMES.get(draft.kind, "entry-result")
    return reverse(name, kwargs={"organism": draft.organism, "draft_id": draft.pk})


def chosen_group(request: HttpRequest, organism: str, groups: list[client.Group]) -> client.Group:
    choice = GroupChoice.objects.filter(user=request.user, organism=organism).first()
    by_id = {group.group_id: group for group in groups}
    return by_id.get(choice.group_id, groups[0]) if choice else groups[0]


def ensure_group(request: HttpRequest, draft: Draft, groups: list[client.Group]) -> client.Group | None:
    """The draft's group, if the user is (still) in it; otherwise their chosen group, and files re-marked."""
    if not groups:
        return None
    by_id = {g.group_id: g for g in groups}
    if draft.group_id in by_id:
        return by_id[draft.group_id]
    group = chosen_group(request, draft.organism, groups)
    with drafts.changing(draft) as locked:
        if locked.draft.group_id in by_id:  # set by another request meanwhile
            group = by_id[locked.draft.group_id]
        elif locked.draft.status == Draft.Status.OPEN:
            had_group = locked.draft.group_id is not None
            locked.draft.group_id = group.group_id
            locked.draft.save(update_fields=["group_id", "updated_at"])
            if had_group:
                extra_file_uploads.regroup(locked, group.group_name)
    draft.group_id = locked.draft.group_id
    return group


def need_group(request: HttpRequest, draft: Draft, organism: schema.Organism, *, posted: bool) -> HttpResponse:
    """A draft's page for a user in no submitting group: the organism page's notice, the draft kept.

    A POST (submit) is answered 409 and says nothing was sent; what it carried was kept by the caller.
    """
    counted = drafts.with_content(Draft.objects.filter(pk=draft.pk)).first()
    ctx = {
        "organism": organism,
        "draft": draft,
        "holds": drafts.holds(draft) if counted and drafts.has_content(counted) else "",
        "create_group_url": website.create_group_url(organism.key),
        "problem": "Nothing was submitted: you are not in any submitting group. What you entered is kept."
        if posted
        else "",
    }
    return render(request, "submitportal/need_group.html", ctx, status=409 if posted else 200)


def start_or_continue(request: HttpRequest, organism: str, kind: str, *, revise: bool = False) -> HttpResponse:
    """Ask whether to continue an unfinished draft of this kind, or start a new one; never resume silently.

    GET: with unfinished drafts for this organism and the chosen group, the choice; without, a new
    draft. POST ("Start a new submission"): a new draft. `revise`: drafts of revisions, which never
    mix with drafts of new submissions.
    """
    chosen_organism = organism_or_404(organism)
    groups = client.get_user_groups(signin.access_token(request))
    if not groups:
        return redirect("organism-submission", organism=organism)  # it says how to get a group
    group = chosen_group(request, organism, groups)
    waiting = drafts.unfinished(request.user, organism, kind, group.group_id, revise=revise)
    if request.method == "POST" or not waiting:
        return redirect(draft_url(drafts.start(request.user, organism, kind, group.group_id, revise=revise)))
    rows = [{"draft": draft, "url": draft_url(draft), "holds": drafts.holds(draft)} for draft in waiting]
    ctx = {"organism": chosen_organism, "group": group, "kind": kind, "revise": revise, "rows": rows}
    return render(request, "submitportal/start_or_continue.html", ctx)


def _files_by_category(draft: Draft, organism: schema.Organism) -> list[tuple[schema.FileCategory, list[ExtraFile]]]:
    files = list(draft.extra_files.all())
    return [(category, [f for f in files if f.category == category.name]) for category in organism.file_categories]


def page_context(
    request: HttpRequest,
    draft: Draft,
    organism: schema.Organism,
    groups: list[client.Group],
    group: client.Group | None,
    **extra: Any,
) -> dict[str, Any]:
    """What a draft's page shows, whichever its kind: group, fields, extra files, terms."""
    earliest, latest = forms.restricted_window()
    values = dict(draft.values)
    values.setdefault("data_use_terms", "OPEN")
    values.setdefault("restricted_until", latest.isoformat())
    return {
        "loculus": instance.get_instance(),
        "organism": organism,
        "draft": draft,
        "groups": groups,
        "group": group,
        "create_group_url": website.create_group_url(organism.key),
        "field_groups": single_entry.field_groups(organism),
        "segments": [(s, single_entry.sequence_label(organism, s)) for s in organism.segments],
        "categories": _files_by_category(draft, organism),
        "values": values,
        "errors": {},
        "warnings": {},
        "data_use_terms": settings.LOCULUS_DATA_USE_TERMS,
        "restricted_earliest": earliest.isoformat(),
        "restricted_latest": latest.isoformat(),
        "unclear": drafts.is_unclear(draft),
        **extra,
    }
