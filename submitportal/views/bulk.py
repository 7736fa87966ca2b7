"""Bulk submission: a metadata file, a FASTA, a folder of extra files; checked before anything is sent."""

from __future__ import annotations

import io
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from submitportal import bulk, bulk_data_files, bulk_data_upload, drafts, forms, signin, submit, tsv
from submitportal.bulkfiles import template
from submitportal.loculus import client, files_protocol, schema
from submitportal.models import Draft
from submitportal.views.draft_pages import (
    draft_or_404,
    draft_page,
    ensure_group,
    need_group,
    open_draft,
    organism_or_404,
    page_context,
    result_url,
    start_or_continue,
)

PAGE = "submitportal/bulk_form.html"


@login_required
@require_http_methods(["GET", "POST"])
def new_bulk(request: HttpRequest, organism: str) -> HttpResponse:
    return start_or_continue(request, organism, Draft.Kind.BULK)


@login_required
@require_http_methods(["GET", "POST"])
def new_bulk_revision(request: HttpRequest, organism: str) -> HttpResponse:
    """The organism page's Revise card: a bulk draft that revises released entries (sent to /revise)."""
    return start_or_continue(request, organism, Draft.Kind.BULK, revise=True)


def _context(request: HttpRequest, draft: Draft, groups: list[client.Group], **extra: Any) -> dict[str, Any]:
    organism = organism_or_404(draft.organism)
    # When the draft last changed, read before its files: this page shows files at least this new
    # (extra_file_uploads.js lets no older answer replace a newer one when two files are sent at once).
    version = int(draft.updated_at.timestamp() * 1_000_000)
    group = ensure_group(request, draft, groups)
    ctx = page_context(request, draft, organism, groups, group, files_version=version, **extra)
    ctx.update(bulk.page_state(draft, organism, signin.access_token(request) if draft.revise else None))
    # The older generation's download of submitted data lists no files, and a revision keeps only the
    # files it lists: say so before a round trip silently leaves them behind.
    ctx["files_listed_only"] = (
        draft.revise
        and organism.files_enabled
        and files_protocol.current_choice().protocol is files_protocol.FilesProtocol.FILE_MAPPING
    )
    return ctx


@login_required
@require_http_methods(["GET", "POST"])
@draft_page(Draft.Kind.BULK)
def bulk_form(request: HttpRequest, chosen_organism: schema.Organism, draft: Draft) -> HttpResponse:
    token = signin.access_token(request)
    groups = client.get_user_groups(token)
    if request.method == "POST":
        values = {key: request.POST.get(key, "") for key in forms.KEYS}
        draft = drafts.keep_values(draft, values)  # the ticks stay, whatever happens next
    if not groups:
        return need_group(request, draft, chosen_organism, posted=request.method == "POST")
    if request.method == "GET":
        expired = drafts.expire_stale_files(draft)
        return render(request, PAGE, _context(request, draft, groups, stale_count=expired))
    terms = forms.TermsForm(request.POST, revise=draft.revise)
    errors = terms.messages() if not terms.is_valid() else {}

    def again(status: int, **extra: Any) -> HttpResponse:
        return render(request, PAGE, _context(request, draft, groups, errors=errors, **extra), status=status)

    if errors:
        return again(400)
    if terms.open_unconfirmed():
        return again(200, confirm_open=terms.open_dialog())
    parts = bulk.parts(draft, chosen_organism, token)
    outcome = submit.submit(
        token, draft, chosen_organism, terms.terms, parts, lambda: bulk.submission_ids(draft, chosen_organism, token)
    )
    if not outcome.sent:
        return again(outcome.status, problem=outcome.problem, request_id=outcome.request_id)
    return redirect(result_url(draft))


@login_required
@require_POST
@open_draft
def bulk_file(request: HttpRequest, draft: Draft, kind: str) -> HttpResponse:
    """Receive the metadata or sequence file (streamed to disk), check it, answer with the checks.

    The file comes as the request body itself (application/octet-stream, its name in X-File-Name:
    what the page's script sends) or as the `file` field of a multipart form (without script).
    """
    organism = organism_or_404(draft.organism)
    if kind not in bulk_data_files.KINDS or draft.kind != Draft.Kind.BULK:
        return HttpResponse(status=404)
    try:
        upload = bulk_data_upload.received_file(request, bulk.check_on_arrival(kind))
    except bulk_data_upload.RawUploadProblem as exc:
        problem: str | None = str(exc)
    else:
        if upload is None or not upload.size:
            problem = "Please choose a file (it must not be empty)."
        else:
            with upload:  # its temporary file goes, unless it was moved into the draft
                token = signin.access_token(request) if draft.revise else None
                problem = bulk.accept(draft, organism, kind, upload, token)
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect("bulk-form", organism=draft.organism, draft_id=draft.pk)
    draft.refresh_from_db()
    groups = client.get_user_groups(signin.access_token(request))
    ctx = _context(request, draft, groups, file_problem={kind: problem} if problem else {})
    return render(request, f"{PAGE}#data-files-changed", ctx)


@login_required
@require_POST
@open_draft
def bulk_discard(request: HttpRequest, draft: Draft, kind: str) -> HttpResponse:
    if kind in bulk_data_files.KINDS:
        token = signin.access_token(request) if draft.revise else None
        bulk.discard(draft, organism_or_404(draft.organism), kind, token)
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect("bulk-form", organism=draft.organism, draft_id=draft.pk)
    draft.refresh_from_db()
    groups = client.get_user_groups(signin.access_token(request))
    return render(request, f"{PAGE}#data-files-changed", _context(request, draft, groups))


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
    """The metadata template, as the Loculus website offers it: TSV, or XLSX with dropdowns and guidance.

    `?format=revise`: the revision template, with the `accession` column first (as on the website).
    """
    chosen = organism_or_404(organism)
    revise = request.GET.get("format") == "revise"
    stem = chosen.display_name.replace(" ", "_") + ("_metadata_revision_template" if revise else "_metadata_template")
    if file_type == "xlsx":
        buffer = io.BytesIO()
        template.write_template_xlsx(chosen, buffer, revise=revise)
        buffer.seek(0)
        return FileResponse(buffer, as_attachment=True, filename=f"{stem}.xlsx")
    response = HttpResponse(
        template.template_tsv(chosen, revise=revise), content_type="text/tab-separated-values; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{stem}.tsv"'
    return response
