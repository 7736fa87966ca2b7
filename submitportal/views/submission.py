"""Submitting: an organism's submission page, the single-entry form, and its result."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from submitportal import drafts, extra_file_uploads, form_stash, forms, signin, single_entry, submission_parts, submit
from submitportal.loculus import client, instance, schema, website
from submitportal.models import Draft, GroupChoice
from submitportal.views import review
from submitportal.views.draft_pages import (
    chosen_group,
    draft_page,
    draft_url,
    ensure_group,
    need_group,
    open_draft,
    organism_or_404,
    page_context,
    result_url,
    start_or_continue,
)

FORM_TEMPLATE = "submitportal/entry_form.html"


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
        ctx["create_group_url"] = website.create_group_url(organism)
        return render(request, "submitportal/organism_submission.html", ctx)
    if request.method == "POST":
        chosen = {str(g.group_id): g for g in groups}.get(request.POST.get("group", ""))
        if chosen is None:
            ctx["group"] = chosen_group(request, organism, groups)
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
    ctx["group"] = chosen_group(request, organism, groups)
    ctx["awaiting_review"] = review.awaiting_review(signin.access_token(request), organism, ctx["group"].group_id)
    stashed = form_stash.take(request)
    if stashed and stashed.get("group"):
        ctx["stashed_group"] = stashed["group"]
    return render(request, "submitportal/organism_submission.html", ctx)


# --- The single-entry form ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def new_entry(request: HttpRequest, organism: str) -> HttpResponse:
    return start_or_continue(request, organism, Draft.Kind.FORM)


@login_required
@require_http_methods(["GET", "POST"])
@draft_page(Draft.Kind.FORM)
def entry_form(request: HttpRequest, chosen_organism: schema.Organism, draft: Draft) -> HttpResponse:
    token = signin.access_token(request)
    groups = client.get_user_groups(token)
    if not groups:
        if request.method == "POST":
            values = {key: request.POST.get(key, "") for key in _form_keys(chosen_organism)}
            _read_sequences(request, chosen_organism, values)
            draft = drafts.keep_values(draft, values)
        return need_group(request, draft, chosen_organism, posted=request.method == "POST")
    group = ensure_group(request, draft, groups)
    assert group is not None  # the user has groups
    if request.method == "GET":
        expired = drafts.expire_stale_files(draft)
        stashed = form_stash.take(request)
        if stashed:
            draft.values = {**draft.values, **{k: stashed.get(k, "") for k in stashed}}
        ctx = page_context(request, draft, chosen_organism, groups, group, stale_count=expired)
        return render(request, FORM_TEMPLATE, ctx)
    return _submit_form(request, token, draft, chosen_organism, groups, group)


def _form_keys(organism: schema.Organism) -> list[str]:
    """What the single-entry form posts: its fields, sequences and terms."""
    return [
        *(f.name for f in single_entry.form_fields(organism)),
        *(f"sequence-{s}" for s in organism.segments),
        *forms.KEYS,
    ]


def _read_sequences(
    request: HttpRequest, organism: schema.Organism, values: dict[str, str]
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


def _submit_form(
    request: HttpRequest,
    token: str,
    draft: Draft,
    organism: schema.Organism,
    groups: list[client.Group],
    group: client.Group,
) -> HttpResponse:
    values = {key: request.POST.get(key, "") for key in _form_keys(organism)}
    sequences = _read_sequences(request, organism, values)
    draft = drafts.keep_values(draft, values)
    checked = single_entry.check_entry(organism, values, sequences)
    terms = forms.TermsForm(request.POST)
    errors = {**checked.errors, **(terms.messages() if not terms.is_valid() else {})}

    def again(status: int, **extra: Any) -> HttpResponse:
        ctx = page_context(
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
    if terms.open_unconfirmed():
        return again(200, confirm_open=terms.open_dialog())
    entry = checked.entry
    parts = submission_parts.entry_parts(draft, organism, entry)
    outcome = submit.submit(token, draft, organism, terms.terms, parts, lambda: [entry.submission_id])
    if not outcome.sent:
        return again(outcome.status, problem=outcome.problem, request_id=outcome.request_id)
    return redirect(result_url(draft))


@login_required
@require_POST
@open_draft
def draft_group(request: HttpRequest, draft: Draft) -> HttpResponse:
    """Change a draft's submitting group; files uploaded for the old one must be uploaded again."""
    organism = organism_or_404(draft.organism)
    groups = client.get_user_groups(signin.access_token(request))
    chosen = {str(g.group_id): g for g in groups}.get(request.POST.get("group", ""))
    regrouped = 0
    with drafts.changing(draft) as locked:
        # An edit's group is its entry's: Loculus checks the files against it.
        changeable = locked.draft.status == Draft.Status.OPEN and locked.draft.kind != Draft.Kind.EDIT
        if chosen is not None and chosen.group_id != locked.draft.group_id and changeable:
            locked.draft.group_id = chosen.group_id
            locked.draft.save(update_fields=["group_id", "updated_at"])
            GroupChoice.objects.update_or_create(
                user=request.user, organism=draft.organism, defaults={"group_id": chosen.group_id}
            )
            regrouped = extra_file_uploads.regroup(locked, chosen.group_name)
    draft = locked.draft
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect(draft_url(draft))
    group = ensure_group(request, draft, groups)
    ctx = page_context(request, draft, organism, groups, group, group_saved=True, regrouped=regrouped)
    response = render(request, "submitportal/_submit.html#group-change", ctx)
    if draft.revise and draft.kind == Draft.Kind.BULK:
        # A revision's accessions are judged for its group: the whole page shows the check made anew.
        response["HX-Refresh"] = "true"
    return response
