"""A delaying HTTP/1.1 proxy for the benchmarks: it holds every request `delay` ms, then forwards it.

Run: python bench/delay_proxy.py --upstream http://127.0.0.1:8000 --ready-file F [--static DIR] [--delay-ms 50]

This kernel has no netem, so latency is made here: each request (head read) waits before it is
forwarded, like one extra round trip on a far link. Bodies are streamed both ways in 1 MiB reads
(Content-Length or chunked); connections are kept alive, one upstream connection per client
connection (a new one when the server closed the idle one). `/_bench/<file>` is answered from
`--static` (after the same delay), so a baseline page can share the portal's origin.
`POST /_proxy/delay?ms=N` changes the delay at once (not delayed).
Loopback only; heads are limited to 64 KiB and idle connections close after 5 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import mimetypes
import signal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

CHUNK = 1 << 20
HEAD_LIMIT = 64 * 1024
IDLE_TIMEOUT = 300.0
IO_TIMEOUT = 600.0


class Proxy:
    def __init__(self, upstream: str, delay_ms: float, static: Path | None) -> None:
        parts = urlsplit(upstream)
        if parts.hostname not in ("127.0.0.1", "localhost"):
            raise SystemExit("the delaying proxy forwards to loopback only")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.delay = delay_ms / 1000
        self.static = static.resolve() if static else None

    async def handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                try:
                    head = await asyncio.wait_for(client_reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT)
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
                    return
                method, target, headers = parse_head(head)
                if target.startswith("/_proxy/delay") and method == "POST":
                    self.delay = float(parse_qs(urlsplit(target).query).get("ms", ["0"])[0]) / 1000
                    await answer(client_writer, 200, json.dumps({"delay_ms": self.delay * 1000}).encode())
                    continue
                if self.delay:
                    await asyncio.sleep(self.delay)
                if self.static is not None and target.startswith("/_bench/"):
                    await self.serve_static(client_writer, target)
                    continue
                if upstream is not None and upstream[0].at_eof():
                    # The server closed the idle connection (gunicorn keeps one alive for 2 s): writing this
                    # request to it would fail, and the browser would have to send it again.
                    upstream[1].close()
                    upstream = None
                if upstream is None:
                    upstream = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), IO_TIMEOUT)
                up_reader, up_writer = upstream
                up_writer.write(head)
                await copy_body(client_reader, up_writer, headers, until_close=False)
                response_head = await asyncio.wait_for(up_reader.readuntil(b"\r\n\r\n"), IO_TIMEOUT)
                status, response_headers = parse_status(response_head)
                client_writer.write(response_head)
                no_body = method == "HEAD" or status in (204, 304) or 100 <= status < 200
                if not no_body:
                    await copy_body(up_reader, client_writer, response_headers, until_close=True)
                await client_writer.drain()
                closing = (
                    "close" in headers.get("connection", "").lower()
                    or "close" in response_headers.get("connection", "").lower()
                )
                if closing or (
                    not no_body
                    and "content-length" not in response_headers
                    and "chunked" not in response_headers.get("transfer-encoding", "").lower()
                ):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            return
        finally:
            for writer in (client_writer, upstream[1] if upstream else None):
                if writer is not None:
                    writer.close()

    async def serve_static(self, writer: asyncio.StreamWriter, target: str) -> None:
        assert self.static is not None
        name = urlsplit(target).path.removeprefix("/_bench/")
        path = (self.static / name).resolve()
        if path.parent != self.static or not path.is_file():
            await answer(writer, 404, b"not found")
            return
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        await answer(writer, 200, path.read_bytes(), content_type)


def parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    return method, target, header_dict(lines[1:])


def parse_status(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    return int(lines[0].split(" ", 2)[1]), header_dict(lines[1:])


def header_dict(lines: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return headers


async def copy_body(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str], *, until_close: bool
) -> None:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            line = await asyncio.wait_for(reader.readuntil(b"\r\n"), IO_TIMEOUT)
            writer.write(line)
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                while True:  # trailers, then the empty line
                    trailer = await asyncio.wait_for(reader.readuntil(b"\r\n"), IO_TIMEOUT)
                    writer.write(trailer)
                    if trailer == b"\r\n":
                        return
            await copy_exact(reader, writer, size + 2)
    elif "content-length" in headers:
        await copy_exact(reader, writer, int(headers["content-length"]))
    elif until_close:
        while data := await asyncio.wait_for(reader.read(CHUNK), IO_TIMEOUT):
            writer.write(data)
            await writer.drain()


async def copy_exact(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: int) -> None:
    while count > 0:
        data = await asyncio.wait_for(reader.read(min(CHUNK, count)), IO_TIMEOUT)
        if not data:
            raise ConnectionError("the body ended early")
        writer.write(data)
        count -= len(data)
        await writer.drain()


async def answer(writer: asyncio.StreamWriter, status: int, body: bytes, content_type: str = "text/plain") -> None:
    reason = {200: "OK", 404: "Not Found"}.get(status, "OK")
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\n\r\n".encode()
        + body
    )
    await writer.drain()


async def serve(args: argparse.Namespace) -> None:
    proxy = Proxy(args.upstream, args.delay_ms, args.static)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", args.port, limit=HEAD_LIMIT, backlog=512)
    port = server.sockets[0].getsockname()[1]
    ready = Path(args.ready_file)
    temporary = ready.with_suffix(".tmp")
    temporary.write_text(json.dumps({"url": f"http://127.0.0.1:{port}"}), encoding="utf-8")
    temporary.replace(ready)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--static", type=Path)
    parser.add_argument("--ready-file", required=True)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
