"""Slack markup in and out: strip it from questions, escape what we quote, keep texts within limits."""

from __future__ import annotations

import re

# <@U123>, <@U123|name>, <!channel>, <!here|here>, <!subteam^S123|@team>, <#C123|general>,
# <http://example.com|label>, <mailto:a@b.c|a@b.c>: everything Slack writes between angle brackets.
_SLACK_TOKEN = re.compile(r"<([^<>]*)>")
_WHITESPACE = re.compile(r"\s+")
_LINK_SCHEMES = ("http://", "https://", "mailto:")
_ENTITY_TAIL = re.compile(r"&[a-z]{0,4}$")
ELLIPSIS = "…"


def _replace_token(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith(_LINK_SCHEMES):
        return label or target
    if target.startswith("#C") and label:
        return f"#{label}"
    # User, user-group and special mentions (<@U…>, <!channel>, <!subteam^…>, <!date…>) carry no question.
    return " "


def unescape(text: str) -> str:
    """Undo Slack's escaping of ``&``, ``<`` and ``>`` in message text."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def clean_question(text: str) -> str:
    """The question a user typed, without mentions, broadcasts or link markup, whitespace collapsed.

    Links keep their label (or their address when they have none); channel references become
    ``#name``; user, bot, group and ``<!channel>``-style mentions disappear. Slack's own escaping
    (``&amp;`` …) is undone so the engine sees what the user typed.
    """
    without_markup = _SLACK_TOKEN.sub(_replace_token, text)
    return _WHITESPACE.sub(" ", unescape(without_markup)).strip()


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` so quoted text can never become a mention, link or broadcast."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters with an ellipsis, never splitting an ``&amp;``."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    cut = _ENTITY_TAIL.sub("", cut)
    return cut.rstrip() + ELLIPSIS


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an http(s) address that cannot break out of ``<url|label>`` markup, else None."""
    if not url or not url.startswith(("http://", "https://")):
        return None
    if any(char in url for char in "<>| \t\n"):
        return None
    return url.replace("&", "&amp;")
