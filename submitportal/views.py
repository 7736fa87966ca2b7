"""The portal's pages. Thin: read the request, ask the loculus package or signin, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from submitportal import form_stash, signin
from submitportal.loculus import client, files_protocol, instance
from submitportal.models import GroupChoice


def _organism_or_404(key: str) -> instance.Organism:
    organism = instance.get_instance().organism(key)
    if organism is None:
        raise Http404(f"This Loculus instance has no organism called {key!r}.")
    return organism


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()}, request.is_secure()):
        return candidate
    return "/"


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    loculus = instance.get_instance()
    return render(request, "submitportal/home.html", {"loculus": loculus, "organisms": loculus.organisms.values()})


# --- Signing in and out ------------------------------------------------------------------------


@require_GET
def signin_start(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.GET.get("next"))
    try:
        return signin.start(request, next_url)
    except signin.SignInFailed as exc:
        return render(request, "submitportal/signin_failed.html", {"problem": str(exc), "next": next_url}, status=502)


@require_GET
def signin_callback(request: HttpRequest) -> HttpResponse:
    try:
        next_url = signin.finish(request)
    except signin.SignInFailed as exc:
        ctx = {"problem": str(exc), "next": _safe_next(request, request.session.get("signin_next"))}
        return render(request, "submitportal/signin_failed.html", ctx, status=400)
    return HttpResponseRedirect(_safe_next(request, next_url))


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(signin.sign_out(request))


# --- Submission ---------------------------------------------------------------------------------


def _chosen_group(request: HttpRequest, organism: str, groups: list[client.Group]) -> client.Group:
    choice = GroupChoice.objects.filter(user=request.user, organism=organism).first()
    by_id = {group.group_id: group for group in groups}
    return by_id.get(choice.group_id, groups[0]) if choice else groups[0]


@login_required
@require_http_methods(["GET", "POST"])
def organism_submission(request: HttpRequest, organism: str) -> HttpResponse:
    loculus = instance.get_instance()
    chosen_organism = _organism_or_404(organism)
    groups = client.get_user_groups(signin.access_token(request))
    ctx: dict[str, object] = {"loculus": loculus, "organism": chosen_organism, "groups": groups}
    if not groups:
        ctx["create_group_url"] = f"{loculus.website_url}/user/createGroup?continueSubmissionOrganism={organism}"
        return render(request, "submitportal/organism_submission.html", ctx)
    if request.method == "POST":
        return _choose_group(request, organism, groups, ctx)
    ctx["group"] = _chosen_group(request, organism, groups)
    stashed = form_stash.take(request)
    if stashed and stashed.get("group"):
        ctx["stashed_group"] = stashed["group"]
    return render(request, "submitportal/organism_submission.html", ctx)


def _choose_group(
    request: HttpRequest, organism: str, groups: list[client.Group], ctx: dict[str, object]
) -> HttpResponse:
    by_id = {str(group.group_id): group for group in groups}
    chosen = by_id.get(request.POST.get("group", ""))
    if chosen is None:
        ctx["group"] = _chosen_group(request, organism, groups)
        ctx["group_error"] = "Please choose one of your submitting groups from the list."
        template = (
            "submitportal/organism_submission.html#group" if request.htmx else "submitportal/organism_submission.html"
        )  # type: ignore[attr-defined]
        return render(request, template, ctx, status=400)
    GroupChoice.objects.update_or_create(user=request.user, organism=organism, defaults={"group_id": chosen.group_id})
    if request.htmx:  # type: ignore[attr-defined]
        ctx["group"] = chosen
        ctx["group_saved"] = True
        return render(request, "submitportal/organism_submission.html#group", ctx)
    return redirect("organism-submission", organism=organism)


# --- About --------------------------------------------------------------------------------------


@require_GET
def about(request: HttpRequest) -> HttpResponse:
    ctx: dict[str, object] = {
        "loculus_url": settings.LOCULUS_URL,
        "backend_override": settings.LOCULUS_BACKEND_URL,
        "files_protocol_setting": settings.LOCULUS_FILES_PROTOCOL,
        "data_use_terms": settings.LOCULUS_DATA_USE_TERMS,
        "oidc_client_id": settings.OIDC_CLIENT_ID,
        "oidc_secret_set": bool(settings.OIDC_CLIENT_SECRET),
        "s3_origins": settings.S3_ORIGINS,
    }
    try:
        ctx["loculus"] = instance.get_instance()
    except instance.InstanceUnavailable as exc:
        ctx["unavailable"] = exc
    else:
        ctx["files_protocol"] = files_protocol.current_choice()
    return render(request, "submitportal/about.html", ctx)


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: the portal process answers. Loculus is not asked."""
    return HttpResponse("ok\n", content_type="text/plain")
