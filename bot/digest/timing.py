"""Digest times and time zones: parsing what users type, and when a channel's digest is due."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import DigestError

logger = logging.getLogger(__name__)

_TIME_PATTERN = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
TZ_HELP = "an IANA time zone name such as Europe/Berlin, America/New_York or UTC"


def utc_now() -> datetime:
    """The current time, time-zone aware (the default clock)."""
    return datetime.now(UTC)


def parse_post_time(text: str) -> time:
    """``"9:30"`` / ``"09:30"`` -> ``time(9, 30)``; anything else raises DigestError."""
    match = _TIME_PATTERN.match(text.strip())
    if not match:
        raise DigestError(f"'{text}' is not a time of day: use 24-hour HH:MM, e.g. 09:00 or 17:30")
    return time(int(match.group(1)), int(match.group(2)))


def looks_like_time(text: str) -> bool:
    """True for tokens a user probably meant as a time (digits and a colon), valid or not."""
    return bool(re.fullmatch(r"[\d:.hH]+(am|pm|AM|PM)?", text)) and any(c.isdigit() for c in text)


@cache
def _zone_names_by_lower_case() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_timezone(text: str) -> ZoneInfo:
    """An IANA zone name (case-insensitive, e.g. ``europe/berlin``) -> ZoneInfo, else DigestError."""
    name = text.strip()
    canonical = _zone_names_by_lower_case().get(name.lower(), name)
    if not canonical or canonical.startswith(("/", ".")) or ".." in canonical:
        raise DigestError(f"'{text}' is not a time zone: use {TZ_HELP}")
    try:
        return ZoneInfo(canonical)
    except (ZoneInfoNotFoundError, ValueError):
        raise DigestError(f"'{text}' is not a time zone I know: use {TZ_HELP}") from None


def format_post_time(value: time) -> str:
    return value.strftime("%H:%M")


def scheduled_at(day: date, post_time: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of ``post_time`` on local ``day`` (a time skipped by DST moves forward)."""
    local = datetime.combine(day, post_time, tzinfo=zone)
    # Round-tripping through UTC normalises wall times that do not exist (spring forward).
    return local.astimezone(UTC)


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """The calendar date at ``moment`` in ``zone``."""
    return moment.astimezone(zone).date()


def next_scheduled_at(after: datetime, post_time: time, zone: ZoneInfo) -> datetime:
    """The first scheduled instant strictly after ``after``."""
    day = local_date(after, zone)
    candidate = scheduled_at(day, post_time, zone)
    while candidate <= after:
        day += timedelta(days=1)
        candidate = scheduled_at(day, post_time, zone)
    return candidate
