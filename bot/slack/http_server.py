"""Serve a Bolt app over HTTP with the standard library: a thread per connection, keep-alive.

Bolt's own ``App.start`` uses a single-threaded development server; this one answers requests
concurrently and is what ``factbot serve`` uses without Socket Mode. Requests to other paths get
404; Slack's signature is checked by Bolt itself (bad or stale signatures get 401).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import App, BoltRequest

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 1_000_000
"""Slack payloads are far smaller; anything bigger is refused before it is read."""


class BoltHttpServer(ThreadingHTTPServer):
    """An HTTP server handing POSTs on ``path`` to ``app.dispatch``.

    ``on_timing``, if set, receives the seconds spent on each Slack request, from the moment its
    headers were read until the response was written (used by ``bench/slack_http.py``).
    """

    daemon_threads = True

    def __init__(
        self,
        app: App,
        host: str = "0.0.0.0",
        port: int = 3000,
        path: str = EVENTS_PATH,
        on_timing: Callable[[float], None] | None = None,
    ) -> None:
        self.app = app
        self.path = path
        self.on_timing = on_timing
        super().__init__((host, port), _BoltRequestHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start_in_thread(self) -> threading.Thread:
        """Serve in a daemon thread (tests, benchmarks); stop with ``shutdown()`` + ``server_close()``."""
        thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="bolt-http", daemon=True
        )
        thread.start()
        return thread


class _BoltRequestHandler(BaseHTTPRequestHandler):
    server: BoltHttpServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm holds the body
        # back until the client's delayed ACK (~40 ms) on a keep-alive connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        started = time.perf_counter()
        parts = urlsplit(self.path)
        if parts.path != self.server.path:
            self._send(HTTPStatus.NOT_FOUND, b"not found", {"content-type": ["text/plain"]})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self._send(HTTPStatus.BAD_REQUEST, b"bad content length", {"content-type": ["text/plain"]})
            return
        body = self.rfile.read(length).decode("utf-8", errors="replace")
        headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        response = self.server.app.dispatch(BoltRequest(body=body, query=parts.query, headers=headers))
        self._send(HTTPStatus(response.status), response.body.encode("utf-8"), response.headers)
        if self.server.on_timing is not None:
            self.server.on_timing(time.perf_counter() - started)

    def do_GET(self) -> None:
        self._send(HTTPStatus.NOT_FOUND, b"not found", {"content-type": ["text/plain"]})

    def _send(self, status: HTTPStatus, payload: bytes, headers: dict[str, Any]) -> None:
        self.send_response(status)
        for name, values in headers.items():
            if name.lower() == "content-length":
                continue
            for value in values if isinstance(values, list | tuple) else [values]:
                self.send_header(name, str(value))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)
