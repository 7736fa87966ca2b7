"""Pages that need no sign-in: the organisms, About, and a health check."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from submitportal import uploads
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
        "unlisted_origins": uploads.unlisted_origins(),
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


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form arrived without its security token: usually an old page. Say so, and how to go on."""
    return render(request, "submitportal/csrf_failure.html", status=403)
