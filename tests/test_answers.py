"""Typed spans (bot.engine.spans) and question types (bot.engine.answers): what short answers are cut from."""

from __future__ import annotations

import pytest

from bot.engine.answers import chunks_of, question_type
from bot.engine.spans import find_spans


def kinds(sentence: str) -> list[tuple[str, str]]:
    return [(s.kind, s.text) for s in find_spans(sentence)]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Watt's ten-horsepower engines ran mills.", ("count", "ten")),
        ("It was a four-valve engine.", ("count", "four")),
        ("They won the cup twice as well.", ("count", "twice")),
        ("The engines used half as much coal.", ("count", "half")),
        (
            "The school owns approximately fifty percent more land.",
            ("percent", "approximately fifty percent"),
        ),
        ("Is there a route of at most 2000 kilometres?", ("count", "at most 2000")),
        ("The treaty was signed in 1951.", ("year", "1951")),
        ("He could claim 6 million lire in damages.", ("money", "6 million lire")),
        ("The city's GDP was 191.766 billion PLN in 2010.", ("money", "191.766 billion PLN")),
    ],
)
def test_spans_of_values(sentence: str, expected: tuple[str, str]) -> None:
    assert expected in kinds(sentence)


@pytest.mark.parametrize(
    ("sentence", "not_expected"),
    [
        ("The Six-Party Talks failed.", ("count", "Six")),
        ("Is there a route of at most 2000 kilometres?", ("year", "2000")),
        ("One of the most famous works is the tapestry.", ("count", "One")),
    ],
)
def test_spans_that_are_not_values(sentence: str, not_expected: tuple[str, str]) -> None:
    assert not_expected not in kinds(sentence)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How much did the pier cost?", "money"),
        ("How much money was spent?", "money"),
        ("How much coal did the engine use?", "amount"),
        ("How much more land does the school own?", "amount"),
        ("By how much did ticket sales rise?", "change"),
        ("How much did the town's population increase after the war?", "change"),
        ("How much has the herring catch grown since 2020?", "change"),
        ("How much did the town spend on the harbour?", "money"),
        ("How much did the town spend to expand the harbour?", "money"),
        ("How much does it cost to change a tyre?", "money"),
        ("How much did the rise in sea level cost?", "money"),
        ("How much has the population fallen?", "change"),
        ("What is Japan's defence budget?", "money"),
        ("What was the total cost of the project?", "money"),
        # The price is a detail of the question, not what it asks for.
        ("Which two importers were prevented from selling beer under wholesale price?", "name"),
        ("How many visitors come?", "count"),
        ("When was the festival founded?", "date"),
    ],
)
def test_question_types(question: str, kind: str) -> None:
    assert question_type(question) == kind


def test_a_clause_is_never_cut_inside_a_list_of_names() -> None:
    quote = "To show resolve, Varno, Tessel, and Brill have trained together since the Halden summit."
    pieces = [quote[c.start : c.end].strip(" ,.") for c in chunks_of(quote, ())]
    assert pieces == [
        "To show resolve",
        "Varno, Tessel, and Brill have trained together since the Halden summit",
    ]
