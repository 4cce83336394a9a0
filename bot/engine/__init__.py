"""The engine: articles in, a fact index, and for each question a short answer with its verbatim quote.

It never imports Slack. The public API is the names below; the modules behind them are its parts:
``text`` (words and sentences), ``articles`` and ``facts`` (the files), ``build`` (articles to fact
files), ``matching`` (the lexical index), ``semantic`` (offline sentence embeddings), ``features``
(what the learned models see), ``learned`` (the models as data), ``spans`` and ``short_answer`` (the
short answer), ``answers`` (question types and the clause fallback), ``engine`` (the Engine itself).
Names are imported on first use, so importing a part does not load the rest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.engine.build import build_index
    from bot.engine.engine import MAX_QUESTION_CHARS, Engine
    from bot.engine.model import Answer, ArticleInfo, Fact, Source, Span

_EXPORTS = {
    "Engine": "engine",
    "MAX_QUESTION_CHARS": "engine",
    "build_index": "build",
    "Answer": "model",
    "ArticleInfo": "model",
    "Fact": "model",
    "Source": "model",
    "Span": "model",
}

__all__ = [
    "MAX_QUESTION_CHARS",
    "Answer",
    "ArticleInfo",
    "Engine",
    "Fact",
    "Source",
    "Span",
    "build_index",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bot.engine' has no attribute {name!r}")
    return getattr(importlib.import_module(f"bot.engine.{module}"), name)
