"""Errors an operator can find: every request has an id, and an unhandled exception is logged once with it.

In-process, through the portal's real logging configuration (its console handler writes into a
buffer here), with tests/error_urls.py: the portal's URLs plus views that fail on purpose.
tests/test_errors_gunicorn.py does the same against the portal served by gunicorn.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError
from django.test import Client, RequestFactory

from submitportal import logs
from tests.error_urls import FAILURE_MESSAGE

# The start of every record the portal's console formatter writes (a traceback's lines do not match).
RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ", re.MULTILINE)
GENERATED_ID = re.compile(r"[0-9a-f]{12}")


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """What the portal's console handlers (see settings.LOGGING) write during the test."""
    handlers = {
        handler
        for name in ("submitportal", "django.request", "django.security")
        for handler in logging.getLogger(name).handlers
        if isinstance(handler, logging.StreamHandler) and isinstance(handler.formatter, logs.ConsoleFormatter)
    }
    assert handlers, "settings.LOGGING gives the portal's loggers no handler"
    buffer = io.StringIO()
    old_streams = {handler: handler.setStream(buffer) for handler in handlers}
    try:
        yield buffer
    finally:
        for handler, stream in old_streams.items():
            handler.setStream(stream)


@pytest.fixture
def failing_portal(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.error_urls"
    settings.LOCULUS_URL = ""  # no Loculus: the error pages must not need one


@pytest.fixture
def visitor(failing_portal: None) -> Client:
    return Client(raise_request_exception=False)


def records(text: str) -> list[str]:
    """The log split into records, each with its traceback."""
    starts = [match.start() for match in RECORD_START.finditer(text)]
    return [text[start:end] for start, end in zip(starts, [*starts[1:], len(text)], strict=True)]


@pytest.mark.django_db
def test_an_unhandled_exception_shows_a_reference_that_its_one_log_record_carries(
    failing_portal: None, console: io.StringIO
) -> None:
    visitor = Client(raise_request_exception=False)
    visitor.force_login(get_user_model().objects.create(username="alice"))
    response = visitor.get("/test-errors/fails")

    assert response.status_code == 500
    reference = response.headers["X-Request-ID"]
    assert GENERATED_ID.fullmatch(reference)
    html = response.content.decode()
    assert "<title>Something went wrong</title>" in html
    assert '<nav aria-label="Main">' in html  # the portal's layout
    assert "what you saved before is kept, because the portal stores your drafts." in html
    assert f'give the portal\'s operators this reference: <code class="reference">{reference}</code>.' in html

    (record,) = records(console.getvalue())
    first_line = record.splitlines()[0]
    assert first_line.endswith(
        f" ERROR django.request request={reference}: Internal Server Error: /test-errors/fails"
        " (method=GET path=/test-errors/fails status=500 user=alice)"
    )
    assert "Traceback (most recent call last):" in record
    assert record.rstrip().endswith(f"RuntimeError: {FAILURE_MESSAGE}")
    assert console.getvalue().count(FAILURE_MESSAGE) == 1


def test_an_anonymous_visitor_is_logged_as_anonymous(visitor: Client, console: io.StringIO) -> None:
    response = visitor.post("/test-errors/fails", {"password": "hunter2"})
    assert response.status_code == 500
    (record,) = records(console.getvalue())
    assert "(method=POST path=/test-errors/fails status=500 user=anonymous)" in record
    assert "hunter2" not in record  # never the body


def test_an_htmx_request_gets_the_message_alone(visitor: Client, console: io.StringIO) -> None:
    response = visitor.post("/test-errors/fails", headers={"HX-Request": "true"})
    assert response.status_code == 500
    reference = response.headers["X-Request-ID"]
    html = response.content.decode().strip()
    # portal.js shows an error answer that carries role="alert" at the top of the page.
    assert html.startswith('<div class="problem" role="alert">')
    assert "<html" not in html
    assert f'<code class="reference">{reference}</code>' in html
    assert f"request={reference}:" in console.getvalue()


def test_a_script_asking_for_json_gets_the_reference_in_its_error(visitor: Client) -> None:
    response = visitor.post("/test-errors/fails", headers={"Accept": "application/json"})
    assert response.status_code == 500
    reference = response.headers["X-Request-ID"]
    assert response.json() == {
        "error": "Something went wrong on the portal's side. Please try again; if it keeps happening, "
        f"give the portal's operators this reference: {reference}.",
        "reference": reference,
    }


@pytest.mark.parametrize("incoming", ["3f1c2d-proxy.7_a", "0b4d2f9e-6a55-4c1e-9f0e-2b8f3f7d1a10", "x" * 64])
def test_a_sane_incoming_request_id_is_kept(visitor: Client, console: io.StringIO, incoming: str) -> None:
    response = visitor.get("/test-errors/fails", headers={"X-Request-ID": incoming})
    assert response.headers["X-Request-ID"] == incoming
    assert f'<code class="reference">{incoming}</code>' in response.content.decode()
    assert f"request={incoming}: Internal Server Error" in console.getvalue()


@pytest.mark.parametrize(
    "incoming",
    ["", "x" * 65, "two words", "<script>alert(1)</script>", "id\nERROR forged line", "ünïcode"],
)
def test_an_insane_incoming_request_id_is_replaced(visitor: Client, console: io.StringIO, incoming: str) -> None:
    response = visitor.get("/test-errors/fails", headers={"X-Request-ID": incoming})
    reference = response.headers["X-Request-ID"]
    assert GENERATED_ID.fullmatch(reference)
    assert f"request={reference}: Internal Server Error" in console.getvalue()
    assert "forged" not in console.getvalue()


def test_every_answer_carries_its_request_id(visitor: Client) -> None:
    first, second = visitor.get("/healthz"), visitor.get("/healthz")
    assert first.status_code == second.status_code == 200
    assert GENERATED_ID.fullmatch(first.headers["X-Request-ID"])
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


def test_the_portals_own_lines_during_a_request_carry_its_id(visitor: Client, console: io.StringIO) -> None:
    response = visitor.get("/test-errors/logs", headers={"X-Request-ID": "trace-me-42"})
    assert response.status_code == 200
    (record,) = records(console.getvalue())
    assert " WARNING submitportal.errortest request=trace-me-42: a line from inside a request" in record


def test_a_line_outside_a_request_has_no_id(console: io.StringIO) -> None:
    logging.getLogger("submitportal.errortest").warning("a line from no request")
    (record,) = records(console.getvalue())
    assert " WARNING submitportal.errortest request=-: a line from no request" in record


def test_a_5xx_answer_without_an_exception_leaves_one_line(visitor: Client, console: io.StringIO) -> None:
    response = visitor.get("/test-errors/unavailable")
    assert response.status_code == 503
    reference = response.headers["X-Request-ID"]
    (record,) = records(console.getvalue())
    assert record.rstrip().endswith(
        f" ERROR django.request request={reference}: Service Unavailable: /test-errors/unavailable"
        " (method=GET path=/test-errors/unavailable status=503 user=anonymous)"
    )


def test_a_loculus_problem_page_shows_the_reference_of_its_lines(visitor: Client, console: io.StringIO) -> None:
    response = visitor.get("/test-errors/loculus-fails")
    assert response.status_code == 503
    reference = response.headers["X-Request-ID"]
    assert (
        f'give the portal\'s operators this reference: <code class="reference">{reference}</code>'
        " (Loculus request ID: <code>be-1</code>)." in response.content.decode()
    )
    problem, answer = records(console.getvalue())
    assert (
        f" WARNING submitportal.loculus request={reference}: Loculus answered GET /test-errors/loculus-fails with 500"
        in problem
    )
    assert f" ERROR django.request request={reference}: Service Unavailable: /test-errors/loculus-fails" in answer


def test_a_404_leaves_no_line(visitor: Client, console: io.StringIO) -> None:
    assert visitor.get("/test-errors/missing").status_code == 404
    assert console.getvalue() == ""


def test_a_refused_form_is_one_warning(failing_portal: None, console: io.StringIO) -> None:
    careful = Client(enforce_csrf_checks=True, raise_request_exception=False)
    response = careful.post("/test-errors/fails")
    assert response.status_code == 403
    (record,) = records(console.getvalue())
    assert " WARNING django.security.csrf request=" in record
    assert "Forbidden (CSRF cookie not set.): /test-errors/fails (method=POST path=/test-errors/fails" in record


def test_a_wrong_host_is_one_line_without_a_traceback(visitor: Client, console: io.StringIO) -> None:
    response = visitor.get("/healthz", headers={"Host": "scanner.example"})
    assert response.status_code == 400
    (record,) = records(console.getvalue())
    assert f" ERROR django.security.DisallowedHost request={response.headers['X-Request-ID']}: " in record
    assert "Invalid HTTP_HOST header: 'scanner.example'." in record
    assert "Traceback" not in record


def test_the_error_page_and_its_log_record_need_neither_the_database_nor_loculus(
    visitor: Client, console: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> object:
        raise DatabaseError("the database is down")

    def not_asked(*args: object) -> object:
        raise AssertionError("the error page asked Loculus")

    monkeypatch.setattr("django.contrib.auth.get_user", broken)
    monkeypatch.setattr("submitportal.loculus.instance.get_instance", not_asked)
    response = visitor.get("/test-errors/fails")
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] in response.content.decode()
    (record,) = records(console.getvalue())
    assert "(method=GET path=/test-errors/fails status=500 user=unknown)" in record


def test_the_request_context_cannot_forge_log_lines() -> None:
    request = RequestFactory().get("/")
    request.path = "/a\nb c"  # %0A and %20 in the URL arrive decoded
    request.request_id = "r1"  # type: ignore[attr-defined]
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Not good", (), None)
    record.request = request  # type: ignore[attr-defined]
    record.status_code = 500  # type: ignore[attr-defined]
    logs.RequestIdFilter().filter(record)
    line = logs.ConsoleFormatter().format(record)
    assert "\n" not in line
    assert line.endswith(
        " ERROR django.request request=r1: Not good (method=GET path=/a\\nb\\x20c status=500 user=unknown)"
    )


def test_the_error_page_falls_back_to_plain_html_when_the_layout_fails(
    visitor: Client, console: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_layout(name: str) -> object:
        raise ValueError("Missing staticfiles manifest entry for 'css/portal.css'")

    monkeypatch.setattr("submitportal.views.pages.loader.get_template", no_layout)
    response = visitor.get("/test-errors/fails")
    assert response.status_code == 500
    reference = response.headers["X-Request-ID"]
    html = response.content.decode()
    assert html.startswith("<!doctype html>")
    assert f'give the portal\'s operators this reference: <code class="reference">{reference}</code>.' in html
    layout_failed, error = records(console.getvalue())
    assert f" ERROR submitportal.errors request={reference}: The error page could not be rendered" in layout_failed
    assert "Missing staticfiles manifest entry" in layout_failed
    assert f" ERROR django.request request={reference}: Internal Server Error: /test-errors/fails" in error
