"""Parsing digest times and zones, DST-safe scheduling, and the Block Kit / plain renderings."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot.digest.render import Digest, DigestItem, escape_mrkdwn, to_blocks, to_fallback_text, to_plain_text
from bot.digest.timing import next_scheduled_at, parse_post_time, parse_timezone, scheduled_at
from bot.errors import DigestError
from tests.digest.helpers import HandMadeCatalog, make_facts, utc


@pytest.mark.parametrize(
    ("text", "expected"), [("09:00", time(9)), ("9:05", time(9, 5)), ("23:59", time(23, 59))]
)
def test_parse_post_time(text: str, expected: time) -> None:
    assert parse_post_time(text) == expected


@pytest.mark.parametrize("text", ["24:00", "9", "9:5", "09:60", "nine", "", "9am"])
def test_bad_times_say_how_to_write_one(text: str) -> None:
    with pytest.raises(DigestError, match="HH:MM"):
        parse_post_time(text)


def test_time_zones_are_iana_names_in_any_case() -> None:
    assert parse_timezone("europe/berlin").key == "Europe/Berlin"
    assert parse_timezone("UTC").key == "UTC"
    for bad in ("Mars/Olympus", "../etc/passwd", "CEST+2"):
        with pytest.raises(DigestError, match="IANA"):
            parse_timezone(bad)


def test_schedule_follows_local_time_across_dst() -> None:
    berlin = parse_timezone("Europe/Berlin")
    assert scheduled_at(date(2024, 1, 15), time(9), berlin) == utc(2024, 1, 15, 8)
    assert scheduled_at(date(2024, 7, 15), time(9), berlin) == utc(2024, 7, 15, 7)
    # 02:30 does not exist on 31 March 2024 in Berlin: it still happens, once, that day.
    assert scheduled_at(date(2024, 3, 31), time(2, 30), berlin).date() == date(2024, 3, 31)
    assert next_scheduled_at(utc(2024, 1, 15, 8), time(9), berlin) == utc(2024, 1, 16, 8)


def _digest() -> Digest:
    catalog = HandMadeCatalog(make_facts({"alpha": 3, "beta": 1}))
    facts = catalog.facts()
    items = tuple(DigestItem(f, catalog.source(f), 0) for f in (facts[2], facts[3]))
    return Digest("C1", date(2024, 5, 7), items)


def test_blocks_have_a_dated_header_and_escape_quoted_text() -> None:
    blocks = to_blocks(_digest())
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == "Daily facts for Tuesday, 7 May 2024"
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert len(sections) == 2
    assert sections[0].startswith("*alpha answer 3*\n> Alpha quote 3 says 5 &lt; 7 &amp; 9 &gt; 8.")
    assert "Alpha &amp; Omega, paragraph 3" in sections[0]
    assert "Beta &lt;Report&gt;, paragraph 1" in sections[1]
    assert "<" not in "".join(sections).replace("&lt;", "")


def test_fallback_text_lists_statements_escaped() -> None:
    text = to_fallback_text(_digest())
    assert text.startswith("Daily facts for Tuesday, 7 May 2024: alpha answer 3 · Beta quote 1 says 5 &lt; 7")


def test_plain_text_is_unescaped_and_numbered() -> None:
    text = to_plain_text(_digest())
    assert (
        "1. alpha answer 3\n   “Alpha quote 3 says 5 < 7 & 9 > 8.”\n   — Alpha & Omega, paragraph 3" in text
    )
    assert "2. Beta quote 1 says 5 < 7 & 9 > 8.\n   — Beta <Report>, paragraph 1" in text


def test_escape_mrkdwn_escapes_ampersand_first() -> None:
    assert escape_mrkdwn("a<b>&c &lt;") == "a&lt;b&gt;&amp;c &amp;lt;"
