"""The HTMX endpoints of the extra-file uploads. Each answers with file-row partials.

The browser sends names and sizes (never bytes) and reports how its PUTs to S3 went; the row it
gets back, with ✓ or ✗, is always the portal's own verdict.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from submitportal import bulk, linking, signin, uploads
from submitportal.loculus.instance import Organism
from submitportal.models import Draft, ExtraFile
from submitportal.views.submission import draft_or_404, organism_or_404

ROWS = "submitportal/_extra_files.html#file-rows"
ROW = "submitportal/_extra_files.html#file-row"
ROWS_OOB = "submitportal/_extra_files.html#file-rows-oob"
MAX_FILES_PER_REQUEST = 10_000


def _file(request: HttpRequest, draft_id: object, file_pk: int) -> ExtraFile:
    draft = draft_or_404(request, draft_id)
    return get_object_or_404(ExtraFile, pk=file_pk, draft=draft)


def _selected(raw: str) -> list[uploads.Selected] | None:
    try:
        items = json.loads(raw)
        selected = [uploads.Selected(path=str(item["path"]), size=int(item["size"])) for item in items]
    except (ValueError, TypeError, KeyError):
        return None
    if len(selected) > MAX_FILES_PER_REQUEST:
        return None
    return selected


@login_required
@require_POST
def add_files(request: HttpRequest, draft_id: object, category: str) -> HttpResponse:
    draft = draft_or_404(request, draft_id)
    organism = organism_or_404(draft.organism)
    if organism.file_category(category) is None:
        return HttpResponseBadRequest(f"{organism.display_name} has no file category called {category!r}.")
    if draft.status != Draft.Status.OPEN:
        return HttpResponse("This draft has been submitted; it takes no more files.", status=409)
    selected = _selected(request.POST.get("files", ""))
    if selected is None:
        return HttpResponseBadRequest("The list of files could not be read.")
    refusals: dict[str, str] = {}
    if draft.kind == Draft.Kind.BULK:
        found = bulk.refusals_for(draft, organism, category, [item.path for item in selected])
        if found is None:
            return _message(
                category, "Please add a valid metadata file first: it says which files belong to which entry."
            )
        refusals = found
    records = uploads.add_files(draft, category, selected, refusals)
    if records is None:
        return HttpResponse("This draft has been submitted; it takes no more files.", status=409)
    ctx = {"files": records, "draft": draft, "oob_plan": _plan(draft, organism, category), "oob_category": category}
    response = render(request, ROWS, ctx)
    folders = sorted({path.split("/")[0] for path, reason in refusals.items() if "matches no ID" in reason})
    if folders:
        names = ", ".join(f"“{name}”" for name in folders[:10]) + (" …" if len(folders) > 10 else "")
        response["HX-Trigger"] = _event(
            category, f"No entry has the ID of these folders, so their files were not uploaded: {names}."
        )
    return response


def _plan(draft: Draft, organism: Organism, category: str) -> linking.CategoryPlan | None:
    if draft.kind != Draft.Kind.BULK:
        return None
    return (bulk.plans(draft, organism, bulk.current_check(draft, organism)) or {}).get(category)


def _event(category: str, message: str) -> str:
    return json.dumps({"uploadMessage": {"category": category, "message": message}})


def _message(category: str, message: str) -> HttpResponse:
    """No rows, only a message next to the category's inputs."""
    return HttpResponse("", headers={"HX-Reswap": "none", "HX-Trigger": _event(category, message)})


@login_required
@require_POST
def prepare(request: HttpRequest, draft_id: object) -> HttpResponse:
    """Upload URLs for a batch of the draft's files, asked for just before the browser uses them."""
    draft = draft_or_404(request, draft_id)
    if draft.status != Draft.Status.OPEN:
        return JsonResponse({"error": "This draft has been submitted; it takes no more files."}, status=409)
    try:
        wanted = [int(pk) for pk in json.loads(request.POST.get("files") or "[]")][:MAX_FILES_PER_REQUEST]
    except (ValueError, TypeError):
        return JsonResponse({"error": "The list of files could not be read."}, status=400)
    files = uploads.prepare(signin.access_token(request), draft, wanted, fresh=request.POST.get("fresh") == "yes")
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
    upload = _file(request, draft_id, file_pk)
    return render(request, ROW, {"file": upload, "draft": upload.draft})


@login_required
@require_POST
def file_done(request: HttpRequest, draft_id: object, file_pk: int) -> HttpResponse:
    upload = _file(request, draft_id, file_pk)
    try:
        etags = [str(e) for e in json.loads(request.POST.get("etags") or "[]")]
    except (ValueError, TypeError):
        etags = []
    report = uploads.Finished(upload.pk, etags, request.POST.get("fileId") or None)
    now = uploads.mark_uploaded(signin.access_token(request), upload.draft, [report])
    if not now:
        return HttpResponse("")  # removed meanwhile: so is its row
    return render(request, ROW, {"file": now[0], "draft": upload.draft})


@login_required
@require_POST
def files_done(request: HttpRequest, draft_id: object) -> HttpResponse:
    """Many finished uploads at once (the browser batches its reports); answers with each file's row."""
    draft = draft_or_404(request, draft_id)
    try:
        reports = [
            uploads.Finished(int(item["pk"]), [str(e) for e in item.get("etags") or []], item.get("fileId") or None)
            for item in json.loads(request.POST["reports"])
        ][:MAX_FILES_PER_REQUEST]
    except (KeyError, ValueError, TypeError, AttributeError):
        return HttpResponseBadRequest("The list of finished uploads could not be read.")
    done = uploads.mark_uploaded(signin.access_token(request), draft, reports)
    return render(request, ROWS_OOB, {"files": done, "draft": draft})


@login_required
@require_POST
def file_failed(request: HttpRequest, draft_id: object, file_pk: int) -> HttpResponse:
    upload = _file(request, draft_id, file_pk)
    reason = request.POST.get("reason", "").strip() or "The upload failed."
    uploads.mark_failed(upload.draft, upload.pk, reason)
    upload.refresh_from_db()
    return render(request, ROW, {"file": upload, "draft": upload.draft})


@login_required
@require_POST
def file_retry(request: HttpRequest, draft_id: object, file_pk: int) -> HttpResponse:
    upload = _file(request, draft_id, file_pk)
    uploads.retry(upload.draft, upload.pk)
    upload.refresh_from_db()
    return render(request, ROW, {"file": upload, "draft": upload.draft})


@login_required
@require_POST
def file_remove(request: HttpRequest, draft_id: object, file_pk: int) -> HttpResponse:
    upload = _file(request, draft_id, file_pk)
    draft, category = upload.draft, upload.category
    if not uploads.remove(draft, upload.pk):
        return render(request, ROW, {"file": upload, "draft": draft})
    plan = _plan(draft, organism_or_404(draft.organism), category)
    if plan is None:
        return HttpResponse("")
    return render(request, ROWS, {"files": [], "draft": draft, "oob_plan": plan, "oob_category": category})
