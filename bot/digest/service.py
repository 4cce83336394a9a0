"""The digest service: subscribe, report status, compose the next digest, and post what is due.

Pure with respect to time: every entry point takes ``now`` (an aware datetime), so the scheduler,
the CLI and tests drive it with whatever clock they like.
"""

from __future__ import annotations

import logging
import time as time_module
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.digest.delivery import DeliveryError, DeliveryFailure, DigestPoster
from bot.digest.render import Digest, DigestItem, to_blocks, to_fallback_text
from bot.digest.rotation import Pick, next_facts
from bot.digest.store import FAILED, RETRY, SENT, DigestStore, PostRecord, Subscription
from bot.digest.timing import local_date, next_scheduled_at, parse_post_time, parse_timezone, scheduled_at
from bot.engine import Fact, Source
from bot.errors import ConfigError, DigestError
from bot.storage import DatabaseError

logger = logging.getLogger(__name__)

# ``factbot digest send`` waits this long at most between attempts before giving up.
MAX_MANUAL_WAIT = timedelta(seconds=60)


class FactCatalog(Protocol):
    """What the digest needs from the engine."""

    def facts(self) -> tuple[Fact, ...]: ...

    def source(self, fact: Fact) -> Source: ...


@dataclass(frozen=True)
class DigestStatus:
    """What ``/fact digest`` shows for one channel."""

    channel_id: str
    subscription: Subscription | None
    next_post_at: datetime | None
    today: PostRecord | None
    last_sent: PostRecord | None

    @property
    def enabled(self) -> bool:
        return self.subscription is not None and self.subscription.due_enabled


@dataclass(frozen=True)
class DeliveryOutcome:
    """What happened to one post attempt: ``sent``, ``retry`` (later), ``failed`` or ``paused``."""

    channel_id: str
    post_id: int
    status: str
    error: str | None = None
    message_ts: str | None = None
    fact_ids: tuple[str, ...] = ()
    retry_at: datetime | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for failed posts: Slack's Retry-After if given, else doubling from ``base``."""

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(minutes=30)
    max_attempts: int = 8

    def delay(self, attempt: int, failure: DeliveryFailure) -> timedelta:
        if failure.retry_after_seconds is not None:
            return timedelta(seconds=max(1.0, failure.retry_after_seconds))
        return min(self.cap, self.base * 2 ** max(0, attempt - 1))


class DigestService:
    """Digest subscriptions and delivery over one database, one fact catalog and one poster."""

    def __init__(
        self,
        store: DigestStore,
        catalog: FactCatalog,
        poster: DigestPoster | None = None,
        *,
        size: int = 3,
        default_time: time = time(9, 0),
        default_timezone: str = "UTC",
        retry: RetryPolicy = RetryPolicy(),
        lease: timedelta = timedelta(minutes=5),
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.poster = poster
        self.size = size
        self.default_time = default_time
        self.default_timezone = parse_timezone(default_timezone).key
        self.retry = retry
        self.lease = lease

    # -- subscriptions ----------------------------------------------------------------------------

    def subscribe(
        self,
        channel_id: str,
        *,
        now: datetime,
        post_time: time | None = None,
        timezone: str | None = None,
        user_id: str | None = None,
    ) -> DigestStatus:
        """Turn the channel's digest on (default time and zone unless given). Raises DigestError."""
        zone = parse_timezone(timezone).key if timezone else self.default_timezone
        self.store.subscribe(
            channel_id, post_time or self.default_time, zone, origin="command", user_id=user_id, now=now
        )
        logger.info("digest on for %s at %s %s", channel_id, post_time or self.default_time, zone)
        return self.status(channel_id, now=now)

    def unsubscribe(self, channel_id: str, *, now: datetime, user_id: str | None = None) -> bool:
        """Turn the channel's digest off; False if it was not on."""
        changed = self.store.unsubscribe(channel_id, user_id=user_id, now=now)
        if changed:
            logger.info("digest off for %s", channel_id)
        return changed

    def sync_from_environment(
        self, channel_ids: Sequence[str], post_time: str, timezone: str, now: datetime
    ) -> None:
        """Subscribe FACTBOT_DIGEST_CHANNELS at FACTBOT_DIGEST_TIME (ConfigError if malformed)."""
        try:
            parsed_time = parse_post_time(post_time)
        except DigestError as exc:
            raise ConfigError(f"FACTBOT_DIGEST_TIME: {exc}") from None
        try:
            zone = parse_timezone(timezone).key
        except DigestError as exc:
            raise ConfigError(f"FACTBOT_TIMEZONE: {exc}") from None
        self.store.sync_from_environment(channel_ids, parsed_time, zone, now)

    def status(self, channel_id: str, *, now: datetime) -> DigestStatus:
        subscription = self.store.subscription(channel_id)
        today: PostRecord | None = None
        next_post_at: datetime | None = None
        if subscription is not None:
            zone = ZoneInfo(subscription.timezone)
            today = self.store.post_for_day(channel_id, local_date(now, zone))
            if subscription.due_enabled:
                next_post_at = self._next_post_at(subscription, today, now)
        return DigestStatus(channel_id, subscription, next_post_at, today, self.store.last_sent(channel_id))

    @staticmethod
    def _next_post_at(subscription: Subscription, today: PostRecord | None, now: datetime) -> datetime:
        zone = ZoneInfo(subscription.timezone)
        todays_time = scheduled_at(local_date(now, zone), subscription.post_time, zone)
        if (today and today.status in (SENT, FAILED)) or todays_time < subscription.active_since:
            return next_scheduled_at(todays_time, subscription.post_time, zone)
        if now < todays_time:
            return todays_time
        if today and today.status == RETRY and today.next_attempt_at:
            return max(now, today.next_attempt_at)
        return now

    # -- composing ----------------------------------------------------------------------------------

    def compose(self, channel_id: str, day: date) -> tuple[Digest, list[Pick]]:
        """The channel's next digest (read-only: nothing is recorded)."""
        picks = next_facts(self.catalog.facts(), channel_id, self.store.history(channel_id), self.size)
        items = tuple(DigestItem(pick.fact, self.catalog.source(pick.fact), pick.cycle) for pick in picks)
        return Digest(channel_id, day, items), picks

    def preview(self, channel_id: str | None, *, now: datetime) -> Digest:
        """What the channel gets next (a brand-new channel's first digest if ``channel_id`` is None)."""
        if channel_id is None:
            return self.compose("", local_date(now, ZoneInfo(self.default_timezone)))[0]
        status = self.status(channel_id, now=now)
        zone = ZoneInfo(status.subscription.timezone if status.subscription else self.default_timezone)
        day = local_date(status.next_post_at or now, zone)
        return self.compose(channel_id, day)[0]

    # -- delivering ---------------------------------------------------------------------------------

    def run_due(self, now: datetime) -> list[DeliveryOutcome]:
        """Post every digest that is due at ``now`` and not claimed elsewhere; one step of the scheduler."""
        self._require_poster()
        outcomes = []
        for subscription in self.store.enabled_subscriptions():
            try:
                outcome = self._run_subscription(subscription, now)
            except DatabaseError:
                # e.g. locked past its timeout, or unreachable: the next tick tries again.
                logger.exception("digest for %s skipped this round: database error", subscription.channel_id)
                continue
            except ZoneInfoNotFoundError:
                logger.error(
                    "digest for %s skipped: time zone %r is unknown here (is tzdata installed?)",
                    subscription.channel_id,
                    subscription.timezone,
                )
                continue
            except Exception:  # last resort: one channel's trouble must not stop the others or the job
                logger.exception(
                    "digest for %s skipped this round: unexpected error", subscription.channel_id
                )
                continue
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def _run_subscription(self, subscription: Subscription, now: datetime) -> DeliveryOutcome | None:
        zone = ZoneInfo(subscription.timezone)
        day = local_date(now, zone)
        todays_time = scheduled_at(day, subscription.post_time, zone)
        if now < todays_time or todays_time < subscription.active_since:
            return None
        post_id = self.store.claim_day(
            subscription.channel_id, day, token=uuid.uuid4().hex, now=now, lease=self.lease
        )
        if post_id is None:
            return None
        return self._deliver(post_id, subscription.channel_id, day, now)

    def send_now(
        self,
        channel_id: str,
        *,
        now: datetime,
        attempts: int = 3,
        sleep: Callable[[float], None] = time_module.sleep,
    ) -> DeliveryOutcome:
        """Post the channel's next digest immediately (outside the daily schedule) and record it."""
        self._require_poster()
        subscription = self.store.subscription(channel_id)
        zone = ZoneInfo(subscription.timezone if subscription else self.default_timezone)
        post_id = self.store.start_manual(channel_id, token=uuid.uuid4().hex, now=now, lease=self.lease)
        for attempt in range(1, attempts + 1):
            outcome = self._deliver(
                post_id, channel_id, local_date(now, zone), now, final_attempt=attempt == attempts
            )
            if outcome.status != RETRY:
                return outcome
            wait = (outcome.retry_at or now) - now
            if wait > MAX_MANUAL_WAIT:
                self.store.mark_failed(
                    post_id, error=f"{outcome.error} (Slack asked to wait {wait}; try later)"
                )
                return DeliveryOutcome(channel_id, post_id, FAILED, outcome.error)
            sleep(wait.total_seconds())
            now += wait
            self.store.claim_manual_retry(post_id, now=now, lease=self.lease)
        return outcome

    def _require_poster(self) -> DigestPoster:
        """The poster, checked before anything is claimed (a claim without one would only expire)."""
        if self.poster is None:
            raise ConfigError("no Slack client configured for sending digests: set SLACK_BOT_TOKEN")
        return self.poster

    def _deliver(
        self, post_id: int, channel_id: str, day: date, now: datetime, *, final_attempt: bool = False
    ) -> DeliveryOutcome:
        """Compose and post one claimed digest, then record the result (sent only if Slack accepted)."""
        poster = self._require_poster()
        digest, picks = self.compose(channel_id, day)
        if not picks:
            error = "no facts to send (build the fact index with `factbot build`)"
            self.store.mark_failed(post_id, error=error)
            self.store.record_error(channel_id, error, now)
            return DeliveryOutcome(channel_id, post_id, FAILED, error)
        try:
            message_ts = poster.post(
                channel_id,
                to_fallback_text(digest),
                to_blocks(digest),
                key=f"digest-{channel_id}-{post_id}",
                check_first=self.store.attempts(post_id) > 0,
            )
        except DeliveryError as exc:
            return self._record_failure(post_id, channel_id, exc.failure, now, final_attempt=final_attempt)
        except Exception as exc:  # last resort: release the claim as a retry instead of holding it
            logger.exception("digest for %s: posting failed unexpectedly", channel_id)
            failure = DeliveryFailure(f"unexpected error: {type(exc).__name__}", retryable=True)
            return self._record_failure(post_id, channel_id, failure, now, final_attempt=final_attempt)
        self.store.mark_sent(post_id, picks=picks, message_ts=message_ts, now=now)
        logger.info("digest for %s on %s posted (%s)", channel_id, day, ", ".join(digest.fact_ids))
        return DeliveryOutcome(channel_id, post_id, SENT, message_ts=message_ts, fact_ids=digest.fact_ids)

    def _record_failure(
        self, post_id: int, channel_id: str, failure: DeliveryFailure, now: datetime, *, final_attempt: bool
    ) -> DeliveryOutcome:
        attempt = self.store.attempts(post_id) + 1
        if failure.retryable and attempt < self.retry.max_attempts and not final_attempt:
            retry_at = now + self.retry.delay(attempt, failure)
            self.store.mark_retry(post_id, error=failure.error, retry_at=retry_at)
            self.store.record_error(channel_id, failure.error, now)
            logger.warning(
                "digest for %s not accepted (%s, attempt %d); retrying at %s",
                channel_id,
                failure.error,
                attempt,
                retry_at.astimezone(UTC).isoformat(timespec="seconds"),
            )
            return DeliveryOutcome(channel_id, post_id, RETRY, failure.error, retry_at=retry_at)
        self.store.mark_failed(post_id, error=failure.error)
        self.store.record_error(channel_id, failure.error, now, pause=failure.channel_problem)
        if failure.channel_problem:
            logger.warning("digest for %s paused: %s", channel_id, failure.error)
            return DeliveryOutcome(channel_id, post_id, "paused", failure.error)
        logger.error("digest for %s given up after %d attempt(s): %s", channel_id, attempt, failure.error)
        return DeliveryOutcome(channel_id, post_id, FAILED, failure.error)
