"""Raw upload bodies under the real gunicorn the portal is served with: read off the socket with splice(2).

gunicorn serves tests/gunicorn_body_app.py (gthread, as `manage.py demo` runs the portal); requests
are written by hand on a socket, so a body can be pipelined, cut short or left hanging.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import zstandard

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 30
IDLE_SECONDS = 1.5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    port = free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "log.txt"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TEST_IDLE_SECONDS": str(IDLE_SECONDS)}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "tests.gunicorn_body_app", "--bind", f"127.0.0.1:{port}",
             "--worker-class", "gthread", "--workers", "1", "--threads", "4", "--keep-alive", "5"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"gunicorn did not start: {log.read_text()}") from None
                time.sleep(0.1)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        process.wait(timeout=START_SECONDS)


def request(body: bytes, length: int | None = None) -> bytes:
    head = (
        "POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {length or len(body)}\r\n\r\n"
    )
    return head.encode() + body


def answers(sock: socket.socket, count: int) -> list[dict[str, object]]:
    """Read `count` HTTP answers off a keep-alive connection; their JSON bodies."""
    sock.settimeout(30)
    data = b""
    found: list[dict[str, object]] = []
    while len(found) < count:
        head_end = data.find(b"\r\n\r\n")
        if head_end != -1:
            head = data[:head_end].decode()
            lines = head.split("\r\n")
            length = int(next(line.split(":")[1] for line in lines if line.lower().startswith("content-length")))
            if len(data) >= head_end + 4 + length:
                assert head.startswith("HTTP/1.1 200"), head
                found.append(json.loads(data[head_end + 4 : head_end + 4 + length]))
                data = data[head_end + 4 + length :]
                continue
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed after {len(found)} answer(s)"
        data += chunk
    return found


def test_a_large_body_arrives_whole_through_the_socket(server: tuple[str, int]) -> None:
    body = os.urandom(5 * 1024 * 1024 + 17)
    with socket.create_connection(server) as sock:
        sock.sendall(request(body))
        (answer,) = answers(sock, 1)
    assert answer == {"received": len(body), "sha256": hashlib.sha256(body).hexdigest(), "socket": True}


def test_pipelined_requests_each_get_their_own_bytes(server: tuple[str, int]) -> None:
    """Two requests in one write: the first body ends where gunicorn's read-ahead holds the second request."""
    first, second = os.urandom(3000), os.urandom(200_000)
    with socket.create_connection(server) as sock:
        sock.sendall(request(first) + request(second))
        got = answers(sock, 2)
    assert got == [
        {"received": len(first), "sha256": hashlib.sha256(first).hexdigest(), "socket": True},
        {"received": len(second), "sha256": hashlib.sha256(second).hexdigest(), "socket": True},
    ]


def test_a_body_cut_short_reports_what_arrived(server: tuple[str, int]) -> None:
    part = os.urandom(300_000)
    with socket.create_connection(server) as sock:
        sock.sendall(request(part, length=1024 * 1024))
        sock.shutdown(socket.SHUT_WR)  # the browser gave up
        (answer,) = answers(sock, 1)
    assert answer["received"] == len(part)


def test_a_client_that_falls_silent_is_let_go(server: tuple[str, int]) -> None:
    part = os.urandom(100_000)
    with socket.create_connection(server) as sock:
        started = time.monotonic()
        sock.sendall(request(part, length=1024 * 1024))
        (answer,) = answers(sock, 1)
        waited = time.monotonic() - started
    assert answer["received"] == len(part)
    assert IDLE_SECONDS <= waited < IDLE_SECONDS + 10


# --- /follow: receive_raw with the FASTA checked as it arrives ---


def fasta(records: int) -> bytes:
    """A FASTA with something for every check: duplicates, an empty sequence, a header without ID."""
    parts = [f">s{n} note\n{'ACGT' * 500}\n{'GG' * 300}\n" for n in range(records)]
    parts[3] = ">s1\nACGT\n"  # a duplicate
    parts[5] = ">s5\n\n"  # empty
    parts[7] = "> no id\nACGT\n"
    return "".join(parts).encode()


def follow_request(body: bytes, name: str, length: int | None = None) -> bytes:
    head = (
        "POST /follow HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
        f"X-File-Name: {name}\r\nContent-Length: {length or len(body)}\r\n\r\n"
    )
    return head.encode() + body


@pytest.mark.parametrize("name", ["sequences.fasta", "sequences.fasta.gz", "sequences.fasta.zst"])
def test_the_summary_made_while_the_body_is_spliced_equals_the_one_read_afterwards(
    server: tuple[str, int], name: str
) -> None:
    data = fasta(3000)  # about 7 MB: many splices while the reader follows
    if name.endswith(".gz"):
        data = gzip.compress(data, compresslevel=1)
    elif name.endswith(".zst"):
        data = zstandard.ZstdCompressor().compress(data)
    with socket.create_connection(server) as sock:
        sock.sendall(follow_request(data, name))
        (answer,) = answers(sock, 1)
    assert answer["socket"] is True
    assert answer["received"] == len(data)
    assert answer["consumer"] == ["done"]
    assert answer["records"] == 3000
    assert answer["followed"] == answer["after"]
    assert answer["threads"] == []


def test_a_zip_archive_is_not_followed(server: tuple[str, int]) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("sequences.fasta", fasta(20))
    with socket.create_connection(server) as sock:
        sock.sendall(follow_request(out.getvalue(), "sequences.fasta.zip"))
        (answer,) = answers(sock, 1)
    assert (answer["consumer"], answer["followed"], answer["records"]) == (["declined"], None, 20)


@pytest.mark.parametrize("how", ["closed", "silent"])
def test_a_body_cut_short_yields_no_summary_and_leaves_no_thread(server: tuple[str, int], how: str) -> None:
    data = fasta(3000)
    with socket.create_connection(server) as sock:
        sock.sendall(follow_request(data[: len(data) // 2], "sequences.fasta", length=len(data)))
        if how == "closed":
            sock.shutdown(socket.SHUT_WR)  # the browser gave up
        (answer,) = answers(sock, 1)
    assert "stopped after" in answer["problem"]
    assert answer["consumer"] == ["abandoned"]
    assert answer["threads"] == []
