"""Fault injection for the backend and the S3 proxy: delays, error statuses, dropped connections.

A rule is ``{"path": "/files/request-upload", "method": "POST", "delay_ms": 2000,
"status": 503, "drop": false, "times": 1}``. ``path`` is a prefix, or a regular expression
when it starts with ``^``; a rule without ``path`` matches every request. ``times`` limits
how often a rule fires (absent = always). The first matching rule with turns left applies.
"""

from __future__ import annotations

import collections
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sandbox.problems import BadRequest, problem_body, reason_phrase

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
MAX_DELAY_MS = 600_000


@dataclass
class FaultRule:
    path: str = ""
    method: str | None = None
    delay_ms: int = 0
    status: int | None = None
    drop: bool = False
    times: int | None = None
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path.startswith("^"):
            return re.search(self.path, path) is not None
        return path.startswith(self.path)

    def describe(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "method": self.method,
            "delay_ms": self.delay_ms,
            "status": self.status,
            "drop": self.drop,
            "times": self.times,
            "fired": self.fired,
        }


def admin_rules_from_json(body: Any) -> list[FaultRule]:
    items = body if isinstance(body, list) else [body]
    rules = []
    for item in items:
        if not isinstance(item, dict):
            raise BadRequest("Each fault rule must be a JSON object.")
        unknown = set(item) - {"path", "method", "delay_ms", "status", "drop", "times"}
        if unknown:
            raise BadRequest(f"Unknown fault rule keys: {', '.join(sorted(unknown))}")
        rule = FaultRule(
            path=str(item.get("path", "")),
            method=item.get("method"),
            delay_ms=int(item.get("delay_ms", 0)),
            status=int(item["status"]) if item.get("status") is not None else None,
            drop=bool(item.get("drop", False)),
            times=int(item["times"]) if item.get("times") is not None else None,
        )
        if rule.path.startswith("^"):
            try:
                re.compile(rule.path)
            except re.error as error:
                raise BadRequest(f"Invalid path pattern: {error}") from None
        if not 0 <= rule.delay_ms <= MAX_DELAY_MS:
            raise BadRequest(f"delay_ms must be between 0 and {MAX_DELAY_MS}")
        if rule.status is not None and not 100 <= rule.status <= 599:
            raise BadRequest("status must be an HTTP status code")
        rules.append(rule)
    return rules


class FaultInjector:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rules: list[FaultRule] = []
        # What passed through (the S3 proxy records every request), for tests to see e.g. overlap.
        self.seen: collections.deque[dict[str, Any]] = collections.deque(maxlen=200_000)

    def record(self, method: str, path: str, started: float, ended: float, status: int) -> None:
        self.seen.append({"method": method, "path": path, "start": started, "end": ended, "status": status})

    def add(self, rules: list[FaultRule]) -> None:
        with self.lock:
            self.rules.extend(rules)

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()

    def describe(self) -> list[dict[str, Any]]:
        with self.lock:
            return [rule.describe() for rule in self.rules]

    def take(self, method: str, path: str) -> FaultRule | None:
        with self.lock:
            for rule in self.rules:
                if (rule.times is None or rule.fired < rule.times) and rule.matches(method, path):
                    rule.fired += 1
                    return rule
        return None

    def wrap(self, app: WSGIApp, *, problem_json: bool, skip_prefix: str | None = None) -> WSGIApp:
        def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if skip_prefix and path.startswith(skip_prefix):
                return app(environ, start_response)
            rule = self.take(environ.get("REQUEST_METHOD", "GET"), path)
            if rule is None:
                return app(environ, start_response)
            if rule.delay_ms:
                time.sleep(rule.delay_ms / 1000)
            if rule.drop:
                drop_connection(environ)
                start_response("500 Dropped", [("Content-Length", "0")])
                return [b""]
            if rule.status is not None:
                return error_response(rule.status, path, start_response, problem_json=problem_json)
            return app(environ, start_response)

        return middleware


def drop_connection(environ: dict[str, Any]) -> None:
    """Close the client's socket without an answer, as a crashed server or a broken network would."""
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def error_response(
    status: int, path: str, start_response: Callable[..., Any], *, problem_json: bool
) -> Iterable[bytes]:
    detail = f"Fault injected by the Loculus sandbox: {status} {reason_phrase(status)}"
    if problem_json:
        body = json.dumps(problem_body(status, detail, path)).encode()
        content_type = "application/problem+json"
    else:
        # S3 answers errors in XML.
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SandboxInjectedFault</Code>'
            f"<Message>{detail}</Message><Resource>{path}</Resource></Error>"
        ).encode()
        content_type = "application/xml"
    start_response(
        f"{status} {reason_phrase(status)}",
        [("Content-Type", content_type), ("Content-Length", str(len(body)))],
    )
    return [body]
