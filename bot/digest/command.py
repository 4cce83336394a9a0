"""``/fact digest [on [HH:MM] [Area/City] | off | status]``: parsing and the replies, Slack-agnostic.

The Slack handler stays thin: it passes the words after ``digest`` here and posts the reply text
(Slack mrkdwn, with everything the user typed escaped).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.digest.delivery import ERROR_HINTS
from bot.digest.render import escape_mrkdwn
from bot.digest.service import DigestService, DigestStatus
from bot.digest.timing import format_post_time, looks_like_time, parse_post_time, parse_timezone
from bot.errors import DigestError

logger = logging.getLogger(__name__)


def usage(command: str = "/fact") -> str:
    """How to use the digest subcommand of ``command``."""
    return (
        f"Usage: `{command} digest on [HH:MM] [Area/City]` to get a few facts here every day "
        f"(e.g. `{command} digest on 08:30 Europe/Berlin`), `{command} digest off` to stop, "
        f"`{command} digest` to see the schedule."
    )


@dataclass(frozen=True)
class DigestCommand:
    """A parsed ``/fact digest`` request."""

    action: str  # "status", "on", "off" or "help"
    post_time: time | None = None
    timezone: str | None = None


def parse_digest_command(args: Sequence[str] | str, command: str = "/fact") -> DigestCommand:
    """Parse the words after ``digest``; DigestError with a user-facing message if malformed."""
    words = args.split() if isinstance(args, str) else [word for arg in args for word in arg.split()]
    if not words or words[0].lower() in ("status", "show"):
        if len(words) > 1:
            raise DigestError(f"`{command} digest {words[0]}` takes nothing more. {usage(command)}")
        return DigestCommand("status")
    action, rest = words[0].lower(), words[1:]
    if action in ("help", "?"):
        return DigestCommand("help")
    if action in ("off", "stop"):
        if rest:
            raise DigestError(f"`{command} digest off` takes nothing more. {usage(command)}")
        return DigestCommand("off")
    if action not in ("on", "start"):
        raise DigestError(f"I don't know `digest {words[0]}`. {usage(command)}")
    post_time: time | None = None
    timezone: str | None = None
    for word in rest:
        if post_time is None and looks_like_time(word):
            post_time = parse_post_time(word)
        elif timezone is None and not looks_like_time(word):
            timezone = parse_timezone(word).key
        else:
            raise DigestError(f"I don't understand `{word}` there. {usage(command)}")
    return DigestCommand("on", post_time, timezone)


def _when(moment: datetime, zone_name: str, now: datetime) -> str:
    zone = ZoneInfo(zone_name)
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    if moment <= now:
        return "now"
    day = "today" if local.date() == today else _day_label(local)
    return f"{day} at {local.strftime('%H:%M')} ({zone_name})"


def render_status(status: DigestStatus, now: datetime, size: int, command: str = "/fact") -> str:
    """The reply to ``/fact digest``."""
    subscription = status.subscription
    if subscription is None or not subscription.active:
        return f"The daily digest is *off* in this channel. Turn it on with `{command} digest on`."
    schedule = (
        f"{size} facts every day at {format_post_time(subscription.post_time)} ({subscription.timezone})"
    )
    lines = [f"The daily digest is *on* in this channel: {schedule}."]
    if subscription.paused_reason:
        hint = ERROR_HINTS.get(subscription.paused_reason, "fix it, then run `/fact digest on` again")
        hint = hint.replace("/fact", command)
        lines.append(f":warning: Paused: Slack said `{escape_mrkdwn(subscription.paused_reason)}`; {hint}.")
    elif status.next_post_at is not None:
        lines.append(f"Next digest: {_when(status.next_post_at, subscription.timezone, now)}.")
    if status.last_sent and status.last_sent.sent_at:
        lines.append(f"Last sent: {_when_past(status.last_sent.sent_at, subscription.timezone)}.")
    if subscription.last_error and not subscription.paused_reason:
        at = (
            f" ({_when_past(subscription.last_error_at, subscription.timezone)})"
            if subscription.last_error_at
            else ""
        )
        lines.append(f"Last error: `{escape_mrkdwn(subscription.last_error)}`{at}.")
    return "\n".join(lines)


def _day_label(local: datetime) -> str:
    return f"{local.strftime('%A')} {local.day} {local.strftime('%B')}"


def _when_past(moment: datetime, zone_name: str) -> str:
    local = moment.astimezone(ZoneInfo(zone_name))
    return f"{_day_label(local)} {local.strftime('%H:%M')} ({zone_name})"


def run_digest_command(
    service: DigestService,
    args: Sequence[str] | str,
    *,
    channel_id: str,
    user_id: str | None,
    now: datetime,
    command: str = "/fact",
) -> str:
    """Carry out ``/fact digest ...`` for a channel and return the reply (Slack mrkdwn)."""
    try:
        request = parse_digest_command(args, command)
    except DigestError as exc:
        return f":x: {escape_mrkdwn(str(exc))}"
    if request.action == "help":
        return usage(command)
    if request.action == "off":
        if service.unsubscribe(channel_id, now=now, user_id=user_id):
            return "The daily digest is now *off* in this channel."
        return "The daily digest was not on in this channel."
    if request.action == "on":
        status = service.subscribe(
            channel_id, now=now, post_time=request.post_time, timezone=request.timezone, user_id=user_id
        )
        return "Done. " + render_status(status, now, service.size, command)
    return render_status(service.status(channel_id, now=now), now, service.size, command)
