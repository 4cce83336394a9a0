"""HTTP mode's server: uvicorn (h11) serving ``http_app``'s ASGI app, in one or several processes.

What uvicorn brings: a real listen backlog, keep-alive with an idle timeout, a cap on open
connections (503 beyond it), bounded header size, graceful shutdown, and a supervisor that keeps
``--workers N`` processes running on one shared socket. What this module adds:

- :class:`GuardedH11Protocol`: uvicorn closes idle keep-alive connections, but not a new one that
  never sends a byte, nor one that sends half a request and stalls. This protocol closes a
  connection idle for ``keepalive_s`` from the moment it opens, and one that takes longer than
  ``read_timeout_s`` to send a whole request (headers and body; 408 when no request had started).
- :class:`BoltHttpServer`: one server in a thread, for tests and benchmarks.
- :func:`serve_http`: ``factbot serve``'s HTTP mode, one process or a supervisor and N workers,
  with prometheus-client's multiprocess mode set up for the workers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import uvicorn
from slack_bolt import App
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.supervisors import Multiprocess

from bot.errors import ConfigError
from bot.settings import Settings
from bot.slack.http_app import EVENTS_PATH, HealthCheck, build_asgi_app
from bot.slack.metrics import MULTIPROC_ENV

logger = logging.getLogger(__name__)

__all__ = ["EVENTS_PATH", "BoltHttpServer", "HttpLimits", "bind_socket", "serve_http"]

GRACEFUL_SHUTDOWN_S = 5
_REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


@dataclass(frozen=True)
class HttpLimits:
    """The server's limits; ``from_settings`` reads them from ``FACTBOT_HTTP_*``."""

    backlog: int = 2048
    keepalive_s: float = 5.0
    read_timeout_s: float = 10.0
    max_body_bytes: int = 1_000_000
    max_connections: int = 1000

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpLimits:
        return cls(
            backlog=settings.http_backlog,
            keepalive_s=settings.http_keepalive_s,
            read_timeout_s=settings.http_read_timeout_s,
            max_body_bytes=settings.http_max_body_bytes,
            max_connections=settings.http_max_connections,
        )


class ServerConfig(uvicorn.Config):
    """uvicorn's Config plus the request read timeout :class:`GuardedH11Protocol` enforces."""

    def __init__(self, app: Any, *, read_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.read_timeout_s = read_timeout_s


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with deadlines on idle new connections and on slow requests."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self._read_timeout_s = float(getattr(config, "read_timeout_s", 10.0))
        self._read_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # The keep-alive timer, which uvicorn arms only after a response: a silent client is closed too.
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_read_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._receiving_request():
            if self._read_deadline is None:
                self._read_deadline = self.loop.call_later(self._read_timeout_s, self._read_timed_out)
        else:
            self._cancel_read_deadline()

    def on_response_complete(self) -> None:
        self._cancel_read_deadline()
        super().on_response_complete()

    def _receiving_request(self) -> bool:
        """True while a request has begun but not fully arrived (headers, or the body)."""
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            return not self.transport.is_closing()  # bytes arrived, yet no new request is complete
        return bool(cycle.more_body)

    def _cancel_read_deadline(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _read_timed_out(self) -> None:
        self._read_deadline = None
        if self.transport.is_closing():
            return
        logger.debug(  # debug: one line per connection would let a client flood the log
            "closing a connection from %s: request not received within %g s",
            self.client,
            self._read_timeout_s,
        )
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(_REQUEST_TIMEOUT)  # no request in progress: nothing else to answer
        self.transport.close()


def bind_socket(host: str, port: int, backlog: int) -> socket.socket:
    """A listening TCP socket (``ConfigError`` naming ``--port`` when it cannot be bound)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it a keep-alive response's body waits ~40 ms behind its headers (Nagle, delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as error:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port} ({error.strerror}); choose another with "
            "`factbot serve --port N` (or --host)"
        ) from None
    sock.set_inheritable(True)
    return sock


class _OncePerPeriod(logging.Filter):
    """Let each distinct message through at most once per ``period_s`` (uvicorn's per-request warnings)."""

    def __init__(self, period_s: float = 60.0) -> None:
        super().__init__()
        self._period_s = period_s
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(record.msg, float("-inf")) < self._period_s:
                return False
            if len(self._last) > 1000:
                self._last.clear()
            self._last[record.msg] = now
        return True


def quiet_uvicorn_warnings() -> None:
    """Rate-limit uvicorn's per-request warnings ("Invalid HTTP request received.", concurrency 503s)."""
    uvicorn_logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _OncePerPeriod) for f in uvicorn_logger.filters):
        uvicorn_logger.addFilter(_OncePerPeriod())


def server_config(app: Any, limits: HttpLimits, *, workers: int = 1, factory: bool = False) -> ServerConfig:
    """The uvicorn configuration FactBot serves with (logging left to FactBot's own set-up)."""
    quiet_uvicorn_warnings()
    return ServerConfig(
        app,
        read_timeout_s=limits.read_timeout_s,
        factory=factory,
        workers=workers,
        http=GuardedH11Protocol,
        loop="asyncio",
        lifespan="on",
        ws="none",
        interface="asgi3",
        backlog=limits.backlog,
        timeout_keep_alive=limits.keepalive_s,  # type: ignore[arg-type]  # a float works as well
        limit_concurrency=limits.max_connections,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        log_config=None,
        access_log=False,  # a line per request would let anyone fill the log; see http_guard
        server_header=False,
    )


class BoltHttpServer:
    """The ASGI app for ``app`` served by uvicorn in this process (tests, benchmarks, one worker).

    ``signing_secret`` defaults to the one ``app`` was built with. Binds in the constructor
    (``ConfigError`` if the port is taken); ``port`` is the bound port (pass 0 for any free one).
    Run it with ``serve_forever()`` or ``start_in_thread()``; stop it with ``shutdown()`` and
    ``server_close()``.
    """

    def __init__(
        self,
        app: App,
        host: str = "0.0.0.0",
        port: int = 3000,
        *,
        signing_secret: str | None = None,
        limits: HttpLimits | None = None,
        health: HealthCheck | None = None,
        on_timing: Callable[[float], None] | None = None,
        on_shutdown: Callable[[], None] | None = None,
    ) -> None:
        limits = limits or HttpLimits()
        self.socket = bind_socket(host, port, limits.backlog)
        asgi = build_asgi_app(
            app,
            signing_secret=signing_secret if signing_secret is not None else app._signing_secret,
            max_body_bytes=limits.max_body_bytes,
            health=health,
            on_timing=on_timing,
            on_shutdown=on_shutdown,
        )
        self.server = uvicorn.Server(server_config(asgi, limits))
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.socket.getsockname()[1])

    def serve_forever(self) -> None:
        """Serve until ``shutdown()`` (or, in the main thread, SIGINT / SIGTERM)."""
        self.server.run(sockets=[self.socket])

    def start_in_thread(self, timeout: float = 10.0) -> threading.Thread:
        """Serve in a daemon thread; return once the server accepts requests."""
        self._thread = threading.Thread(target=self.serve_forever, name="bolt-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the HTTP server did not start")
            time.sleep(0.005)
        return self._thread

    def shutdown(self) -> None:
        """Stop serving: finish requests in progress (up to 5 s), close connections, return."""
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=GRACEFUL_SHUTDOWN_S + 5)

    def server_close(self) -> None:
        self.socket.close()


def serve_http(
    limits: HttpLimits,
    sock: socket.socket,
    workers: int,
    *,
    app: Any,
    worker_factory: Callable[[], Any],
) -> None:
    """Serve on ``sock`` until SIGINT / SIGTERM: ``app`` in this process, or ``workers`` processes.

    With one worker, ``app`` (an ASGI app) is served here. With several, this process supervises
    them (restarting any that dies) and each builds its own app with ``worker_factory`` (picklable:
    a module-level function or a partial of one); prometheus-client's multiprocess directory is
    created first (unless ``PROMETHEUS_MULTIPROC_DIR`` is set) so ``/metrics`` sums all workers.
    """
    if workers <= 1:
        uvicorn.Server(server_config(app, limits)).run(sockets=[sock])
        return
    own_dir = None
    if not os.environ.get(MULTIPROC_ENV):
        own_dir = tempfile.mkdtemp(prefix="factbot-metrics-")
        os.environ[MULTIPROC_ENV] = own_dir
    try:
        config = server_config(worker_factory, limits, workers=workers, factory=True)
        Multiprocess(config, sockets=[sock]).run()
    finally:
        if own_dir is not None:
            os.environ.pop(MULTIPROC_ENV, None)
            shutil.rmtree(own_dir, ignore_errors=True)
