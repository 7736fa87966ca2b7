"""Serving WSGI apps from threads, each on its own 127.0.0.1 port."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    """Request logging goes through the 'werkzeug' logger; the sandbox sends it to its log file."""

    # HTTP/1.1 keep-alive, as the real servers speak it; werkzeug defaults to 1.0 for threaded servers too.
    protocol_version = "HTTP/1.1"


class ServerThread:
    def __init__(self, app: Any, host: str, port: int, name: str) -> None:
        self.server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=QuietHandler)
        self.server.daemon_threads = True  # type: ignore[attr-defined]
        self.name = name
        self.thread = threading.Thread(target=self.server.serve_forever, name=f"sandbox-{name}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
