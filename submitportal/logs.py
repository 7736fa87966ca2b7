"""What the portal writes to its console log, and the request id that ties a log line to a request.

Every request gets a short id (RequestIdMiddleware), shown to the user as the reference on the
error page and sent back in the X-Request-ID header. The console handler (settings.LOGGING) stamps
every record with the id of the request it was logged in, and Django's request records (errors,
refused requests) with the method, path, status and user.

This module is loaded by logging's configuration, before the apps: it imports no models.
"""

from __future__ import annotations

import logging
import re
import secrets
from contextvars import ContextVar

from django.http import HttpRequest

# The id of the request this thread is serving; "-" outside a request.
current_request_id: ContextVar[str] = ContextVar("current_request_id", default="-")

# An id from a proxy in front of the portal is kept when it is a short token that is safe to print.
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def new_request_id() -> str:
    """12 hex digits: short enough to read out over the phone, unique enough for a log."""
    return secrets.token_hex(6)


def request_id_for(incoming: str | None) -> str:
    """The incoming X-Request-ID if it is sane, else a new id."""
    if incoming and _SANE_ID.fullmatch(incoming):
        return incoming
    return new_request_id()


class RequestIdFilter(logging.Filter):
    """Stamps each record with `request_id`: the id of the request it belongs to, or "-"."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a response's status after the middleware has returned, so the record's own
        # request is asked first.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or current_request_id.get()
        return True


class SkipNotFound(logging.Filter):
    """404s are what scanners and old bookmarks produce; the access log has them if wanted."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) != 404


class WithoutTraceback(logging.Filter):
    """django.security records (e.g. a wrong Host header) say everything in their message.

    Their traceback points into Django's request handling and would turn every scan into 20 lines.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


class ConsoleFormatter(logging.Formatter):
    """One line per record (plus the traceback, if any), with the request's context for Django's records.

    Only the method, the path (never the query string, which may carry a sign-in code), the status and
    the user name are added: never headers, cookies, tokens or bodies.
    """

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s request=%(request_id)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):  # a handler without the filter
            record.request_id = current_request_id.get()
        line = super().formatMessage(record)
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest):
            status = getattr(record, "status_code", None) or "-"
            line += (
                f" (method={_printable(request.method or '-')} path={_printable(request.path)}"
                f" status={status} user={_printable(user_name(request))})"
            )
        return line


def user_name(request: HttpRequest) -> str:
    """The signed-in user's name, "anonymous", or "unknown" when it cannot be found out.

    The user comes from the session in the database; if the database is what failed, the log
    line must still be written.
    """
    user = getattr(request, "user", None)
    if user is None:  # the error happened before the authentication middleware ran
        return "unknown"
    try:
        return user.get_username() if user.is_authenticated else "anonymous"
    except Exception:  # noqa: BLE001 - any failure here would lose the log line of the real error
        return "unknown"


def _printable(text: str) -> str:
    """No line breaks or control characters from the request in the log (as Django escapes the path)."""
    return text.encode("unicode_escape").decode("ascii").replace(" ", "\\x20")
