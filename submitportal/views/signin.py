"""Signing in and out with the instance's Keycloak (the work is in submitportal.signin)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from submitportal import signin


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()}, request.is_secure()):
        return candidate
    return "/"


@require_GET
def start(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.GET.get("next"))
    try:
        return signin.start(request, next_url)
    except signin.SignInFailed as exc:
        return render(request, "submitportal/signin_failed.html", {"problem": str(exc), "next": next_url}, status=502)


@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    try:
        next_url = signin.finish(request)
    except signin.SignInFailed as exc:
        ctx = {"problem": str(exc), "next": _safe_next(request, request.session.get("signin_next"))}
        return render(request, "submitportal/signin_failed.html", ctx, status=400)
    return HttpResponseRedirect(_safe_next(request, next_url))


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(signin.sign_out(request))
