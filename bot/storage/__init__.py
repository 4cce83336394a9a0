"""FactBot's state behind one interface, :class:`Database`, with two backends: an SQLite file
(:mod:`bot.storage.sqlite`, the default) and PostgreSQL (:mod:`bot.storage.postgres`), which several
replicas share. :func:`open_database` picks one from the settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.storage.base import (
    MIGRATIONS,
    SIGHTING_RETENTION,
    Database,
    DatabaseError,
    Feedback,
    Result,
    Row,
    Transaction,
    migration_statements,
)
from bot.storage.sqlite import SQLiteDatabase

if TYPE_CHECKING:
    from bot.settings import Settings

__all__ = [
    "MIGRATIONS",
    "SIGHTING_RETENTION",
    "Database",
    "DatabaseError",
    "Feedback",
    "Result",
    "Row",
    "SQLiteDatabase",
    "Transaction",
    "migration_statements",
    "open_database",
]


def open_database(settings: Settings) -> Database:
    """PostgreSQL at ``FACTBOT_DATABASE_URL`` when it is set, else the SQLite file at ``FACTBOT_DB``.

    StorageError, in one line naming the setting and the fix, when it cannot be opened.
    """
    if settings.database_url:
        from bot.storage.postgres import PostgresDatabase  # psycopg is loaded only when it is used

        return PostgresDatabase(settings.database_url)
    return SQLiteDatabase(settings.db_path)
