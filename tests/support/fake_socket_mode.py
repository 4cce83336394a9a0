"""A local Socket Mode endpoint: a websocket server on 127.0.0.1 that sends envelopes and collects acks.

Set ``fake_slack.socket_url = socket.url`` so ``apps.connections.open`` hands the URL to the
client, connect the app, then ``send()`` envelopes (built with :func:`envelope`) and read what
the app sent back with ``next_message()``.
"""

from __future__ import annotations

import json
import queue
import threading
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from tests.support.slack_requests import APP_ID


def envelope(
    kind: str, payload: dict[str, Any], *, envelope_id: str, retry_attempt: int = 0
) -> dict[str, Any]:
    """A Socket Mode envelope: ``kind`` is ``events_api``, ``slash_commands`` or ``interactive``."""
    message: dict[str, Any] = {
        "envelope_id": envelope_id,
        "type": kind,
        "payload": payload,
        "accepts_response_payload": kind != "events_api",
    }
    if kind == "events_api":
        message["retry_attempt"] = retry_attempt
        message["retry_reason"] = "timeout" if retry_attempt else ""
    return message


class FakeSocketMode:
    """The websocket server; one client connection at a time (the latest one wins)."""

    def __init__(self) -> None:
        self._received: queue.Queue[dict[str, Any]] = queue.Queue()
        self._connected = threading.Event()
        self._connection: ServerConnection | None = None
        self._server: Server = serve(self._handle, "127.0.0.1", 0)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-socket-mode", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket=test-ticket&app_id={APP_ID}"

    def start(self) -> FakeSocketMode:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeSocketMode:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def wait_connected(self, timeout: float = 5.0) -> None:
        if not self._connected.wait(timeout):
            raise AssertionError(f"no Socket Mode client connected within {timeout}s")

    def send(self, message: dict[str, Any]) -> None:
        """Send one envelope to the connected client."""
        self.wait_connected()
        assert self._connection is not None
        self._connection.send(json.dumps(message))

    def next_message(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next message the client sent (an ack), or fail the test after ``timeout``."""
        try:
            return self._received.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no message from the Socket Mode client within {timeout}s") from None

    def _handle(self, connection: ServerConnection) -> None:
        self._connection = connection
        connection.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "connection_info": {"app_id": APP_ID},
                    "debug_info": {"host": "fake-socket-mode"},
                }
            )
        )
        self._connected.set()
        try:
            for message in connection:
                self._received.put(json.loads(message))
        except ConnectionClosed:
            pass
