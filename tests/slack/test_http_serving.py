"""HTTP mode under bursts, idle and half-sent connections, and hostile requests; /healthz and /metrics.

The real Bolt app served by uvicorn on 127.0.0.1, as ``factbot serve`` serves one worker, with
correctly signed requests; only Slack's Web API is a fake. Every test sends a bounded number of
requests to 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.engine.model import Answer, ArticleInfo
from bot.slack.http_server import HttpLimits
from tests.slack.conftest import ANSWERABLE, UNANSWERABLE
from tests.support.fake_slack import BOT_USER_ID, FakeSlack
from tests.support.recording_engine import RecordingEngine
from tests.support.slack_app import RunningApp, running_app, wait_until
from tests.support.slack_requests import (
    SIGNING_SECRET,
    event_callback,
    mention_event,
    sign,
    slash_command_body,
)

FORM = "application/x-www-form-urlencoded"
GUARD_LOGGER = "bot.slack.http_guard"


def _signed_raw(body: bytes, *, content_type: str = FORM, extra: str = "") -> bytes:
    """A complete signed POST /slack/events request, as bytes on the wire."""
    timestamp = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256)
    signature = "v0=" + digest.hexdigest()
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: {content_type}\r\nX-Slack-Request-Timestamp: {timestamp}\r\n"
        f"X-Slack-Signature: {signature}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


def _read_until_closed(sock: socket.socket, timeout: float = 5.0) -> bytes:
    """Everything the server sends until it closes the connection (fails the test after ``timeout``)."""
    sock.settimeout(timeout)
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


def _metric(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


# -- bursts ---------------------------------------------------------------------------------------


def test_a_burst_of_64_slash_commands_is_answered_within_slacks_3_seconds(
    slack: RunningApp, fake_slack: FakeSlack
) -> None:
    count = 64
    start = threading.Barrier(count)
    results: list[tuple[int, float, str]] = []
    lock = threading.Lock()

    def ask(number: int) -> None:
        question = ANSWERABLE if number % 2 else UNANSWERABLE
        start.wait(timeout=10)
        began = time.monotonic()
        reply = slack.sender.slash(question, response_url=fake_slack.response_url())
        with lock:
            results.append((reply.status, time.monotonic() - began, reply.text))

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)

    assert len(results) == count
    assert [status for status, _, _ in results] == [200] * count
    assert max(seconds for _, seconds, _ in results) < 3.0
    assert all(json.loads(text)["response_type"] == "ephemeral" for _, _, text in results)


# -- idle, half-sent and stalled connections ------------------------------------------------------


@pytest.fixture
def quick_timeouts(engine: RecordingEngine, fake_slack: FakeSlack, db_path: Path) -> Iterator[RunningApp]:
    """The app with half-second keep-alive and read timeouts."""
    limits = HttpLimits(keepalive_s=0.5, read_timeout_s=0.5)
    with running_app(engine, fake_slack, db_path, limits=limits) as app:
        yield app


def test_idle_half_sent_and_stalled_connections_are_closed_by_the_server(
    quick_timeouts: RunningApp, fake_slack: FakeSlack
) -> None:
    port = quick_timeouts.sender.port
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(200)]
    half_sent = [socket.create_connection(("127.0.0.1", port)) for _ in range(10)]
    stalled_body = [socket.create_connection(("127.0.0.1", port)) for _ in range(10)]
    try:
        for sock in half_sent:
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: applic")
        for sock in stalled_body:
            sock.sendall(_signed_raw(b"x" * 100)[:-90])  # headers and 10 of 100 body bytes
        began = time.monotonic()
        assert all(_read_until_closed(sock) == b"" for sock in idle)
        assert all(_read_until_closed(sock).startswith(b"HTTP/1.1 408") for sock in half_sent)
        assert all(b"200" not in _read_until_closed(sock) for sock in stalled_body)
        assert time.monotonic() - began < 5.0
    finally:
        for sock in idle + half_sent + stalled_body:
            sock.close()
    # Still serving.
    reply = quick_timeouts.sender.slash(ANSWERABLE, response_url=fake_slack.response_url())
    assert reply.status == 200


def test_keep_alive_connection_serves_several_requests_then_idles_out(
    quick_timeouts: RunningApp, fake_slack: FakeSlack
) -> None:
    body = urlencode(slash_command_body(ANSWERABLE, response_url=fake_slack.response_url())).encode()
    with socket.create_connection(("127.0.0.1", quick_timeouts.sender.port)) as sock:
        sock.sendall(_signed_raw(body) + _signed_raw(body))
        received = _read_until_closed(sock)
    assert received.count(b"HTTP/1.1 200") == 2


def test_keep_alive_responses_are_not_held_back_by_nagles_algorithm(
    slack: RunningApp, fake_slack: FakeSlack
) -> None:
    # Without TCP_NODELAY on accepted sockets, each response's body waits ~40 ms behind its headers.
    body = urlencode(slash_command_body("help", response_url=fake_slack.response_url()))
    connection = http.client.HTTPConnection("127.0.0.1", slack.sender.port, timeout=10)
    seconds = []
    try:
        for _ in range(15):
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": FORM,
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": sign(SIGNING_SECRET, timestamp, body),
            }
            began = time.perf_counter()
            connection.request("POST", "/slack/events", body=body.encode(), headers=headers)
            response = connection.getresponse()
            response.read()
            seconds.append(time.perf_counter() - began)
            assert response.status == 200
    finally:
        connection.close()
    assert statistics.median(seconds) < 0.03


# -- hostile requests -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "timestamp_header",
    [
        pytest.param("X-Slack-Request-Timestamp: abc\r\n", id="non-numeric"),
        pytest.param("X-Slack-Request-Timestamp: 1e9\r\n", id="float-like"),
        pytest.param("X-Slack-Request-Timestamp: -1\r\n", id="negative"),
        pytest.param("X-Slack-Request-Timestamp: 99999999999999999999999\r\n", id="huge"),
        pytest.param("", id="missing"),
    ],
)
def test_any_bad_timestamp_gets_401_without_a_traceback(
    slack: RunningApp, caplog: pytest.LogCaptureFixture, timestamp_header: str
) -> None:
    caplog.set_level(logging.INFO)
    body = b'{"type": "event_callback", "event": {"type": "app_mention"}}'
    request = (
        "POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{timestamp_header}X-Slack-Signature: v0={'0' * 64}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    with socket.create_connection(("127.0.0.1", slack.sender.port)) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        response = _read_until_closed(sock)
    assert response.startswith(b"HTTP/1.1 401")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b'{"type": "event_callback", "event": ', "application/json", id="cut-off-json"),
        pytest.param(b"[1, 2, 3]", "application/json", id="json-array"),
        pytest.param(b'{"type": "event_callback", "event": [1]}', "application/json", id="event-list"),
        pytest.param(b'{"type": "event_callback", "event": "x"}', "application/json", id="event-string"),
        pytest.param(b'{"type": "event_callback"}', "application/json", id="no-event"),
        pytest.param(b'{"type": ["event_callback"]}', "application/json", id="type-list"),
        pytest.param(b'{"authorizations": {"a": 1}}', "application/json", id="authorizations-object"),
        pytest.param(b'{"type": "block_actions", "container": []}', "application/json", id="container-list"),
        pytest.param(b"payload=%7Bnot+json", FORM, id="payload-not-json"),
        pytest.param(b"payload=%5B%5D", FORM, id="payload-list"),
        pytest.param(b"\xff\xfe", FORM, id="not-utf8"),
        pytest.param(b"", FORM, id="empty"),
    ],
)
def test_a_signed_body_slack_would_never_send_gets_400(
    slack: RunningApp, caplog: pytest.LogCaptureFixture, body: bytes, content_type: str
) -> None:
    caplog.set_level(logging.INFO)
    with socket.create_connection(("127.0.0.1", slack.sender.port)) as sock:
        sock.sendall(_signed_raw(body, content_type=content_type, extra="Connection: close\r\n"))
        response = _read_until_closed(sock)
    assert response.startswith(b"HTTP/1.1 400")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_an_oversize_body_gets_413_and_a_request_smuggled_in_it_is_never_answered(
    slack: RunningApp, fake_slack: FakeSlack, engine: RecordingEngine
) -> None:
    inner = urlencode(slash_command_body(ANSWERABLE, response_url=fake_slack.response_url())).encode()
    smuggled = _signed_raw(inner)
    declared = 1_000_001
    outer = (
        "POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", slack.sender.port)) as sock:
        sock.sendall(outer + smuggled)
        response = _read_until_closed(sock)
    assert response.startswith(b"HTTP/1.1 413")
    assert response.count(b"HTTP/1.1 ") == 1
    assert engine.questions == []


def test_an_oversize_chunked_body_gets_413(slack: RunningApp, engine: RecordingEngine) -> None:
    chunk = b"a" * 300_000
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", slack.sender.port)) as sock:
        sock.sendall(head)
        try:
            for _ in range(4):
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close before the client is done
        response = _read_until_closed(sock)
    assert response.startswith(b"HTTP/1.1 413")
    assert engine.questions == []


def test_rejected_requests_are_logged_once_per_client_and_never_with_their_body(
    slack: RunningApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    marker = "BODY-MARKER-7f3a"
    for _ in range(30):
        reply = slack.sender.post(
            json.dumps(event_callback({"type": "app_mention", "text": marker}, event_id="Ev1")),
            content_type="application/json",
            signature="v0=" + "0" * 64,
        )
        assert reply.status == 401
    guard = [r for r in caplog.records if r.name == GUARD_LOGGER]
    assert len(guard) == 1
    assert "127.0.0.1" in guard[0].getMessage() and "bad_signature" in guard[0].getMessage()
    assert not [r for r in caplog.records if marker in r.getMessage()]


# -- health and metrics ---------------------------------------------------------------------------


def test_healthz_is_200_when_the_index_and_database_answer_and_503_when_the_database_does_not(
    slack: RunningApp,
) -> None:
    assert slack.sender.get("/healthz").status == 200
    slack.database.close()
    reply = slack.sender.get("/healthz")
    assert reply.status == 503
    assert "database" in reply.text


class _NoIndexEngine:
    def ask(self, question: str) -> Answer:
        raise AssertionError("not asked")

    def articles(self) -> tuple[ArticleInfo, ...]:
        return ()

    def topics(self, limit: int = 12) -> tuple[str, ...]:
        return ()


def test_healthz_is_503_without_an_index(fake_slack: FakeSlack, db_path: Path) -> None:
    with running_app(_NoIndexEngine(), fake_slack, db_path) as app:
        reply = app.sender.get("/healthz")
    assert reply.status == 503
    assert "index" in reply.text


def test_metrics_count_questions_answers_declines_latency_and_slack_api_errors(
    slack: RunningApp, fake_slack: FakeSlack
) -> None:
    def now(name: str, **labels: str) -> float:
        reply = slack.sender.get("/metrics")
        assert reply.status == 200
        return _metric(reply.text, name, **labels)

    error = {"method": "chat.postMessage", "error": "not_in_channel"}
    names = (
        "factbot_questions_total",
        "factbot_answers_total",
        "factbot_declines_total",
        "factbot_answer_seconds_count",
    )
    before = {name: now(name) for name in names}
    errors_before = now("factbot_slack_api_errors_total", **error)

    assert slack.sender.slash(ANSWERABLE, response_url=fake_slack.response_url()).status == 200
    assert slack.sender.slash(UNANSWERABLE, response_url=fake_slack.response_url()).status == 200
    fake_slack.queue("chat.postMessage", {"ok": False, "error": "not_in_channel"})
    slack.sender.event(mention_event(f"<@{BOT_USER_ID}> {ANSWERABLE}", ts="1700000020.000100"))
    wait_until(lambda: now("factbot_slack_api_errors_total", **error) == errors_before + 1)

    after = {name: now(name) for name in names}
    assert after["factbot_questions_total"] - before["factbot_questions_total"] == 3
    assert after["factbot_answers_total"] - before["factbot_answers_total"] == 2
    assert after["factbot_declines_total"] - before["factbot_declines_total"] == 1
    assert after["factbot_answer_seconds_count"] - before["factbot_answer_seconds_count"] == 3
    assert now("factbot_slack_request_seconds_count") >= 3


def test_unknown_paths_and_methods_are_refused(slack: RunningApp) -> None:
    assert slack.sender.get("/nothing-here").status == 404
    assert slack.sender.get("/slack/events").status == 405
