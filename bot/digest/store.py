"""Digest state in the shared database: subscriptions, claimed/sent posts, sent facts.

Concurrency: a scheduled post is *claimed* by inserting (or taking over) the row for
(channel, local date) inside a write transaction (which one process at a time holds, on SQLite
and on PostgreSQL alike), and the row is unique per channel and day, so of several processes
sharing one database exactly one posts. A claim carries a lease; a claim whose process died is taken
over once the lease runs out. A post counts as sent (and its facts as seen) only once Slack
accepted it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.digest.rotation import Pick, SentFact
from bot.digest.timing import format_post_time, parse_post_time
from bot.storage import Database, Row

logger = logging.getLogger(__name__)

CLAIMED, RETRY, SENT, FAILED = "claimed", "retry", "sent", "failed"


def _ts(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("digest timestamps must be time-zone aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class Subscription:
    """A channel's digest settings and health."""

    channel_id: str
    active: bool
    post_time: time
    timezone: str
    origin: str
    active_since: datetime
    paused_reason: str | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None

    @property
    def due_enabled(self) -> bool:
        """True when the scheduler should post to this channel."""
        return self.active and not self.paused_reason

    @classmethod
    def from_row(cls, row: Row) -> Subscription:
        return cls(
            channel_id=row["channel_id"],
            active=bool(row["active"]),
            post_time=parse_post_time(row["post_time"]),
            timezone=row["timezone"],
            origin=row["origin"],
            active_since=datetime.fromisoformat(row["active_since"]),
            paused_reason=row["paused_reason"],
            last_error=row["last_error"],
            last_error_at=_dt(row["last_error_at"]),
        )


@dataclass(frozen=True)
class PostRecord:
    """One digest post attempt record (a scheduled day's post, or a manual send)."""

    id: int
    channel_id: str
    digest_date: date | None
    kind: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    lease_until: datetime | None
    last_error: str | None
    message_ts: str | None
    sent_at: datetime | None

    @classmethod
    def from_row(cls, row: Row) -> PostRecord:
        return cls(
            id=row["id"],
            channel_id=row["channel_id"],
            digest_date=date.fromisoformat(row["digest_date"]) if row["digest_date"] else None,
            kind=row["kind"],
            status=row["status"],
            attempts=row["attempts"],
            next_attempt_at=_dt(row["next_attempt_at"]),
            lease_until=_dt(row["lease_until"]),
            last_error=row["last_error"],
            message_ts=row["message_ts"],
            sent_at=_dt(row["sent_at"]),
        )


class DigestStore:
    """Digest queries over a :class:`bot.storage.Database` (which owns the schema)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- subscriptions ----------------------------------------------------------------------------

    def subscription(self, channel_id: str) -> Subscription | None:
        rows = self.db.query("SELECT * FROM digest_subscription WHERE channel_id = ?", (channel_id,))
        return Subscription.from_row(rows[0]) if rows else None

    def enabled_subscriptions(self) -> list[Subscription]:
        """Active, unpaused subscriptions, by channel id."""
        rows = self.db.query(
            "SELECT * FROM digest_subscription WHERE active = 1 AND paused_reason IS NULL ORDER BY channel_id"
        )
        return [Subscription.from_row(row) for row in rows]

    def subscribe(
        self,
        channel_id: str,
        post_time: time,
        timezone: str,
        *,
        origin: str,
        user_id: str | None,
        now: datetime,
    ) -> Subscription:
        """Turn a channel's digest on (or change its time); clears a pause and the last error."""
        with self.db.transaction() as conn:
            existing = conn.execute(
                "SELECT * FROM digest_subscription WHERE channel_id = ?", (channel_id,)
            ).fetchone()
            if existing is None:
                conn.execute(
                    "INSERT INTO digest_subscription (channel_id, active, post_time, timezone, origin, "
                    "updated_by, active_since, created_at, updated_at) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        channel_id,
                        format_post_time(post_time),
                        timezone,
                        origin,
                        user_id,
                        _ts(now),
                        _ts(now),
                        _ts(now),
                    ),
                )
            else:
                unchanged = (
                    existing["active"]
                    and existing["post_time"] == format_post_time(post_time)
                    and existing["timezone"] == timezone
                )
                conn.execute(
                    "UPDATE digest_subscription SET active = 1, post_time = ?, timezone = ?, origin = ?, "
                    "updated_by = ?, active_since = ?, paused_reason = NULL, last_error = NULL, "
                    "last_error_at = NULL, updated_at = ? WHERE channel_id = ?",
                    (
                        format_post_time(post_time),
                        timezone,
                        origin,
                        user_id,
                        existing["active_since"] if unchanged else _ts(now),
                        _ts(now),
                        channel_id,
                    ),
                )
        subscription = self.subscription(channel_id)
        assert subscription is not None
        return subscription

    def unsubscribe(self, channel_id: str, *, user_id: str | None, now: datetime) -> bool:
        """Turn a channel's digest off. True if it was on. Recorded as a command choice, so an
        environment sync at the next start does not turn it back on."""
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE digest_subscription SET active = 0, origin = 'command', updated_by = ?, "
                "updated_at = ? WHERE channel_id = ? AND active = 1",
                (user_id, _ts(now), channel_id),
            )
            return cursor.rowcount > 0

    def sync_from_environment(
        self, channel_ids: Iterable[str], post_time: time, timezone: str, now: datetime
    ) -> None:
        """Subscribe FACTBOT_DIGEST_CHANNELS; end env subscriptions no longer listed.

        Channels whose digest was set (or turned off) with ``/fact digest`` keep that choice.
        """
        wanted = list(dict.fromkeys(channel_ids))
        with self.db.transaction() as conn:
            rows = {row["channel_id"]: row for row in conn.execute("SELECT * FROM digest_subscription")}
            for channel_id in wanted:
                row = rows.get(channel_id)
                if row is None:
                    conn.execute(
                        "INSERT INTO digest_subscription (channel_id, active, post_time, timezone, origin, "
                        "active_since, created_at, updated_at) VALUES (?, 1, ?, ?, 'env', ?, ?, ?)",
                        (channel_id, format_post_time(post_time), timezone, _ts(now), _ts(now), _ts(now)),
                    )
                elif row["origin"] == "env" and (
                    row["post_time"] != format_post_time(post_time)
                    or row["timezone"] != timezone
                    or not row["active"]
                ):
                    conn.execute(
                        "UPDATE digest_subscription SET active = 1, post_time = ?, timezone = ?, "
                        "active_since = ?, updated_at = ? WHERE channel_id = ?",
                        (format_post_time(post_time), timezone, _ts(now), _ts(now), channel_id),
                    )
            for channel_id, row in rows.items():
                if row["origin"] == "env" and row["active"] and channel_id not in wanted:
                    conn.execute(
                        "UPDATE digest_subscription SET active = 0, updated_at = ? WHERE channel_id = ?",
                        (_ts(now), channel_id),
                    )
                    logger.info("digest for %s ended: no longer in FACTBOT_DIGEST_CHANNELS", channel_id)

    def record_error(self, channel_id: str, error: str, now: datetime, *, pause: bool = False) -> None:
        """Remember a channel's latest delivery error; ``pause`` stops its digest until turned on again."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE digest_subscription SET last_error = ?, last_error_at = ?, "
                "paused_reason = CASE WHEN ? THEN ? ELSE paused_reason END WHERE channel_id = ?",
                (error, _ts(now), pause, error, channel_id),
            )

    # -- posts ----------------------------------------------------------------------------------

    def history(self, channel_id: str) -> list[SentFact]:
        """Every fact sent to the channel (by posts Slack accepted), oldest first."""
        rows = self.db.query(
            "SELECT f.fact_id, f.cycle FROM digest_post_fact f JOIN digest_post p ON p.id = f.post_id "
            "WHERE p.channel_id = ? AND p.status = 'sent' ORDER BY p.sent_at, p.id, f.position",
            (channel_id,),
        )
        return [SentFact(row["fact_id"], row["cycle"]) for row in rows]

    def post_for_day(self, channel_id: str, day: date) -> PostRecord | None:
        rows = self.db.query(
            "SELECT * FROM digest_post WHERE channel_id = ? AND digest_date = ?",
            (channel_id, day.isoformat()),
        )
        return PostRecord.from_row(rows[0]) if rows else None

    def posts(self, channel_id: str) -> list[PostRecord]:
        rows = self.db.query("SELECT * FROM digest_post WHERE channel_id = ? ORDER BY id", (channel_id,))
        return [PostRecord.from_row(row) for row in rows]

    def last_sent(self, channel_id: str) -> PostRecord | None:
        rows = self.db.query(
            "SELECT * FROM digest_post WHERE channel_id = ? AND status = 'sent' "
            "ORDER BY sent_at DESC, id DESC LIMIT 1",
            (channel_id,),
        )
        return PostRecord.from_row(rows[0]) if rows else None

    def claim_day(
        self, channel_id: str, day: date, *, token: str, now: datetime, lease: timedelta
    ) -> int | None:
        """Claim the scheduled post of ``day`` for this process; its row id, or None if not ours to send.

        Not ours: already sent, failed for good, being posted under another live claim, or waiting
        for its retry time.
        """
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM digest_post WHERE channel_id = ? AND digest_date = ?",
                (channel_id, day.isoformat()),
            ).fetchone()
            if row is None:
                inserted = conn.execute(
                    "INSERT INTO digest_post (channel_id, digest_date, kind, status, claim_token, "
                    "lease_until, created_at) VALUES (?, ?, 'scheduled', 'claimed', ?, ?, ?) "
                    "ON CONFLICT (channel_id, digest_date) DO NOTHING RETURNING id",
                    (channel_id, day.isoformat(), token, _ts(now + lease), _ts(now)),
                ).fetchone()
                return int(inserted[0]) if inserted else None  # None: claimed elsewhere just now
            status = row["status"]
            if status in (SENT, FAILED):
                return None
            if status == CLAIMED and datetime.fromisoformat(row["lease_until"]) > now:
                return None
            if (
                status == RETRY
                and row["next_attempt_at"]
                and datetime.fromisoformat(row["next_attempt_at"]) > now
            ):
                return None
            abandoned = status == CLAIMED
            conn.execute(
                "UPDATE digest_post SET status = 'claimed', claim_token = ?, lease_until = ?, "
                "attempts = attempts + ?, last_error = CASE WHEN ? THEN ? ELSE last_error END WHERE id = ?",
                (
                    token,
                    _ts(now + lease),
                    int(abandoned),
                    abandoned,
                    "claim expired before the post finished",
                    row["id"],
                ),
            )
            if abandoned:
                logger.warning("digest for %s on %s: taking over an expired claim", channel_id, day)
            return int(row["id"])

    def start_manual(self, channel_id: str, *, token: str, now: datetime, lease: timedelta) -> int:
        """A claimed row for an on-demand post (``factbot digest send``)."""
        with self.db.transaction() as conn:
            row = conn.execute(
                "INSERT INTO digest_post (channel_id, digest_date, kind, status, claim_token, lease_until, "
                "created_at) VALUES (?, NULL, 'manual', 'claimed', ?, ?, ?) RETURNING id",
                (channel_id, token, _ts(now + lease), _ts(now)),
            ).fetchone()
            assert row is not None
            return int(row[0])

    def mark_sent(
        self, post_id: int, *, picks: Iterable[Pick], message_ts: str | None, now: datetime
    ) -> bool:
        """Record that Slack accepted the post, and which facts it carried. False if already sent."""
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT channel_id, status FROM digest_post WHERE id = ?", (post_id,)
            ).fetchone()
            if row is None or row["status"] == SENT:
                logger.warning("digest post %s was already recorded as sent", post_id)
                return False
            conn.execute(
                "UPDATE digest_post SET status = 'sent', attempts = attempts + 1, message_ts = ?, "
                "sent_at = ?, lease_until = NULL, next_attempt_at = NULL WHERE id = ?",
                (message_ts, _ts(now), post_id),
            )
            conn.executemany(
                "INSERT INTO digest_post_fact (post_id, position, fact_id, cycle) VALUES (?, ?, ?, ?)",
                [(post_id, position, pick.fact.id, pick.cycle) for position, pick in enumerate(picks)],
            )
            conn.execute(
                "UPDATE digest_subscription SET last_error = NULL, last_error_at = NULL, "
                "paused_reason = NULL WHERE channel_id = ?",
                (row["channel_id"],),
            )
            return True

    def mark_retry(self, post_id: int, *, error: str, retry_at: datetime) -> None:
        """Release the claim after a failed attempt; the post is tried again from ``retry_at``."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE digest_post SET status = 'retry', attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = ?, lease_until = NULL WHERE id = ? AND status = 'claimed'",
                (error, _ts(retry_at), post_id),
            )

    def mark_failed(self, post_id: int, *, error: str) -> None:
        """Give the post up for good (it is not tried again)."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE digest_post SET status = 'failed', attempts = attempts + 1, last_error = ?, "
                "lease_until = NULL, next_attempt_at = NULL WHERE id = ? AND status IN ('claimed', 'retry')",
                (error, post_id),
            )

    def attempts(self, post_id: int) -> int:
        return int(self.db.query("SELECT attempts FROM digest_post WHERE id = ?", (post_id,))[0][0])

    def claim_manual_retry(self, post_id: int, *, now: datetime, lease: timedelta) -> None:
        """Take a manual post waiting in ``retry`` back for another attempt."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE digest_post SET status = 'claimed', lease_until = ?, next_attempt_at = NULL "
                "WHERE id = ? AND status = 'retry'",
                (_ts(now + lease), post_id),
            )
