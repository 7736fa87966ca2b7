"""The HTMX endpoints of the extra-file uploads. Each answers with file-row partials.

The browser sends names and sizes (never bytes) and reports how its PUTs to S3 went; the row it
gets back, with ✓ or ✗, is always the portal's own verdict.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from submitportal import bulk, extra_file_uploads, file_names, json_bodies, linking, signin
from submitportal.loculus.schema import Organism
from submitportal.models import Draft, ExtraFile
from submitportal.views.draft_pages import closed, draft_or_404, open_draft, organism_or_404

ROWS = "submitportal/_extra_files.html#file-rows"
ROWS_OOB = "submitportal/_extra_files.html#file-rows-oob"
log = logging.getLogger("submitportal.uploads")


def _file(draft: Draft, file_pk: int) -> ExtraFile:
    if file_pk > json_bodies.MAX_ID:
        raise Http404("No such file.")
    return get_object_or_404(ExtraFile, pk=file_pk, draft=draft)


def _plain(message: str, status: int) -> HttpResponse:
    """A refusal in words: plain text, so nothing taken from the request is ever read as HTML."""
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _refused(request: HttpRequest, why: str | Exception, *, as_json: bool = False) -> HttpResponse:
    """400 with the reason, which also goes to the log (the user's name and the path are on the line)."""
    log.warning("%s %s refused: %s", request.method, request.path, why)
    if as_json:
        return JsonResponse({"error": str(why)}, status=400)
    return _plain(str(why), 400)


@login_required
@require_POST
@open_draft
def add_files(request: HttpRequest, draft: Draft, category: str) -> HttpResponse:
    organism = organism_or_404(draft.organism)
    if organism.file_category(category) is None:
        return _refused(request, f"{organism.display_name} has no file category called “{category[:60]}”.")
    try:
        selected = [
            extra_file_uploads.Selected(path, size)
            for path, size in json_bodies.selected_files(request.POST.get("files"))
        ]
    except json_bodies.BadBody as exc:
        return _refused(request, exc)
    records = extra_file_uploads.add_files(draft, category, selected)
    if records is None:
        return closed(request, draft)
    # The browser lists files in the order it read them; the page lists them by path.
    records.sort(key=lambda upload: file_names.path_order(upload.path))
    ctx = _rows_context(request, draft, organism, records, {category})
    response = render(request, ROWS, ctx)
    message = _unlinked_message(ctx["plans"].get(category), {upload.path for upload in records})
    if message:
        response["HX-Trigger"] = _event(category, message)
    return response


def _rows_context(
    request: HttpRequest, draft: Draft, organism: Organism, files: list[ExtraFile], categories: set[str]
) -> dict[str, Any]:
    """What file rows need: for a bulk draft, each file's links as they stand now, and the summaries
    of the categories whose counts these rows change (swapped in beside the rows)."""
    # A revision's check asks Loculus about its accessions, if it has to be made again (e.g. after a group change).
    plans = bulk.current_plans(draft, organism, signin.access_token(request) if draft.revise else None)
    summaries = [(category, plans[category]) for category in sorted(categories) if category in plans]
    return {"files": files, "draft": draft, "plans": plans, "oob_plans": summaries}


def _unlinked_message(plan: linking.CategoryPlan | None, chosen: set[str]) -> str:
    """Said next to the inputs when just-chosen folders match no entry: the likeliest wrong choice."""
    if plan is None:
        return ""
    folders = sorted(
        {path.split("/")[0] for path, why in plan.unreferenced.items() if path in chosen and "matches no ID" in why}
    )
    if not folders:
        return ""
    names = ", ".join(f"“{name}”" for name in folders[:10]) + (" …" if len(folders) > 10 else "")
    return (
        f"No entry has the ID of these folders, so their files belong to no entry: {names}. "
        "Remove them, or add those IDs to the metadata."
    )


def _event(category: str, message: str) -> str:
    return json.dumps({"uploadMessage": {"category": category, "message": message}})


@login_required
@require_POST
@open_draft
def prepare(request: HttpRequest, draft: Draft) -> HttpResponse:
    """Upload URLs for a batch of the draft's files, asked for just before the browser uses them."""
    try:
        wanted = json_bodies.file_pks(request.POST.get("files"))
    except json_bodies.BadBody as exc:
        return _refused(request, exc, as_json=True)
    files = extra_file_uploads.prepare(
        signin.access_token(request), draft, wanted, fresh=request.POST.get("fresh") == "yes"
    )
    return JsonResponse({"files": [_target(f) for f in files]})


def _target(upload: ExtraFile) -> dict[str, object]:
    target: dict[str, object] = {"pk": upload.pk, "state": upload.status}
    if upload.status == ExtraFile.Status.PENDING and upload.urls:
        target.update(
            method=upload.method,
            urls=upload.urls,
            headers=upload.headers,
            partSize=upload.part_size,
            fileId=upload.file_id,
        )
    elif upload.status == ExtraFile.Status.PENDING:
        target["state"] = ExtraFile.Status.FAILED  # no URLs: nothing the browser could upload to
    return target


@login_required
@require_GET
def file_row(request: HttpRequest, draft_id: object, file_pk: int) -> HttpResponse:
    upload = _file(draft_or_404(request, draft_id), file_pk)
    return _rows(request, upload.draft, [upload])


@login_required
@require_POST
@open_draft
def file_done(request: HttpRequest, draft: Draft, file_pk: int) -> HttpResponse:
    upload = _file(draft, file_pk)
    try:
        report = extra_file_uploads.Finished(
            upload.pk,
            json_bodies.part_etags(request.POST.get("etags")),
            json_bodies.file_id(request.POST.get("fileId")),
        )
    except json_bodies.BadBody as exc:
        return _refused(request, exc)
    now = extra_file_uploads.mark_uploaded(signin.access_token(request), upload.draft, [report])
    if not now:
        return HttpResponse("")  # removed meanwhile: so is its row
    return _rows(request, upload.draft, now)


@login_required
@require_POST
@open_draft
def files_done(request: HttpRequest, draft: Draft) -> HttpResponse:
    """Many finished uploads at once (the browser batches its reports); answers with each file's row."""
    try:
        reports = [
            extra_file_uploads.Finished(*item) for item in json_bodies.finished_uploads(request.POST.get("reports"))
        ]
    except json_bodies.BadBody as exc:
        return _refused(request, exc)
    done = extra_file_uploads.mark_uploaded(signin.access_token(request), draft, reports)
    return _rows(request, draft, done, template=ROWS_OOB)


@login_required
@require_POST
@open_draft
def file_failed(request: HttpRequest, draft: Draft, file_pk: int) -> HttpResponse:
    upload = _file(draft, file_pk)
    reason = request.POST.get("reason", "")[:1000].strip() or "The upload failed."
    extra_file_uploads.mark_failed(upload.draft, upload.pk, reason)
    upload.refresh_from_db()
    return _rows(request, upload.draft, [upload])


@login_required
@require_POST
@open_draft
def file_retry(request: HttpRequest, draft: Draft, file_pk: int) -> HttpResponse:
    upload = _file(draft, file_pk)
    extra_file_uploads.retry(upload.draft, upload.pk)
    upload.refresh_from_db()
    return _rows(request, upload.draft, [upload])


@login_required
@require_POST
@open_draft
def file_remove(request: HttpRequest, draft: Draft, file_pk: int) -> HttpResponse:
    upload = _file(draft, file_pk)
    draft, category = upload.draft, upload.category
    if not extra_file_uploads.remove(draft, upload.pk):
        return closed(request, draft)
    return render(request, ROWS, _rows_context(request, draft, organism_or_404(draft.organism), [], {category}))


def _rows(request: HttpRequest, draft: Draft, files: list[ExtraFile], template: str = ROWS) -> HttpResponse:
    """The files' rows as they stand now, with their categories' link summaries beside them."""
    organism = organism_or_404(draft.organism)
    return render(request, template, _rows_context(request, draft, organism, files, {f.category for f in files}))
