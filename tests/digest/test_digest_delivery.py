"""Delivery over a real SQLite file and the fake Slack Web API: once a day, retries, claims, pauses."""

from __future__ import annotations

import threading
from datetime import time, timedelta

import pytest

from bot.digest.rotation import SentFact
from bot.digest.service import DigestService
from bot.digest.store import FAILED, RETRY, SENT
from bot.errors import ConfigError
from tests.digest.conftest import MakeService
from tests.digest.helpers import utc
from tests.support.fake_slack import FakeSlack

POST = "chat.postMessage"


def test_subscribe_then_time_passes_posts_exactly_once(
    make_service: MakeService, fake_slack: FakeSlack
) -> None:
    service = make_service()
    service.subscribe("C1", now=utc(2024, 5, 6, 8, 0), user_id="U1")
    assert service.run_due(utc(2024, 5, 6, 8, 59, 59)) == []
    [outcome] = service.run_due(utc(2024, 5, 6, 9, 0, 30))
    assert outcome.status == SENT and len(outcome.fact_ids) == 3
    for later in (utc(2024, 5, 6, 9, 1), utc(2024, 5, 6, 13), utc(2024, 5, 6, 23, 59)):
        assert service.run_due(later) == []
    [call] = fake_slack.calls(POST)
    assert call.body["channel"] == "C1"
    assert call.json_field("blocks")[0]["text"]["text"] == "Daily facts for Monday, 6 May 2024"
    assert call.body["text"].startswith("Daily facts for Monday, 6 May 2024: ")
    # The next day brings the next digest, with three new facts.
    [tomorrow] = service.run_due(utc(2024, 5, 7, 9, 0))
    assert not set(tomorrow.fact_ids) & set(outcome.fact_ids)
    assert len(fake_slack.calls(POST)) == 2


def test_restart_mid_day_posts_nothing_more(make_service: MakeService, fake_slack: FakeSlack) -> None:
    first_process = make_service()
    first_process.subscribe("C1", now=utc(2024, 5, 6, 8))
    assert [o.status for o in first_process.run_due(utc(2024, 5, 6, 9, 0))] == [SENT]
    first_process.store.db.close()

    restarted = make_service()  # new Database handle and client on the same file
    assert restarted.run_due(utc(2024, 5, 6, 12, 0)) == []
    assert len(fake_slack.calls(POST)) == 1
    assert restarted.status("C1", now=utc(2024, 5, 6, 12)).next_post_at == utc(2024, 5, 7, 9)


def test_down_at_nine_up_at_eleven_posts_once_on_return(
    make_service: MakeService, fake_slack: FakeSlack
) -> None:
    service = make_service()
    service.subscribe("C1", now=utc(2024, 5, 5, 15))  # subscribed the day before
    # Nothing ran at 09:00 on the 6th: the process came back at 11:00.
    assert [o.status for o in service.run_due(utc(2024, 5, 6, 11, 0))] == [SENT]
    assert service.run_due(utc(2024, 5, 6, 11, 0, 30)) == []
    assert len(fake_slack.calls(POST)) == 1


def test_subscribing_after_todays_time_starts_tomorrow(
    make_service: MakeService, fake_slack: FakeSlack
) -> None:
    service = make_service()
    service.subscribe("C1", now=utc(2024, 5, 6, 10))
    assert service.run_due(utc(2024, 5, 6, 10, 0, 30)) == []
    assert service.status("C1", now=utc(2024, 5, 6, 10)).next_post_at == utc(2024, 5, 7, 9)
    assert fake_slack.calls(POST) == []


def test_local_time_zone_decides_the_day_and_the_hour(
    make_service: MakeService, fake_slack: FakeSlack
) -> None:
    service = make_service()
    service.subscribe("C1", now=utc(2024, 5, 5), post_time=time(8, 30), timezone="America/New_York")
    assert service.run_due(utc(2024, 5, 6, 12, 29)) == []  # 08:29 in New York (EDT, UTC-4)
    assert [o.status for o in service.run_due(utc(2024, 5, 6, 12, 30))] == [SENT]
    # 01:00 UTC on the 7th is still the 6th in New York: no second digest.
    assert service.run_due(utc(2024, 5, 7, 1, 0)) == []
    assert len(fake_slack.calls(POST)) == 1


def test_rotation_covers_every_fact_before_a_repeat(make_service: MakeService, fake_slack: FakeSlack) -> None:
    service = make_service()  # 9 hand-made facts over 3 articles, 3 per digest
    service.subscribe("C1", now=utc(2024, 5, 1))
    sent: list[str] = []
    for day in range(1, 7):
        [outcome] = service.run_due(utc(2024, 5, day + 1, 9))
        sent += outcome.fact_ids
    all_ids = sorted(f.id for f in service.catalog.facts())
    assert sorted(sent[:9]) == all_ids and sorted(sent[9:]) == all_ids
    assert len(fake_slack.calls(POST)) == 6
    assert [s.cycle for s in service.store.history("C1")] == [0] * 9 + [1] * 9


def test_ratelimited_then_accepted_posts_once(make_service: MakeService, fake_slack: FakeSlack) -> None:
    service = make_service()
    service.subscribe("C1", now=utc(2024, 5, 5))
    fake_slack.queue(POST, {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "20"})
    [first] = service.run_due(utc(2024, 5, 6, 9, 0, 0))
    assert (first.status, first.error) == (RETRY, "ratelimited")
    assert service.store.history("C1") == []  # nothing marked sent yet
    assert service.run_due(utc(2024, 5, 6, 9, 0, 19)) == []  # honours Retry-After
    [second] = service.run_due(utc(2024, 5, 6, 9, 0, 20))
    assert second.status == SENT
    assert service.run_due(utc(2024, 5, 6, 9, 5)) == []
    assert len(fake_slack.calls(POST)) == 2
    assert len(service.store.history("C1")) == 3
    status = service.status("C1", now=utc(2024, 5, 6, 9, 5))
    assert status.subscription is not None and status.subscription.last_error is None


def test_network_errors_back_off_then_give_up_for_the_day(
    make_service: MakeService, fake_slack: FakeSlack
) -> None:
    service = make_service()  # max 4 attempts, backoff 30 s doubling
    service.subscribe("C1", now=utc(2024, 5, 5))
    for _ in range(20):
        fake_slack.queue(POST, {"ok": False, "error": "internal_error"}, status=500)
    now = utc(2024, 5, 6, 9)
    statuses = []
    for _ in range(40):
        statuses += [o.status for o in service.run_due(now)]
        now += timedelta(seconds=15)
    assert statuses == [RETRY, RETRY, RETRY, FAILED]
    attempt_times = [c.at for c in fake_slack.calls(POST)]
    assert len(attempt_times) == 4
    assert service.store.post_for_day("C1", now.date()).status == FAILED  # type: ignore[union-attr]
    status = service.status("C1", now=now)
    assert status.subscription is not None and status.subscription.last_error == "internal_error"
    assert status.next_post_at == utc(2024, 5, 7, 9)  # tried again tomorrow, not forever today


def test_a_post_accepted_before_the_connection_dropped_is_found_not_repeated(
    make_service: MakeService, fake_slack: FakeSlack
) -> None:
    service = make_service()
    service.subscribe("C1", now=utc(2024, 5, 5))
    fake_slack.queue(POST, drop=True)  # Slack posts it, the answer never arrives
    [first] = service.run_due(utc(2024, 5, 6, 9))
    assert first.status == SENT and first.message_ts == fake_slack.messages("C1")[0].ts
    assert service.run_due(utc(2024, 5, 6, 9, 0, 30)) == []
    assert len(fake_slack.calls(POST)) == 1 and len(fake_slack.messages("C1")) == 1
    assert len(service.store.history("C1")) == 3


def test_not_in_channel_is_recorded_shown_and_not_retried(
    make_service: MakeService, fake_slack: FakeSlack
) -> None:
    service = make_service()
    service.subscribe("C1", now=utc(2024, 5, 5))
    fake_slack.queue(POST, {"ok": False, "error": "not_in_channel"})
    [outcome] = service.run_due(utc(2024, 5, 6, 9))
    assert (outcome.status, outcome.error) == ("paused", "not_in_channel")
    for day, hour in [(6, 10), (6, 23), (7, 9), (8, 9), (20, 9)]:
        assert service.run_due(utc(2024, 5, day, hour)) == []
    assert len(fake_slack.calls(POST)) == 1
    status = service.status("C1", now=utc(2024, 5, 8))
    assert status.subscription is not None and status.subscription.paused_reason == "not_in_channel"
    assert status.next_post_at is None
    # Someone invites the bot and turns the digest on again: it resumes the next day.
    service.subscribe("C1", now=utc(2024, 5, 20, 12))
    assert [o.status for o in service.run_due(utc(2024, 5, 21, 9))] == [SENT]


def test_two_processes_on_one_database_post_once(make_service: MakeService, fake_slack: FakeSlack) -> None:
    first, second = make_service(), make_service()  # two Database handles on one file
    channels = [f"C{n}" for n in range(8)]
    for channel in channels:
        first.subscribe(channel, now=utc(2024, 5, 5))
    barrier = threading.Barrier(2)
    results: dict[str, list[str]] = {}

    def tick(name: str, service) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        results[name] = [o.channel_id for o in service.run_due(utc(2024, 5, 6, 9, 0, 5))]

    threads = [threading.Thread(target=tick, args=(n, s)) for n, s in (("a", first), ("b", second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(results["a"] + results["b"]) == channels
    assert sorted(c.body["channel"] for c in fake_slack.calls(POST)) == channels


def test_a_claim_whose_process_died_is_taken_over_after_its_lease(
    make_service: MakeService, fake_slack: FakeSlack
) -> None:
    service = make_service(lease=timedelta(minutes=5))
    service.subscribe("C1", now=utc(2024, 5, 5))
    day = utc(2024, 5, 6).date()
    # A process claimed today's digest and died before posting.
    assert service.store.claim_day(
        "C1", day, token="dead", now=utc(2024, 5, 6, 9), lease=timedelta(minutes=5)
    )
    assert service.run_due(utc(2024, 5, 6, 9, 4)) == []  # its claim is still live
    [outcome] = service.run_due(utc(2024, 5, 6, 9, 5, 1))
    assert outcome.status == SENT
    assert len(fake_slack.calls(POST)) == 1


def test_history_counts_only_posts_slack_accepted(make_service: MakeService, fake_slack: FakeSlack) -> None:
    service = make_service()
    service.subscribe("C1", now=utc(2024, 5, 5))
    preview_before = service.preview("C1", now=utc(2024, 5, 6, 8)).fact_ids
    fake_slack.queue(POST, {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"})
    service.run_due(utc(2024, 5, 6, 9))
    assert service.store.history("C1") == []
    assert service.preview("C1", now=utc(2024, 5, 6, 9)).fact_ids == preview_before
    [outcome] = service.run_due(utc(2024, 5, 6, 9, 1))
    assert outcome.fact_ids == preview_before
    assert service.store.history("C1") == [SentFact(fid, 0) for fid in preview_before]


def test_without_a_poster_nothing_is_claimed(make_service: MakeService) -> None:
    service = make_service()
    service.subscribe("C1", now=utc(2024, 5, 5))
    offline = DigestService(service.store, service.catalog)  # as `/fact digest` builds it: no client
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        offline.run_due(utc(2024, 5, 6, 9))
    assert service.store.posts("C1") == []
