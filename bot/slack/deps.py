"""What the Slack listeners depend on, passed explicitly so tests can swap any part."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from bot.digest.service import DigestService
from bot.model import Answer, ArticleInfo
from bot.storage import Database

logger = logging.getLogger(__name__)

R = TypeVar("R")


class AnswerEngine(Protocol):
    """The part of ``bot.engine.Engine`` the Slack layer uses."""

    def ask(self, question: str) -> Answer: ...

    def articles(self) -> tuple[ArticleInfo, ...]: ...

    def topics(self, limit: int = 12) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class SlackDeps:
    """The engine that answers, and the database that records votes and the deliveries taken on.

    ``command`` is the slash command's name as configured in the manifest. ``digest`` serves
    ``/fact digest`` (None: digests are not set up, and the command says so).
    """

    engine: AnswerEngine
    database: Database
    command: str = "/fact"
    digest: DigestService | None = None


def with_deps(listener: Callable[..., R], deps: SlackDeps) -> Callable[..., R]:
    """``listener`` with its keyword-only ``deps`` argument bound, for registering with Bolt.

    Bolt injects arguments by the names of a listener's positional parameters (``ack``, ``body``,
    ``client``, ...); keyword-only ``deps`` is invisible to it, and bound here instead. The result
    keeps the listener's name, which Bolt uses in its logs.
    """
    bound = functools.partial(listener, deps=deps)
    functools.update_wrapper(bound, listener)
    return bound
