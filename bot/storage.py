"""FactBot's state in one SQLite file: feedback now, digest subscriptions and sends later.

The schema is created on first use and migrated forward: ``MIGRATIONS`` is append-only, and
``PRAGMA user_version`` records how many have been applied.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.errors import StorageError

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
)


def _apply_migrations(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the schema of ``conn`` (an autocommit connection) up to date in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StorageError(
                f"database {path} has schema version {version}, newer than this FactBot "
                f"({len(MIGRATIONS)}); upgrade FactBot or point FACTBOT_DB at another file"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            for statement in filter(str.strip, script.split(";")):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
            logger.info("database %s migrated to schema version %d", path, number)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@dataclass(frozen=True)
class Feedback:
    """One 👍 / 👎 on an answer."""

    question: str
    fact_id: str | None
    user_id: str
    vote: str
    channel_id: str | None
    created_at: datetime


class Database:
    """A thread-safe handle on the SQLite file. Open it once per process and share it."""

    def __init__(self, path: Path | str) -> None:
        """Open the database at ``path``, creating it only when no file is there.

        Raises StorageError, in one line naming FACTBOT_DB and the fix, when an existing file is
        empty or damaged: FactBot never starts over on a database that held votes and subscriptions.
        """
        self.path = Path(path)
        self._lock = threading.RLock()
        in_memory = str(self.path) == ":memory:"
        try:
            if not in_memory:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                if not self.path.exists():
                    self._create()
                elif self.path.stat().st_size == 0:
                    raise StorageError(
                        f"database {self.path} (FACTBOT_DB) is an empty file: its votes and digest "
                        "subscriptions are gone; restore it from a backup, or delete it to start a new one"
                    )
            self._conn = sqlite3.connect(
                str(self.path), check_same_thread=False, isolation_level=None, timeout=30
            )
            try:
                self._conn.row_factory = sqlite3.Row
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA busy_timeout=30000")
                if not in_memory:
                    self._check_integrity()
                self._migrate()
            except BaseException:
                self._conn.close()
                raise
        except sqlite3.OperationalError as exc:
            raise StorageError(f"cannot open database {self.path}: {exc} (check FACTBOT_DB)") from None
        except sqlite3.DatabaseError as exc:  # not a database, or a corrupt one
            raise self._damaged(str(exc)) from None
        except OSError as exc:
            detail = exc.strerror or exc
            raise StorageError(f"cannot open database {self.path}: {detail} (check FACTBOT_DB)") from None

    def _damaged(self, detail: str) -> StorageError:
        detail = " ".join(detail.replace("*** in database main ***", "").split())  # one line
        return StorageError(
            f"database {self.path} (FACTBOT_DB) is damaged ({detail}); restore it from a backup, "
            "or move it aside to start a new one"
        )

    def _check_integrity(self) -> None:
        """StorageError when SQLite finds the file damaged (a quick check reads every page once)."""
        rows = self._conn.execute("PRAGMA quick_check(1)").fetchall()
        if not rows or rows[0][0] != "ok":
            raise self._damaged(rows[0][0] if rows else "the integrity check returned nothing")

    def _create(self) -> None:
        """Make a new database with the full schema, then put it at ``path`` in one step.

        Nothing is ever at ``path`` half made, so an empty file there always means a lost database;
        of several processes starting at once, one database wins and the others open it.
        """
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.{uuid.uuid4().hex}.new")
        try:
            conn = sqlite3.connect(str(temporary), isolation_level=None)
            try:
                _apply_migrations(conn, self.path)
            finally:
                conn.close()
            try:
                os.link(temporary, self.path)
            except FileExistsError:
                logger.info("database %s was created by another process; using it", self.path)
            except OSError:  # no hard links on this file system
                if not self.path.exists():
                    os.replace(temporary, self.path)
            else:
                logger.info("created database %s", self.path)
        finally:
            temporary.unlink(missing_ok=True)

    def _migrate(self) -> None:
        with self._lock:
            _apply_migrations(self._conn, self.path)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locking) transaction: commit on success, roll back on error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        """Run a read-only query and return all rows."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    @property
    def schema_version(self) -> int:
        return int(self.query("PRAGMA user_version")[0][0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

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
        with self.transaction() as conn:
            conn.execute(
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
