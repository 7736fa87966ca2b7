"""Editing one entry Loculus has processed: what was submitted, in the single-entry form with what
processing found beside each field, sent back with submit-edited-data (backend-contract §5.2, §5.3).

An edit is a draft of kind EDIT that names its entry (accession, version), so autosave, the extra-file
uploads and the claim before sending are those of every draft. The files the entry already has are
rows of the draft with their file ID and nothing to upload (`ExtraFile.kept`); Loculus replaces the
entry's files with what an edit sends, so every row still there is sent again.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from submitportal import drafts, revisions, signin, single_entry, submission_parts, submit
from submitportal.loculus import client, instance, schema
from submitportal.models import Draft, ExtraFile
from submitportal.views.draft_pages import draft_url, organism_or_404, page_context, result_url

TEMPLATE = "submitportal/edit_entry.html"
# The submitted metadata the form does not show (noEdit fields, fastaIds, …), sent back unchanged.
SUBMITTED = "submitted-metadata"
# What Loculus had when the draft started: if it has something else now, the page says so.
STARTED_FROM = "submitted-fingerprint"


@login_required
@require_http_methods(["GET", "POST"])
def edit_entry(request: HttpRequest, organism: str, accession: str, version: int) -> HttpResponse:
    chosen = organism_or_404(organism)
    if not schema.ACCESSION.fullmatch(accession):
        raise Http404("No such accession.")
    token = signin.access_token(request)
    draft = _current_draft(request, organism, accession, version, revise=None)
    if request.method == "POST" and draft is not None:
        if "start_again" not in request.POST:
            return _submit(request, token, chosen, draft)
        if draft.status == Draft.Status.OPEN:
            drafts.remove(draft)
        return redirect(request.path)
    try:
        data = client.get_data_to_edit(token, organism, accession, version)
    except client.Unauthorized:
        raise
    except client.LoculusError as exc:
        problem = submit.explain_edit(exc, chosen)
        status = submit.edit_status(exc)
        return _page(
            request, chosen, accession, version, draft, None, status=status, problem=problem, request_id=exc.request_id
        )
    revising = data.status == "APPROVED_FOR_RELEASE"  # released: only a new version can change it
    if draft is None or draft.revise != revising:
        draft = _current_draft(request, organism, accession, version, revise=revising) or _start(
            request, chosen, data, revise=revising
        )
        if request.method == "POST":  # the draft was gone (deleted in another tab): show the entry afresh
            return redirect(draft_url(draft))
    changed = draft.values.get(STARTED_FROM) != _fingerprint(data)
    extra = revisions.versions_note(token, chosen, data) if revising else {}
    return _page(request, chosen, accession, version, draft, data, changed_in_loculus=changed, **extra)


def _fingerprint(data: client.EntryToEdit) -> str:
    submitted = [data.metadata, data.sequences, {category: list(refs) for category, refs in data.files.items()}]
    return hashlib.sha256(json.dumps(submitted, sort_keys=True).encode()).hexdigest()


def _current_draft(
    request: HttpRequest, organism: str, accession: str, version: int, *, revise: bool | None
) -> Draft | None:
    """The user's unsent edit (or revision, `revise`; None: either) of this entry, if they started one."""
    mine = Draft.objects.filter(
        user=request.user, organism=organism, kind=Draft.Kind.EDIT, accession=accession, version=version
    )
    if revise is not None:
        mine = mine.filter(revise=revise)
    return mine.exclude(status=Draft.Status.SUBMITTED).order_by("-updated_at").first()


def _start(request: HttpRequest, organism: schema.Organism, data: client.EntryToEdit, *, revise: bool) -> Draft:
    """A new edit (or revision) draft holding what was submitted: the fields, one box per FASTA id, the
    files as kept rows (a revision keeps them unless they are removed)."""
    shown = {f.name for f in single_entry.edit_fields(organism)}
    values: dict[str, Any] = {name: value for name, value in data.metadata.items() if name in shown}
    values["id"] = data.submission_id
    values.update({f"sequence-{fasta_id}": sequence for fasta_id, sequence in data.sequences.items()})
    values[SUBMITTED] = {name: value for name, value in data.metadata.items() if name not in shown}
    values[STARTED_FROM] = _fingerprint(data)
    with transaction.atomic():
        draft = Draft.objects.create(
            user=request.user,
            organism=organism.key,
            kind=Draft.Kind.EDIT,
            revise=revise,
            group_id=data.group_id,
            accession=data.accession,
            version=data.version,
            values=values,
        )
        ExtraFile.objects.bulk_create(
            ExtraFile(
                draft=draft,
                category=category,
                path=name,
                size=0,
                group_id=data.group_id,
                file_id=file_id,
                status=ExtraFile.Status.UPLOADED,
            )
            for category, refs in data.files.items()
            for file_id, name in refs
        )
    return draft


def _posted(request: HttpRequest, organism: schema.Organism, draft: Draft) -> dict[str, str]:
    """What the edit form posts: its fields and the boxes of the entry's sequences (no others)."""
    keys = [f.name for f in single_entry.edit_fields(organism)] + _sequence_keys(draft)
    return {key: request.POST.get(key, "") for key in keys}


def _sequence_keys(draft: Draft) -> list[str]:
    return [key for key in draft.values if key.startswith("sequence-")]


def _submit(request: HttpRequest, token: str, organism: schema.Organism, draft: Draft) -> HttpResponse:
    draft = drafts.keep_values(draft, _posted(request, organism, draft))  # nothing typed is lost
    sequences = {
        key.removeprefix("sequence-"): single_entry.parse_sequence(
            str(draft.values.get(key, "")).splitlines(), f"The sequence {key.removeprefix('sequence-')}"
        )
        for key in _sequence_keys(draft)
    }
    checked = single_entry.check_edit(organism, str(draft.values.get("id", "")), draft.values, sequences)

    def again(status: int, **extra: Any) -> HttpResponse:
        try:
            data: client.EntryToEdit | None = client.get_data_to_edit(
                token, organism.key, draft.accession, int(draft.version or 0)
            )
        except client.Unauthorized:
            raise
        except client.LoculusError:
            data = None  # e.g. the entry is back in processing: the form stays, without processing's findings
        return _page(
            request,
            organism,
            draft.accession,
            int(draft.version or 0),
            draft,
            data,
            status=status,
            errors=checked.errors,
            warnings=checked.warnings,
            warnings_key=checked.warnings_key(),
            **extra,
        )

    if checked.errors or checked.entry is None:
        return again(400)
    if checked.warnings and request.POST.get("warnings_seen") != checked.warnings_key():
        return again(200, check_warnings=True)
    entry = checked.entry
    submitted = draft.values.get(SUBMITTED) or {}
    if draft.revise:
        parts = submission_parts.revision_parts(draft, organism, entry, submitted)
        outcome = submit.submit(token, draft, organism, None, parts, lambda: [entry.submission_id])
    else:
        outcome = submit.submit_edit(
            token, draft, organism, lambda: submission_parts.edited_data(draft, organism, entry, submitted)
        )
    if not outcome.sent:
        return again(outcome.status, problem=outcome.problem, request_id=outcome.request_id)
    return redirect(result_url(draft))


def _annotations(
    data: client.EntryToEdit, fields: set[str]
) -> tuple[dict[str, dict[str, list[str]]], list[dict[str, str]]]:
    """Processing's errors and warnings: by form field (matched by the submitted field's name), and the rest."""
    by_field: dict[str, dict[str, list[str]]] = {}
    others: list[dict[str, str]] = []
    for level, found in (("error", data.errors), ("warning", data.warnings)):
        for annotation in found:
            matched = [name for name in annotation.unprocessed_fields if name in fields]
            for name in matched:
                by_field.setdefault(name, {"errors": [], "warnings": []})[f"{level}s"].append(annotation.message)
            if not matched:
                names = ", ".join(annotation.processed_fields or annotation.unprocessed_fields)
                others.append(
                    {"level": level, "text": f"{names}: {annotation.message}" if names else annotation.message}
                )
    return by_field, others


def _page(
    request: HttpRequest,
    organism: schema.Organism,
    accession: str,
    version: int,
    draft: Draft | None,
    data: client.EntryToEdit | None,
    *,
    status: int = 200,
    problem: str = "",
    request_id: str | None = None,
    **extra: Any,
) -> HttpResponse:
    """The edit page: the form once there is a draft, processing's findings once Loculus gave them."""
    ctx: dict[str, Any] = {
        "loculus": instance.get_instance(),
        "organism": organism,
        "accession": accession,
        "version": version,
        "revising": bool(draft and draft.revise),
        "problem": problem,
        "request_id": request_id,
    }
    if draft is not None:
        ctx.update(page_context(request, draft, organism, [], None, stale_count=drafts.expire_stale_files(draft)))
        ctx["field_groups"] = single_entry.field_groups(organism, editing=True)
        ctx["sequence_boxes"] = [(key.removeprefix("sequence-"), key) for key in _sequence_keys(draft)]
    if data is not None:
        fields = {f.name for f in single_entry.edit_fields(organism)}
        ctx["processing"], ctx["other_annotations"] = _annotations(data, fields)
    ctx.update(extra)
    return render(request, TEMPLATE, ctx, status=status)
