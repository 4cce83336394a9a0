"""Cost of the storage calls on the hot paths, on SQLite and on PostgreSQL: ``python -m bench.storage``.

Per call, sequential, one handle: an event's first sighting (every Slack event and click), a vote,
and a digest day's claim (one write transaction). PostgreSQL is the suite's throw-away server
(``tests.support.postgres``: Unix socket, ``fsync=off``), so its figures are a floor, not what a
networked production server gives.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.digest.store import DigestStore
from bot.storage import Database, SQLiteDatabase
from bot.storage.postgres import PostgresDatabase
from tests.support.postgres import PostgresServer


def _calls(db: Database) -> dict[str, Callable[[int], object]]:
    store = DigestStore(db)
    lease = timedelta(minutes=5)
    return {
        "first_sighting": lambda n: db.first_sighting("event", f"Ev{uuid.uuid4().hex}"),
        "record_feedback": lambda n: db.record_feedback(question="q", fact_id=None, user_id="U1", vote="up"),
        "claim_day": lambda n: store.claim_day(
            f"C{n}", date(2026, 3, 2), token="t", now=datetime.now(UTC), lease=lease
        ),
    }


def measure(db: Database, repeat: int) -> dict[str, tuple[float, float]]:
    """Median and 99th percentile, in milliseconds, of each call."""
    figures = {}
    for name, call in _calls(db).items():
        times = []
        for n in range(repeat):
            started = time.perf_counter()
            call(n)
            times.append(time.perf_counter() - started)
        times.sort()
        figures[name] = (statistics.median(times) * 1e3, times[int(len(times) * 0.99)] * 1e3)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=500)
    args = parser.parse_args()
    server = PostgresServer().start()
    try:
        with tempfile.TemporaryDirectory() as directory:
            backends: list[tuple[str, Database]] = [
                ("sqlite", SQLiteDatabase(Path(directory) / "factbot.db")),
                ("postgresql", PostgresDatabase(server.new_database())),
            ]
            print("| backend | call | p50 ms | p99 ms |\n| --- | --- | --- | --- |")
            for label, db in backends:
                for name, (p50, p99) in measure(db, args.repeat).items():
                    print(f"| {label} | {name} | {p50:.3f} | {p99:.3f} |")
                db.close()
    finally:
        server.stop()
    print(f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores, {args.repeat} calls each")


if __name__ == "__main__":
    main()
