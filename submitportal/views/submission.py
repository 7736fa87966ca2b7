"""Submitting: an organism's submission page, the single-entry form, and its result."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from submitportal import drafts, form_stash, signin, single_entry, uploads
from submitportal.loculus import client, instance, plain_words
from submitportal.models import Draft, ExtraFile, GroupChoice
from submitportal.submit import SubmitRefused, submit_single_entry

NO_PII = "confirmation-no-pii"
NO_INSDC = "confirmation-INSDC-upload-terms"
FORM_TEMPLATE = "submitportal/entry_form.html"


# --- Preconditions ------------------------------------------------------------------------------


def organism_or_404(key: str) -> instance.Organism:
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


def _chosen_group(request: HttpRequest, organism: str, groups: list[client.Group]) -> client.Group:
    choice = GroupChoice.objects.filter(user=request.user, organism=organism).first()
    by_id = {group.group_id: group for group in groups}
    return by_id.get(choice.group_id, groups[0]) if choice else groups[0]


def _create_group_url(organism: str) -> str:
    website = instance.get_instance().website_url
    return f"{website}/user/createGroup?continueSubmissionOrganism={organism}"


def need_group(request: HttpRequest, draft: Draft, organism: instance.Organism, *, posted: bool) -> HttpResponse:
    """A draft's page for a user in no submitting group: the organism page's notice, the draft kept.

    A POST (submit) is answered 409 and says nothing was sent; what it carried was kept by the caller.
    """
    counted = drafts.with_content(Draft.objects.filter(pk=draft.pk)).first()
    ctx = {
        "organism": organism,
        "draft": draft,
        "holds": drafts.holds(draft) if counted and drafts.has_content(counted) else "",
        "create_group_url": _create_group_url(organism.key),
        "problem": "Nothing was submitted: you are not in any submitting group. What you entered is kept."
        if posted
        else "",
    }
    return render(request, "submitportal/need_group.html", ctx, status=409 if posted else 200)


def _template(request: HttpRequest, page: str, partial: str) -> str:
    return f"{page}#{partial}" if request.htmx else page  # type: ignore[attr-defined]


# --- The organism's submission page -------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def organism_submission(request: HttpRequest, organism: str) -> HttpResponse:
    loculus = instance.get_instance()
    chosen_organism = organism_or_404(organism)
    groups = client.get_user_groups(signin.access_token(request))
    ctx: dict[str, Any] = {"loculus": loculus, "organism": chosen_organism, "groups": groups}
    if not groups:
        ctx["create_group_url"] = _create_group_url(organism)
        return render(request, "submitportal/organism_submission.html", ctx)
    if request.method == "POST":
        chosen = {str(g.group_id): g for g in groups}.get(request.POST.get("group", ""))
        if chosen is None:
            ctx["group"] = _chosen_group(request, organism, groups)
            ctx["group_error"] = "Please choose one of your submitting groups from the list."
            template = _template(request, "submitportal/organism_submission.html", "group")
            return render(request, template, ctx, status=400)
        GroupChoice.objects.update_or_create(
            user=request.user, organism=organism, defaults={"group_id": chosen.group_id}
        )
        if not request.htmx:  # type: ignore[attr-defined]
            return redirect("organism-submission", organism=organism)
        ctx.update(group=chosen, group_saved=True)
        return render(request, "submitportal/organism_submission.html#group", ctx)
    ctx["group"] = _chosen_group(request, organism, groups)
    stashed = form_stash.take(request)
    if stashed and stashed.get("group"):
        ctx["stashed_group"] = stashed["group"]
    return render(request, "submitportal/organism_submission.html", ctx)


# --- The single-entry form ----------------------------------------------------------------------


def start_or_continue(request: HttpRequest, organism: str, kind: str) -> HttpResponse:
    """Ask whether to continue an unfinished draft of this kind, or start a new one; never resume silently.

    GET: with unfinished drafts for this organism and the chosen group, the choice; without, a new
    draft. POST ("Start a new submission"): a new draft.
    """
    chosen_organism = organism_or_404(organism)
    groups = client.get_user_groups(signin.access_token(request))
    if not groups:
        return redirect("organism-submission", organism=organism)  # it says how to get a group
    group = _chosen_group(request, organism, groups)
    waiting = drafts.unfinished(request.user, organism, kind, group.group_id)
    if request.method == "POST" or not waiting:
        return redirect(draft_url(drafts.start(request.user, organism, kind, group.group_id)))
    rows = [{"draft": draft, "url": draft_url(draft), "holds": drafts.holds(draft)} for draft in waiting]
    ctx = {"organism": chosen_organism, "group": group, "kind": kind, "rows": rows}
    return render(request, "submitportal/start_or_continue.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def new_entry(request: HttpRequest, organism: str) -> HttpResponse:
    return start_or_continue(request, organism, Draft.Kind.FORM)


def _restricted_window() -> tuple[dt.date, dt.date]:
    today = timezone.now().astimezone(dt.UTC).date()
    try:
        latest = today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year + 1, day=28)
    return today, latest


def _ensure_group(request: HttpRequest, draft: Draft, groups: list[client.Group]) -> client.Group | None:
    """The draft's group, if the user is (still) in it; otherwise their chosen group, and files re-marked."""
    if not groups:
        return None
    by_id = {g.group_id: g for g in groups}
    if draft.group_id in by_id:
        return by_id[draft.group_id]
    group = _chosen_group(request, draft.organism, groups)
    with drafts.changing(draft) as locked:
        if locked.draft.group_id in by_id:  # set by another request meanwhile
            group = by_id[locked.draft.group_id]
        elif locked.draft.status == Draft.Status.OPEN:
            had_group = locked.draft.group_id is not None
            locked.draft.group_id = group.group_id
            locked.draft.save(update_fields=["group_id", "updated_at"])
            if had_group:
                uploads.regroup(locked, group.group_name)
    draft.group_id = locked.draft.group_id
    return group


def _files_by_category(
    draft: Draft, organism: instance.Organism
) -> list[tuple[instance.FileCategory, list[ExtraFile]]]:
    files = list(draft.files.all())
    return [(category, [f for f in files if f.category == category.name]) for category in organism.file_categories]


def _form_context(
    request: HttpRequest,
    draft: Draft,
    organism: instance.Organism,
    groups: list[client.Group],
    group: client.Group | None,
    **extra: Any,
) -> dict[str, Any]:
    earliest, latest = _restricted_window()
    values = dict(draft.values)
    values.setdefault("data_use_terms", "OPEN")
    values.setdefault("restricted_until", latest.isoformat())
    return {
        "loculus": instance.get_instance(),
        "organism": organism,
        "draft": draft,
        "groups": groups,
        "group": group,
        "create_group_url": _create_group_url(organism.key),
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


@login_required
@require_http_methods(["GET", "POST"])
def entry_form(request: HttpRequest, organism: str, draft_id: object) -> HttpResponse:
    chosen_organism = organism_or_404(organism)
    draft = draft_or_404(request, draft_id, organism)
    if draft.status == Draft.Status.SUBMITTED:
        return redirect("entry-result", organism=organism, draft_id=draft.pk)
    token = signin.access_token(request)
    groups = client.get_user_groups(token)
    if not groups:
        if request.method == "POST":
            values = {key: request.POST.get(key, "") for key in _form_keys(chosen_organism)}
            _read_sequences(request, chosen_organism, values)
            draft = drafts.keep_values(draft, values)
        return need_group(request, draft, chosen_organism, posted=request.method == "POST")
    group = _ensure_group(request, draft, groups)
    assert group is not None  # the user has groups
    if request.method == "GET":
        expired = drafts.expire_stale_files(draft)
        stashed = form_stash.take(request)
        if stashed:
            draft.values = {**draft.values, **{k: stashed.get(k, "") for k in stashed}}
        ctx = _form_context(request, draft, chosen_organism, groups, group, stale_count=expired)
        return render(request, FORM_TEMPLATE, ctx)
    return _submit_form(request, token, draft, chosen_organism, groups, group)


def _form_keys(organism: instance.Organism) -> list[str]:
    """What the single-entry form posts: its fields, sequences and terms."""
    return [
        *(f.name for f in single_entry.form_fields(organism)),
        *(f"sequence-{s}" for s in organism.segments),
        "data_use_terms",
        "restricted_until",
        NO_PII,
        NO_INSDC,
    ]


def _read_sequences(
    request: HttpRequest, organism: instance.Organism, values: dict[str, str]
) -> dict[str, single_entry.ParsedSequence]:
    parsed: dict[str, single_entry.ParsedSequence] = {}
    for segment in organism.segments:
        label = single_entry.sequence_label(organism, segment)
        upload = request.FILES.get(f"sequence-file-{segment}")
        if upload is not None and upload.size:
            if upload.size > settings.SEQUENCE_FILE_MAX_SIZE:
                limit = settings.SEQUENCE_FILE_MAX_SIZE // 2**20
                parsed[segment] = single_entry.ParsedSequence(
                    problem=f"The file “{upload.name}” for {label} is larger than {limit} MiB. "
                    "For genomes this large, please use the bulk upload."
                )
                continue
            try:
                lines = single_entry.text_lines(upload.read())
            except ValueError as exc:
                parsed[segment] = single_entry.ParsedSequence(problem=f"The file “{upload.name}” for {label} {exc}.")
                continue
            parsed[segment] = single_entry.parse_sequence(lines, label)
            if not parsed[segment].problem:
                values[f"sequence-{segment}"] = parsed[segment].sequence  # kept in the box from now on
        else:
            parsed[segment] = single_entry.parse_sequence(values.get(f"sequence-{segment}", "").splitlines(), label)
    return parsed


def _terms(values: dict[str, str], errors: dict[str, str]) -> client.DataUseTerms:
    if not settings.LOCULUS_DATA_USE_TERMS:
        return client.DataUseTerms("OPEN")
    if values.get(NO_PII) != "on":
        errors[NO_PII] = (
            "Please confirm the data you submitted does not include restricted or personally identifiable information."
        )
    if values.get(NO_INSDC) != "on":
        errors[NO_INSDC] = (
            "Please tick the box to agree that you will not independently submit these sequences to INSDC."
        )
    if values.get("data_use_terms") != "RESTRICTED":
        return client.DataUseTerms("OPEN")
    earliest, latest = _restricted_window()
    try:
        until = dt.date.fromisoformat(values.get("restricted_until", ""))
    except ValueError:
        until = None
    if until is None or not earliest <= until <= latest:
        errors["restricted_until"] = (
            f"Please choose a date from {earliest.isoformat()} to {latest.isoformat()} (at most one year from today)."
        )
        return client.DataUseTerms("RESTRICTED")
    return client.DataUseTerms("RESTRICTED", until)


def _submit_form(
    request: HttpRequest,
    token: str,
    draft: Draft,
    organism: instance.Organism,
    groups: list[client.Group],
    group: client.Group,
) -> HttpResponse:
    values = {key: request.POST.get(key, "") for key in _form_keys(organism)}
    sequences = _read_sequences(request, organism, values)
    draft = drafts.keep_values(draft, values)
    checked = single_entry.check_entry(organism, values, sequences)
    errors = dict(checked.errors)
    terms = _terms(values, errors)

    def again(status: int, **extra: Any) -> HttpResponse:
        ctx = _form_context(
            request,
            draft,
            organism,
            groups,
            group,
            errors=errors,
            warnings=checked.warnings,
            warnings_key=checked.warnings_key(),
            **extra,
        )
        return render(request, FORM_TEMPLATE, ctx, status=status)

    if errors or checked.entry is None:
        return again(400)
    if checked.warnings and request.POST.get("warnings_seen") != checked.warnings_key():
        # Loculus takes these values, but the user sees each warning once, beside its field, before submitting.
        return again(200, check_warnings=True)
    if terms.type == "OPEN" and settings.LOCULUS_DATA_USE_TERMS and request.POST.get("confirm_open") != "yes":
        # As on the Loculus website, Open terms are confirmed once more; "Cancel" just returns to the form.
        return again(200, confirm_open=request.POST.get("confirm_open") != "no")
    try:
        if drafts.is_unclear(draft):
            found = drafts.settle_unclear(token, draft, [checked.entry.submission_id])
            if draft.status == Draft.Status.SUBMITTED:
                return redirect("entry-result", organism=organism.key, draft_id=draft.pk)
            if found:
                return again(409, problem=found_message(found))
        submit_single_entry(token, draft, organism, checked.entry, terms)
    except SubmitRefused as exc:
        return again(409, problem=str(exc))
    except client.Unauthorized:
        raise  # sign in again; the middleware keeps what was typed
    except client.LoculusError as exc:
        if isinstance(exc, client.BackendTimeout):
            drafts.mark_unclear(draft)
        return again(_status_for(exc), problem=_explain(exc), request_id=exc.request_id)
    return redirect("entry-result", organism=organism.key, draft_id=draft.pk)


def found_message(found: list[drafts.Found]) -> str:
    listed = ", ".join(f"{f.submission_id} ({f.accession}.{f.version}, {f.status})" for f in found[:20])
    more = f" and {len(found) - 20} more" if len(found) > 20 else ""
    return (
        f"Loculus already has {len(found)} of these entries from your group, probably from the attempt that timed out: "
        f"{listed}{more}. Submitting again would create duplicates: remove those entries from the metadata, or "
        "discard them on Loculus's review page first."
    )


def _status_for(exc: client.LoculusError) -> int:
    return 502 if exc.status is None or exc.status >= 500 else 400


def _explain(exc: client.LoculusError) -> str:
    """A backend problem in words: plain words for those a user can cause, else with Loculus's own detail."""
    said = plain_words.explain(exc, doing="a submission")  # logs the original
    if said:
        return said
    if isinstance(exc, client.BackendTimeout):
        return (
            f"Loculus did not answer in time ({exc.detail}) It may still have received the submission. "
            "When you submit again, the portal first asks Loculus which of these entries it already has, "
            "so nothing is sent twice."
        )
    if isinstance(exc, client.BackendUnreachable):
        return (
            f"Loculus could not be reached, so nothing was submitted: {exc.detail} Please try again in a few minutes."
        )
    if isinstance(exc, client.Forbidden):
        return f"Loculus did not allow this submission: {exc.detail}"
    if isinstance(exc, client.NotFound):
        return f"Loculus could not find what this submission refers to: {exc.detail}"
    if isinstance(exc, client.Rejected):
        if exc.status == 422:
            return f"The submitted file content was invalid: {exc.detail}"
        return f"Failed to submit sequence entries: {exc.detail}"
    return (
        f"Loculus had a problem with this submission ({exc.status} {exc.title}): {exc.detail} "
        "Nothing you entered is lost; please try again in a few minutes."
    )


@login_required
@require_POST
def draft_group(request: HttpRequest, draft_id: object) -> HttpResponse:
    """Change a draft's submitting group; files uploaded for the old one must be uploaded again."""
    draft = draft_or_404(request, draft_id)
    organism = organism_or_404(draft.organism)
    groups = client.get_user_groups(signin.access_token(request))
    chosen = {str(g.group_id): g for g in groups}.get(request.POST.get("group", ""))
    regrouped = 0
    with drafts.changing(draft) as locked:
        if chosen is not None and chosen.group_id != locked.draft.group_id and locked.draft.status == Draft.Status.OPEN:
            locked.draft.group_id = chosen.group_id
            locked.draft.save(update_fields=["group_id", "updated_at"])
            GroupChoice.objects.update_or_create(
                user=request.user, organism=draft.organism, defaults={"group_id": chosen.group_id}
            )
            regrouped = uploads.regroup(locked, chosen.group_name)
    draft = locked.draft
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect(draft_url(draft))
    group = _ensure_group(request, draft, groups)
    ctx = _form_context(request, draft, organism, groups, group, group_saved=True, regrouped=regrouped)
    return render(request, "submitportal/_submit.html#group-change", ctx)


def draft_url(draft: Draft) -> str:
    name = "entry-form" if draft.kind == Draft.Kind.FORM else "bulk-form"
    return reverse(name, kwargs={"organism": draft.organism, "draft_id": draft.pk})


@login_required
@require_GET
def entry_result(request: HttpRequest, organism: str, draft_id: object) -> HttpResponse:
    chosen_organism = organism_or_404(organism)
    draft = draft_or_404(request, draft_id, organism)
    if draft.status != Draft.Status.SUBMITTED or not draft.result:
        return redirect("entry-form", organism=organism, draft_id=draft.pk)
    loculus = instance.get_instance()
    group_id = draft.result.get("groupId")
    ctx = {
        "loculus": loculus,
        "organism": chosen_organism,
        "draft": draft,
        "entries": draft.result.get("entries", []),
        "entry_count": len(draft.result.get("entries", [])),
        "files": list(draft.files.all()),
        "review_url": f"{loculus.website_url}/{organism}/submission/{group_id}/review",
    }
    return render(request, "submitportal/entry_result.html", ctx)
