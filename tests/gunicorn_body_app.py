"""A WSGI app for test_raw_body_gunicorn: it stores the request body with `body_to_file` and says what arrived.

`/follow` receives it with `receive_raw` as the portal does, with the FASTA summarized as it arrives,
and answers with that summary and the one read from the file afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO

import django
from django.conf import settings

settings.configure(FILE_UPLOAD_TEMP_DIR=tempfile.gettempdir(), USE_I18N=False)
django.setup()

from django.core.handlers.wsgi import WSGIRequest  # noqa: E402 - needs the settings above

from submitportal import bulk_data_upload  # noqa: E402
from submitportal.bulkfiles.fasta_summary import FastaSummary, can_follow, summarize_fasta  # noqa: E402
from submitportal.growing_file import Abandoned  # noqa: E402

bulk_data_upload.SOCKET_IDLE_SECONDS = float(os.environ.get("TEST_IDLE_SECONDS", "120"))


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    direct = bulk_data_upload._gunicorn_socket  # reported: which way the body came
    took_socket = []

    def watching(*args: Any) -> Any:
        found = direct(*args)
        took_socket.append(found is not None)
        return found

    bulk_data_upload._gunicorn_socket = watching
    try:
        answer = follow(environ) if environ["PATH_INFO"] == "/follow" else store(environ)
    finally:
        bulk_data_upload._gunicorn_socket = direct
    answer["socket"] = took_socket == [True]
    body = json.dumps(answer).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def store(environ: dict[str, Any]) -> dict[str, Any]:
    expected = int(environ.get("CONTENT_LENGTH") or 0)
    with tempfile.TemporaryFile() as out:
        received = bulk_data_upload.body_to_file(environ, out, expected)
        out.seek(0)
        digest = hashlib.sha256(out.read()).hexdigest()
    return {"received": received, "sha256": digest}


def follow(environ: dict[str, Any]) -> dict[str, Any]:
    outcome: list[str] = []

    def consumer(name: str) -> Callable[[BinaryIO], FastaSummary] | None:
        if not can_follow(name):
            outcome.append("declined")
            return None

        def consume(stream: BinaryIO) -> FastaSummary:
            try:
                summary = summarize_fasta(stream, name)
            except Abandoned:
                outcome.append("abandoned")
                raise
            outcome.append("done")
            return summary

        return consume

    try:
        upload = bulk_data_upload.receive_raw(WSGIRequest(environ), consumer)
    except bulk_data_upload.RawUploadProblem as exc:
        return {"problem": str(exc), "consumer": outcome, "threads": checking_threads()}
    with upload:
        after = summarize_fasta(upload.temporary_file_path(), upload.name or "")
        followed = upload.followed
        stats = upload.follow_stats
        return {
            "received": upload.size,
            "consumer": outcome,
            "followed": followed.to_bytes().hex() if followed else None,
            "after": after.to_bytes().hex(),
            "records": after.count,
            "cpu": stats.cpu_seconds if stats else None,
            "threads": checking_threads(),
        }


def checking_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name == "check-upload"]
