"""Run due digests inside ``factbot serve``: an APScheduler interval job calling ``run_due(now)``.

Every tick asks the service what is due *now*; the database decides what was already sent or is
claimed by another process. So a restart, a missed 09:00, or a second process need no special
casing here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient

from bot.digest.delivery import SlackPoster
from bot.digest.service import DeliveryOutcome, DigestService, FactCatalog
from bot.digest.store import DigestStore
from bot.digest.timing import parse_post_time, utc_now
from bot.errors import ConfigError, DigestError
from bot.settings import Settings
from bot.slack import metrics
from bot.storage import Database

logger = logging.getLogger(__name__)

DEFAULT_TICK_SECONDS = 30.0
JOB_ID = "factbot-digest"


def build_digest_service(
    settings: Settings, catalog: FactCatalog, db: Database, client: WebClient | None
) -> DigestService:
    """A DigestService configured from settings (ConfigError on a bad time or time zone)."""
    try:
        default_time = parse_post_time(settings.digest_time)
    except DigestError as exc:
        raise ConfigError(f"FACTBOT_DIGEST_TIME: {exc}") from None
    try:
        return DigestService(
            DigestStore(db),
            catalog,
            SlackPoster(client) if client is not None else None,
            size=settings.digest_size,
            default_time=default_time,
            default_timezone=settings.timezone,
        )
    except DigestError as exc:
        raise ConfigError(f"FACTBOT_TIMEZONE: {exc}") from None


class DigestScheduler:
    """Owns the background scheduler; ``stop()`` waits for a running tick to finish."""

    def __init__(
        self,
        service: DigestService,
        *,
        clock: Callable[[], datetime] = utc_now,
        tick_seconds: float = DEFAULT_TICK_SECONDS,
    ) -> None:
        self.service = service
        self.clock = clock
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self._scheduler.add_job(
            self.run_due,
            "interval",
            seconds=tick_seconds,
            id=JOB_ID,
            next_run_time=datetime.now(UTC),  # first tick at once: catch up on a missed digest
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(1, int(tick_seconds)),
        )

    def run_due(self) -> list[DeliveryOutcome]:
        """One tick: post whatever is due at ``clock()``. Never raises: a failed tick is logged."""
        try:
            outcomes = self.service.run_due(self.clock())
        except Exception:  # last resort: the job must keep ticking
            logger.exception("digest tick failed; the next tick tries again")
            return []
        for outcome in outcomes:
            metrics.DIGEST_POSTS.labels(outcome=outcome.status).inc()
        return outcomes

    def start(self) -> DigestScheduler:
        self._scheduler.start()
        logger.info("digest scheduler started")
        return self

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def stop(self, wait: bool = True) -> None:
        """Stop ticking; with ``wait``, let a post in progress finish first. Safe to call twice."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)
            logger.info("digest scheduler stopped")


def start_digest_scheduler(
    settings: Settings,
    engine: FactCatalog,
    client: WebClient,
    db: Database,
    *,
    clock: Callable[[], datetime] = utc_now,
    tick_seconds: float = DEFAULT_TICK_SECONDS,
) -> DigestScheduler:
    """Sync FACTBOT_DIGEST_CHANNELS into the database and start posting digests in the background.

    Posts go through a copy of ``client`` without its retry handlers (``SlackPoster``): a
    rate-limit handler would sleep inside the post for as long as Slack asks, possibly past the
    claim's lease. Backoff is the service's job, recorded in the database.
    """
    service = build_digest_service(settings, engine, db, client)
    service.sync_from_environment(settings.digest_channels, settings.digest_time, settings.timezone, clock())
    return DigestScheduler(service, clock=clock, tick_seconds=tick_seconds).start()


__all__ = ["DigestScheduler", "build_digest_service", "start_digest_scheduler"]
