"""The APScheduler wiring that ``factbot serve`` starts: real scheduler objects, injected clock."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path

from slack_sdk import WebClient

from bot.digest.scheduler import start_digest_scheduler
from bot.settings import Settings
from bot.storage import SQLiteDatabase
from tests.digest.helpers import Clock, HandMadeCatalog, utc
from tests.support.fake_slack import FakeSlack


class CountingClock(Clock):
    """A fixed clock that lets a test wait until the scheduler has ticked a number of times."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.reads = 0
        self._changed = threading.Condition()

    def __call__(self) -> datetime:
        with self._changed:
            self.reads += 1
            self._changed.notify_all()
        return self.now

    def wait_for_reads(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.reads < count:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"scheduler ticked {self.reads} times, expected {count}"
                self._changed.wait(remaining)


def _serve(
    settings: Settings, catalog: HandMadeCatalog, fake: FakeSlack, clock: CountingClock, ticks: int
) -> None:
    """One `factbot serve` lifetime: start the digest scheduler, let it tick, stop it."""
    db = SQLiteDatabase(settings.db_path)
    client = WebClient(token="xoxb-test", base_url=fake.api_url, timeout=5)
    scheduler = start_digest_scheduler(settings, catalog, client, db, clock=clock, tick_seconds=0.02)
    try:
        clock.wait_for_reads(clock.reads + ticks)
    finally:
        scheduler.stop()
        db.close()
    assert not scheduler.running


def test_serve_lifetimes_post_once_per_day(
    tmp_path: Path, catalog: HandMadeCatalog, fake_slack: FakeSlack
) -> None:
    settings = Settings(db_path=tmp_path / "factbot.db", digest_channels=("C1",), digest_time="09:00")
    # Day 1, 12:00: the channel is subscribed from the environment; 09:00 has passed, so nothing yet.
    _serve(settings, catalog, fake_slack, CountingClock(utc(2024, 5, 5, 12)), ticks=5)
    assert fake_slack.calls("chat.postMessage") == []
    # Day 2: down at 09:00, up at 11:00: one post as soon as it is back.
    _serve(settings, catalog, fake_slack, CountingClock(utc(2024, 5, 6, 11)), ticks=5)
    assert len(fake_slack.wait_for("chat.postMessage")) == 1
    # Restart the same day: new scheduler, new database handle, same file: nothing more.
    _serve(settings, catalog, fake_slack, CountingClock(utc(2024, 5, 6, 15)), ticks=5)
    assert len(fake_slack.calls("chat.postMessage")) == 1
