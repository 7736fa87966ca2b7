"""How the portal receives uploaded files (bulk metadata and FASTA): straight to a temporary file on disk.

Django's parser reads the request in the smallest chunk size of all its upload handlers; with the
default in-memory handler that is 64 KiB, and each read costs the WSGI server a copy of its buffer.
One handler with 1 MiB chunks receives a gigabyte several times faster, and never in memory.
The bulk page's script skips multipart altogether and sends the file as the body (`receive_raw`);
a consumer given to it (the FASTA check) reads the file in a second thread while it arrives
(submitportal.growing_file), so its result is ready when the last byte is.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote

from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat

from submitportal.growing_file import Follower, FollowStats, GrowingFile
from submitportal.splice_copy import can_splice, splice_to_file


class LargeChunkTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    chunk_size = 1024 * 1024


RAW_CONTENT_TYPE = "application/octet-stream"
FILE_NAME_HEADER = "X-File-Name"  # percent-encoded UTF-8, as encodeURIComponent writes it
RAW_CHUNK = 1024 * 1024
SOCKET_IDLE_SECONDS = 120  # a client silent this long mid-body has gone
FOLLOW_FINISH_SECONDS = 3600  # the most a check that fell behind may take after the upload (gunicorn's timeout)

# Given the file's name, what to compute from its bytes as they arrive (None: nothing for this name).
Consumer = Callable[[str], Callable[[BinaryIO], Any] | None]


class RawUploadProblem(Exception):
    """A raw upload that cannot be kept; the message says what to do."""


class ReceivedFile(TemporaryUploadedFile):
    """A raw upload on disk, with what its consumer computed as it arrived.

    `followed` is None when there was no consumer, it declined the name, or it failed: then
    the caller computes the same from the file. `follow_stats` says what the consumer's thread cost.
    """

    followed: Any = None
    follow_stats: FollowStats | None = None


def received_file(request: HttpRequest, consumer: Consumer | None = None) -> UploadedFile | None:
    """The uploaded file: the raw body, or the multipart form's `file` field (None if there is none).

    Only a raw body is followed by `consumer` as it arrives; check a multipart upload afterwards.
    """
    if request.content_type == RAW_CONTENT_TYPE:
        return receive_raw(request, consumer)
    return request.FILES.get("file")


def receive_raw(request: HttpRequest, consumer: Consumer | None = None) -> ReceivedFile:
    """The request body is the file itself (the bulk page's script sends it so): stream it to disk.

    No multipart framing to parse, so a gigabyte arrives at the speed of the socket and the disk
    (`body_to_file`). The file's name comes in the X-File-Name header. A body that ends before its
    Content-Length (the browser gave up) is dropped with a message, not kept half, and so is what
    `consumer(name)` computed from it in the meantime; of a whole body its result is `followed`.
    """
    try:
        name = Path(unquote(request.headers.get(FILE_NAME_HEADER, ""), errors="strict")).name.strip()
    except UnicodeDecodeError:
        name = ""
    if not name:
        raise RawUploadProblem("The upload did not say the file's name. Please choose the file again.")
    expected = int(request.META.get("CONTENT_LENGTH") or 0)
    upload = ReceivedFile(name, RAW_CONTENT_TYPE, 0, None)
    consume = consumer(upload.name or name) if consumer else None  # the name as it will be stored
    growing = GrowingFile(upload.file.fileno(), idle_seconds=SOCKET_IDLE_SECONDS + 10) if consume else None
    follower = Follower(growing, consume, name="check-upload") if growing and consume else None
    complete = False
    try:
        received = body_to_file(request.environ, upload.file, expected, growing.wrote if growing else None)
        complete = received == expected
    except OSError as exc:  # the connection broke, or the disk is full
        raise RawUploadProblem(_interrupted(name, 0, expected)) from exc
    finally:
        if not complete:  # also when the worker is stopped mid-body: the consumer's thread must not linger
            if follower:
                follower.abandon()
            upload.close()
    if not complete:
        raise RawUploadProblem(_interrupted(name, received, expected))
    if follower:
        upload.followed = follower.result(FOLLOW_FINISH_SECONDS)
        upload.follow_stats = follower.stats
    upload.file.seek(0)
    upload.size = received
    return upload


def body_to_file(
    environ: dict[str, Any], out: BinaryIO, expected: int, wrote: Callable[[int], None] | None = None
) -> int:
    """Copy the request body to `out`; return how many bytes arrived (fewer than `expected`: cut short).

    Under gunicorn the body moves socket → pipe → file with splice(2), never through Python, once
    the few bytes gunicorn's reader already holds are written: its reader copies every byte
    several times, which costs more than the disk. Elsewhere, 1 MiB reads. `wrote(count)` is told
    after each write, once the bytes are in the file for other readers to see.
    """
    direct = _gunicorn_socket(environ, expected)
    if direct is None:
        stream = environ["wsgi.input"]
        received = 0
        while received < expected and (chunk := stream.read(min(RAW_CHUNK, expected - received))):
            out.write(chunk)
            out.flush()
            received += len(chunk)
            if wrote:
                wrote(len(chunk))
        return received
    sock, buffered, body = direct
    received = 0
    try:
        out.write(buffered)
        out.flush()
        if wrote and buffered:
            wrote(len(buffered))
        received = len(buffered) + _splice(sock, out.fileno(), expected - len(buffered), wrote)
    finally:
        if received != expected:
            body.failed = True  # where the connection stands is unknown: gunicorn must not reuse it
    return received


def _gunicorn_socket(environ: dict[str, Any], expected: int) -> tuple[socket.socket, bytes, Any] | None:
    """(socket, body bytes gunicorn already read, its body reader) when the rest can be read off the socket.

    Only for a plain TCP socket and a body of known length that nobody has started reading; the
    reader is then marked as read to the end, so gunicorn goes on with the connection afterwards.
    """
    try:
        from gunicorn.http.body import Body, LengthReader
    except ImportError:
        return None
    body = environ.get("wsgi.input")
    sock = environ.get("gunicorn.socket")
    if (
        not can_splice()
        or type(sock) is not socket.socket
        or not isinstance(body, Body)
        or not isinstance(body.reader, LengthReader)
        or body.buf.tell()
        or body.reader.length != expected
        or not hasattr(body.reader.unreader, "take_buffered")
        or not hasattr(body, "failed")
    ):
        return None
    reader = body.reader
    buffered = reader.unreader.take_buffered()
    if len(buffered) > expected:  # the client already sent its next request behind this body
        reader.unreader.unread(buffered[expected:])
        buffered = buffered[:expected]
    reader.length = 0
    return sock, buffered, body


def _splice(sock: socket.socket, out_fd: int, wanted: int, wrote: Callable[[int], None] | None = None) -> int:
    """Move `wanted` bytes from the socket to the file; fewer if the client closes or falls silent."""
    blocking = sock.gettimeout()
    sock.settimeout(SOCKET_IDLE_SECONDS)  # non-blocking underneath: a silent client cannot hold the thread
    try:
        return splice_to_file(sock.fileno(), out_fd, wanted, idle_seconds=SOCKET_IDLE_SECONDS, wrote=wrote)
    finally:
        sock.settimeout(blocking)


def _interrupted(name: str, received: int, expected: int) -> str:
    return (
        f"The upload of “{name}” stopped after {filesizeformat(received)} of {filesizeformat(expected)}, so the file "
        "was not kept. Please choose it again."
    )
