"""HTTP mode's ASGI app: Slack's endpoint (slack-bolt's Starlette adapter), ``/healthz``, ``/metrics``.

``POST /slack/events`` reads the body (refusing more than ``max_body_bytes`` with 413), checks the
timestamp, signature and body shape (``http_guard``), then converts the request with the adapter's
``to_bolt_request`` and runs Bolt's synchronous ``App.dispatch`` in a worker thread, so the event
loop keeps accepting and reading other requests while a listener works. A body declared bigger than
the limit is refused before a byte of it is read, and the connection is closed after the 413, so
its content can never be taken for the next request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.slack import metrics
from bot.slack.http_guard import Rejection, RejectionLog, check_body, check_signature

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_TIMEOUT_S = 2.0

HealthCheck = Callable[[], str | None]
"""Returns None when this process can answer questions, else what is wrong (shown with the 503)."""


class _TooLarge(Exception):
    pass


def build_asgi_app(
    bolt_app: App,
    *,
    signing_secret: str,
    max_body_bytes: int = 1_000_000,
    health: HealthCheck | None = None,
    on_timing: Callable[[float], None] | None = None,
    on_shutdown: Callable[[], None] | None = None,
    rejections: RejectionLog | None = None,
) -> ASGIApp:
    """The whole HTTP surface of one worker.

    ``health`` backs ``GET /healthz`` (default: always healthy). ``on_timing`` receives the
    seconds from each Slack request's body being read to its response being ready (benchmarks).
    ``on_shutdown`` runs when the server stops (closing the database).
    """
    rejections = rejections or RejectionLog()

    def refuse(request: Request, rejection: Rejection, *, close: bool = False) -> Response:
        client = request.client.host if request.client else "unknown"
        rejections.note(client, rejection, request.url.path)
        metrics.REJECTED_REQUESTS.labels(reason=rejection.reason).inc()
        headers = {"connection": "close"} if close else None
        return PlainTextResponse(rejection.reason, status_code=rejection.status, headers=headers)

    async def slack_events(request: Request) -> Response:
        try:
            body = await _read_body(request, max_body_bytes)
        except _TooLarge:
            return refuse(request, Rejection(413, "body_too_large"), close=True)
        except ClientDisconnect:
            return Response(status_code=400, headers={"connection": "close"})
        started = time.perf_counter()
        headers = request.headers
        rejection = check_signature(
            signing_secret,
            headers.get("x-slack-request-timestamp"),
            headers.get("x-slack-signature"),
            body,
        ) or check_body(body, headers.get("content-type"))
        if rejection is not None:
            return refuse(request, rejection)
        try:
            bolt_request = to_bolt_request(request, body)
        except (ValueError, TypeError, KeyError, AttributeError):
            return refuse(request, Rejection(400, "bad_body"))
        bolt_response = await run_in_threadpool(bolt_app.dispatch, bolt_request)
        response = to_starlette_response(bolt_response)
        elapsed = time.perf_counter() - started
        metrics.SLACK_REQUEST_SECONDS.observe(elapsed)
        if on_timing is not None:
            on_timing(elapsed)
        return response

    async def healthz(request: Request) -> Response:
        try:
            problem = await asyncio.wait_for(run_in_threadpool(health or _healthy), HEALTH_TIMEOUT_S)
        except TimeoutError:
            problem = f"health check took over {HEALTH_TIMEOUT_S:g} s"
        except Exception as error:  # a failing check means unhealthy, whatever it raised
            problem = f"health check failed: {type(error).__name__}"
        if problem:
            return PlainTextResponse(f"unhealthy: {problem}\n", status_code=503)
        return PlainTextResponse("ok\n")

    async def metrics_endpoint(request: Request) -> Response:
        payload, content_type = await run_in_threadpool(metrics.exposition)
        return Response(payload, media_type=content_type)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if on_shutdown is not None:
            on_shutdown()

    starlette = Starlette(
        routes=[
            Route(EVENTS_PATH, slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    return _DeclaredLengthLimit(starlette, max_body_bytes, refuse_log=rejections)


def _healthy() -> str | None:
    return None


async def _read_body(request: Request, max_bytes: int) -> bytes:
    """The whole body, or ``_TooLarge`` as soon as more than ``max_bytes`` arrived (chunked bodies)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class _DeclaredLengthLimit:
    """ASGI middleware: 413 and close for a ``Content-Length`` over the limit, 400 for a malformed one.

    Answers before the app runs, so the body is never read; ``Connection: close`` makes the server
    close the connection after the response instead of parsing the body as the next request.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, refuse_log: RejectionLog) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.refuse_log = refuse_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lengths = [value for name, value in scope["headers"] if name == b"content-length"]
        rejection = None
        if lengths:
            raw = lengths[0]
            if len(lengths) > 1 or not raw.isdigit():
                rejection = Rejection(400, "bad_content_length")
            elif int(raw) > self.max_bytes:
                rejection = Rejection(413, "body_too_large")
        if rejection is None:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        self.refuse_log.note(client[0] if client else "unknown", rejection, scope.get("path", ""))
        metrics.REJECTED_REQUESTS.labels(reason=rejection.reason).inc()
        await _send_plain(send, rejection.status, rejection.reason.encode(), close=True)


async def _send_plain(send: Send, status: int, payload: bytes, *, close: bool) -> None:
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    start: Message = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    body: dict[str, Any] = {"type": "http.response.body", "body": payload}
    await send(body)
