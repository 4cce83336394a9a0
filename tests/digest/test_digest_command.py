"""``/fact digest`` parsing and replies, and the FACTBOT_DIGEST_* environment sync."""

from __future__ import annotations

import pytest

from bot.digest.command import parse_digest_command, run_digest_command
from bot.digest.store import SENT
from bot.errors import ConfigError, DigestError
from tests.digest.conftest import MakeService
from tests.digest.helpers import utc
from tests.support.fake_slack import FakeSlack


@pytest.mark.parametrize(
    ("args", "action", "post_time", "zone"),
    [
        ("", "status", None, None),
        ("on", "on", None, None),
        ("on 7:45", "on", "07:45", None),
        ("ON europe/paris 18:00", "on", "18:00", "Europe/Paris"),
        ("off", "off", None, None),
    ],
)
def test_parse(args: str, action: str, post_time: str | None, zone: str | None) -> None:
    command = parse_digest_command(args)
    assert command.action == action
    assert (command.post_time.strftime("%H:%M") if command.post_time else None) == post_time
    assert command.timezone == zone


@pytest.mark.parametrize(
    "args", ["on 25:00", "on 9am", "on Mars/Base", "on 09:00 10:00", "sometimes", "off now"]
)
def test_parse_rejects(args: str) -> None:
    with pytest.raises(DigestError):
        parse_digest_command(args)


def test_bad_time_gets_a_clear_reply_and_changes_nothing(make_service: MakeService) -> None:
    service = make_service()
    reply = run_digest_command(service, "on 25:00", channel_id="C1", user_id="U1", now=utc(2024, 5, 6))
    assert reply.startswith(":x: '25:00' is not a time of day: use 24-hour HH:MM")
    assert service.store.subscription("C1") is None


def test_bad_time_zone_gets_a_clear_reply_escaped(make_service: MakeService) -> None:
    service = make_service()
    reply = run_digest_command(
        service, ["on", "09:00", "<Mars/Base>"], channel_id="C1", user_id="U1", now=utc(2024, 5, 6)
    )
    assert reply.startswith(":x: '&lt;Mars/Base&gt;' is not a time zone")
    assert "Europe/Berlin" in reply
    assert service.store.subscription("C1") is None


def test_on_status_off(make_service: MakeService) -> None:
    service = make_service()
    now = utc(2024, 5, 6, 7)
    assert "*off*" in run_digest_command(service, "", channel_id="C1", user_id="U1", now=now)
    reply = run_digest_command(service, "on 08:30 Europe/Berlin", channel_id="C1", user_id="U1", now=now)
    assert "every day at 08:30 (Europe/Berlin)" in reply
    assert "Next digest: tomorrow" not in reply
    assert "Next digest: Tuesday 7 May at 08:30 (Europe/Berlin)" in reply  # 07:00 UTC is 09:00 in Berlin
    status = run_digest_command(service, "status", channel_id="C1", user_id="U1", now=now)
    assert "The daily digest is *on* in this channel: 3 facts every day at 08:30 (Europe/Berlin)." in status
    assert run_digest_command(service, "off", channel_id="C1", user_id="U1", now=now).endswith(
        "*off* in this channel."
    )
    assert run_digest_command(service, "off", channel_id="C1", user_id="U1", now=now) == (
        "The daily digest was not on in this channel."
    )


def test_status_shows_the_last_error(make_service: MakeService, fake_slack: FakeSlack) -> None:
    service = make_service()
    run_digest_command(service, "on", channel_id="C1", user_id="U1", now=utc(2024, 5, 5))
    fake_slack.queue("chat.postMessage", {"ok": False, "error": "not_in_channel"})
    service.run_due(utc(2024, 5, 6, 9))
    reply = run_digest_command(service, "", channel_id="C1", user_id="U1", now=utc(2024, 5, 6, 10))
    assert "Paused: Slack said `not_in_channel`" in reply
    assert "/invite @FactBot" in reply


def test_environment_channels_are_subscribed_and_a_command_choice_sticks(make_service: MakeService) -> None:
    service = make_service()
    service.sync_from_environment(["C1", "C2"], "07:15", "Asia/Tokyo", utc(2024, 5, 5))
    subscription = service.store.subscription("C1")
    assert subscription is not None and subscription.due_enabled
    assert (subscription.post_time.strftime("%H:%M"), subscription.timezone) == ("07:15", "Asia/Tokyo")
    run_digest_command(service, "off", channel_id="C2", user_id="U1", now=utc(2024, 5, 5, 1))
    # Restart with C1 dropped from the list: C1 ends, C2 stays off as the channel asked.
    make_service().sync_from_environment(["C2"], "07:15", "Asia/Tokyo", utc(2024, 5, 5, 2))
    assert [s.channel_id for s in service.store.enabled_subscriptions()] == []


def test_environment_sync_on_restart_keeps_todays_catch_up(make_service: MakeService) -> None:
    service = make_service()
    service.sync_from_environment(["C1"], "09:00", "UTC", utc(2024, 5, 5))
    restarted = make_service()
    restarted.sync_from_environment(["C1"], "09:00", "UTC", utc(2024, 5, 6, 11))  # down at 09:00
    assert [o.status for o in restarted.run_due(utc(2024, 5, 6, 11))] == [SENT]


@pytest.mark.parametrize(
    ("post_time", "zone", "variable"),
    [("9h", "UTC", "FACTBOT_DIGEST_TIME"), ("09:00", "Nowhere", "FACTBOT_TIMEZONE")],
)
def test_bad_environment_settings_name_the_variable(
    make_service: MakeService, post_time: str, zone: str, variable: str
) -> None:
    with pytest.raises(ConfigError, match=variable):
        make_service().sync_from_environment(["C1"], post_time, zone, utc(2024, 5, 5))


def test_status_shows_a_retry_and_its_error(make_service: MakeService, fake_slack: FakeSlack) -> None:
    service = make_service()
    run_digest_command(service, "on", channel_id="C1", user_id="U1", now=utc(2024, 5, 5))
    fake_slack.queue(
        "chat.postMessage", {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "90"}
    )
    service.run_due(utc(2024, 5, 6, 9))
    reply = run_digest_command(service, "", channel_id="C1", user_id="U1", now=utc(2024, 5, 6, 9, 0, 10))
    assert "Next digest: today at 09:01 (UTC)." in reply
    assert "Last error: `ratelimited` (Monday 6 May 09:00 (UTC))." in reply
