"""ProblemDetail errors, shaped as the Loculus backend's ExceptionHandler sends them (contract §2)."""

from __future__ import annotations

from http import HTTPStatus


class Problem(Exception):
    """An error that the backend answers with an RFC 9457 ProblemDetail body."""

    status: int = 500

    def __init__(self, detail: str | None, status: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status

    @property
    def title(self) -> str:
        return reason_phrase(self.status)


class BadRequest(Problem):
    status = 400


class Unauthorized(Problem):
    status = 401


class Forbidden(Problem):
    status = 403


class NotFound(Problem):
    status = 404


class Conflict(Problem):
    status = 409


class Unprocessable(Problem):
    status = 422


class ServiceUnavailable(Problem):
    status = 503


class InternalError(Problem):
    status = 500


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def problem_body(status: int, detail: str | None, instance: str) -> dict[str, object]:
    return {
        "type": "about:blank",
        "title": reason_phrase(status),
        "status": status,
        "detail": detail,
        "instance": instance,
    }
