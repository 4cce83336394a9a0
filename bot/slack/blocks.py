"""Every Block Kit message FactBot sends, built in one place.

All user and article text goes through ``markup.escape`` here, so nothing quoted can ping anyone,
and through ``markup.fit`` so no text object breaks Slack's limits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.engine import Answer, ArticleInfo
from bot.slack.markup import escape, fit, safe_url
from bot.slack.payloads import AnswerRef

logger = logging.getLogger(__name__)

TEXT_LIMIT = 3000
"""Slack's limit for a section's or context element's text, and the length we keep fallbacks to."""

SHARE_ACTION = "fact_share"
VOTE_UP_ACTION = "fact_vote_up"
VOTE_DOWN_ACTION = "fact_vote_down"
VOTES = {VOTE_UP_ACTION: "up", VOTE_DOWN_ACTION: "down"}
VOTE_EMOJI = {"up": "👍", "down": "👎"}

Block = dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """A message: its fallback ``text`` (notifications, screen readers) and its blocks."""

    text: str
    blocks: tuple[Block, ...] = ()

    def message(self) -> dict[str, Any]:
        """Keyword arguments for chat.postMessage / response_url bodies, unfurling off."""
        return {
            "text": self.text,
            "blocks": list(self.blocks),
            "unfurl_links": False,
            "unfurl_media": False,
        }


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": fit(text, TEXT_LIMIT)}


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def _context(*texts: str) -> Block:
    return {"type": "context", "elements": [_mrkdwn(text) for text in texts]}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _blockquote(text: str) -> str:
    return "\n".join(f">{line}" for line in escape(text).splitlines() or [""])


def _source_line(answer: Answer) -> str:
    source = answer.source
    if source is None:
        return ""
    title = escape(source.title or source.article)
    url = safe_url(source.url)
    linked = f"<{url}|{title}>" if url else f"*{title}*"
    return f":page_facing_up: {linked}, paragraph {source.paragraph}"


def _answer_buttons(answer: Answer, *, shareable: bool, votable: bool) -> Block | None:
    value = AnswerRef(answer.question, answer.fact_id).to_value()
    elements: list[Block] = []
    if shareable:
        elements.append(_button("Share in channel", SHARE_ACTION, value, style="primary"))
    if votable:
        elements += [_button("👍", VOTE_UP_ACTION, value), _button("👎", VOTE_DOWN_ACTION, value)]
    if not elements:
        return None
    return {"type": "actions", "block_id": "fact_answer_actions", "elements": elements}


def _fallback(answer: Answer) -> str:
    text = f"{answer.answer or answer.quote} — “{answer.quote}”"
    if answer.source is not None:
        text += f" ({answer.source.title or answer.source.article}, paragraph {answer.source.paragraph})"
    return fit(escape(text), TEXT_LIMIT)


def answer_reply(
    answer: Answer,
    *,
    repeat_question: bool = False,
    shareable: bool = False,
    shared_by: str | None = None,
    voted: str | None = None,
) -> Reply:
    """An answer (or, when ``answer.answered`` is False, a decline) as a message.

    ``repeat_question`` shows what was asked (slash commands leave no visible question);
    ``shareable`` adds "Share in channel"; ``shared_by`` credits the user who shared it;
    ``voted`` (``'up'``/``'down'``) replaces the buttons with a thank-you.
    """
    if not answer.answered or not answer.quote:
        return decline_reply(answer, repeat_question=repeat_question)
    blocks: list[Block] = []
    if shared_by:
        blocks.append(_context(f"<@{shared_by}> asked: {escape(answer.question)}"))
    elif repeat_question:
        blocks.append(_context(f":mag: You asked: {escape(answer.question)}"))
    blocks.append(_section(f"*{escape(answer.answer or answer.quote)}*"))
    blocks.append(_section(_blockquote(answer.quote)))
    if answer.source is not None:
        blocks.append(_context(_source_line(answer)))
    buttons = _answer_buttons(answer, shareable=shareable, votable=not voted)
    if buttons is not None:
        blocks.append(buttons)
    if voted:
        blocks.append(_context(f"{VOTE_EMOJI[voted]} Thanks, your feedback is recorded."))
    return Reply(text=_fallback(answer), blocks=tuple(blocks))


def decline_reply(answer: Answer, *, repeat_question: bool = False) -> Reply:
    """ "No sourced answer" in one line, plus the engine's suggestions when it has any."""
    line = (
        f"I couldn't find a sourced answer to “{escape(answer.question)}”."
        if repeat_question
        else "I couldn't find a sourced answer to that."
    )
    blocks: list[Block] = [_section(line)]
    if answer.suggestions:
        tries = " · ".join(f"“{escape(s)}”" for s in answer.suggestions)
        blocks.append(_context(f"Try asking: {tries}"))
        fallback = f"{line} Try asking: {tries}"
    else:
        fallback = line
    return Reply(text=fit(fallback, TEXT_LIMIT), blocks=tuple(blocks))


def notice_reply(text: str) -> Reply:
    """A one-line message (already escaped / FactBot's own words)."""
    return Reply(text=fit(text, TEXT_LIMIT), blocks=(_section(text),))


def question_too_long_reply(limit: int) -> Reply:
    return notice_reply(f"That question is too long for me: please keep it under {limit} characters.")


def empty_question_reply(command: str) -> Reply:
    return notice_reply(f"Ask me a question about the articles; `{command} help` shows what I can do.")


def help_reply(command: str, examples: Sequence[str]) -> Reply:
    """Usage for the slash command, with a few example topics."""
    lines = [
        "*FactBot* answers questions about its articles with a short answer and the exact sentence "
        "it comes from.",
        f"• `{command} &lt;question&gt;` answers privately; you can then share the answer in the channel.",
        f"• `{command} sources` lists the articles I know.",
        f"• `{command} topics` lists things I can answer about.",
        f"• `{command} digest` sets up a daily digest (coming soon).",
        "• Mention me in a channel, or send me a direct message, to ask there.",
    ]
    blocks: list[Block] = [_section("\n".join(lines))]
    if examples:
        blocks.append(_context("Try: " + " · ".join(f"`{command} {escape(e)}`" for e in examples)))
    return Reply(text=f"How to use {command}", blocks=tuple(blocks))


def sources_reply(articles: Sequence[ArticleInfo]) -> Reply:
    """The indexed articles, one per line."""
    if not articles:
        return notice_reply("I have no articles indexed yet.")
    lines = []
    for article in articles:
        title = escape(article.title or article.stem)
        url = safe_url(article.url)
        name = f"<{url}|{title}>" if url else title
        lines.append(f"• {name} ({article.fact_count} facts)")
    header = f"*I answer from {len(articles)} article{'s' if len(articles) != 1 else ''}:*"
    return _list_reply(header, lines, fallback=f"I answer from {len(articles)} articles.")


def topics_reply(topics: Sequence[str]) -> Reply:
    """What the engine can answer about."""
    if not topics:
        return notice_reply("I have no topics to suggest yet.")
    lines = [f"• {escape(topic)}" for topic in topics]
    return _list_reply("*Things I can answer about:*", lines, fallback="Things I can answer about.")


def _list_reply(header: str, lines: Sequence[str], *, fallback: str) -> Reply:
    """A header and bullet lines, split across sections so none passes the text limit."""
    blocks: list[Block] = [_section(header)]
    chunk: list[str] = []
    for line in lines:
        if chunk and len("\n".join([*chunk, line])) > TEXT_LIMIT:
            blocks.append(_section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(_section("\n".join(chunk)))
    return Reply(text=fallback, blocks=tuple(blocks[:50]))
