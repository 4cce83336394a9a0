"""Correctly signed Slack requests (slash commands, events, button clicks) for a Bolt app over HTTP.

Slack signs ``v0:{timestamp}:{body}`` with HMAC-SHA256 under the app's signing secret and sends
``X-Slack-Signature: v0=<hex>`` and ``X-Slack-Request-Timestamp``; Bolt rejects anything else
with 401. :class:`SlackSender` builds payloads shaped like Slack's and posts them.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from tests.support.fake_slack import TEAM_ID

SIGNING_SECRET = "test-signing-secret"
APP_ID = "A0FACTBOT"
_TRIGGER_IDS = itertools.count(1)
_EVENT_IDS = itertools.count(1)


def sign(secret: str, timestamp: str, body: str) -> str:
    """The ``X-Slack-Signature`` value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return f"v0={digest}"


@dataclass(frozen=True)
class HttpReply:
    """What the app answered: status, body text, and the body parsed as JSON when it is JSON."""

    status: int
    text: str

    def json(self) -> dict[str, Any]:
        return json.loads(self.text)


def slash_command_body(
    text: str,
    *,
    user_id: str = "U0ASKER",
    channel_id: str = "C0GENERAL",
    response_url: str,
    command: str = "/fact",
) -> dict[str, str]:
    """The form fields of a slash command invocation."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "factbot-test",
        "channel_id": channel_id,
        "channel_name": "general",
        "user_id": user_id,
        "user_name": "asker",
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "response_url": response_url,
        "trigger_id": "1.2.3",
    }


def event_callback(event: dict[str, Any], *, event_id: str) -> dict[str, Any]:
    """An Events API ``event_callback`` envelope around ``event``."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": "U0FACTBOT", "is_bot": True}],
    }


def block_actions(
    action_id: str,
    value: str,
    *,
    user_id: str = "U0ASKER",
    channel_id: str = "C0GENERAL",
    response_url: str,
    is_ephemeral: bool = True,
    action_ts: str = "1700000100.000200",
    trigger_id: str | None = None,
) -> dict[str, Any]:
    """A ``block_actions`` payload for a click on button ``action_id`` carrying ``value``.

    Each payload gets its own ``trigger_id``, as each click does in Slack (a replay repeats it).
    """
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": "asker", "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": "1700000000.000100",
            "channel_id": channel_id,
            "is_ephemeral": is_ephemeral,
        },
        "trigger_id": trigger_id or f"{next(_TRIGGER_IDS)}.{TEAM_ID}.{uuid.uuid4().hex[:12]}",
        "team": {"id": TEAM_ID, "domain": "factbot-test"},
        "channel": {"id": channel_id, "name": "general"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "fact_answer_actions",
                "value": value,
                "type": "button",
                "action_ts": action_ts,
            }
        ],
    }


class SlackSender:
    """Posts signed requests to a Bolt app at ``http://127.0.0.1:{port}{path}``."""

    def __init__(self, port: int, *, secret: str = SIGNING_SECRET, path: str = "/slack/events") -> None:
        self.port = port
        self.secret = secret
        self.path = path

    def post(
        self,
        body: str,
        *,
        content_type: str,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpReply:
        """POST ``body`` signed now (or at ``timestamp``), unless ``signature`` overrides it."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or sign(self.secret, ts, body),
            **(headers or {}),
        }
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("POST", self.path, body=body.encode(), headers=all_headers)
            response = connection.getresponse()
            return HttpReply(response.status, response.read().decode())
        finally:
            connection.close()

    def get(self, path: str) -> HttpReply:
        """GET ``path`` (``/healthz``, ``/metrics``) from the same server."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return HttpReply(response.status, response.read().decode())
        finally:
            connection.close()

    def slash(self, text: str, *, response_url: str, **fields: Any) -> HttpReply:
        body = urlencode(slash_command_body(text, response_url=response_url, **fields))
        return self.post(body, content_type="application/x-www-form-urlencoded")

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, headers: dict[str, str] | None = None
    ) -> HttpReply:
        event_id = event_id or f"Ev{next(_EVENT_IDS):08d}"  # unique across senders, as in Slack
        body = json.dumps(event_callback(event, event_id=event_id))
        return self.post(body, content_type="application/json", headers=headers)

    def click(self, action_id: str, value: str, *, response_url: str, **fields: Any) -> HttpReply:
        payload = block_actions(action_id, value, response_url=response_url, **fields)
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, content_type="application/x-www-form-urlencoded")


def mention_event(
    text: str, *, ts: str, thread_ts: str | None = None, user: str = "U0ASKER", channel: str = "C0GENERAL"
) -> dict[str, Any]:
    """An ``app_mention`` in ``channel`` (#general)."""
    event = {
        "type": "app_mention",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def dm_event(text: str, *, ts: str, user: str = "U0ASKER", **extra: Any) -> dict[str, Any]:
    """A ``message`` in the bot's DM with ``user``; ``extra`` adds fields such as subtype or bot_id."""
    return {
        "type": "message",
        "channel_type": "im",
        "channel": "D0ASKER",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        **extra,
    }
