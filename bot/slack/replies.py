"""From what a user wrote to the Reply FactBot sends: keywords, limits, then the engine."""

from __future__ import annotations

import logging
import time

from bot.slack import metrics
from bot.slack.blocks import (
    Reply,
    answer_reply,
    empty_question_reply,
    help_reply,
    question_too_long_reply,
    sources_reply,
    topics_reply,
)
from bot.slack.deps import SlackDeps
from bot.slack.payloads import MAX_QUESTION_CHARS

logger = logging.getLogger(__name__)

HELP_EXAMPLES = 3
TOPICS_LIMIT = 12


def _keyword(text: str) -> str:
    return text.strip().lower().rstrip("?!.")


def reply_to_text(question: str, deps: SlackDeps, *, private: bool) -> Reply:
    """The reply to a cleaned message or command text: a keyword's, else the engine's answer."""
    return keyword_reply(question, deps) or question_reply(question, deps, private=private)


def keyword_reply(text: str, deps: SlackDeps) -> Reply | None:
    """The reply to a bare ``help``, ``sources`` or ``topics`` (alone, any case; empty = help), else None."""
    match _keyword(text):
        case "help" | "":
            return help_reply(deps.command, deps.engine.topics(HELP_EXAMPLES))
        case "sources":
            return sources_reply(deps.engine.articles())
        case "topics":
            return topics_reply(deps.engine.topics(TOPICS_LIMIT))
    return None


def question_reply(question: str, deps: SlackDeps, *, private: bool) -> Reply:
    """Answer ``question`` (already cleaned of Slack markup) with a sourced answer, or decline.

    ``private`` answers (the ephemeral ``/fact`` reply) repeat the question and offer
    "Share in channel"; public answers (threads, DMs) carry only the feedback buttons.
    """
    if not question:
        return empty_question_reply(deps.command)
    if len(question) > MAX_QUESTION_CHARS:
        return question_too_long_reply(MAX_QUESTION_CHARS)
    started = time.perf_counter()
    answer = deps.engine.ask(question)
    logger.info("answered=%s confidence=%.2f fact=%s", answer.answered, answer.confidence, answer.fact_id)
    reply = answer_reply(answer, repeat_question=private, shareable=private)
    metrics.count_answer(answer.answered, time.perf_counter() - started)
    return reply
