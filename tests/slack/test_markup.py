"""Slack markup is stripped from questions and escaped in replies."""

from __future__ import annotations

import pytest

from bot.slack.markup import clean_question, escape, fit, safe_url


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("<@U0FACTBOT> when was the treaty signed?", "when was the treaty signed?"),
        ("<@U0FACTBOT|factbot>   when   was it?", "when was it?"),
        ("<!channel> <!here> <!everyone> what now?", "what now?"),
        ("<!subteam^S123|@defense> who pays?", "who pays?"),
        ("<!here|here> who?", "who?"),
        ("what does <https://example.com/a?b=1&amp;c=2|the report> say?", "what does the report say?"),
        ("see <https://example.com/x>", "see https://example.com/x"),
        ("mail <mailto:a@b.org|a@b.org>", "mail a@b.org"),
        ("news in <#C123|general>?", "news in #general?"),
        ("A &amp; B &lt;3 &gt; C", "A & B <3 > C"),
        ("&lt;!channel&gt; typed literally", "<!channel> typed literally"),
        ("<@U1> <!channel>", ""),
    ],
)
def test_clean_question(raw: str, cleaned: str) -> None:
    assert clean_question(raw) == cleaned


def test_escape_neutralises_every_mention_form() -> None:
    assert (
        escape("<!channel> & <@U1> <https://x|y>") == "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://x|y&gt;"
    )


def test_fit_keeps_short_text_and_never_splits_an_entity() -> None:
    assert fit("short", 10) == "short"
    cut = fit("a" * 6 + "&amp;" + "b" * 20, 10)
    assert cut == "aaaaaa…"
    assert len(fit("x" * 5000, 3000)) == 3000


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a?x=1&y=2", "https://example.com/a?x=1&amp;y=2"),
        ("javascript:alert(1)", None),
        ("https://example.com/a|<!channel>", None),
        (None, None),
    ],
)
def test_safe_url(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected
