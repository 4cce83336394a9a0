"""The learned short-answer selector, with the shipped model and WordNet table (made-up sentences)."""

from __future__ import annotations

import pytest

from bot.engine.short_answer import (
    DENSE_NAMES,
    Context,
    ShortAnswer,
    candidates,
    default_model,
    dense_row,
    feature_rows,
    noun_class,
    question_class,
    question_row,
    short_answer,
    tokens_of,
    typed,
    wanted,
    without_echo,
)
from bot.engine.spans import find_spans


def answer(question: str, quote: str) -> ShortAnswer:
    return short_answer(question, quote, find_spans(quote))


def assert_verbatim(result: ShortAnswer, quote: str) -> None:
    assert result.start is not None and result.end is not None
    assert quote[result.start : result.end] == result.text


@pytest.mark.xfail(
    strict=True,
    reason="short-answer selector (issue 14): the bagged model rates 'from the coast' (a WordNet location) "
    "as high as the unknown name 'Bramford' (0.54 each), both below the place gate, so the clause answers",
)
def test_a_city_for_in_which_city() -> None:
    quote = "The glassworks moved its kilns from the coast to Bramford in 1911, after a fire."
    result = answer("In which city did the glassworks put its kilns?", quote)
    assert result.kind == "span"
    assert "Bramford" in result.text
    assert len(result.text) <= 3 * len("Bramford")
    assert_verbatim(result, quote)


def test_an_organisation_for_which_institute() -> None:
    quote = "The survey of river otters was paid for by the Halvorsen Institute for Freshwater Studies."
    result = answer("Which institute paid for the survey of river otters?", quote)
    assert "Halvorsen Institute" in result.text
    assert "survey" not in result.text
    assert_verbatim(result, quote)


def test_a_date_for_when() -> None:
    quote = "The lighthouse keepers left the island on March 3, 1952, when the lamp was automated."
    result = answer("When did the lighthouse keepers leave the island?", quote)
    assert "March 3, 1952" in result.text
    assert len(result.text) <= 3 * len("March 3, 1952")


def test_an_amount_for_how_much() -> None:
    quote = "Restoring the organ in the town hall cost the council $4.2 million over six years."
    result = answer("How much did restoring the organ cost?", quote)
    assert "$4.2 million" in result.text
    assert len(result.text) <= 3 * len("$4.2 million")


def test_a_person_for_who() -> None:
    quote = "The first map of the caves was drawn in 1887 by the surveyor Edith Marlowe, using a compass."
    result = answer("Who drew the first map of the caves?", quote)
    assert "Edith Marlowe" in result.text
    assert "caves" not in result.text
    assert_verbatim(result, quote)


def test_yes_and_no_questions() -> None:
    yes = answer(
        "Was the ferry service to Karsholm restored?",
        "The ferry service to Karsholm was restored in 2003 after a long campaign.",
    )
    assert yes.kind == "yes" and yes.text.startswith("Yes, ")
    no = answer(
        "Was the ferry service to Karsholm restored?",
        "The ferry service to Karsholm was never restored, although a campaign ran for years.",
    )
    assert no.kind == "no" and no.text.startswith("No, ")
    assert "never restored" in no.text


def test_a_yes_no_question_the_sentence_does_not_settle_falls_back_to_the_clause() -> None:
    result = answer("Did the orchestra tour Japan?", "The orchestra was founded by six teachers in 1921.")
    assert result.kind == "clause"


def test_a_list_question_gets_the_items() -> None:
    quote = "The cooperative grows three crops on the terraces: barley, lentils and saffron."
    result = answer("What are the crops that the cooperative grows on the terraces?", quote)
    assert result.kind == "list"
    for item in ("barley", "lentils", "saffron"):
        assert item in result.text
    assert "terraces" not in result.text


def test_a_why_question_gets_the_reason() -> None:
    quote = "The mill closed in 1974 because the river had silted up and barges could no longer reach it."
    result = answer("Why did the mill close?", quote)
    assert result.kind == "reason"
    assert result.text.startswith("because the river had silted up")
    assert_verbatim(result, quote)


def test_question_class_reads_the_head_noun_through_wordnet() -> None:
    assert question_class("In which city was it built?").head_class == "location"
    assert question_class("Which institute ran the trial?").head_class == "group"
    assert question_class("What is the name of the donor who paid?").head == "donor"
    assert noun_class("cities") == "location"
    assert question_class("Is the bridge open?").yes_no


def test_every_dense_feature_has_a_name_and_the_shipped_model_reads_them() -> None:
    quote = "The glassworks moved its kilns from the coast to Bramford in 1911, after a fire."
    qc = question_class("In which city did the glassworks put its kilns?")
    tokens = tokens_of(quote)
    ctx = Context(qc, tokens)
    rows = feature_rows(ctx, candidates(quote, tokens, find_spans(quote)))
    assert len(rows) and rows.shape[1] == len(DENSE_NAMES)
    assert len(set(DENSE_NAMES)) == len(DENSE_NAMES)
    model = default_model()
    assert model.trees.names == DENSE_NAMES
    assert 0.0 <= model.gate < 1.0


def test_feature_rows_are_each_candidates_dense_row() -> None:
    quote = "In 1911 the glassworks moved its kilns from the coast to Bramford, Lyon and Paris, after a fire."
    for question in ("In which city did the glassworks put its kilns?", "When did the glassworks move?"):
        tokens = tokens_of(quote)
        ctx = Context(question_class(question), tokens, lambda words, to=None: [0.5] * len(words))
        cands = candidates(quote, tokens, find_spans(quote))
        question_part = question_row(ctx.qc, ctx)
        rows = feature_rows(ctx, cands)
        dense = [dense_row(ctx, c, question_part) for c in cands]
        assert rows.tolist() == dense
        assert all(type(value) is float for row in dense for value in row)
        # Each candidate has exactly one previous and one next word (one-hot), and its own kinds.
        for name in ("prev", "next"):
            columns = [i for i, n in enumerate(DENSE_NAMES) if n.startswith(name + "=")]
            assert (rows[:, columns].sum(axis=1) == 1).all()
        kinds = [i for i, n in enumerate(DENSE_NAMES) if n.startswith("kind=t:") or n == "kind=np"]
        assert rows[:, kinds].sum() > 0


def test_the_type_filter_keeps_the_candidates_of_the_type_asked_for() -> None:
    quote = "The ferry company's budget reached $4.2 million in 2019, a 7% increase on the year before."
    tokens = tokens_of(quote)
    cands = candidates(quote, tokens, find_spans(quote))

    def kept(question: str) -> set[str]:
        return {quote[c.start : c.end] for c in typed(Context(question_class(question), tokens), cands)}

    assert "7%" in kept("How fast did the ferry company's budget grow?")
    assert not any("$4.2" in text for text in kept("By how much did the ferry company's budget grow?"))
    assert "$4.2 million" in kept("How much did the ferry company spend?")
    assert not any("7%" in text for text in kept("How much did the ferry company spend?"))
    assert any("2019" in text for text in kept("When did the budget reach its peak?"))
    assert kept("What did the ferry company do?") == {quote[c.start : c.end] for c in cands}
    assert wanted(question_class("Which country is the ferry's main market?"))[0] == "place"


def test_a_sentence_without_candidates_has_no_rows_but_the_right_width() -> None:
    for sentence in ("", "."):
        tokens = tokens_of(sentence)
        rows = feature_rows(
            Context(question_class("When was it built?"), tokens, None), candidates(sentence, tokens, ())
        )
        assert rows.shape == (0, len(DENSE_NAMES))


def test_the_parts_of_a_hyphenated_question_word_are_the_questions() -> None:
    # "Varno-Tessel-Brill" names Varno, Tessel and Brill: the list of them is not the answer.
    quote = "The pact of Varno, Tessel and Brill was later joined by Osta, Kemmer and Lund."
    result = answer("Which countries joined the pact of Varno-Tessel-Brill?", quote)
    assert result.text == "Osta, Kemmer and Lund"
    assert {"varno", "tessel", "brill"} <= question_class("Talks of Varno-Tessel-Brill?").stems


def test_a_name_the_question_gives_under_another_name_counts_as_the_questions() -> None:
    # The engine tells the selector where the quote names what the question calls "the FSR".
    quote = "Meanwhile, Ardenia spent about $5.1 billion on roads, and the Free State $4.0 billion."
    start = quote.index("Free State")
    result = short_answer(
        "How much does the FSR spend on roads?",
        quote,
        find_spans(quote),
        matched=[(start, start + len("Free State"))],
    )
    assert result.text == "$4.0 billion"
    assert_verbatim(result, quote)


def test_a_comparison_or_a_choice_gets_no_yes_or_no() -> None:
    # The question's words all stand in the quote, which settles neither question.
    quote = "Varno spent $5 billion on roads in 2023, and Tessel spent $4 billion on roads."
    comparison, choice = "Did Tessel spend more on roads than Varno?", "Did Tessel or Varno spend $5 billion?"
    for question in (comparison, choice):
        assert answer(question, quote).kind not in ("yes", "no"), question
    assert answer("Did Tessel spend $4 billion on roads?", quote).kind == "yes"


def test_a_list_a_word_introduces_keeps_its_long_items() -> None:
    quote = (
        "Several problems, including the collapse of the old stone bridge, rising water in the harbour "
        "and the boatyards, staff shortages, and delays in spare-part deliveries, forced the ferry company "
        "to cut its services."
    )
    result = answer("What problems forced the ferry company to cut its services?", quote)
    assert result.kind == "list"
    for item in (
        "the collapse of the old stone bridge",
        "staff shortages",
        "delays in spare-part deliveries",
    ):
        assert item in result.text
    assert "ferry" not in result.text


def test_a_plural_head_noun_is_not_read_past_its_verb() -> None:
    qc = question_class("What crises call for closer cooperation?")
    assert (qc.head, qc.plural, qc.wants_list) == ("crises", True, True)
    assert noun_class("crises") == noun_class("crisis") is not None
    assert noun_class("cases") == noun_class("case")
    # A compound's modifier is singular: the last noun stays the head.
    assert question_class("What target percentage did they set?").head == "percentage"


def test_the_clause_fallback_drops_the_question_words_it_opens_and_closes_with() -> None:
    quote = "The university's main library is the Regenstein Library, which opened in 1970."
    assert without_echo("What is the university's main library?", quote.split(",")[0]) == (
        "is the Regenstein Library"
    )
    # A name the question shares may be the answer's: never cut inside it.
    assert without_echo(
        "What is the glacial valley known as?", "the glacial valley known as the Rhine Valley"
    ) == ("as the Rhine Valley")
    # The end is cut only where a function word opens the question's words.
    assert without_echo(
        "How much was spent on arms in 2023?", "arms spending reached $2.2 trillion in 2023"
    ) == ("reached $2.2 trillion")
    assert without_echo("What equates to squaring an integer?", "it reduces to multiplying two integers") == (
        "it reduces to multiplying two integers"
    )
    # Nothing but the question's words: the clause as it was.
    assert without_echo("What did the council decide?", "the council decided") == "the council decided"
