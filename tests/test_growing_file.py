"""Reading a file while another thread writes it: never past the writer, stopped when the writer fails."""

from __future__ import annotations

import hashlib
import logging
import os
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import BinaryIO

import pytest

from submitportal.growing_file import Abandoned, Follower, GrowingFile

DATA = random.Random(7).randbytes(3 * 1024 * 1024 + 11)  # noqa: S311 - test data


@pytest.fixture
def target() -> Iterator[int]:
    with tempfile.TemporaryFile() as out:
        yield out.fileno()


def writer(fd: int, growing: GrowingFile, data: bytes, *, chunk: int, pause: float, fail_at: int | None = None) -> None:
    """Write `data` in chunks, telling `growing` after each; fail (as a broken connection would) at `fail_at`."""
    written = 0
    while written < len(data):
        if fail_at is not None and written >= fail_at:
            growing.failed()
            return
        part = data[written : written + chunk]
        os.write(fd, part)
        written += len(part)
        growing.wrote(len(part))
        if pause:
            time.sleep(pause)
    growing.finished()


def run_writer(*args: object, **kwargs: object) -> threading.Thread:
    thread = threading.Thread(target=writer, args=args, kwargs=kwargs)
    thread.start()
    return thread


def digest_of(stream: BinaryIO, block: int = 256 * 1024, pause: float = 0.0) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(block):
        digest.update(chunk)
        if pause:
            time.sleep(pause)
    return digest.hexdigest()


def test_a_reader_faster_than_the_writer_waits_and_gets_every_byte(target: int) -> None:
    growing = GrowingFile(target, idle_seconds=10)
    thread = run_writer(target, growing, DATA, chunk=100_000, pause=0.002)
    with growing.reader() as stream:
        assert digest_of(stream) == hashlib.sha256(DATA).hexdigest()
    thread.join(10)


def test_a_reader_slower_than_the_writer_reads_the_rest_after_the_end(target: int) -> None:
    growing = GrowingFile(target, idle_seconds=10)
    thread = run_writer(target, growing, DATA, chunk=1024 * 1024, pause=0.0)
    with growing.reader() as stream:
        first = stream.read(1000)
        thread.join(10)  # the writer is done long before the reader
        assert not thread.is_alive()
        rest = digest_of(stream, block=64 * 1024, pause=0.0005)
    assert first == DATA[:1000]
    assert rest == hashlib.sha256(DATA[1000:]).hexdigest()


def test_it_never_reads_past_what_the_writer_reported(target: int) -> None:
    growing = GrowingFile(target, idle_seconds=0.3, step=1)
    os.write(target, b"0123456789")
    growing.wrote(4)  # the other six bytes are in the file but not reported yet
    with growing.reader() as stream:
        assert stream.read(100) == b"0123"
        growing.wrote(6)
        growing.finished()
        assert stream.read(100) == b"456789"
        assert stream.read(100) == b""


def test_while_the_writer_writes_it_reads_whole_steps_only(target: int) -> None:
    growing = GrowingFile(target, idle_seconds=0.3, step=4)
    os.write(target, b"0123456789")
    growing.wrote(10)
    with growing.reader() as stream:
        assert stream.read(100) == b"01234567"  # 8 and 9 are in a step the writer is still filling
        growing.finished()
        assert stream.read(100) == b"89"


def test_a_writer_that_fails_midway_stops_a_waiting_reader(target: int) -> None:
    growing = GrowingFile(target, idle_seconds=10)
    thread = run_writer(target, growing, DATA, chunk=65536, pause=0.001, fail_at=1024 * 1024)
    started = time.monotonic()
    with growing.reader() as stream, pytest.raises(Abandoned):
        digest_of(stream)
    assert time.monotonic() - started < 5
    thread.join(10)


def test_a_writer_that_falls_silent_stops_the_reader_after_the_idle_time(target: int) -> None:
    growing = GrowingFile(target, idle_seconds=0.3, step=1)
    os.write(target, b"abc")
    growing.wrote(3)
    started = time.monotonic()
    with growing.reader() as stream:
        assert stream.read(3) == b"abc"
        with pytest.raises(Abandoned, match=r"reported nothing for 0\.3 s"):
            stream.read(3)
    assert 0.3 <= time.monotonic() - started < 5


def test_a_follower_returns_its_consumers_result_once_the_writer_finished(target: int) -> None:
    growing = GrowingFile(target, idle_seconds=10)
    follower = Follower(growing, digest_of)
    writer(target, growing, DATA, chunk=300_000, pause=0.0)
    assert follower.result(10) == hashlib.sha256(DATA).hexdigest()
    assert follower.stats.cpu_seconds > 0
    assert follower.stats.wall_seconds >= follower.stats.cpu_seconds * 0.5


def test_an_abandoned_follower_gives_no_result_and_its_thread_ends(target: int) -> None:
    growing = GrowingFile(target, idle_seconds=10)
    seen: list[str] = []

    def consume(stream: BinaryIO) -> str:
        try:
            return digest_of(stream)
        except Abandoned:
            seen.append("abandoned")
            raise

    follower = Follower(growing, consume, name="check-test")
    writer(target, growing, DATA, chunk=65536, pause=0.0, fail_at=500_000)
    follower.abandon()
    assert seen == ["abandoned"]
    assert not [t for t in threading.enumerate() if t.name == "check-test"]


def test_a_consumer_that_breaks_gives_no_result_and_is_logged(target: int, caplog: pytest.LogCaptureFixture) -> None:
    growing = GrowingFile(target, idle_seconds=10)

    def consume(stream: BinaryIO) -> str:
        stream.read(10)
        raise ValueError("a bug")

    follower = Follower(growing, consume)
    with caplog.at_level(logging.ERROR, logger="submitportal.uploads"):
        writer(target, growing, DATA, chunk=1024 * 1024, pause=0.0)
        assert follower.result(10) is None
    assert "checked after arrival" in caplog.text
    assert "ValueError: a bug" in caplog.text


def test_a_consumer_still_busy_after_the_timeout_is_dropped_and_stopped(target: int) -> None:
    growing = GrowingFile(target, idle_seconds=10)
    slow: Callable[[BinaryIO], str] = lambda stream: digest_of(stream, block=1024, pause=0.01)  # noqa: E731
    follower = Follower(growing, slow, name="check-slow")
    writer(target, growing, DATA, chunk=1024 * 1024, pause=0.0)
    assert follower.result(0.2) is None
    deadline = time.monotonic() + 5
    while any(t.name == "check-slow" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not [t for t in threading.enumerate() if t.name == "check-slow"]
