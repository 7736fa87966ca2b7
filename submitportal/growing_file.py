"""Reading a file while another thread writes it: the check of an upload runs as its bytes arrive.

The writer (the receive, `bulk_data_upload.body_to_file`) reports after each write how many bytes
the file holds (`GrowingFile.wrote`), and finally `finished` or `failed`. A reader (`reader()`, a
raw binary stream) reads with pread(2) from the page cache up to what has been reported, and waits
on a condition variable for more: never past the writer, never longer than `idle_seconds` without
news. `Follower` runs a consumer on such a reader in its own thread and hands its result over only
if the writer finished; the splice(2) of the receive releases the GIL, so the two run in parallel
on two cores. Nothing is held in memory beyond the consumer's own read buffer.

Plain Python, no Django.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, Generic, TypeVar

log = logging.getLogger("submitportal.uploads")

T = TypeVar("T")

# While the writer writes, a reader gets whole steps of this many bytes only: it keeps out of the
# page-cache folios the writer is still filling (ext4 caches in folios of up to 2 MiB), where a read
# makes reader and writer wait for each other's folio lock. Measured with a 1 GiB upload on this
# VM: byte-exact following made the upload 2.5-7 s, whole 8 MiB steps 1.1-1.2 s (0.6-0.8 s unread).
STEP = 8 * 1024 * 1024


class Abandoned(Exception):
    """The writer failed, gave up or fell silent: what was read so far must not be used.

    Deliberately not an OSError, so readers that turn I/O errors into messages for the user
    (the decompressors' wrapper) let it pass.
    """


class GrowingFile:
    """The shared state of one file being written: how many bytes it holds, and whether it is done."""

    def __init__(self, fd: int, *, idle_seconds: float, step: int = STEP) -> None:
        self._fd = fd
        self._idle_seconds = idle_seconds
        self._step = step
        self._condition = threading.Condition()
        self._size = 0
        self._state = "writing"  # then "finished" or "failed"

    # --- the writer's side ---

    def wrote(self, count: int) -> None:
        """`count` more bytes are in the file (written and visible to other file descriptors)."""
        with self._condition:
            self._size += count
            self._condition.notify_all()

    def finished(self) -> None:
        with self._condition:
            if self._state == "writing":
                self._state = "finished"
            self._condition.notify_all()

    def failed(self) -> None:
        with self._condition:
            self._state = "failed"
            self._condition.notify_all()

    # --- the reader's side ---

    def reader(self) -> GrowingFileReader:
        """A new stream over the file from its start, on its own file descriptor (closed with it)."""
        return GrowingFileReader(self, os.dup(self._fd))

    def _available(self, offset: int) -> int:
        """Bytes readable at `offset` now (whole steps while the writer writes): waits while there are none.

        0 means the end of a finished file. Raises Abandoned when the writer failed or reported
        nothing for `idle_seconds`.
        """
        with self._condition:
            deadline = time.monotonic() + self._idle_seconds
            while True:
                if self._state == "failed":
                    raise Abandoned("the writer failed")
                if self._state == "finished":
                    return self._size - offset
                whole = self._size - self._size % self._step
                if whole > offset:
                    return whole - offset
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Abandoned(f"the writer reported nothing for {self._idle_seconds:g} s")
                self._condition.wait(left)


class GrowingFileReader(io.RawIOBase):
    """A raw stream over a GrowingFile: `readinto` blocks until bytes arrive, returns 0 at the end."""

    def __init__(self, growing: GrowingFile, fd: int) -> None:
        self._growing = growing
        self._fd = fd
        self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        if not len(buffer):
            return 0
        available = self._growing._available(self._offset)
        if not available:
            return 0
        view = memoryview(buffer).cast("B")[: min(len(buffer), available)]
        count = os.preadv(self._fd, [view], self._offset)
        if not count:  # the file is shorter than the writer said: it was truncated under us
            raise Abandoned("the file ended before the bytes the writer reported")
        self._offset += count
        return count

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


@dataclass
class FollowStats:
    """What the consumer's thread cost: CPU seconds, and seconds from its start to its end."""

    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0


class Follower(Generic[T]):
    """Runs `consume(stream)` in a thread on a reader of `growing`, while the caller writes the file.

    The caller ends with exactly one of `result()` (after `growing.finished()`) or `abandon()`.
    A consumer that raises gives no result (logged unless it was Abandoned), so the caller checks
    the file the ordinary way instead.
    """

    def __init__(self, growing: GrowingFile, consume: Callable[[BinaryIO], T], *, name: str = "follower") -> None:
        self._growing = growing
        self._consume = consume
        self._result: T | None = None
        self._ok = False
        self.stats = FollowStats()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        started = time.perf_counter()
        cpu = time.thread_time()
        try:
            with self._growing.reader() as stream:
                self._result = self._consume(stream)  # type: ignore[arg-type]
            self._ok = True
        except Abandoned:
            pass
        except Exception:
            log.exception("checking an upload as it arrived failed; it will be checked after arrival")
        finally:
            self.stats = FollowStats(time.thread_time() - cpu, time.perf_counter() - started)

    def result(self, timeout: float) -> T | None:
        """The consumer's result once the file is finished (None if it failed or took over `timeout` s)."""
        self._growing.finished()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("checking an upload as it arrived took over %g s after it arrived; dropped", timeout)
            self._growing.failed()  # it stops at its next read
            return None
        return self._result if self._ok else None

    def abandon(self, timeout: float = 10.0) -> None:
        """The file will not be finished: stop the consumer (at its next read) and drop its result."""
        self._growing.failed()
        self._thread.join(timeout)
        self._result = None
        self._ok = False
