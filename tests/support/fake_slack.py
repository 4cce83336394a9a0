"""A fake Slack Web API on 127.0.0.1 for offline tests, plus the ``fake_slack`` pytest fixture.

Point a ``WebClient(base_url=fake.api_url)`` (or ``SLACK_API_URL``) and any ``response_url`` at it
(``fake.response_url("name")``). Every request is recorded as a :class:`Call`; tests then wait for
the calls they expect (``fake.wait_for("chat.postMessage")``) instead of sleeping.

By default every method answers ``{"ok": true}``, with realistic bodies for ``auth.test``
(:data:`BOT_USER_ID`, :data:`BOT_ID`), ``chat.postMessage`` / ``chat.postEphemeral`` (a fresh
``ts``) and ``apps.connections.open`` (``fake.socket_url`` once set). Script anything else per
method, one response per call, first queued first served::

    fake.queue("chat.postMessage", {"ok": False, "error": "ratelimited"}, status=429,
               headers={"Retry-After": "1"})
    fake.queue("chat.postMessage", {"ok": False, "error": "not_in_channel"})
    fake.queue("chat.postMessage", drop=True)  # accept the post, then close without answering
    fake.queue("chat.postMessage", truncate=True)  # accept it, send half the body, close
    fake.queue("chat.postMessage", "<html>oops</html>")  # accept it, answer 200 with a non-JSON body

A ``chat.postMessage`` counts as posted (:meth:`messages`) unless its scripted answer is an error
(a status other than 200, or ``"ok": false``); ``conversations.history`` and
``conversations.replies`` return the posted messages of a channel (or thread), newest first,
with their ``metadata`` when ``include_all_metadata`` is set, as Slack does.

The API is deliberately small: ``api_url``, ``response_url()``, ``queue()``, ``calls()``,
``messages()``, ``wait_for()``, ``reset()``, ``close()``.
"""

from __future__ import annotations

import itertools
import json
import logging
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

logger = logging.getLogger(__name__)

TEAM_ID = "T0FACTBOT"
BOT_USER_ID = "U0FACTBOT"
BOT_ID = "B0FACTBOT"
RESPONSE_URL_PREFIX = "/response/"


@dataclass(frozen=True)
class Call:
    """One request the fake received.

    ``method`` is the Web API method (``"chat.postMessage"``) for ``/api/...`` paths, else the path
    itself (``"/response/r1"`` for a response_url). ``body`` is the parsed JSON or form body (form
    fields as single strings), ``headers`` have lower-case names.
    """

    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float

    def json_field(self, name: str) -> Any:
        """A field that a form body carries as a JSON string (``blocks`` on form posts), parsed."""
        value = self.body.get(name)
        return json.loads(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Scripted:
    """A canned response: a JSON body (or raw text), a status, extra headers; or a dropped connection.

    ``truncate`` sends the headers (with the whole body's length) and half the body, then closes.
    """

    body: dict[str, Any] | str = field(default_factory=lambda: {"ok": True})
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    truncate: bool = False
    posted: bool | None = None

    @property
    def accepted(self) -> bool:
        """Whether Slack did what was asked (``posted``, else: a 200 that is not ``"ok": false``)."""
        if self.posted is not None:
            return self.posted
        return self.status == 200 and not (isinstance(self.body, dict) and self.body.get("ok") is False)


@dataclass(frozen=True)
class Message:
    """A message the fake accepted with chat.postMessage."""

    channel: str
    ts: str
    thread_ts: str | None
    text: str
    metadata: dict[str, Any] | None


class FakeSlack:
    """The fake server. Thread-safe; start it with :meth:`start` or use it as a context manager."""

    def __init__(self) -> None:
        self._calls: list[Call] = []
        self._scripts: dict[str, deque[Scripted]] = defaultdict(deque)
        self._messages: list[Message] = []
        self._changed = threading.Condition()
        self._ts_counter = itertools.count(1)
        self.socket_url: str | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-slack", daemon=True
        )

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- addresses ------------------------------------------------------------------------------

    @property
    def root_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        """The Web API base URL, trailing slash included (what ``WebClient(base_url=...)`` expects)."""
        return f"{self.root_url}/api/"

    def response_url(self, name: str = "r1") -> str:
        """A response_url whose calls are recorded with method ``/response/<name>``."""
        return f"{self.root_url}{RESPONSE_URL_PREFIX}{name}"

    # -- scripting and inspection ---------------------------------------------------------------

    def queue(
        self,
        method: str,
        body: dict[str, Any] | str | None = None,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        drop: bool = False,
        truncate: bool = False,
        posted: bool | None = None,
    ) -> None:
        """Answer the next call to ``method`` (or response_url path) with this instead of the default.

        With ``truncate`` and no ``body``, the default answer is the one cut in half. ``posted``
        overrides whether a chat.postMessage counts as posted (a proxy's 200 page: ``False``).
        """
        scripted = Scripted(
            body if body is not None else ({} if truncate else {"ok": True}),
            status,
            dict(headers or {}),
            drop,
            truncate,
            posted,
        )
        with self._changed:
            self._scripts[method].append(scripted)

    def calls(self, method: str | None = None) -> list[Call]:
        """Calls received so far, oldest first, optionally only those to ``method``."""
        with self._changed:
            return [c for c in self._calls if method is None or c.method == method]

    def messages(self, channel: str | None = None) -> list[Message]:
        """Messages posted so far (accepted chat.postMessage calls), oldest first."""
        with self._changed:
            return [m for m in self._messages if channel is None or m.channel == channel]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until ``method`` has been called ``count`` times; return those calls or fail the test."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                matching = [c for c in self._calls if c.method == method]
                if len(matching) >= count:
                    return matching
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [c.method for c in self._calls]
                    raise AssertionError(
                        f"expected {count} call(s) to {method} within {timeout}s; saw {seen}"
                    )
                self._changed.wait(remaining)

    def reset(self) -> None:
        """Forget recorded calls and scripted responses."""
        with self._changed:
            self._calls.clear()
            self._scripts.clear()
            self._messages.clear()

    # -- serving --------------------------------------------------------------------------------

    def _record_and_answer(self, method: str, body: dict[str, Any], headers: dict[str, str]) -> Scripted:
        with self._changed:
            self._calls.append(Call(method, body, headers, time.monotonic()))
            scripts = self._scripts.get(method)
            scripted = scripts.popleft() if scripts else self._default(method, body)
            if scripted.truncate and not scripted.body:
                scripted = replace(scripted, body=self._default(method, body).body)
            if method == "chat.postMessage" and scripted.accepted:
                self._post(body, scripted)
            self._changed.notify_all()
        return scripted

    def _post(self, body: dict[str, Any], scripted: Scripted) -> None:
        ts = scripted.body.get("ts") if isinstance(scripted.body, dict) else None
        metadata = body.get("metadata")
        self._messages.append(
            Message(
                channel=str(body.get("channel") or ""),
                ts=str(ts or self._next_ts()),
                thread_ts=body.get("thread_ts") or None,
                text=str(body.get("text") or ""),
                metadata=json.loads(metadata) if isinstance(metadata, str) else metadata,
            )
        )

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts_counter):06d}"

    def _history(self, method: str, query: dict[str, Any]) -> Scripted:
        channel, thread = str(query.get("channel") or ""), query.get("ts")
        with_metadata = str(query.get("include_all_metadata", "")).lower() in ("1", "true")
        top_level = method == "conversations.history"
        found = [
            m
            for m in self._messages
            if m.channel == channel
            and ((top_level and m.thread_ts is None) or (thread and m.thread_ts == thread))
        ]
        messages = []
        for message in reversed(found):
            item: dict[str, Any] = {"type": "message", "ts": message.ts, "text": message.text}
            if message.thread_ts:
                item["thread_ts"] = message.thread_ts
            if with_metadata and message.metadata:
                item["metadata"] = message.metadata
            messages.append(item)
        return Scripted({"ok": True, "messages": messages, "has_more": False})

    def _default(self, method: str, body: dict[str, Any]) -> Scripted:
        if method == "auth.test":
            return Scripted(
                {
                    "ok": True,
                    "url": "https://factbot-test.slack.com/",
                    "team": "FactBot Test",
                    "user": "factbot",
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "bot_id": BOT_ID,
                    "is_enterprise_install": False,
                }
            )
        if method in ("conversations.history", "conversations.replies"):
            return self._history(method, body)
        if method in ("chat.postMessage", "chat.postEphemeral"):
            ts = self._next_ts()
            key = "ts" if method == "chat.postMessage" else "message_ts"
            return Scripted({"ok": True, "channel": body.get("channel"), key: ts})
        if method == "apps.connections.open":
            if self.socket_url is None:
                return Scripted({"ok": False, "error": "fake_slack_has_no_socket_url"})
            return Scripted({"ok": True, "url": self.socket_url})
        return Scripted()


def _parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    text = raw.decode("utf-8")
    if not text:
        return {}
    if content_type.startswith("application/json"):
        parsed = json.loads(text)
        return parsed if isinstance(parsed, dict) else {"_json": parsed}
    return dict(parse_qsl(text, keep_blank_values=True))


def _make_handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms stalls

        def do_POST(self) -> None:
            self._handle()

        def do_GET(self) -> None:
            self._handle()

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            method = parts.path.removeprefix("/api/") if parts.path.startswith("/api/") else parts.path
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            body = dict(parse_qsl(parts.query, keep_blank_values=True))
            body.update(_parse_body(raw, headers.get("content-type", "")))
            scripted = fake._record_and_answer(method, body, headers)
            if scripted.drop:
                self.close_connection = True
                self.connection.close()
                return
            if isinstance(scripted.body, str):
                payload, content_type = scripted.body.encode(), "text/plain; charset=utf-8"
            else:
                payload, content_type = json.dumps(scripted.body).encode(), "application/json; charset=utf-8"
            self.send_response(HTTPStatus(scripted.status))
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in scripted.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if scripted.truncate:
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("fake slack: " + format, *args)

    return Handler


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A running :class:`FakeSlack`, closed after the test."""
    with FakeSlack() as fake:
        yield fake
