"""The storage layer on both backends: a real SQLite file and a real PostgreSQL server.

Each test taking ``open_db`` runs once per backend (``tests.support.databases``); every handle it
opens is a separate connection, as another process would have. The PostgreSQL-only tests at the
end cover what SQLite has no counterpart for: an unreachable server, a dropped connection.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.digest.store import DigestStore
from bot.errors import ConfigError, StorageError
from bot.settings import Settings
from bot.storage import MIGRATIONS, SIGHTING_RETENTION, DatabaseError, open_database
from tests.support.databases import OpenDb
from tests.support.factbot_cli import clean_env, factbot_command
from tests.support.postgres import PostgresServer

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _race(workers: int, task: Callable[[int], object]) -> list[object]:
    """Run ``task(n)`` for n in range(workers), all released at the same moment."""
    start = threading.Barrier(workers)

    def run(n: int) -> object:
        start.wait()
        return task(n)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(workers)))


# -- both backends --------------------------------------------------------------------------------


def test_a_new_database_is_migrated_once_and_keeps_its_rows(open_db: OpenDb) -> None:
    first = open_db()
    assert first.schema_version == len(MIGRATIONS)
    first.record_feedback(question="q?", fact_id="f1", user_id="U1", vote="up", channel_id="C1", at=NOW)
    first.close()
    again = open_db()
    assert again.schema_version == len(MIGRATIONS)
    [vote] = again.feedback()
    assert (vote.question, vote.fact_id, vote.user_id, vote.vote, vote.channel_id) == (
        "q?",
        "f1",
        "U1",
        "up",
        "C1",
    )
    assert vote.created_at == NOW


def test_processes_opening_a_new_database_at_once_migrate_it_once(open_db: OpenDb) -> None:
    handles = _race(4, lambda _: open_db())
    assert {handle.schema_version for handle in handles} == {len(MIGRATIONS)}  # type: ignore[attr-defined]


def test_a_failed_transaction_leaves_nothing_behind(open_db: OpenDb) -> None:
    db = open_db()
    with pytest.raises(RuntimeError), db.transaction() as tx:
        tx.execute(
            "INSERT INTO feedback (question, user_id, vote, created_at) VALUES (?, ?, ?, ?)",
            ("q", "U1", "up", NOW.isoformat()),
        )
        raise RuntimeError("something after the insert failed")
    assert db.feedback() == []


def test_query_errors_are_database_errors_and_the_handle_keeps_working(open_db: OpenDb) -> None:
    db = open_db()
    with pytest.raises(DatabaseError):
        db.query("SELECT no_such_column FROM feedback")
    with pytest.raises(DatabaseError), db.transaction() as tx:
        tx.execute("INSERT INTO feedback (question) VALUES (?)", ("only a question",))  # NOT NULLs
    db.record_feedback(question="q", fact_id=None, user_id="U1", vote="down")
    assert [f.vote for f in db.feedback()] == ["down"]


def test_placeholders_and_a_literal_percent_sign(open_db: OpenDb) -> None:
    db = open_db()
    db.record_feedback(question="is 5% a lot?", fact_id=None, user_id="U1", vote="up")
    db.record_feedback(question="is five a lot?", fact_id=None, user_id="U1", vote="up")
    rows = db.query(
        "SELECT question FROM feedback WHERE question LIKE '%\\%%' ESCAPE '\\' AND user_id = ?", ("U1",)
    )
    assert [row["question"] for row in rows] == ["is 5% a lot?"]
    assert db.query("SELECT COUNT(*) FROM feedback WHERE question LIKE '%a lot%'")[0][0] == 2


def test_each_delivery_is_seen_first_by_exactly_one_of_many_racers(open_db: OpenDb) -> None:
    handles = [open_db(), open_db()]
    keys = [f"Ev{n:04d}" for n in range(20)]

    def sight(n: int) -> list[bool]:
        return [handles[n % 2].first_sighting("event", key, now=NOW) for key in keys]

    results = _race(8, sight)
    firsts = [sum(result[i] for result in results) for i in range(len(keys))]  # type: ignore[index]
    assert firsts == [1] * len(keys)
    # Kinds are separate records: a click may share an id with an event.
    assert handles[0].first_sighting("action", keys[0], now=NOW)


def test_deliveries_are_forgotten_after_the_retention(open_db: OpenDb) -> None:
    db = open_db()
    assert db.first_sighting("event", "Ev1", now=NOW)
    assert not db.first_sighting("event", "Ev1", now=NOW + SIGHTING_RETENTION / 2)
    later = open_db()  # a process that prunes when it first records something
    assert later.first_sighting("event", "Ev2", now=NOW + SIGHTING_RETENTION + timedelta(minutes=1))
    assert later.first_sighting("event", "Ev1", now=NOW + SIGHTING_RETENTION + timedelta(minutes=2))
    assert db.query("SELECT COUNT(*) FROM slack_delivery")[0][0] == 2


def test_one_claim_per_channel_and_day_among_racing_processes(open_db: OpenDb) -> None:
    stores = [DigestStore(open_db()) for _ in range(3)]
    lease = timedelta(minutes=5)

    def claim(n: int) -> list[int | None]:
        store = stores[n % len(stores)]
        return [
            store.claim_day(channel, date(2026, 3, day), token=f"t{n}", now=NOW, lease=lease)
            for day in (1, 2, 3)
            for channel in ("C1", "C2")
        ]

    results = _race(6, claim)
    for slot in range(6):
        winners = [result[slot] for result in results if result[slot] is not None]  # type: ignore[index]
        assert len(winners) == 1, (slot, results)
    assert len(stores[0].posts("C1")) == 3


def test_a_claim_can_be_taken_over_only_after_its_lease(open_db: OpenDb) -> None:
    first, second = DigestStore(open_db()), DigestStore(open_db())
    lease = timedelta(minutes=5)
    day = date(2026, 3, 2)
    post_id = first.claim_day("C1", day, token="a", now=NOW, lease=lease)
    assert post_id is not None
    assert second.claim_day("C1", day, token="b", now=NOW + lease / 2, lease=lease) is None
    assert second.claim_day("C1", day, token="b", now=NOW + lease * 2, lease=lease) == post_id
    assert second.attempts(post_id) == 1  # the abandoned claim counts as an attempt


# -- settings -------------------------------------------------------------------------------------


def test_database_url_setting_is_checked_and_never_shown() -> None:
    url = "postgresql://factbot:s3cret@db.internal:5432/factbot"
    settings = Settings.from_env({"FACTBOT_DATABASE_URL": f" {url} "}, dotenv_path=None)
    assert settings.database_url == url
    assert "s3cret" not in repr(settings)
    assert Settings.from_env({}, dotenv_path=None).database_url == ""
    with pytest.raises(ConfigError, match="FACTBOT_DATABASE_URL must be a postgresql:// URL"):
        Settings.from_env({"FACTBOT_DATABASE_URL": "mysql://u:p@h/db"}, dotenv_path=None)


# -- PostgreSQL only ------------------------------------------------------------------------------


def _unreachable_url(postgres_server: PostgresServer) -> str:
    """A URL with a password, for a socket directory where no server listens."""
    return f"postgresql://factbot:hunter2-secret@/factbot?host={postgres_server.root / 'nowhere'}"


def test_an_unreachable_server_stops_start_up_in_one_line_without_the_password(
    postgres_server: PostgresServer,
) -> None:
    settings = Settings(database_url=_unreachable_url(postgres_server))
    with pytest.raises(StorageError) as caught:
        open_database(settings)
    message = str(caught.value)
    assert "\n" not in message
    assert "FACTBOT_DATABASE_URL" in message and "cannot connect" in message
    assert "hunter2" not in message and "***" in message


def test_factbot_serve_refuses_an_unreachable_database(postgres_server: PostgresServer) -> None:
    env = {
        **clean_env(),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "test-secret",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "FACTBOT_DATABASE_URL": _unreachable_url(postgres_server),
    }
    result = subprocess.run(
        [*factbot_command(), "serve", "--port", "0"],
        input="",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output and "hunter2" not in output
    named = [line for line in result.stderr.splitlines() if "FACTBOT_DATABASE_URL" in line]
    assert len(named) == 1 and named[0].startswith("factbot serve: cannot connect"), output
    assert len(result.stderr.splitlines()) <= 2, output  # a fresh checkout also logs its index load


def test_a_database_newer_than_this_factbot_is_refused(postgres_url: str) -> None:
    from bot.storage.postgres import PostgresDatabase

    PostgresDatabase(postgres_url).execute("UPDATE factbot_schema SET version = ?", (len(MIGRATIONS) + 1,))
    with pytest.raises(StorageError, match="newer than this FactBot"):
        PostgresDatabase(postgres_url)


def test_a_dropped_connection_is_reopened(postgres_url: str, postgres_server: PostgresServer) -> None:
    import psycopg

    from bot.storage.postgres import PostgresDatabase

    db = PostgresDatabase(postgres_url)
    try:
        with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'factbot'"
            )
        with pytest.raises(DatabaseError):
            db.ping()  # the statement on the dead connection fails...
        db.ping()  # ...and the next one reconnects
        assert db.first_sighting("event", "Ev1")
    finally:
        db.close()


def test_a_server_that_stops_answering_is_given_up_in_bounded_time(postgres_url: str) -> None:
    from bot.storage.postgres import DEAD_SERVER_S, PostgresDatabase

    db = PostgresDatabase(postgres_url)
    try:  # a black-holed TCP peer cannot be staged on loopback; the connection must ask the kernel
        dsn = dict(item.split("=", 1) for item in db._conn.info.dsn.split())
    finally:
        db.close()
    assert dsn["keepalives"] == "1"
    idle, interval, count = (
        int(dsn[k]) for k in ("keepalives_idle", "keepalives_interval", "keepalives_count")
    )
    assert idle + interval * count <= DEAD_SERVER_S <= 60
    assert int(dsn["tcp_user_timeout"]) == DEAD_SERVER_S * 1000


def test_a_database_that_is_gone_fails_every_query(
    postgres_url: str, postgres_server: PostgresServer
) -> None:
    from bot.storage.postgres import PostgresDatabase

    db = PostgresDatabase(postgres_url)
    try:
        postgres_server.drop_database(postgres_url)
        for _ in range(2):
            with pytest.raises(DatabaseError):
                db.ping()
    finally:
        db.close()
