"""The storage backends as a parametrized fixture: each test using it runs on SQLite and on PostgreSQL.

``open_db()`` opens another handle on the test's one database, the way another process would:
an SQLite file in the test's temporary directory, or a new database on the session's PostgreSQL
server (``tests.support.postgres``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.storage import Database, SQLiteDatabase

OpenDb = Callable[[], Database]
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    """``FACTBOT_DATABASE_URL`` for the backend: a new PostgreSQL database, or "" (SQLite)."""
    if backend == "sqlite":
        return ""
    server = request.getfixturevalue("postgres_server")
    return str(server.new_database())


@pytest.fixture
def open_db(database_url: str, tmp_path: Path) -> Iterator[OpenDb]:
    """Opens a new handle on the test's database (closed after the test)."""
    handles: list[Database] = []

    def open_handle() -> Database:
        if database_url:
            from bot.storage.postgres import PostgresDatabase

            handle: Database = PostgresDatabase(database_url)
        else:
            handle = SQLiteDatabase(tmp_path / "factbot.db")
        handles.append(handle)
        return handle

    yield open_handle
    for handle in handles:
        handle.close()
