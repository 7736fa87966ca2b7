"""A URLconf for the error tests: the portal's own, plus views that fail on purpose.

tests/test_errors.py uses it in-process; tests/error_settings.py serves it under gunicorn.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

from submitportal.loculus import client
from submitportal.urls import handler500
from submitportal.urls import urlpatterns as portal_urlpatterns

__all__ = ["handler500", "urlpatterns"]

# Unique, so that a test can count how often the traceback was written.
FAILURE_MESSAGE = "the error test's view failed on purpose"


def fails(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(FAILURE_MESSAGE)


def logs_a_line(request: HttpRequest) -> HttpResponse:
    logging.getLogger("submitportal.errortest").warning("a line from inside a request")
    return HttpResponse("logged", content_type="text/plain")


def unavailable(request: HttpRequest) -> HttpResponse:
    """A 5xx answer without an exception, as the portal's own pages for Loculus problems are."""
    return HttpResponse("Loculus is resting.", status=503, content_type="text/plain")


def loculus_fails(request: HttpRequest) -> HttpResponse:
    raise client.BackendFailed(status=500, title="Internal Server Error", detail="It broke.", request_id="be-1")


def refuses(request: HttpRequest) -> HttpResponse:
    """A refusal in words, as the upload endpoints answer a list they cannot read; it quotes input."""
    return HttpResponse(REFUSAL, status=400, content_type="text/plain; charset=utf-8")


REFUSAL = "Ebola Sudan has no file category called “<img src=x onerror=alert(1)>”."


def missing(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Nothing here.", status=404, content_type="text/plain")


_PAGE = """{% extends "base.html" %}
{% block content %}
<h1>Error test page</h1>
<button type="button" hx-post="/test-errors/fails" hx-target="#result">Fail</button>
<button type="button" hx-post="/test-errors/unavailable" hx-target="#result">Unavailable</button>
<button type="button" hx-post="/test-errors/refuses" hx-target="#result">Refuse</button>
<div id="result"></div>
{% endblock %}"""


def page(request: HttpRequest) -> HttpResponse:
    """A page in the portal's layout whose buttons send htmx requests to the failing views."""
    return HttpResponse(engines["django"].from_string(_PAGE).render(request=request))


urlpatterns = [
    path("test-errors/fails", fails),
    path("test-errors/logs", logs_a_line),
    path("test-errors/unavailable", unavailable),
    path("test-errors/missing", missing),
    path("test-errors/refuses", refuses),
    path("test-errors/loculus-fails", loculus_fails),
    path("test-errors/page", page),
    *portal_urlpatterns,
]
