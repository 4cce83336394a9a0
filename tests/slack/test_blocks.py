"""Block Kit rendering: escaping, Slack's limits, fallbacks."""

from __future__ import annotations

import json
from dataclasses import replace

from bot.engine.model import Answer, ArticleInfo, Source
from bot.slack.blocks import (
    SHARE_ACTION,
    TEXT_LIMIT,
    VOTE_DOWN_ACTION,
    VOTE_UP_ACTION,
    answer_reply,
    sources_reply,
)
from bot.slack.payloads import AnswerRef

TREATY_ANSWER = Answer(
    question="",
    answered=True,
    answer="1951",
    quote="In 1951, the US-Japan Security Treaty was signed, allowing for the presence of US military "
    "forces in Japan to maintain regional stability and security.",
    source=Source(article="000_treaty", title="Toward a Trilateral Defense Pact", paragraph=3),
    confidence=0.9,
    fact_id="000_treaty-p3-s2",
)


def _texts(blocks: tuple[dict, ...]) -> list[str]:
    texts = []
    for block in blocks:
        if "text" in block:
            texts.append(block["text"]["text"])
        for element in block.get("elements", []):
            if element.get("type") == "mrkdwn":
                texts.append(element["text"])
    return texts


def test_private_answer_layout() -> None:
    reply = answer_reply(replace(TREATY_ANSWER, question="treaty?"), repeat_question=True, shareable=True)
    kinds = [block["type"] for block in reply.blocks]
    assert kinds == ["context", "section", "section", "context", "actions"]
    texts = _texts(reply.blocks)
    assert "treaty?" in texts[0]
    assert texts[1] == "*1951*"
    assert texts[2] == ">" + TREATY_ANSWER.quote
    assert texts[3].endswith("Toward a Trilateral Defense Pact*, paragraph 3")
    buttons = reply.blocks[-1]["elements"]
    assert [b["action_id"] for b in buttons] == [SHARE_ACTION, VOTE_UP_ACTION, VOTE_DOWN_ACTION]
    assert AnswerRef.from_value(buttons[0]["value"]) == AnswerRef("treaty?", TREATY_ANSWER.fact_id)
    assert reply.text.startswith("1951 — “In 1951")


def test_everything_quoted_is_escaped() -> None:
    hostile = Answer(
        question="<!channel> & <@U1>?",
        answered=True,
        answer="<!here>",
        quote="A <b> & <!everyone> quote",
        source=Source("a", "Title <!channel>", 2, url="https://e.com/?a=1&b=2"),
        fact_id="f",
    )
    reply = answer_reply(hostile, repeat_question=True, shareable=True)
    rendered = json.dumps([reply.text, *_texts(reply.blocks)])
    for raw in ("<!channel>", "<!here>", "<!everyone>", "<@U1>", "<b>"):
        assert raw not in rendered
    assert "&lt;!channel&gt; &amp; &lt;@U1&gt;?" in _texts(reply.blocks)[0]
    assert "<https://e.com/?a=1&amp;b=2|Title &lt;!channel&gt;>" in _texts(reply.blocks)[3]


def test_texts_stay_within_slack_limits() -> None:
    long_answer = replace(TREATY_ANSWER, question="q" * 900, answer="a" * 4000, quote="<" * 4000)
    reply = answer_reply(long_answer, repeat_question=True, shareable=True)
    assert all(len(text) <= TEXT_LIMIT for text in _texts(reply.blocks))
    assert 0 < len(reply.text) <= TEXT_LIMIT
    assert all(len(b["value"]) <= 2000 for b in reply.blocks[-1]["elements"])


def test_voted_answer_keeps_share_and_thanks() -> None:
    reply = answer_reply(TREATY_ANSWER, repeat_question=True, shareable=True, voted="down")
    assert [b["action_id"] for b in reply.blocks[-2]["elements"]] == [SHARE_ACTION]
    assert "👎 Thanks" in _texts(reply.blocks)[-1]


def test_decline_is_one_line_plus_suggestions() -> None:
    declined = Answer(question="swallow <!here>?", answered=False, suggestions=("a & b",))
    reply = answer_reply(declined, repeat_question=True)
    texts = _texts(reply.blocks)
    assert texts == [
        "I couldn't find a sourced answer to “swallow &lt;!here&gt;?”.",
        "Try asking: “a &amp; b”",
    ]
    assert "\n" not in texts[0]


def test_long_source_lists_are_split_into_sections() -> None:
    articles = [ArticleInfo(f"a{i}", "T" * 100, None, i) for i in range(100)]
    reply = sources_reply(articles)
    assert len(reply.blocks) > 2
    assert all(len(text) <= TEXT_LIMIT for text in _texts(reply.blocks))
    assert sum(text.count("•") for text in _texts(reply.blocks)) == 100
