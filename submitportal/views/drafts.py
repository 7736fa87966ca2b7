"""The user's drafts: the list, saving as they type, and deleting."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from submitportal import drafts
from submitportal.loculus import instance
from submitportal.models import BulkFile, Draft, ExtraFile
from submitportal.single_entry import form_fields
from submitportal.views.submission import draft_or_404, draft_url

NO_PII = "confirmation-no-pii"
NO_INSDC = "confirmation-INSDC-upload-terms"
TERMS_KEYS = ("data_use_terms", "restricted_until", NO_PII, NO_INSDC)


@login_required
@require_GET
def draft_list(request: HttpRequest) -> HttpResponse:
    try:
        organisms = instance.get_instance().organisms
    except instance.InstanceUnavailable:
        organisms = {}
    cutoff = timezone.now() - drafts.LOCULUS_UPLOAD_RETENTION
    rows = []
    mine = Draft.objects.filter(user=request.user).order_by("-updated_at").select_related("bulk_check")
    for draft in mine.prefetch_related("bulk_files")[:200]:
        organism = organisms.get(draft.organism)
        if draft.kind == Draft.Kind.FORM:
            label = draft.values.get("id") or "(no ID yet)"
        else:
            metadata = next((f for f in draft.bulk_files.all() if f.kind == BulkFile.Kind.METADATA), None)
            label = metadata.name if metadata else "(no metadata file yet)"
        check = getattr(draft, "bulk_check", None)
        rows.append(
            {
                "draft": draft,
                "organism": organism.display_name if organism else draft.organism,
                "url": draft_url(draft),
                "label": label,
                "files": draft.files.count(),
                "entries": check.summary.get("entries") if check else None,
                "stale_files": draft.status == Draft.Status.OPEN
                and draft.files.filter(status=ExtraFile.Status.UPLOADED, uploaded_at__lt=cutoff).exists(),
            }
        )
    return render(request, "submitportal/drafts.html", {"rows": rows})


@login_required
@require_POST
def save(request: HttpRequest, draft_id: object) -> HttpResponse:
    """Keep what the user typed so far (called as they type); files are handled elsewhere."""
    draft = draft_or_404(request, draft_id)
    if draft.status != Draft.Status.OPEN:
        return HttpResponse(status=204)
    keys = list(TERMS_KEYS)
    if draft.kind == Draft.Kind.FORM:
        organism = instance.get_instance().organism(draft.organism)
        if organism is not None:
            keys += [f.name for f in form_fields(organism)] + [f"sequence-{s}" for s in organism.segments]
    typed = {key: request.POST[key] for key in keys if key in request.POST}
    if "data_use_terms" in request.POST:
        # The terms were sent (the radio always is): unticked checkboxes are simply absent from a form post.
        typed.update({key: "" for key in (NO_PII, NO_INSDC) if key not in request.POST})
    drafts.keep_values(draft, typed)
    return HttpResponse(status=204)


@login_required
@require_POST
def delete(request: HttpRequest, draft_id: object) -> HttpResponse:
    draft = draft_or_404(request, draft_id)
    drafts.remove(draft)
    return redirect("drafts")
