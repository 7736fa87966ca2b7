from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from submitportal.loculus import instance


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
