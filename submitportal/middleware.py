from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from submitportal import form_stash, logs, signin
from submitportal.loculus import client, instance, plain_words

log = logging.getLogger("submitportal.signin")


class RequestIdMiddleware:
    """Gives every request a short id: in its log lines, on the error page, and in the X-Request-ID header.

    A proxy's X-Request-ID is kept when it is a short, printable token, so that its log and the
    portal's match.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = logs.request_id_for(request.headers.get("X-Request-ID"))
        request.request_id = request_id  # type: ignore[attr-defined]
        token = logs.current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            logs.current_request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class NoStoreWhenSignedInMiddleware:
    """Nothing a signed-in user gets is kept by a browser's or a proxy's cache (OWASP ASVS V8.2.1):
    draft pages, file rows, My drafts, the JSON with presigned upload URLs. A view that says
    otherwise keeps its own Cache-Control.

    "Signed in" is judged by the session cookie, sent or set, not by looking the user up: an error
    page must not need the database that may have just failed.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = settings.SESSION_COOKIE_NAME
        if (session in request.COOKIES or session in response.cookies) and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


class LoculusUnavailableMiddleware:
    """Any page that needs the instance description explains what failed, instead of a traceback."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, instance.InstanceUnavailable):
            request.loculus_unavailable = exception  # type: ignore[attr-defined]  # read by the context processor
            return render(request, "submitportal/loculus_unavailable.html", {"unavailable": exception}, status=503)
        return None


class LoculusProblemMiddleware:
    """A page that could not get what it needed from Loculus says so, with a way to try again.

    Forms catch the problems of their own submit and show them next to the form; this covers the
    rest (e.g. the user's groups while the backend is down). Nothing the user did is lost: drafts
    live in the portal's database.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, client.LoculusError) or isinstance(exception, client.Unauthorized):
            return None
        said = plain_words.explain(exception, doing=f"{request.method} {request.path}")
        ctx = {
            "problem": exception,
            "plain": said,
            "retry_url": request.headers.get("HX-Current-URL") or request.get_full_path(),
        }
        status = 503 if isinstance(exception, (client.BackendUnreachable, client.BackendFailed)) else 502
        if request.htmx:  # type: ignore[attr-defined]
            return render(request, "submitportal/loculus_problem.html#message", ctx, status=status)
        return render(request, "submitportal/loculus_problem.html", ctx, status=status)


class ContentSecurityPolicyMiddleware:
    """Adds the origins only known at run time to the Content Security Policy.

    A page with uploads lets the browser PUT extra files to the S3 origins: S3_ORIGINS and those
    learned from the backend's upload URLs, exactly as its upload section lists them (the
    `upload_origins` template tag keeps them on the request). Other pages need only S3_ORIGINS, if
    any, and no look-up. The sign-out form redirects to Keycloak, whose origin comes from the
    instance description.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 500:
            # The error page has no sign-out form, and must not depend on what may just have failed
            # (the database cache, Loculus).
            return response
        update: dict[str, list[str]] = {}
        connect = getattr(request, "upload_origins", None) or settings.S3_ORIGINS
        if connect:
            update["connect-src"] = list(connect)
        try:
            update["form-action"] = [signin.issuer_origin()]
        except instance.InstanceUnavailable:
            pass
        if update:
            response._csp_update = update  # type: ignore[attr-defined]
        return response


class SignInMiddleware:
    """Sends the user to sign in (again) when their tokens are gone or Loculus refuses them.

    What they had typed in the form they were sending is kept in the session and offered again
    when they come back to the page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, client.Unauthorized):
            if signin.refused_again(request):
                log.warning("Loculus refused the token again right after a new sign-in: %s", exception.detail)
                ctx = {"detail": exception.detail, "issuer": signin.issuer()}
                return render(request, "submitportal/signin_refused.html", ctx, status=502)
        elif not isinstance(exception, signin.SignInRequired):
            return None
        return _sign_in_again(request)


def _sign_in_again(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form_stash.keep(request)
    # For an htmx request, come back to the page the user sees, not to the fragment's URL.
    page = request.headers.get("HX-Current-URL") if request.htmx else None  # type: ignore[attr-defined]
    next_url = _local_path(page) if page else request.get_full_path()
    url = f"{reverse('signin')}?{urlencode({'next': next_url})}"
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return HttpResponseRedirect(url)


def _local_path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
