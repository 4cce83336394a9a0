"""Checks on a Slack HTTP request before Bolt sees it: timestamp, signature, then the body's shape.

Bolt checks the signature too, but raises (500 and a traceback) on a timestamp that is not a
number, logs the whole body of every rejected request, and fails in ways that depend on the shape
of a body it cannot parse. Here every such request gets a plain answer instead: 401 for a missing,
malformed or stale timestamp or a bad signature, 400 for a signed body that is not what Slack
sends. :class:`RejectionLog` logs refused requests once per client and period, never their bodies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from types import UnionType
from typing import Any
from urllib.parse import parse_qsl

logger = logging.getLogger(__name__)

MAX_CLOCK_SKEW_S = 300
"""Slack's rule: a request whose timestamp is more than 5 minutes off is refused (replays)."""

_OBJECT_FIELDS = ("event", "container", "message", "view")
_ID_OR_OBJECT_FIELDS = (
    "team",
    "user",
    "channel",
    "enterprise",
)  # an id in some payloads, an object in others
_LIST_FIELDS = ("authorizations", "actions")


@dataclass(frozen=True)
class Rejection:
    """Why a request is refused: the HTTP status and a short reason (a metric label, a log word)."""

    status: int
    reason: str


def check_signature(
    secret: str, timestamp: str | None, signature: str | None, body: bytes, now: float | None = None
) -> Rejection | None:
    """None when ``body`` is signed with ``secret`` at a timestamp within 5 minutes, else a 401."""
    if not timestamp or not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return Rejection(401, "bad_timestamp")
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_CLOCK_SKEW_S:
        return Rejection(401, "stale_timestamp")
    if not signature or not signature.startswith("v0="):
        return Rejection(401, "bad_signature")
    expected = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    if not hmac.compare_digest("v0=" + expected.hexdigest(), signature):
        return Rejection(401, "bad_signature")
    return None


def check_body(body: bytes, content_type: str | None) -> Rejection | None:
    """None when ``body`` is shaped like something Slack sends, else a 400.

    Slack sends JSON objects (Events API) or forms (slash commands; interactions, whose
    ``payload`` field holds a JSON object). Fields Bolt reads nested values from must be objects
    (``event``, ``team``, ...) or lists of objects (``authorizations``, ``actions``) when present.
    """
    bad = Rejection(400, "bad_body")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return bad
    if not text:
        return bad
    media_type = (content_type or "").split(";")[0].strip().lower()
    try:
        if media_type == "application/json" or text.startswith("{"):
            parsed: Any = json.loads(text)
        else:
            form = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))
            parsed = json.loads(form["payload"]) if "payload" in form else form
    except (ValueError, KeyError):
        return bad
    return None if _slack_shaped(parsed) else bad


def _slack_shaped(parsed: Any) -> bool:
    if not isinstance(parsed, dict) or not isinstance(parsed.get("type", ""), str):
        return False
    if any(parsed.get(name) is not None and not isinstance(parsed[name], dict) for name in _OBJECT_FIELDS):
        return False
    if any(
        parsed.get(name) is not None and not isinstance(parsed[name], dict | str)
        for name in _ID_OR_OBJECT_FIELDS
    ):
        return False
    event = parsed.get("event")
    if parsed.get("type") == "event_callback" and not isinstance(event, dict):
        return False
    if isinstance(event, dict) and not isinstance(event.get("type", ""), str):
        return False
    for name in _LIST_FIELDS:
        value = parsed.get(name)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            return False
    return True


def _absent_or(value: Any, kind: type | UnionType) -> bool:
    return value is None or isinstance(value, kind)


class RejectionLog:
    """Log refused requests at most once per client per ``period_s``, with a count of the rest.

    Remembers at most ``max_clients`` clients (the oldest are forgotten first), so a flood from many
    addresses costs bounded memory. Never logs a body. Thread-safe.
    """

    def __init__(self, period_s: float = 60.0, max_clients: int = 4096) -> None:
        self._period_s = period_s
        self._max_clients = max_clients
        self._clients: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def note(self, client: str, rejection: Rejection, path: str) -> bool:
        """Count one refused request from ``client``; True if it was logged."""
        now = time.monotonic()
        with self._lock:
            last, suppressed = self._clients.get(client, (float("-inf"), 0))
            if now - last < self._period_s:
                self._clients[client] = (last, suppressed + 1)
                return False
            self._clients[client] = (now, 0)
            self._clients.move_to_end(client)
            while len(self._clients) > self._max_clients:
                self._clients.popitem(last=False)
        more = f" ({suppressed} more from it in the last period not logged)" if suppressed else ""
        logger.warning(
            "refused a request to %s from %s: HTTP %d %s%s",
            path,
            client,
            rejection.status,
            rejection.reason,
            more,
        )
        return True
