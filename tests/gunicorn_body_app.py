"""A WSGI app for test_raw_body_gunicorn: it stores the request body with `body_to_file` and says what arrived."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from submitportal import upload_handlers

upload_handlers.SOCKET_IDLE_SECONDS = float(os.environ.get("TEST_IDLE_SECONDS", "120"))


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    expected = int(environ.get("CONTENT_LENGTH") or 0)
    direct = upload_handlers._gunicorn_socket  # reported: which way the body came
    took_socket = []

    def watching(*args: Any) -> Any:
        found = direct(*args)
        took_socket.append(found is not None)
        return found

    upload_handlers._gunicorn_socket = watching
    try:
        with tempfile.TemporaryFile() as out:
            received = upload_handlers.body_to_file(environ, out, expected)
            out.seek(0)
            digest = hashlib.sha256(out.read()).hexdigest()
    finally:
        upload_handlers._gunicorn_socket = direct
    body = json.dumps({"received": received, "sha256": digest, "socket": took_socket == [True]}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
