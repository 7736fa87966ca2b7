"""Pages that need no sign-in: the organisms, About, a health check, and the error pages."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.html import format_html
from django.views.decorators.http import require_GET

from submitportal import extra_file_uploads, logs
from submitportal.loculus import files_protocol, instance


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    loculus = instance.get_instance()
    return render(request, "submitportal/home.html", {"loculus": loculus, "organisms": loculus.organisms.values()})


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
        ctx["learned_origins"] = extra_file_uploads.learned_origins()
    return render(request, "submitportal/about.html", ctx)


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: the portal process answers. Loculus is not asked."""
    return HttpResponse("ok\n", content_type="text/plain")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form arrived without its security token: usually an old page. Say so, and how to go on."""
    return render(request, "submitportal/csrf_failure.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """An unexpected error: say so plainly, with the reference that Django's log line of it carries.

    The page is rendered without context processors, so it needs neither the database (the user,
    the messages) nor Loculus (the instance title): either may be what just failed. If even that
    fails (e.g. static files not collected), a page without the layout is sent.
    """
    reference = getattr(request, "request_id", None) or logs.new_request_id()
    request.request_id = reference  # type: ignore[attr-defined]  # the log line reads it from the request
    htmx = request.headers.get("HX-Request") == "true"
    accept = request.headers.get("Accept", "")
    if not htmx and "application/json" in accept and "text/html" not in accept:
        # The upload page's script asks for JSON and shows `error` to the user.
        message = (
            f"Something went wrong on the portal's side. Please try again; if it keeps happening, "
            f"give the portal's operators this reference: {reference}."
        )
        return JsonResponse({"error": message, "reference": reference}, status=500)
    template = "500.html#message" if htmx else "500.html"
    try:
        html = loader.get_template(template).render({"reference": reference})
    except Exception:  # the error page must not fail in turn
        logging.getLogger("submitportal.errors").exception("The error page could not be rendered")
        html = format_html(_PLAIN_ERROR_FRAGMENT if htmx else _PLAIN_ERROR_PAGE, reference=reference)
    return HttpResponse(html, status=500)


_PLAIN_ERROR_FRAGMENT = (
    '<div class="problem" role="alert"><p><strong>Something went wrong on the portal\'s side.</strong> What you '
    "just did may not have been done; what you saved before is kept, because the portal stores your drafts.</p>"
    "<p>Please try again. If it keeps happening, give the portal's operators this reference: "
    '<code class="reference">{reference}</code>.</p></div>'
)
_PLAIN_ERROR_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Something went wrong</title></head><body>'
    "<h1>Something went wrong</h1>" + _PLAIN_ERROR_FRAGMENT + "</body></html>"
)
