"""Revise one released entry: find it by accession ("ACC" or "ACC.N", as on the Loculus website), then
revise it on the edit page, which for a released version is the revision form (views/edit.py)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from submitportal import revisions, signin
from submitportal.loculus import client, instance, plain_words
from submitportal.views.draft_pages import chosen_group, organism_or_404


@login_required
@require_GET
def revise_form(request: HttpRequest, organism: str) -> HttpResponse:
    chosen = organism_or_404(organism)
    token = signin.access_token(request)
    groups = client.get_user_groups(token)
    if not groups:
        return redirect("organism-submission", organism=organism)  # it says how to get a group
    group = chosen_group(request, organism, groups)
    text = request.GET.get("accession", "")[:200]
    ctx = {"loculus": instance.get_instance(), "organism": chosen, "group": group, "accession": text}
    if "accession" not in request.GET:
        return render(request, "submitportal/revise_form.html", ctx)
    try:
        found = revisions.find(token, chosen, text, group, groups)
    except client.Unauthorized:
        raise
    except client.LoculusError as exc:
        said = plain_words.explain(exc, doing="finding an entry to revise")
        problem = said or f"Failed to fetch sequence entry history. {instance.get_instance().title} said: {exc.detail}"
        return render(request, "submitportal/revise_form.html", ctx | {"problem": problem}, status=502)
    if found.problem:
        return render(request, "submitportal/revise_form.html", ctx | {"finding": found}, status=400)
    return redirect("entry-edit", organism=organism, accession=found.accession, version=found.version)
