"""The user's drafts: the list, saving as they type, and deleting."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from submitportal import drafts, forms
from submitportal.loculus import instance
from submitportal.models import BulkFile, Draft, ExtraFile
from submitportal.single_entry import edit_fields, form_fields
from submitportal.views.draft_pages import draft_or_404, draft_url, open_draft, result_url


def _kind(draft: Draft) -> str:
    if draft.kind == Draft.Kind.BULK and draft.revise:
        return "Bulk revision"
    return draft.get_kind_display()


@login_required
@require_GET
def draft_list(request: HttpRequest) -> HttpResponse:
    """Submissions in progress (those the user put something into), and those submitted, apart."""
    try:
        organisms = instance.get_instance().organisms
    except instance.InstanceUnavailable:
        organisms = {}
    cutoff = timezone.now() - drafts.LOCULUS_UPLOAD_RETENTION
    mine = Draft.objects.filter(user=request.user).select_related("bulk_check").prefetch_related("bulk_files")
    started = drafts.with_content(mine.exclude(status=Draft.Status.SUBMITTED)).order_by("-updated_at")[:200]
    rows = []
    for draft in (d for d in started if drafts.has_content(d)):
        organism = organisms.get(draft.organism)
        if draft.kind == Draft.Kind.FORM:
            label = draft.values.get("id") or "(no ID yet)"
        elif draft.kind == Draft.Kind.EDIT:
            label = f"Edits of {draft.accession}.{draft.version} ({draft.values.get('id', '')})"
        else:
            metadata = next((f for f in draft.bulk_files.all() if f.kind == BulkFile.Kind.METADATA), None)
            label = metadata.name if metadata else "(no metadata file yet)"
        check = getattr(draft, "bulk_check", None)
        rows.append(
            {
                "draft": draft,
                "kind": _kind(draft),
                "organism": organism.display_name if organism else draft.organism,
                "url": draft_url(draft),
                "label": label,
                "files": draft.extra_files.count(),
                "entries": check.summary.get("entries") if check else None,
                "stale_files": draft.status == Draft.Status.OPEN
                and draft.extra_files.filter(status=ExtraFile.Status.UPLOADED, uploaded_at__lt=cutoff).exists(),
            }
        )
    submitted = []
    for draft in mine.filter(status=Draft.Status.SUBMITTED).order_by("-updated_at")[:200]:
        organism = organisms.get(draft.organism)
        entries = (draft.result or {}).get("entries", [])
        submitted.append(
            {
                "draft": draft,
                "kind": _kind(draft),
                "organism": organism.display_name if organism else draft.organism,
                "url": result_url(draft),
                "accessions": [f"{e['accession']}.{e['version']}" for e in entries[:3]],
                "more": max(0, len(entries) - 3),
                "count": len(entries),
            }
        )
    ctx = {"rows": rows, "submitted": submitted, "retention_days": settings.DRAFT_RETENTION_DAYS}
    return render(request, "submitportal/drafts.html", ctx)


@login_required
@require_POST
@open_draft
def save(request: HttpRequest, draft: Draft) -> HttpResponse:
    """Keep what the user typed so far (called as they type); files are handled elsewhere."""
    keys = list(forms.KEYS)
    if draft.kind == Draft.Kind.FORM:
        organism = instance.get_instance().organism(draft.organism)
        if organism is not None:
            keys += [f.name for f in form_fields(organism)] + [f"sequence-{s}" for s in organism.segments]
    elif draft.kind == Draft.Kind.EDIT:
        organism = instance.get_instance().organism(draft.organism)
        if organism is not None:
            # The sequence boxes are the entry's submitted FASTA ids, kept with the draft when it started.
            keys += [f.name for f in edit_fields(organism)] + [k for k in draft.values if k.startswith("sequence-")]
    typed = {key: request.POST[key] for key in keys if key in request.POST}
    if "data_use_terms" in request.POST:
        # The terms were sent (the radio always is): unticked checkboxes are simply absent from a form post.
        typed.update({key: "" for key in (forms.NO_PII, forms.NO_INSDC) if key not in request.POST})
    drafts.keep_values(draft, typed)
    return HttpResponse(status=204)


@login_required
@require_POST
def delete(request: HttpRequest, draft_id: object) -> HttpResponse:
    draft = draft_or_404(request, draft_id)
    drafts.remove(draft)
    return redirect("drafts")
