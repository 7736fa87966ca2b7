"""Bulk submission: a metadata file, a FASTA, a folder of extra files; checked before anything is sent."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from submitportal import bulk, draft_files, drafts, signin, tsv, upload_handlers
from submitportal.bulkfiles import template
from submitportal.loculus import client
from submitportal.models import Draft
from submitportal.submit import SubmitRefused
from submitportal.views.submission import (
    _ensure_group,
    _explain,
    _form_context,
    _status_for,
    _terms,
    draft_or_404,
    found_message,
    need_group,
    organism_or_404,
    start_or_continue,
)

PAGE = "submitportal/bulk_form.html"


@login_required
@require_http_methods(["GET", "POST"])
def new_bulk(request: HttpRequest, organism: str) -> HttpResponse:
    return start_or_continue(request, organism, Draft.Kind.BULK)


def _context(request: HttpRequest, draft: Draft, groups: list[client.Group], **extra: Any) -> dict[str, Any]:
    organism = organism_or_404(draft.organism)
    # When the draft last changed, read before its files: this page shows files at least this new
    # (uploads.js lets no older answer replace a newer one when two files are sent at once).
    version = int(draft.updated_at.timestamp() * 1_000_000)
    group = _ensure_group(request, draft, groups)
    ctx = _form_context(request, draft, organism, groups, group, files_version=version, **extra)
    ctx.update(bulk.page_state(draft, organism))
    return ctx


@login_required
@require_http_methods(["GET", "POST"])
def bulk_form(request: HttpRequest, organism: str, draft_id: object) -> HttpResponse:
    chosen_organism = organism_or_404(organism)
    draft = draft_or_404(request, draft_id, organism)
    if draft.kind != Draft.Kind.BULK:
        return redirect("entry-form", organism=organism, draft_id=draft.pk)
    if draft.status == Draft.Status.SUBMITTED:
        return redirect("bulk-result", organism=organism, draft_id=draft.pk)
    token = signin.access_token(request)
    groups = client.get_user_groups(token)
    if request.method == "POST":
        keys = ["data_use_terms", "restricted_until", "confirmation-no-pii", "confirmation-INSDC-upload-terms"]
        values = {key: request.POST.get(key, "") for key in keys}
        draft = drafts.keep_values(draft, values)  # the ticks stay, whatever happens next
    if not groups:
        return need_group(request, draft, chosen_organism, posted=request.method == "POST")
    if request.method == "GET":
        expired = drafts.expire_stale_files(draft)
        return render(request, PAGE, _context(request, draft, groups, stale_count=expired))
    errors: dict[str, str] = {}
    terms = _terms(values, errors)

    def again(status: int, **extra: Any) -> HttpResponse:
        return render(request, PAGE, _context(request, draft, groups, errors=errors, **extra), status=status)

    if errors:
        return again(400)
    if terms.type == "OPEN" and settings.LOCULUS_DATA_USE_TERMS and request.POST.get("confirm_open") != "yes":
        return again(200, confirm_open=request.POST.get("confirm_open") != "no")
    try:
        if drafts.is_unclear(draft):
            check = bulk.current_check(draft, chosen_organism)
            found = drafts.settle_unclear(token, draft, (check.entries or []) if check else [])
            if draft.status == Draft.Status.SUBMITTED:
                return redirect("bulk-result", organism=organism, draft_id=draft.pk)
            if found:
                return again(409, problem=found_message(found))
        bulk.submit(token, draft, chosen_organism, terms)
    except SubmitRefused as exc:
        return again(409, problem=str(exc))
    except client.Unauthorized:
        raise
    except client.LoculusError as exc:
        if isinstance(exc, client.BackendTimeout):
            drafts.mark_unclear(draft)
        return again(_status_for(exc), problem=_explain(exc), request_id=exc.request_id)
    return redirect("bulk-result", organism=organism, draft_id=draft.pk)


@login_required
@require_POST
def bulk_file(request: HttpRequest, draft_id: object, kind: str) -> HttpResponse:
    """Receive the metadata or sequence file (streamed to disk), check it, answer with the checks.

    The file comes as the request body itself (application/octet-stream, its name in X-File-Name:
    what the page's script sends) or as the `file` field of a multipart form (without script).
    """
    draft = draft_or_404(request, draft_id)
    organism = organism_or_404(draft.organism)
    if kind not in draft_files.KINDS or draft.kind != Draft.Kind.BULK:
        return HttpResponse(status=404)
    if draft.status != Draft.Status.OPEN:
        problem = "This draft has been submitted; its files can no longer change."
    else:
        try:
            upload = upload_handlers.received_file(request, bulk.check_on_arrival(kind))
        except upload_handlers.RawUploadProblem as exc:
            problem = str(exc)
        else:
            if upload is None or not upload.size:
                problem = "Please choose a file (it must not be empty)."
            else:
                with upload:  # its temporary file goes, unless it was moved into the draft
                    problem = bulk.accept(draft, organism, kind, upload)
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect("bulk-form", organism=draft.organism, draft_id=draft.pk)
    draft.refresh_from_db()
    groups = client.get_user_groups(signin.access_token(request))
    ctx = _context(request, draft, groups, file_problem={kind: problem} if problem else {})
    return render(request, f"{PAGE}#data-files-changed", ctx)


@login_required
@require_POST
def bulk_discard(request: HttpRequest, draft_id: object, kind: str) -> HttpResponse:
    draft = draft_or_404(request, draft_id)
    if kind in draft_files.KINDS:
        bulk.discard(draft, organism_or_404(draft.organism), kind)
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect("bulk-form", organism=draft.organism, draft_id=draft.pk)
    draft.refresh_from_db()
    groups = client.get_user_groups(signin.access_token(request))
    return render(request, f"{PAGE}#data-files-changed", _context(request, draft, groups))


@login_required
@require_GET
def bulk_result(request: HttpRequest, organism: str, draft_id: object) -> HttpResponse:
    chosen_organism = organism_or_404(organism)
    draft = draft_or_404(request, draft_id, organism)
    if draft.status != Draft.Status.SUBMITTED or not draft.result:
        return redirect("bulk-form", organism=organism, draft_id=draft.pk)
    from submitportal.loculus import instance

    loculus = instance.get_instance()
    entries = draft.result.get("entries", [])
    ctx = {
        "loculus": loculus,
        "organism": chosen_organism,
        "draft": draft,
        "entries": entries[:1000],
        "entry_count": len(entries),
        "files": list(draft.files.all()[:1000]),
        "review_url": f"{loculus.website_url}/{organism}/submission/{draft.result.get('groupId')}/review",
    }
    return render(request, "submitportal/entry_result.html", ctx)


@login_required
@require_GET
def bulk_result_tsv(request: HttpRequest, organism: str, draft_id: object) -> HttpResponse:
    draft = draft_or_404(request, draft_id, organism)
    entries = (draft.result or {}).get("entries", [])

    def lines() -> Any:
        yield "submissionId\taccession\tversion\n"
        for entry in entries:
            out = io.StringIO()
            tsv.write_row(out, [entry["submissionId"], entry["accession"], str(entry["version"])])
            yield out.getvalue()

    response = StreamingHttpResponse(lines(), content_type="text/tab-separated-values; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{organism}_accessions_{draft.pk}.tsv"'
    return response


@require_GET
def metadata_template(request: HttpRequest, organism: str, file_type: str) -> HttpResponse:
    """The metadata template, as the Loculus website offers it: TSV, or XLSX with dropdowns and guidance."""
    chosen = organism_or_404(organism)
    stem = chosen.display_name.replace(" ", "_")
    if file_type == "xlsx":
        buffer = io.BytesIO()
        template.write_template_xlsx(chosen, buffer)
        buffer.seek(0)
        return FileResponse(buffer, as_attachment=True, filename=f"{stem}_metadata_template.xlsx")
    response = HttpResponse(template.template_tsv(chosen), content_type="text/tab-separated-values; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{stem}_metadata_template.tsv"'
    return response
