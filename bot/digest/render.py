"""A digest as Slack Block Kit (with fallback text) and as plain text for the terminal."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.engine import Fact, Source

logger = logging.getLogger(__name__)

# Slack rejects section texts over 3,000 characters; quotes are sentences, but be safe.
_MAX_SECTION_CHARS = 2900


@dataclass(frozen=True)
class DigestItem:
    """One fact in a digest, with where it comes from."""

    fact: Fact
    source: Source
    cycle: int


@dataclass(frozen=True)
class Digest:
    """One day's post for one channel."""

    channel_id: str
    day: date
    items: tuple[DigestItem, ...]

    @property
    def fact_ids(self) -> tuple[str, ...]:
        return tuple(item.fact.id for item in self.items)


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack treats as markup in message text: &, < and >."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def header_text(day: date) -> str:
    return f"Daily facts for {day.strftime('%A')}, {day.day} {day.strftime('%B %Y')}"


def _source_label(source: Source) -> str:
    return f"{source.title}, paragraph {source.paragraph}"


def _item_mrkdwn(item: DigestItem) -> str:
    fact, source = item.fact, item.source
    label = escape_mrkdwn(_source_label(source))
    if source.url and source.url.startswith(("http://", "https://")):
        label = f"<{escape_mrkdwn(source.url)}|{label}>"
    quote = escape_mrkdwn(fact.quote)
    lines = [f"*{escape_mrkdwn(fact.answer)}*"] if fact.answer else []
    lines.append(f"> {quote}")
    lines.append(f"— _{label}_")
    return _shorten("\n".join(lines), _MAX_SECTION_CHARS)


def to_blocks(digest: Digest) -> list[dict[str, Any]]:
    """The Block Kit blocks of a digest post: a header, then one section per fact."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header_text(digest.day), "emoji": True}}
    ]
    for index, item in enumerate(digest.items):
        if index:
            blocks.append({"type": "divider"})
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _item_mrkdwn(item)}})
    return blocks


def to_fallback_text(digest: Digest) -> str:
    """The notification / screen-reader text of a digest post (escaped like all message text)."""
    statements = " · ".join(escape_mrkdwn(_shorten(item.fact.statement, 200)) for item in digest.items)
    return f"{header_text(digest.day)}: {statements}"


def to_plain_text(digest: Digest) -> str:
    """A terminal rendering of a digest, for ``factbot digest preview``."""
    lines = [header_text(digest.day), ""]
    for number, item in enumerate(digest.items, start=1):
        fact = item.fact
        lines.append(f"{number}. {fact.statement}")
        if fact.answer:
            lines.append(f"   “{fact.quote}”")
        lines.append(f"   — {_source_label(item.source)}")
        lines.append("")
    if not digest.items:
        lines.append("(no facts to send: build the fact index with `factbot build`)")
    return "\n".join(lines).rstrip() + "\n"
