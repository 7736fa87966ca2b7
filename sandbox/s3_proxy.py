"""An HTTP/1.1 proxy in front of S3 that forwards bytes unchanged and can delay, fail or drop requests.

Presigned URLs sign the ``Host`` header. The backend presigns for the proxy's address,
and the proxy forwards every request byte for byte, ``Host`` included, so S3 (which
checks the signature against the Host it receives, as ministack does) sees exactly
what the client signed for. Bodies are streamed in bounded chunks in both directions.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
import time
from urllib.parse import urlsplit

from sandbox.faults import FaultInjector

log = logging.getLogger("sandbox.s3proxy")
CHUNK = 1 << 16
MAX_HEAD = 64 * 1024
IO_TIMEOUT = 120.0


class ConnectionEnded(Exception):
    pass


class BufferedSocket:
    """A socket with a read buffer, for reading HTTP heads and framed bodies."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def read_head(self) -> bytes | None:
        while b"\r\n\r\n" not in self.buffer:
            if len(self.buffer) > MAX_HEAD:
                raise ConnectionEnded("head too large")
            data = self.sock.recv(CHUNK)
            if not data:
                if self.buffer:
                    raise ConnectionEnded("closed inside a head")
                return None
            self.buffer += data
        end = self.buffer.index(b"\r\n\r\n") + 4
        head, self.buffer = self.buffer[:end], self.buffer[end:]
        return head

    def read_some(self, limit: int) -> bytes:
        if self.buffer:
            data, self.buffer = self.buffer[:limit], self.buffer[limit:]
            return data
        data = self.sock.recv(min(limit, CHUNK))
        if not data:
            raise ConnectionEnded("closed inside a body")
        return data

    def read_line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            data = self.sock.recv(CHUNK)
            if not data:
                raise ConnectionEnded("closed inside a chunk header")
            self.buffer += data
        end = self.buffer.index(b"\r\n") + 2
        line, self.buffer = self.buffer[:end], self.buffer[end:]
        return line


def parse_head(head: bytes) -> tuple[str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return lines[0], headers


def copy_body(source: BufferedSocket, target: socket.socket, headers: dict[str, str], *, until_close: bool) -> None:
    """Relay one message body, keeping its framing (Content-Length, chunked, or until close)."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size_line = source.read_line()
            target.sendall(size_line)
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, ended by an empty line
                    trailer = source.read_line()
                    target.sendall(trailer)
                    if trailer == b"\r\n":
                        return
            remaining = size + 2  # data plus its CRLF
            while remaining:
                data = source.read_some(remaining)
                target.sendall(data)
                remaining -= len(data)
    elif "content-length" in headers:
        remaining = int(headers["content-length"])
        while remaining:
            data = source.read_some(remaining)
            target.sendall(data)
            remaining -= len(data)
    elif until_close:
        while True:
            try:
                data = source.read_some(CHUNK)
            except ConnectionEnded:
                return
            target.sendall(data)


class _Discard:
    def sendall(self, _data: bytes) -> None:
        return None


class S3Proxy:
    def __init__(self, host: str, port: int, upstream: str, faults: FaultInjector) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.faults = faults
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy.serve_connection(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server((host, port), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="sandbox-s3proxy", daemon=True)

    def start(self) -> S3Proxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def serve_connection(self, client_sock: socket.socket) -> None:
        client_sock.settimeout(IO_TIMEOUT)
        client = BufferedSocket(client_sock)
        upstream_sock: socket.socket | None = None
        try:
            while True:
                head = client.read_head()
                if head is None:
                    return
                started = time.time()
                request_line, headers = parse_head(head)
                method, target = [*request_line.split(" "), "", ""][:2]
                rule = self.faults.take(method, urlsplit(target).path)
                if rule is not None:
                    if rule.delay_ms:
                        time.sleep(rule.delay_ms / 1000)
                    if rule.drop:
                        client_sock.shutdown(socket.SHUT_RDWR)
                        return
                    if rule.status is not None:
                        if headers.get("expect", "").lower() != "100-continue":
                            # Read the body first: closing on unread data would reset the connection
                            # before the client could read the answer.
                            copy_body(client, _Discard(), headers, until_close=False)  # type: ignore[arg-type]
                        self.answer_fault(client_sock, rule.status, target)
                        return
                if upstream_sock is None:
                    upstream_sock = socket.create_connection(self.upstream, timeout=IO_TIMEOUT)
                    upstream = BufferedSocket(upstream_sock)
                upstream_sock.sendall(head)
                if headers.get("expect", "").lower() == "100-continue":
                    interim = upstream.read_head()
                    if interim is None:
                        return
                    client_sock.sendall(interim)
                    status_line, response_headers = parse_head(interim)
                    if not status_line.split(" ")[1:2] == ["100"]:
                        # A final answer before the body: relay it and close, the body is not wanted.
                        copy_body(upstream, client_sock, response_headers, until_close=False)
                        return
                copy_body(client, upstream_sock, headers, until_close=False)
                response_head = upstream.read_head()
                if response_head is None:
                    return
                client_sock.sendall(response_head)
                status_line, response_headers = parse_head(response_head)
                status = int(status_line.split(" ")[1])
                if method != "HEAD" and status not in (204, 304) and status >= 200:
                    copy_body(upstream, client_sock, response_headers, until_close=True)
                self.faults.record(method, urlsplit(target).path, started, time.time(), status)
                if "close" in (response_headers.get("connection", "") + headers.get("connection", "")).lower():
                    return
        except (ConnectionEnded, OSError, ValueError, IndexError) as error:
            log.info("s3 proxy connection ended: %s", error)
        finally:
            if upstream_sock is not None:
                upstream_sock.close()
            try:
                client_sock.close()
            except OSError:
                pass

    @staticmethod
    def answer_fault(client_sock: socket.socket, status: int, target: str) -> None:
        from sandbox.problems import reason_phrase

        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SandboxInjectedFault</Code>'
            f"<Message>Fault injected by the Loculus sandbox: {status} {reason_phrase(status)}</Message>"
            f"<Resource>{urlsplit(target).path}</Resource></Error>"
        ).encode()
        head = (
            f"HTTP/1.1 {status} {reason_phrase(status)}\r\nContent-Type: application/xml\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode("latin-1")
        client_sock.sendall(head + body)
