"""Slack payloads turned into small typed objects at the edge; listeners work with these only.

Each ``*.parse`` returns None for a payload FactBot should ignore (bots, edits, joins, ...), so
deciding what to ignore happens here, once, and is easy to test.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.engine import MAX_QUESTION_CHARS as ENGINE_MAX_QUESTION_CHARS
from bot.slack.markup import clean_question

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = ENGINE_MAX_QUESTION_CHARS
"""Longer questions are declined (the engine would cut them); it also keeps button values small."""


@dataclass(frozen=True)
class SlashCommand:
    """A ``/fact ...`` invocation."""

    text: str
    user_id: str
    channel_id: str
    response_url: str | None

    @classmethod
    def parse(cls, command: dict[str, Any]) -> SlashCommand:
        return cls(
            text=str(command.get("text") or "").strip(),
            user_id=str(command.get("user_id") or ""),
            channel_id=str(command.get("channel_id") or ""),
            response_url=command.get("response_url") or None,
        )


@dataclass(frozen=True)
class IncomingQuestion:
    """A question asked by @mention in a channel or by direct message.

    ``reply_thread_ts`` is where the answer goes: the thread the message is in, else a new thread
    under it for mentions; None for a top-level DM (answered in the DM itself).
    """

    question: str
    user_id: str
    channel_id: str
    ts: str
    reply_thread_ts: str | None
    is_direct_message: bool

    @classmethod
    def parse(cls, event: dict[str, Any]) -> IncomingQuestion | None:
        """The question in an ``app_mention`` or ``message`` (channel_type ``im``) event, or None."""
        kind = event.get("type")
        if kind not in ("app_mention", "message"):
            return None
        if event.get("subtype") or event.get("bot_id") or event.get("bot_profile"):
            # Edits, deletions, joins, bot messages (our own included) and every other subtype.
            return None
        is_dm = kind == "message"
        if is_dm and event.get("channel_type") != "im":
            return None
        user_id, channel_id, ts = event.get("user"), event.get("channel"), event.get("ts")
        if not (user_id and channel_id and ts):
            return None
        thread_ts = event.get("thread_ts")
        return cls(
            question=clean_question(str(event.get("text") or "")),
            user_id=str(user_id),
            channel_id=str(channel_id),
            ts=str(ts),
            reply_thread_ts=str(thread_ts) if thread_ts else (None if is_dm else str(ts)),
            is_direct_message=is_dm,
        )


@dataclass(frozen=True)
class AnswerRef:
    """What an answer's buttons carry: the question asked and the fact that answered it."""

    question: str
    fact_id: str | None

    def to_value(self) -> str:
        """The button ``value`` (Slack allows 2000 characters; questions are capped well below)."""
        return json.dumps({"q": self.question, "f": self.fact_id}, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_value(cls, value: str) -> AnswerRef | None:
        try:
            data = json.loads(value)
        except json.JSONDecodeError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("q"), str):
            return None
        fact_id = data.get("f")
        return cls(question=data["q"], fact_id=fact_id if isinstance(fact_id, str) else None)


@dataclass(frozen=True)
class ButtonClick:
    """A click on one of an answer's buttons."""

    action_id: str
    ref: AnswerRef
    user_id: str
    channel_id: str | None
    response_url: str | None
    is_ephemeral: bool
    clicked_at: datetime | None = None
    delivery_key: str | None = None
    """The same for a replay of this payload and for no other click (None: Slack sent no ids)."""

    @classmethod
    def parse(cls, body: dict[str, Any]) -> ButtonClick | None:
        actions = body.get("actions") or []
        if not actions:
            return None
        action = actions[0]
        ref = AnswerRef.from_value(str(action.get("value") or ""))
        user_id = (body.get("user") or {}).get("id")
        if ref is None or not user_id:
            logger.warning("ignoring a button click without a readable value or user")
            return None
        container = body.get("container") or {}
        channel_id = (body.get("channel") or {}).get("id") or container.get("channel_id")
        return cls(
            action_id=str(action.get("action_id") or ""),
            ref=ref,
            user_id=str(user_id),
            channel_id=str(channel_id) if channel_id else None,
            response_url=body.get("response_url") or None,
            is_ephemeral=bool(container.get("is_ephemeral")),
            clicked_at=_slack_time(action.get("action_ts")),
            delivery_key=_click_key(body, action, str(user_id)),
        )


def _click_key(body: dict[str, Any], action: dict[str, Any], user_id: str) -> str | None:
    """Slack gives each click its own ``trigger_id`` and ``action_ts``; a replay repeats both."""
    trigger_id, action_ts = body.get("trigger_id"), action.get("action_ts")
    if not trigger_id and not action_ts:
        return None
    return f"{user_id}|{action.get('action_id')}|{action_ts}|{trigger_id}"


def _slack_time(ts: object) -> datetime | None:
    """A Slack timestamp (``"1700000000.123456"``) as an aware UTC datetime, or None."""
    try:
        return datetime.fromtimestamp(float(str(ts)), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None
