"""What a user typed in a form, kept in their session while they sign in again.

Only text fields are kept (files cannot be); the password-like CSRF token is dropped. The stash
belongs to the page it came from and is handed back once, when that page is shown again.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpRequest, QueryDict

_KEY = "stashed_form"
_SKIP = {"csrfmiddlewaretoken"}


def keep(request: HttpRequest) -> None:
    page = request.headers.get("HX-Current-URL") or request.get_full_path()
    data = {key: request.POST.getlist(key) for key in request.POST if key not in _SKIP}
    request.session[_KEY] = {"path": _path_of(page), "data": data}


def take(request: HttpRequest) -> QueryDict | None:
    """The form data kept for this page, if any (removed from the session)."""
    stashed = request.session.get(_KEY)
    if not stashed or stashed.get("path") != request.path:
        return None
    del request.session[_KEY]
    data = QueryDict(mutable=True)
    for key, values in stashed["data"].items():
        data.setlist(key, values)
    return data


def _path_of(url: str) -> str:
    return urlsplit(url).path
