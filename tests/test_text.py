"""Sentence splitting and word normalisation (bot.engine.text)."""

from __future__ import annotations

import pytest

from bot.engine.text import (
    MAX_RESPELLED,
    common_spelling,
    content_stems,
    fold,
    respell,
    split_sentences,
    tokenize,
)


def sentences(paragraph: str) -> list[str]:
    """The sentences of ``paragraph``, checking on the way that every offset pair is sane."""
    spans = split_sentences(paragraph)
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(paragraph)
        assert paragraph[start:end] == paragraph[start:end].strip()
        previous_end = end
    # Nothing but white space is left out between the sentences.
    covered = "".join(paragraph[s:e] for s, e in spans)
    assert "".join(covered.split()) == "".join(paragraph.split())
    return [paragraph[s:e] for s, e in spans]


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        (
            "Global spending reached $2.2 trillion in 2023. China spent about $307.8 billion. It grew.",
            [
                "Global spending reached $2.2 trillion in 2023.",
                "China spent about $307.8 billion.",
                "It grew.",
            ],
        ),
        (
            "The summit will take place on May 26–27, 2024, five years after the last one. Few expect much.",
            [
                "The summit will take place on May 26–27, 2024, five years after the last one.",
                "Few expect much.",
            ],
        ),
        (
            "They held a drill named “Freedom Edges” in the East China Sea. China’s reply was sharp.",
            ["They held a drill named “Freedom Edges” in the East China Sea.", "China’s reply was sharp."],
        ),
        (
            "Seoul may weigh this when dealing with Washington.China anticipates pushback from both.",
            ["Seoul may weigh this when dealing with Washington.", "China anticipates pushback from both."],
        ),
        (
            "Dr. Smith met the U.S. envoy in Oslo. J. K. Rowling wrote novels, e.g. the Potter books. "
            "She rested.",
            [
                "Dr. Smith met the U.S. envoy in Oslo.",
                "J. K. Rowling wrote novels, e.g. the Potter books.",
                "She rested.",
            ],
        ),
        (
            "He said, “We will not back down.” Then he left the room.",
            ["He said, “We will not back down.”", "Then he left the room."],
        ),
        (
            'The banner read "Peace now." Police removed it.',
            ['The banner read "Peace now."', "Police removed it."],
        ),
        (
            "It is not known if L is contained in P. Again, many classes lie between them. "
            "Biologist E. O. Wilson and Alyssa A. Goodman teach (max. 10 students).",
            [
                "It is not known if L is contained in P.",
                "Again, many classes lie between them.",
                "Biologist E. O. Wilson and Alyssa A. Goodman teach (max. 10 students).",
            ],
        ),
        ("Is it true? Yes! It is.", ["Is it true?", "Yes!", "It is."]),
        ("One sentence without a final stop", ["One sentence without a final stop"]),
    ],
)
def test_split_sentences(paragraph: str, expected: list[str]) -> None:
    assert sentences(paragraph) == expected


def test_offsets_slice_the_paragraph_verbatim_with_odd_spacing() -> None:
    paragraph = "  First one.   Second “quoted” one!\tThird one?  "
    spans = split_sentences(paragraph)
    assert [paragraph[s:e] for s, e in spans] == ["First one.", "Second “quoted” one!", "Third one?"]


def test_blank_paragraph_has_no_sentences() -> None:
    assert split_sentences("") == []
    assert split_sentences("   \t ") == []


def test_lower_case_after_a_full_stop_does_not_start_a_sentence() -> None:
    # "approx. three" and "vs. the" are one sentence each.
    paragraph = "It took approx. three weeks. The final was Japan vs. the US."
    assert sentences(paragraph) == ["It took approx. three weeks.", "The final was Japan vs. the US."]


def stems(text: str) -> list[str]:
    return [t.stem for t in tokenize(text)]


@pytest.mark.parametrize(
    ("british", "american"),
    [
        ("defence", "defense"),
        ("organise", "organize"),
        ("organised", "organized"),
        ("colour", "color"),
        ("programme", "program"),
        ("manoeuvres", "maneuvers"),
        ("centre", "center"),
        ("analyse", "analyze"),
    ],
)
def test_british_and_american_spellings_meet(british: str, american: str) -> None:
    assert stems(british) == stems(american)
    assert stems(british.capitalize()) == stems(american)


@pytest.mark.parametrize(
    ("irregular", "base"),
    [
        ("spent", "spend"),
        ("built", "build"),
        ("fought", "fight"),
        ("won", "win"),
        # Irregular forms whose base the stemmer itself shortens ("country" -> "countri").
        ("countries", "country"),
        ("largest", "large"),
        ("left", "leave"),
        ("became", "become"),
        ("chose", "choose"),
    ],
)
def test_irregular_forms_meet_their_base(irregular: str, base: str) -> None:
    assert stems(irregular) == stems(base)


def test_different_words_stay_apart() -> None:
    assert stems("defence") != stems("offence")
    assert stems("spent") != stems("sent")


@pytest.mark.parametrize("possessive", ["China's", "China’s", "China'"])
def test_possessives_meet_the_name(possessive: str) -> None:
    assert stems(possessive) == stems("China")


def test_us_written_with_or_without_dots_is_one_word() -> None:
    assert stems("U.S.") == stems("US") == stems("us")
    [token] = tokenize("the U.S. Navy")[1:2]
    assert token.surface == "U.S."


def test_tokens_carry_offsets_into_the_original_text() -> None:
    text = "China’s “Freedom Edges” drill cost $2.2 trillion—or so."
    for token in tokenize(text):
        assert fold(text[token.start : token.end]) == token.surface


def test_numbers_keep_their_decimals_and_drop_thousands_separators() -> None:
    assert "307.8" in stems("$307.8 billion")
    assert stems("1,200") == stems("1200")
    assert stems("48.0") == stems("48")
    assert stems("307.8") != stems("307")


def test_hyphenated_compounds_are_split() -> None:
    assert stems("US-Japan") == stems("US Japan")


def test_content_stems_drop_stop_words() -> None:
    assert content_stems("What is the defence budget of Japan?") == stems("defence budget Japan")


def test_fold_keeps_length() -> None:
    text = "“Quote” — it’s 26–27\u00a0May"
    assert len(fold(text)) == len(text)
    assert fold(text) == '"Quote" - it\'s 26-27 May'


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("budjet", "budget"),
        ("militray", "military"),
        ("goverment", "government"),
        ("recieve", "receive"),
        ("mnay", "many"),  # a swap, not "may" with a letter more
    ],
)
def test_a_typo_of_a_frequent_word_is_read_as_that_word(typo: str, meant: str) -> None:
    assert common_spelling(typo) == meant


def test_respelling_leaves_frequent_words_names_and_words_the_articles_use() -> None:
    question = "how much is the Kwangju budjet for interoperability and vessan drills"
    assert respell(question, keep=lambda word: word == "vessan") == (
        "how much is the Kwangju budget for interoperability and vessan drills"
    )
    assert common_spelling("interoperability") is None  # nothing frequent is that close: kept as written


def test_respelling_looks_up_a_bounded_number_of_words() -> None:
    gibberish = " ".join(["qzxv", "wplk", "mnay"] * 10)
    respelled = respell(gibberish, keep=lambda word: False).split()
    assert respelled[:MAX_RESPELLED] != gibberish.split()[:MAX_RESPELLED]  # the first ones were looked up
    assert respelled[MAX_RESPELLED:] == gibberish.split()[MAX_RESPELLED:]
