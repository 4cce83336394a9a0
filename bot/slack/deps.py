"""What the Slack listeners depend on, passed explicitly so tests can swap any part."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from bot.digest.service import DigestService
from bot.engine import Answer, ArticleInfo
from bot.slack import metrics
from bot.slack.delivery import ReplyPoster
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
    ``/fact digest`` (None: digests are not set up, and the command says so). ``replies`` posts
    replies with bounded retries on its own timer (close it when the app stops).
    """

    engine: AnswerEngine
    database: Database
    command: str = "/fact"
    digest: DigestService | None = None
    replies: ReplyPoster = field(default_factory=ReplyPoster)


def with_deps(listener: Callable[..., R], deps: SlackDeps) -> Callable[..., R]:
    """``listener`` with its keyword-only ``deps`` argument bound, for registering with Bolt.

    Bolt injects arguments by the names of a listener's positional parameters (``ack``, ``body``,
    ``client``, ...); keyword-only ``deps`` is invisible to it, and bound here instead. The result
    keeps the listener's name, which Bolt uses in its logs.

    It is also the last resort: whatever the listener raises is logged with its traceback and
    counted (``factbot_listener_errors_total``), never raised into Bolt; a listener that raised
    before acking is acked with an apology, so Slack does not show a time-out.
    """
    bound = functools.partial(listener, deps=deps)

    def guarded(*args: object, **kwargs: object) -> R | None:
        try:
            return bound(*args, **kwargs)
        except Exception:
            metrics.LISTENER_ERRORS.labels(listener=listener.__name__).inc()
            logger.exception("listener %s failed", listener.__name__)
            ack = kwargs.get("ack")
            if ack is not None and getattr(ack, "response", True) is None:
                ack(
                    response_type="ephemeral",
                    text="Sorry, something went wrong on my side. Please try again.",
                )  # type: ignore[operator]
            return None

    functools.update_wrapper(guarded, listener)
    return guarded
