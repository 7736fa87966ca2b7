"""Copy bytes from a socket into a file with splice(2): socket → pipe → file, never through Python.

Used by the portal's raw upload receiver (submitportal.bulk_data_upload) and by the sandbox's submit
sink (sandbox.backend), which has no Django: this module needs nothing but the standard library.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
from collections.abc import Callable

CHUNK = 1024 * 1024


def can_splice() -> bool:
    """Whether this system has splice(2) (Linux)."""
    return hasattr(os, "splice")


def splice_to_file(
    sock_fd: int, out_fd: int, wanted: int, *, idle_seconds: float, wrote: Callable[[int], None] | None = None
) -> int:
    """Move `wanted` bytes from the socket to the file; return how many moved.

    Fewer than `wanted` when the client closes the connection, or when a non-blocking socket stays
    silent for `idle_seconds`. `wrote(count)` is told after each move, once the bytes are in the file.
    """
    received = 0
    pipe_out, pipe_in = os.pipe()
    try:
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe_in, fcntl.F_SETPIPE_SZ, CHUNK)
        while received < wanted:
            try:
                count = os.splice(sock_fd, pipe_in, min(CHUNK, wanted - received))
            except BlockingIOError:  # a socket with a timeout is non-blocking underneath
                if not select.select([sock_fd], [], [], idle_seconds)[0]:
                    break
                continue
            if not count:  # the client closed the connection
                break
            left = count
            while left:
                left -= os.splice(pipe_out, out_fd, left)
            received += count
            if wrote:
                wrote(count)
    finally:
        os.close(pipe_out)
        os.close(pipe_in)
    return received
