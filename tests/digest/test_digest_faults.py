"""Fault injection on the digest's posts: a lost answer is looked up, a bad body retried, nothing raises."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest

from bot.digest.scheduler import DigestScheduler
from bot.digest.service import DeliveryOutcome, DigestService
from bot.digest.store import RETRY, SENT, DigestStore
from tests.digest.conftest import MakeService
from tests.digest.helpers import HandMadeCatalog, utc
from tests.support.fake_slack import FakeSlack

POST = "chat.postMessage"
NINE = utc(2024, 5, 6, 9)


def _subscribed(make_service: MakeService) -> DigestService:
    service = make_service()
    service.subscribe("C1", now=utc(2024, 5, 5))
    return service


@pytest.mark.parametrize(
    "scripted",
    [{"truncate": True}, {"body": '{"ok": true, "channel": "C1", "ts": "17'}, {"drop": True}],
    ids=["body cut off", "JSON cut off", "connection dropped"],
)
def test_a_post_slack_accepted_but_whose_answer_was_lost_counts_as_sent_once(
    make_service: MakeService, fake_slack: FakeSlack, scripted: dict[str, object]
) -> None:
    service = _subscribed(make_service)
    fake_slack.queue(POST, **scripted)  # type: ignore[arg-type]

    [outcome] = service.run_due(NINE)
    assert outcome.status == SENT and outcome.message_ts == fake_slack.messages("C1")[0].ts
    assert service.run_due(utc(2024, 5, 6, 9, 5)) == []
    assert len(fake_slack.calls(POST)) == 1 and len(fake_slack.messages("C1")) == 1
    assert service.store.post_for_day("C1", NINE.date()).status == SENT  # type: ignore[union-attr]


def test_a_200_that_is_not_json_and_not_posted_is_retried_not_dropped(
    make_service: MakeService, fake_slack: FakeSlack
) -> None:
    service = _subscribed(make_service)
    fake_slack.queue(POST, "<html>captive portal</html>", posted=False)

    [first] = service.run_due(NINE)
    assert first.status == RETRY
    [second] = service.run_due(first.retry_at)  # type: ignore[arg-type]
    assert second.status == SENT
    assert len(fake_slack.messages("C1")) == 1 and len(fake_slack.calls(POST)) == 2


def test_when_slack_cannot_say_the_retry_looks_again_before_posting(
    make_service: MakeService, fake_slack: FakeSlack
) -> None:
    service = _subscribed(make_service)
    fake_slack.queue(POST, drop=True)
    fake_slack.queue("conversations.history", {"ok": False, "error": "internal_error"}, status=500)

    [first] = service.run_due(NINE)
    assert first.status == RETRY and "unknown whether posted" in (first.error or "")
    [second] = service.run_due(first.retry_at)  # type: ignore[arg-type]
    assert second.status == SENT and second.message_ts == fake_slack.messages("C1")[0].ts
    assert len(fake_slack.calls(POST)) == 1  # found on the second look: never posted twice


class _BrokenPoster:
    def post(self, *args: object, **kwargs: object) -> str | None:
        raise RuntimeError("poster fault injected by the test")


def test_an_unexpected_error_releases_the_claim_as_a_retry(
    make_service: MakeService, catalog: HandMadeCatalog, caplog: pytest.LogCaptureFixture
) -> None:
    store: DigestStore = _subscribed(make_service).store
    service = DigestService(store, catalog, _BrokenPoster())

    [outcome] = service.run_due(NINE)  # does not raise
    assert outcome.status == RETRY and "RuntimeError" in (outcome.error or "")
    record = store.post_for_day("C1", NINE.date())
    assert record is not None and record.status == RETRY  # not a claim held for the lease
    assert any("unexpectedly" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)


class _ExplodingService:
    def run_due(self, now: datetime) -> list[DeliveryOutcome]:
        raise RuntimeError("tick fault injected by the test")


def test_a_failing_tick_never_raises_out_of_the_job(caplog: pytest.LogCaptureFixture) -> None:
    scheduler = DigestScheduler(_ExplodingService())  # type: ignore[arg-type]
    assert scheduler.run_due() == []
    assert any("tick failed" in r.getMessage() for r in caplog.records)
