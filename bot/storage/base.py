"""FactBot's state: feedback, digest subscriptions and posts, and the Slack deliveries taken on.

One interface, :class:`Database`, and two backends: an SQLite file (:class:`SQLiteDatabase`,
``FACTBOT_DB``, the embedded default) and PostgreSQL (``bot.storage.postgres.PostgresDatabase``,
``FACTBOT_DATABASE_URL``), which several processes on several machines can share. Queries are
written once, in the SQL both understand, with ``?`` placeholders; a backend translates what differs.

The schema is created on first use and migrated forward by the same ``MIGRATIONS`` on both:
append-only, with a version record (SQLite: ``PRAGMA user_version``; PostgreSQL: the
``factbot_schema`` table) of how many have been applied.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)

# Append only: never edit a migration that has shipped.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        question TEXT NOT NULL,
        fact_id TEXT,
        user_id TEXT NOT NULL,
        vote TEXT NOT NULL CHECK (vote IN ('up', 'down')),
        channel_id TEXT,
        created_at TEXT NOT NULL
    );
    """,
    # 2: daily digest subscriptions, posts (one scheduled post per channel and local date) and the
    # facts each post carried. Timestamps are UTC ISO 8601 strings.
    """
    CREATE TABLE digest_subscription (
        channel_id TEXT PRIMARY KEY,
        active INTEGER NOT NULL DEFAULT 1,
        post_time TEXT NOT NULL,
        timezone TEXT NOT NULL,
        origin TEXT NOT NULL CHECK (origin IN ('command', 'env')),
        updated_by TEXT,
        active_since TEXT NOT NULL,
        paused_reason TEXT,
        last_error TEXT,
        last_error_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE digest_post (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        channel_id TEXT NOT NULL,
        digest_date TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('scheduled', 'manual')),
        status TEXT NOT NULL CHECK (status IN ('claimed', 'retry', 'sent', 'failed')),
        claim_token TEXT,
        lease_until TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,
        last_error TEXT,
        message_ts TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        UNIQUE (channel_id, digest_date)
    );
    CREATE INDEX digest_post_by_channel ON digest_post (channel_id, status);
    CREATE TABLE digest_post_fact (
        post_id INTEGER NOT NULL REFERENCES digest_post (id),
        position INTEGER NOT NULL,
        fact_id TEXT NOT NULL,
        cycle INTEGER NOT NULL,
        PRIMARY KEY (post_id, position)
    );
    """,
    # 3: Slack deliveries already taken on (Events API event ids, button clicks), so a redelivery or
    # a replay is handled once by whichever process sees it first. Rows older than a day are pruned.
    """
    CREATE TABLE slack_delivery (
        kind TEXT NOT NULL,
        delivery_key TEXT NOT NULL,
        seen_at TEXT NOT NULL,
        PRIMARY KEY (kind, delivery_key)
    );
    CREATE INDEX slack_delivery_by_age ON slack_delivery (seen_at);
    """,
)


def migration_statements(script: str) -> list[str]:
    """The statements of one migration script (none of them contains a ``;`` of its own)."""
    return [statement.strip() for statement in script.split(";") if statement.strip()]


class DatabaseError(Exception):
    """A query failed: the database is unreachable, locked past its timeout, or refused the statement."""


class Row(Protocol):
    """A result row, read by column position or name."""

    def __getitem__(self, key: int | str) -> Any: ...


@dataclass(frozen=True)
class Result:
    """What one statement returned: its rows (all fetched) and how many rows it changed."""

    rows: list[Row]
    rowcount: int

    def fetchone(self) -> Row | None:
        return self.rows[0] if self.rows else None

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)


class Transaction(Protocol):
    """The statements of one transaction."""

    def execute(self, sql: str, params: Sequence[object] = ()) -> Result: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None: ...


SIGHTING_RETENTION = timedelta(days=1)
"""How long a delivery stays recorded: Slack retries an event within minutes, and refuses a
signed request more than 5 minutes old."""
PRUNE_EVERY = timedelta(minutes=10)


@dataclass(frozen=True)
class Feedback:
    """One 👍 / 👎 on an answer."""

    question: str
    fact_id: str | None
    user_id: str
    vote: str
    channel_id: str | None
    created_at: datetime


class Database(ABC):
    """A thread-safe handle on FactBot's database. Open one per process and share it.

    ``transaction()`` is a write transaction that one process at a time holds (so a read followed by
    a write inside it sees no other writer in between); ``execute`` runs one statement on its own,
    atomically, without waiting for that. Every failure of a query raises :class:`DatabaseError`.
    """

    description: str
    """Where the database is, for messages (never with a password)."""

    def __init__(self) -> None:
        self._prune_lock = threading.Lock()
        self._next_prune = datetime.min.replace(tzinfo=UTC)

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Transaction]:
        """A write transaction: commit on success, roll back on error."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[object] = ()) -> Result:
        """Run one statement in a transaction of its own."""

    @abstractmethod
    def query(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Run a read-only query and return all rows."""

    @property
    @abstractmethod
    def schema_version(self) -> int:
        """How many of ``MIGRATIONS`` the database has applied."""

    @abstractmethod
    def close(self) -> None: ...

    def ping(self) -> None:
        """DatabaseError unless the database answers a query now."""
        self.query("SELECT 1")

    # -- feedback -------------------------------------------------------------------------------

    def record_feedback(
        self,
        *,
        question: str,
        fact_id: str | None,
        user_id: str,
        vote: str,
        channel_id: str | None = None,
        at: datetime | None = None,
    ) -> Feedback:
        """Store one vote (``'up'`` or ``'down'``) on an answer."""
        if vote not in ("up", "down"):
            raise ValueError(f"vote must be 'up' or 'down', not {vote!r}")
        created = at or datetime.now(UTC)
        self.execute(
            "INSERT INTO feedback (question, fact_id, user_id, vote, channel_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (question, fact_id, user_id, vote, channel_id, created.isoformat()),
        )
        return Feedback(question, fact_id, user_id, vote, channel_id, created)

    def feedback(self) -> list[Feedback]:
        """All recorded votes, oldest first."""
        rows = self.query(
            "SELECT question, fact_id, user_id, vote, channel_id, created_at FROM feedback ORDER BY id"
        )
        return [Feedback(r[0], r[1], r[2], r[3], r[4], datetime.fromisoformat(r[5])) for r in rows]

    # -- Slack deliveries -----------------------------------------------------------------------

    def first_sighting(self, kind: str, key: str, *, now: datetime | None = None) -> bool:
        """Record delivery ``key`` of ``kind`` (``'event'``, ``'action'``) atomically.

        True only for the first caller to record it, in any process sharing the database; a
        record is kept for ``SIGHTING_RETENTION``.
        """
        now = now or datetime.now(UTC)
        self._prune_sightings(now)
        result = self.execute(
            "INSERT INTO slack_delivery (kind, delivery_key, seen_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (kind, key, now.isoformat()),
        )
        return result.rowcount == 1

    def _prune_sightings(self, now: datetime) -> None:
        """Forget deliveries older than ``SIGHTING_RETENTION``, at most once per ``PRUNE_EVERY`` here."""
        with self._prune_lock:
            if now < self._next_prune:
                return
            self._next_prune = now + PRUNE_EVERY
        result = self.execute(
            "DELETE FROM slack_delivery WHERE seen_at < ?", ((now - SIGHTING_RETENTION).isoformat(),)
        )
        if result.rowcount:
            logger.debug("forgot %d Slack deliveries older than %s", result.rowcount, SIGHTING_RETENTION)
