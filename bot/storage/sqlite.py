"""The embedded backend: one SQLite file (``FACTBOT_DB``), the default."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from bot.errors import StorageError
from bot.storage.base import (
    MIGRATIONS,
    Database,
    DatabaseError,
    Result,
    Row,
    Transaction,
    migration_statements,
)

logger = logging.getLogger(__name__)


def _apply_sqlite_migrations(conn: sqlite3.Connection, path: Path) -> None:
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
            for statement in migration_statements(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
            logger.info("database %s migrated to schema version %d", path, number)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class _SQLiteTransaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[object] = ()) -> Result:
        try:
            cursor = self._conn.execute(sql, tuple(params))
            return Result(cursor.fetchall(), cursor.rowcount)
        except sqlite3.Error as error:
            raise DatabaseError(f"SQLite: {error}") from error

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        try:
            self._conn.executemany(sql, [tuple(row) for row in rows])
        except sqlite3.Error as error:
            raise DatabaseError(f"SQLite: {error}") from error


class SQLiteDatabase(Database):
    """The SQLite file at ``FACTBOT_DB``: one connection, shared by the process's threads.

    Several processes may share the file (``BEGIN IMMEDIATE`` makes writers take turns), on one
    machine only.
    """

    def __init__(self, path: Path | str) -> None:
        """Open the database at ``path``, creating it only when no file is there.

        Raises StorageError, in one line naming FACTBOT_DB and the fix, when an existing file is
        empty or damaged: FactBot never starts over on a database that held votes and subscriptions.
        """
        super().__init__()
        self.path = Path(path)
        self.description = f"database {self.path} (FACTBOT_DB)"
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
                with self._lock:
                    _apply_sqlite_migrations(self._conn, self.path)
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
                # Born in WAL mode: the processes that open it next find nothing to switch (switching
                # needs an exclusive lock, and a busy one fails at once: "database is locked").
                conn.execute("PRAGMA journal_mode=WAL")
                _apply_sqlite_migrations(conn, self.path)
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

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """An immediate (write-locking) transaction: commit on success, roll back on error."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise DatabaseError(f"SQLite: {error}") from error
            try:
                yield _SQLiteTransaction(self._conn)
            except BaseException:
                try:
                    self._conn.execute("ROLLBACK")
                except sqlite3.Error:
                    logger.warning("could not roll back a transaction on %s", self.path)
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as error:
                raise DatabaseError(f"SQLite: {error}") from error

    def execute(self, sql: str, params: Sequence[object] = ()) -> Result:
        with self._lock:
            return _SQLiteTransaction(self._conn).execute(sql, params)

    def query(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        return self.execute(sql, params).rows

    @property
    def schema_version(self) -> int:
        return int(self.query("PRAGMA user_version")[0][0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()
