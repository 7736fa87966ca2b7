"""A group's released sequences: revoke some (with a reason), or download them as they were submitted.

A revocation is a new version of its accession, which waits on the review page ("Revocation entry")
until it is approved, as every new version does. The download is the backend's get-submitted-data
zip (metadata.tsv with `accession` and the files as name:fileId, and sequences.fasta), streamed
through: it is what a bulk revision starts from.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from submitportal import signin
from submitportal.loculus import client, plain_words
from submitportal.models import Draft
from submitportal.views.draft_pages import chosen_group, draft_or_404, organism_or_404, result_url
from submitportal.views.review import bounded_int, groups_and_group

log = logging.getLogger("submitportal.review")

PAGE_SIZE = 50
DOWNLOAD_LIMIT = 500  # the backend's own limit for get-submitted-data (contract §5.7)
ACCESSION = re.compile(r"^[A-Za-z0-9_]{1,100}$")
REASON_LIMIT = 1000
CONFIRM = "Are you sure you want to revoke the selected sequences?"


@dataclass(frozen=True)
class Row:
    entry: client.SequenceEntry
    latest: bool  # the newest released version of its accession on this page

    @property
    def key(self) -> str:
        return f"{self.entry.accession}.{self.entry.version}"

    @property
    def words(self) -> str:
        if self.entry.is_revocation:
            return "Revoked"
        return "Released" if self.latest else "Revised (a later version is released)"


def _rows(entries: tuple[client.SequenceEntry, ...]) -> list[Row]:
    newest: dict[str, int] = {}
    for entry in entries:
        newest[entry.accession] = max(newest.get(entry.accession, 0), entry.version)
    return [Row(e, e.version == newest[e.accession]) for e in entries]


@login_required
@require_GET
def released_chosen(request: HttpRequest, organism: str) -> HttpResponse:
    """The released sequences of the user's chosen group for this organism."""
    organism_or_404(organism)
    groups = client.get_user_groups(signin.access_token(request))
    if not groups:
        return redirect("organism-submission", organism=organism)
    return redirect("released", organism=organism, group_id=chosen_group(request, organism, groups).group_id)


@login_required
@require_GET
def released(request: HttpRequest, organism: str, group_id: int) -> HttpResponse:
    chosen = organism_or_404(organism)
    groups, group = groups_and_group(request, group_id)
    page = bounded_int(request.GET.get("page"), 0, low=0, high=1_000_000)
    answer = client.get_sequences(
        signin.access_token(request),
        organism,
        group_ids=[group_id],
        statuses=["APPROVED_FOR_RELEASE"],
        page=page,
        size=PAGE_SIZE,
    )
    total = int(answer.status_counts.get("APPROVED_FOR_RELEASE", 0))
    pages = max(1, -(-total // PAGE_SIZE))
    here = reverse("released", kwargs={"organism": organism, "group_id": group_id})
    ctx: dict[str, Any] = {
        "organism": chosen,
        "group": group,
        "other_groups": [g for g in groups if g.group_id != group_id],
        "rows": _rows(answer.entries),
        "total": total,
        "page": page,
        "pages": pages,
        "previous_page": f"{here}?{urlencode({'page': page - 1})}" if page > 0 else "",
        "next_page": f"{here}?{urlencode({'page': page + 1})}" if page + 1 < pages else "",
        "confirm": CONFIRM,
        "download_limit": DOWNLOAD_LIMIT,
    }
    return render(request, "submitportal/released.html", ctx)


def _chosen(request: HttpRequest) -> list[str]:
    return sorted({a for a in request.POST.getlist("accession") if ACCESSION.match(a)})


def _back(request: HttpRequest, url: str) -> HttpResponse:
    """Where an action lands: the page's own redirect, or htmx's (the action was sent by the page's script)."""
    if request.htmx:  # type: ignore[attr-defined]
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@login_required
@require_POST
def revoke(request: HttpRequest, organism: str, group_id: int) -> HttpResponse:
    """Revoke the chosen accessions with the reason given; the revocations then wait on the review page."""
    chosen = organism_or_404(organism)
    groups_and_group(request, group_id)
    here = reverse("released", kwargs={"organism": organism, "group_id": group_id})
    accessions = _chosen(request)
    reason = request.POST.get("versionComment", "").strip()[:REASON_LIMIT]
    if not accessions:
        messages.error(request, "Please choose the sequences to revoke (tick them in the list).")
        return _back(request, here)
    if not request.POST.get("confirmed"):  # no script: ask on a page of its own
        return render(
            request,
            "submitportal/review_confirm.html",
            {
                "organism": chosen,
                "question": f"{CONFIRM} ({', '.join(accessions)})",
                "post": request.POST,
                "back": here,
                "button": "Confirm",
                "action_url": request.path,
            },
        )
    try:
        revocations = client.revoke(signin.access_token(request), organism, accessions, reason)
    except client.Unauthorized:
        raise
    except client.LoculusError as exc:
        said = plain_words.explain(exc, doing=f"revoke {', '.join(accessions)}")
        messages.error(request, f"Failed to revoke sequence entry: {said or exc.detail}")
        return _back(request, here)
    log.info("%s revoked %s in group %s", request.user, ", ".join(accessions), group_id)
    names = ", ".join(f"{r.accession}.{r.version}" for r in revocations)
    messages.success(
        request,
        f"{len(revocations)} revocation version(s) created: {names}. They are released once you approve them here.",
    )
    batch = Draft.objects.create(  # the revocations are a batch: reviewed (and found again in My drafts) as one
        user=request.user,
        organism=organism,
        kind=Draft.Kind.REVOCATION,
        group_id=group_id,
        status=Draft.Status.SUBMITTED,
        values={"versionComment": reason},
        result={
            "entries": [
                {"submissionId": r.submission_id, "accession": r.accession, "version": r.version} for r in revocations
            ],
            "groupId": group_id,
        },
    )
    return _back(request, result_url(batch))


@login_required
@require_POST
def download(request: HttpRequest, organism: str, group_id: int) -> HttpResponse:
    """The chosen released entries (or all, up to the backend's 500) as originally submitted: a zip, streamed."""
    organism_or_404(organism)
    groups_and_group(request, group_id)
    accessions = _chosen(request) or None
    if "batch" in request.POST:  # all of a batch (a result page): what of it is released now
        try:
            batch = draft_or_404(request, uuid.UUID(request.POST["batch"]), organism)
        except ValueError:
            raise Http404("No such batch.") from None
        accessions = sorted({e["accession"] for e in (batch.result or {}).get("entries", [])})
        if not accessions:
            raise Http404("This batch has no entries in Loculus.")
    try:
        got = client.get_submitted_data(signin.access_token(request), organism, group_id, accessions)
    except client.Unauthorized:
        raise
    except client.LoculusError as exc:
        said = plain_words.explain(exc, doing="download the originally submitted data")
        messages.error(request, f"Could not download the originally submitted data: {said or exc.detail}")
        return redirect("released", organism=organism, group_id=group_id)
    response = StreamingHttpResponse(got.chunks(), content_type=got.content_type)
    response["Content-Disposition"] = f'attachment; filename="{got.filename}"'
    return response
