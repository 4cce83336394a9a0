"""The engine over the committed index and over articles it has never seen.

Expected answers are what the article text says (the treaty "was signed" "In 1951"), never copied
engine output: each answer must hold the figure, date or name the article gives.
"""

from __future__ import annotations

import multiprocessing
import pickle
import re
import threading
from pathlib import Path

import numpy as np
import pytest
import yaml

from bot.engine.answers import name_given
from bot.engine.articles import Article, load_articles
from bot.engine.build import build_index
from bot.engine.engine import Engine
from bot.engine.facts import load_facts_files, load_vocabulary
from bot.engine.matching import MAX_PROXIMITY, Analyzer, FactIndex
from bot.engine.model import Answer
from bot.engine.text import common_english, fold
from bot.errors import IndexMissingError
from tests.support.facts_files import copy_index, curate, fact_with, move_first_fact_to_end

MAX_ANSWER_WORDS = 35

# Questions the hand-tuned engine got right and engine v2 (learned on SQuAD, issue 14) does not:
# strict, so each one that starts passing says so.
V2_MISS = pytest.mark.xfail(strict=True, reason="engine v2 regression (issue 14): learned models miss this")
# Short answers the covering clause got right and the span selector (trained and gated by
# cross-validation on SQuAD, where the clause is rarely within 3x the answer) gets wrong.
SPAN_MISS = pytest.mark.xfail(
    strict=True, reason="short-answer selector (issue 14): a precise span, but not the one asked for"
)


def _values(case: object) -> tuple:
    """A parametrize case's values, whether a plain tuple or a ``pytest.param``."""
    return tuple(getattr(case, "values", case))


@pytest.fixture(scope="module")
def seed_articles(repo_root: Path) -> dict[str, Article]:
    return {a.stem: a for a in load_articles(repo_root / "seeds")}


def _squash(text: str) -> str:
    return " ".join(re.sub(r"[()]", " ", fold(text)).lower().split()).rstrip(".")


def assert_grounded(engine: Engine, answer: Answer, articles: dict[str, Article]) -> None:
    """The answer quotes its article word for word and is a short piece of that quote."""
    assert answer.answered and answer.answer and answer.quote and answer.source
    article = articles[answer.source.article]
    assert answer.source.title == article.title
    paragraph = article.paragraphs[answer.source.paragraph - 1]
    assert answer.quote in paragraph
    assert 0 < len(answer.answer.split()) <= MAX_ANSWER_WORDS
    assert answer.answer.strip() != paragraph.strip()
    fact = engine.fact(answer.fact_id or "")
    assert fact is not None and fact.quote == answer.quote
    if answer.answer != fact.answer:  # a curator's answer may say it in other words
        assert _squash(answer.answer) in _squash(answer.quote)
    assert 0.0 < answer.confidence <= 1.0
    assert answer.suggestions == ()


# (question, a string the answer must hold, because the article says so)
CHAT_QUESTIONS = [
    # As written in the article.
    ("When was the US-Japan Security Treaty signed?", "1951"),
    ("In what year was the US-South Korea Mutual Defense Treaty signed?", "1953"),
    ("How many joint military exercises did the three countries conduct in 2023?", "25"),
    ("What share of global military spending did the Asia-Pacific region account for?", "28%"),
    # Typos.
    ("chinas militray budjet", "307.8"),
    ("how much did chna spend on its militery", "307.8"),
    # Lower case, no punctuation.
    ("when was the us japan security treaty signed", "1951"),
    ("how much did japan spend on defense", "56.8"),
    # Keywords only.
    ("japan defence spending", "56.8"),
    ("global military spending 2023", "2.2 trillion"),
    # Aliases.
    ("How much does the ROK spend on its military?", "48.0"),
    # A question that names only an alias asks what it stands for: the other name is the answer.
    ("who is sipri", "Stockholm International Peace Research Institute"),
    ("what is the defence expenditure of seoul", "48.0"),
    ("how much did beijing spend on its military", "307.8"),
    ("Tokyo defence budget", "56.8"),
    ("dprk reaction to freedom edge drills", "condemnation"),
    ("Who condemned the Freedom Edges exercise?", "North Korea"),
    # British spelling.
    ("What was Japan's defence budget?", "56.8"),
    ("global defence expenditure 2023", "2.2 trillion"),
    # Paraphrase: drills and manoeuvres for exercises.
    ("How many joint drills were held in 2023?", "25"),
    pytest.param("What kinds of manoeuvres did the three countries carry out?", "naval", marks=V2_MISS),
    # Another article.
    ("When will the trilateral summit take place?", "May 26"),
    ("When did the Six-Party Talks have their last round?", "2009"),
]


@pytest.mark.parametrize(("question", "expected"), CHAT_QUESTIONS)
def test_chat_style_questions_get_grounded_answers(
    seed_engine: Engine, seed_articles: dict[str, Article], question: str, expected: str
) -> None:
    answer = seed_engine.ask(question)
    assert answer.answered, f"declined {question!r}; suggested {answer.suggestions}"
    assert fold(expected).lower() in fold(answer.answer).lower(), answer.answer
    assert_grounded(seed_engine, answer, seed_articles)


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("How much does Seoul spend on defence?", "How much does South Korea spend on defence?"),
        ("How much does the ROK spend on defence?", "How much does South Korea spend on defence?"),
        ("What did the DPRK condemn?", "What did North Korea condemn?"),
        ("What threat does the DPRK pose?", "What threat does North Korea pose?"),
        ("What threat does Pyongyang pose?", "What threat does North Korea pose?"),
        (
            "How much did Beijing spend on the military in 2023?",
            "How much did China spend on the military in 2023?",
        ),
        ("How much did Tokyo spend on defense?", "How much did Japan spend on defense?"),
    ],
)
def test_an_alias_finds_the_same_fact_as_the_name(seed_engine: Engine, alias: str, name: str) -> None:
    by_alias, by_name = seed_engine.ask(alias), seed_engine.ask(name)
    assert by_name.answered
    assert by_alias.answered
    assert by_alias.fact_id == by_name.fact_id


@pytest.mark.parametrize(
    ("british", "american"),
    [
        ("How much did Japan spend on defence?", "How much did Japan spend on defense?"),
        ("What kinds of manoeuvres did they run?", "What kinds of maneuvers did they run?"),
    ],
)
def test_british_and_american_questions_get_the_same_answer(
    seed_engine: Engine, british: str, american: str
) -> None:
    a, b = seed_engine.ask(british), seed_engine.ask(american)
    assert a.answered and (a.answer, a.fact_id) == (b.answer, b.fact_id)


@pytest.mark.parametrize(
    "question",
    [
        "What is India's defence budget?",
        "What's the weather like in Tokyo?",
        pytest.param("Who won the 2024 US election?", marks=V2_MISS),
        "When was NATO founded?",
        "How much did Germany spend on defense in 2023?",
        pytest.param("How much did Japan spend on education?", marks=V2_MISS),
        "What is the capital of Australia?",
    ],
)
def test_questions_about_something_else_are_declined_with_suggestions(
    seed_engine: Engine, question: str
) -> None:
    answer = seed_engine.ask(question)
    assert not answer.answered, f"answered {question!r} with {answer.answer!r}"
    assert answer.answer is None and answer.quote is None and answer.source is None
    assert 1 <= len(answer.suggestions) <= 3
    assert len({s.lower() for s in answer.suggestions}) == len(answer.suggestions)
    assert all(s.strip() for s in answer.suggestions)


@pytest.mark.parametrize("question", ["", "   ", "?", "?!?", "...", "\n\t", "👍"])
def test_empty_or_punctuation_only_questions_are_declined_gracefully(
    seed_engine: Engine, question: str
) -> None:
    answer = seed_engine.ask(question)
    assert not answer.answered
    assert 1 <= len(answer.suggestions) <= 3


@pytest.mark.parametrize(
    "question",
    [
        "When was the US-Japan Security Treaty signed? " * 250,
        "x" * 10_000,
        " ".join(f"word{n}" for n in range(2_000))[:10_000],
        "a" * 5_000 + " China " + "b" * 5_000,
    ],
    ids=["repeated", "one-long-word", "many-words", "name-inside"],
)
def test_a_ten_thousand_character_question_does_not_crash(seed_engine: Engine, question: str) -> None:
    assert len(question) >= 9_000
    answer = seed_engine.ask(question)
    assert isinstance(answer, Answer)
    if answer.answered:
        assert answer.quote and len(answer.answer.split()) <= MAX_ANSWER_WORDS
    else:
        assert 1 <= len(answer.suggestions) <= 3


def test_answers_are_deterministic(seed_engine: Engine, tmp_path: Path) -> None:
    questions = [_values(case)[0] for case in CHAT_QUESTIONS] + ["When was NATO founded?", ""]
    first = [seed_engine.ask(q).to_json() for q in questions]
    assert [seed_engine.ask(q).to_json() for q in questions] == first
    # A copy of the index, compiled afresh (no cache yet) and then read from its cache, agrees.
    seeds, facts = copy_index(tmp_path)
    assert [Engine.load(facts, seeds).ask(q).to_json() for q in questions] == first
    assert any((tmp_path / ".factbot-cache").iterdir())
    assert [Engine.load(facts, seeds).ask(q).to_json() for q in questions] == first


def test_ask_is_safe_from_several_threads(seed_engine: Engine, tmp_path: Path) -> None:
    questions = [_values(case)[0] for case in CHAT_QUESTIONS] + ["What is India's defence budget?", "?"]
    expected = {q: seed_engine.ask(q) for q in questions}
    seeds, facts = copy_index(tmp_path)
    shared = Engine.load(facts, seeds)  # cold: its typo corrections are not cached yet
    start = threading.Barrier(8)
    results: list[list[tuple[str, Answer]]] = [[] for _ in range(8)]
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            start.wait()
            for i in range(50):
                question = questions[(n * 7 + i) % len(questions)]
                results[n].append((question, shared.ask(question)))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(len(r) for r in results) == 400
    for question, answer in (pair for r in results for pair in r):
        assert answer == expected[question]


def test_a_forked_process_embeds_questions_on_its_own_thread(seed_engine: Engine) -> None:
    """The question's embedding runs on a worker thread; a child forked after the parent has used
    it (as a server forking workers after loading would) must not wait on the parent's thread."""
    question = "What was China's military spending in 2023?"
    expected = seed_engine.ask(question)  # the parent's embedding thread now exists
    assert seed_engine.semantic
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    child = context.Process(target=lambda: answers.put(seed_engine.ask(question).to_json()))
    child.start()
    try:
        assert answers.get(timeout=60) == expected.to_json()
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()


def test_sources_and_articles(seed_engine: Engine, seed_articles: dict[str, Article]) -> None:
    assert {a.stem: a.title for a in seed_engine.articles()} == {s: a.title for s, a in seed_articles.items()}
    assert sum(a.fact_count for a in seed_engine.articles()) == len(seed_engine.facts())
    for fact in seed_engine.facts():
        source = seed_engine.source(fact)
        assert source.article == fact.article
        assert fact.quote in seed_articles[fact.article].paragraphs[source.paragraph - 1]
    topics = seed_engine.topics(5)
    assert 1 <= len(topics) <= 5 and len(set(topics)) == len(topics)


def test_an_empty_facts_directory_says_to_build(tmp_path: Path) -> None:
    (tmp_path / "facts").mkdir()
    with pytest.raises(IndexMissingError) as error:
        Engine.load(tmp_path / "facts", tmp_path / "seeds")
    assert "factbot build" in str(error.value)


# -- curated answers and the index cache ----------------------------------------------------------

TREATY = "When was the US-Japan Security Treaty signed?"


def test_a_curated_answer_is_used_when_present(tmp_path: Path) -> None:
    seeds, facts = copy_index(tmp_path)
    [path] = [p for p in facts.glob("*.yaml") if "US-Japan Security Treaty was signed" in p.read_text()]
    fact = fact_with(path, "US-Japan Security Treaty was signed")
    before = Engine.load(facts, seeds).ask(TREATY)
    assert before.fact_id == fact["id"] and "1951" in before.answer
    curate(path, fact["id"], answer="Signed in 1951, it lets US forces stay in Japan")
    after = Engine.load(facts, seeds).ask(TREATY)
    assert after.answer == "Signed in 1951, it lets US forces stay in Japan"
    assert after.quote == fact["quote"]


def test_a_curated_answer_does_not_answer_why_or_yes_or_no(tmp_path: Path) -> None:
    seeds, facts = copy_index(tmp_path)
    [path] = [p for p in facts.glob("*.yaml") if "five years after the last one" in p.read_text()]
    fact = fact_with(path, "five years after the last one")
    assert fact["answer"]  # the seed index curates this fact's answer (a date)
    engine = Engine.load(facts, seeds)
    for question in ("Why was there no summit since 2019?", "Will the summit take place in 2024?"):
        answer = engine.ask(question)
        assert answer.fact_id == fact["id"], question
        assert answer.answer != fact["answer"], question
    assert engine.ask("When will the summit sessions take place?").answer == fact["answer"]


def test_a_curated_question_asked_word_for_word_is_answered_from_its_fact(tmp_path: Path) -> None:
    seeds, facts = copy_index(tmp_path)
    [path] = [p for p in facts.glob("*.yaml") if "Article 9" in p.read_text()]
    fact = fact_with(path, "Article 9")
    question = "Which clause makes Tokyo a pacifist state?"
    assert Engine.load(facts, seeds).ask(question).fact_id != fact["id"]
    curate(path, fact["id"], questions=[question])
    assert Engine.load(facts, seeds).ask(question).fact_id == fact["id"]


def test_the_index_cache_is_rebuilt_when_a_facts_file_changes(tmp_path: Path) -> None:
    seeds, facts = copy_index(tmp_path)
    cache = tmp_path / ".factbot-cache"
    [path] = [p for p in facts.glob("*.yaml") if "US-Japan Security Treaty was signed" in p.read_text()]
    fact = fact_with(path, "US-Japan Security Treaty was signed")
    assert "1951" in Engine.load(facts, seeds).ask(TREATY).answer
    [first_cache] = cache.glob("index-*.pickle")
    # Loaded from the cache, the engine answers the same.
    assert "1951" in Engine.load(facts, seeds).ask(TREATY).answer
    curate(path, fact["id"], answer="In 1951 (curated)")
    assert Engine.load(facts, seeds).ask(TREATY).answer == "In 1951 (curated)"
    [second_cache] = cache.glob("index-*.pickle")
    assert second_cache != first_cache
    curate(path, fact["id"], hidden=True)
    reloaded = Engine.load(facts, seeds)
    assert reloaded.fact(fact["id"]) is None
    assert reloaded.ask(TREATY).quote != fact["quote"]


def test_the_index_cache_follows_the_aliases_file(tmp_path: Path) -> None:
    seeds, facts = copy_index(tmp_path)
    question = "How much did the Middle Kingdom spend on its military?"
    assert not Engine.load(facts, seeds).ask(question).answered
    aliases = facts / "aliases.yaml"
    text = aliases.read_text(encoding="utf-8")
    aliases.write_text(text.replace("[China, PRC,", "[China, Middle Kingdom, PRC,"), encoding="utf-8")
    answer = Engine.load(facts, seeds).ask(question)
    assert answer.answered and "307.8" in answer.answer


def test_an_unreadable_cache_is_replaced(tmp_path: Path) -> None:
    seeds, facts = copy_index(tmp_path)
    Engine.load(facts, seeds)
    [cache] = (tmp_path / ".factbot-cache").glob("index-*.pickle")
    cache.write_bytes(b"not a pickle")
    assert "1951" in Engine.load(facts, seeds).ask(TREATY).answer


# -- an article the engine has never seen ---------------------------------------------------------

LANTERNS = """\
The Harbourvale Lantern Festival was founded in 1987 by the sculptor Mirela Oskarsdottir. It began in the coastal town of Port Vessan, where her workshop stood.

The festival takes place every year on October 14–15, when about 40,000 visitors crowd the harbour. Local bakers sell saffron buns along the quay.

In 2022, the town council spent $3.4 million on a new pier for the lantern boats. Ticket sales rose by 12% in 2023, the council said.

The largest lantern, called “The Grey Heron”, weighs 310 kilograms and was built by apprentices from the Vessan School of Crafts. It took them two winters.
"""  # noqa: E501 - one paragraph per line, as articles are written


def index_of_one_article(root: Path, stem: str, text: str, title: str | None = None) -> Path:
    """Save ``text`` as root/seeds/<stem>.txt (.md with ``title`` in its front matter, if given)
    and build its index; the facts file's path."""
    (root / "seeds").mkdir()
    if title is None:
        (root / "seeds" / f"{stem}.txt").write_text(text, encoding="utf-8")
    else:
        (root / "seeds" / f"{stem}.md").write_text(f'---\ntitle: "{title}"\n---\n{text}', "utf-8")
    report = build_index(root / "seeds", root / "facts")
    assert report.articles == 1
    [path] = sorted((root / "facts").glob("*.yaml"))
    return path


def engine_of_one_article(tmp_path_factory: pytest.TempPathFactory, stem: str, text: str) -> Engine:
    """An engine over a fresh index of the single article ``text``."""
    root = tmp_path_factory.mktemp(stem)
    index_of_one_article(root, stem, text)
    return Engine.load(root / "facts", root / "seeds")


@pytest.fixture(scope="module")
def lantern_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return engine_of_one_article(tmp_path_factory, "harbourvale_lantern_festival", LANTERNS)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("When was the Harbourvale Lantern Festival founded?", "1987"),
        ("In what year was the lantern festival founded?", "1987"),
        ("Who founded the lantern festival?", "Mirela Oskarsdottir"),
        ("In which town did the festival begin?", "Port Vessan"),
        ("How much did the council spend on the new pier?", "$3.4 million"),
        ("How many visitors come to the festival?", "40,000"),
        ("By how much did ticket sales rise in 2023?", "12%"),
        ("What are the dates of the festival?", "October 14–15"),
        ("What is the largest lantern called?", "Grey Heron"),
        ("How many kilograms does the largest lantern weigh?", "310"),
        ("Who built the largest lantern?", "Vessan School of Crafts"),
        # The bagged selector is sure of "Local", the sentence's first word.
        pytest.param("what do bakers sell on the quay", "saffron buns", marks=SPAN_MISS),
    ],
)
def test_a_new_article_answers_by_type(lantern_engine: Engine, question: str, expected: str) -> None:
    answer = lantern_engine.ask(question)
    assert answer.answered, f"declined {question!r}"
    assert expected in answer.answer
    assert answer.source and answer.source.article == "harbourvale_lantern_festival"
    assert answer.source.title == "Harbourvale lantern festival"
    assert answer.quote in LANTERNS.splitlines()[2 * (answer.source.paragraph - 1)]
    assert _squash(answer.answer) in _squash(answer.quote)


@pytest.mark.parametrize(
    "question",
    [
        "What is the population of Mars?",
        "When was NATO founded?",
        "Who won the 2024 US election?",
        "What is China's defence budget?",
        "Who founded the jazz festival in Montreux?",
    ],
)
def test_a_new_article_declines_what_it_does_not_say(lantern_engine: Engine, question: str) -> None:
    answer = lantern_engine.ask(question)
    assert not answer.answered, f"answered {question!r} with {answer.answer!r}"
    assert 1 <= len(answer.suggestions) <= 3


def test_evidence_stays_within_the_bounds_the_reranking_relies_on(lantern_engine: Engine) -> None:
    """Coverage is a share of the question's weight; proximity counts a word between two others twice,
    so three words in a row pass 1, but never MAX_PROXIMITY (re-ranking stops early on these bounds)."""
    index = lantern_engine._index
    query = index.query_terms("Vessan School of Crafts")
    [best, *others] = index.search(query)
    evidence = index.evidence(best, query, None)
    assert "Vessan School of Crafts" in index.quote(best.index)
    assert evidence.coverage == pytest.approx(1.0)
    assert 1.0 < evidence.proximity <= MAX_PROXIMITY
    for ranked in others:
        other = index.evidence(ranked, query, None)
        assert 0.0 <= other.coverage <= other.context_coverage <= 1.0
        assert 0.0 <= other.proximity <= MAX_PROXIMITY


# -- known wrong answers --------------------------------------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="engine bug: one unknown noun in an otherwise matching question is not enough to decline; "
    "remove this marker once these decline",
)
@pytest.mark.parametrize(
    "question",
    [
        "When was the US-Japan Security Treaty revised?",
        "Who is the president of South Korea?",
    ],
)
def test_near_miss_questions_are_declined(seed_engine: Engine, question: str) -> None:
    answer = seed_engine.ask(question)
    assert not answer.answered, f"answered {question!r} with {answer.answer!r}"


@pytest.mark.xfail(strict=True, reason="engine bug: answers the pier's cost for an airport it never mentions")
def test_a_new_article_declines_a_near_miss(lantern_engine: Engine) -> None:
    answer = lantern_engine.ask("How much did the council spend on the new airport?")
    assert not answer.answered, answer.answer


# -- what an article leaves implicit --------------------------------------------------------------

MILL = """\
The Ostbrook watermill was rebuilt in 1842 after a flood carried away the old wheel. It was designed by Tomas Haldane, an engineer from the north.

The new watermill ground twice as much grain as the old one. Its six-blade wheel turned day and night at harvest, and three of its four millstones were cut in Wales.
"""  # noqa: E501 - one paragraph per line, as articles are written


@pytest.fixture(scope="module")
def mill_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return engine_of_one_article(tmp_path_factory, "ostbrook_watermill", MILL)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # "It was designed by ..." is about the watermill the sentence before names.
        ("Who designed the Ostbrook watermill?", "Tomas Haldane"),
        # Numbers written in words answer "how many" and "how much".
        ("How many blades did the wheel of the watermill have?", "six"),
        pytest.param("How much grain did the new watermill grind?", "twice", marks=SPAN_MISS),
        # "3" in the question is the article's "three".
        ("Where were 3 of the millstones cut?", "Wales"),
    ],
)
def test_implicit_subjects_and_numbers_in_words(mill_engine: Engine, question: str, expected: str) -> None:
    answer = mill_engine.ask(question)
    assert answer.answered, f"declined {question!r}"
    assert expected in answer.answer


GLASS = """\
Glassblowers at the Ternholm works cool each finished vase slowly in a second oven over two days, so that strain in the glass can relax. This process is called annealing, and it keeps the vases from cracking.

The red glass of the works takes its colour from a pinch of gold chloride in the melt. Its makers are named after the village of Ternholm, where the first furnace was lit.

The company was founded by Jon Ternholm in 1761 and still trades from the village. It is now known as Ternholm Glass.
"""  # noqa: E501 - one paragraph per line, as articles are written


@pytest.fixture(scope="module")
def glass_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return engine_of_one_article(tmp_path_factory, "ternholm_glass", GLASS)


@pytest.mark.parametrize(
    "question",
    [
        # The question describes what one sentence says; the next one names it.
        "What is the slow cooling of a finished vase in a second oven called?",
        "what is it called when glassblowers cool a vase slowly in a second oven",
        "What process lets strain in the glass relax?",
        # The naming sentence itself is the best match.
        "What is the process that keeps the vases from cracking called?",
    ],
)
def test_a_sentence_that_names_what_the_question_describes_gives_the_name(
    glass_engine: Engine, question: str
) -> None:
    answer = glass_engine.ask(question)
    assert answer.answered, f"declined {question!r}"
    assert answer.answer == "annealing"
    assert answer.quote == "This process is called annealing, and it keeps the vases from cracking."
    assert answer.source and answer.source.paragraph == 1


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("When was the company founded by Jon Ternholm, now known as Ternholm Glass?", "1761"),
        ("Who founded the company now called Ternholm Glass?", "Jon Ternholm"),
        # "two" or "two days", never "annealing".
        ("How many days do glassblowers cool a vase in the process known as annealing?", "two"),
        ("What village does the company now known as Ternholm Glass trade from?", "village"),
    ],
)
def test_a_name_in_a_question_about_something_else_is_not_the_answer(
    glass_engine: Engine, question: str, expected: str
) -> None:
    """ "now known as Ternholm Glass" describes the company; the question asks a date, a person, a count."""
    answer = glass_engine.ask(question)
    assert answer.answered, f"declined {question!r}"
    assert expected in answer.answer
    assert expected in answer.quote


def test_a_curated_answer_is_kept_over_the_next_sentences_name(tmp_path: Path) -> None:
    path = index_of_one_article(tmp_path, "ternholm_glass", GLASS)
    cooling = fact_with(path, "cool each finished vase")
    curate(path, cooling["id"], answer="slow cooling over two days")
    answer = Engine.load(tmp_path / "facts", tmp_path / "seeds").ask(
        "What is the slow cooling of a finished vase in a second oven called?"
    )
    assert answer.answer == "slow cooling over two days"
    assert answer.fact_id == cooling["id"]


@pytest.mark.parametrize(
    ("sentence", "name"),
    [
        ("This is called antigenic variation.", "antigenic variation"),
        ("Such problems are often called NP-intermediate problems.", "NP-intermediate problems"),
        ("These are called cullet and are melted again.", "cullet"),
        ("This is called annealing because it relieves strain.", "annealing"),
        ("It is called “Freedom Edges.”", "Freedom Edges"),
        # Where a name comes from, or a verb with "called": no name.
        ("They are named after the village of Ternholm.", None),
        ("They are named  after the village.", None),
        ("They were named for their star shape.", None),
        ("They were called to court in 1899 over unpaid taxes.", None),
        ("That meeting was called off.", None),
        ("The process is called annealing.", None),  # not about the sentence before
    ],
)
def test_the_name_a_sentence_gives(sentence: str, name: str | None) -> None:
    assert name_given("What are they called?", sentence) == name
    if name is not None:
        assert name in sentence
        assert name_given("When were they made?", sentence) is None


def test_a_capitalised_unknown_word_is_a_name_not_a_typo(lantern_engine: Engine) -> None:
    # "Ticker" mid-sentence names something the article never mentions; "ticker" is a typo.
    assert not lantern_engine.ask("How much did Ticker sales rise?").answered
    assert "12%" in lantern_engine.ask("How much did ticker sales rise?").answer
    # In a title-cased question the capitals say nothing: "Lanterm" is a typo, and the fact is found.
    assert "Vessan School of Crafts" in (lantern_engine.ask("Who Built The Largest Lanterm?").quote or "")


def test_a_fact_moved_to_the_end_of_its_file_still_joins_its_paragraph(
    tmp_path: Path, repo_root: Path, seed_engine: Engine
) -> None:
    """A fact a curator appends at the end of the list still joins its paragraph's neighbours."""
    _, facts = copy_index(tmp_path)
    for path in sorted(facts.glob("0*.yaml")):
        move_first_fact_to_end(path)
    moved = Engine.load(facts, tmp_path / "seeds")
    questions = [item["q"] for item in yaml.safe_load((repo_root / "tests" / "questions.yaml").read_text())]
    for question in questions:
        # The same answer; the confidence may move a little, as the moved sentence now follows
        # its paragraph's last one rather than the one before it in the article.
        got, expected = moved.ask(question), seed_engine.ask(question)
        assert (got.answered, got.quote, got.answer) == (expected.answered, expected.quote, expected.answer)


def test_stored_term_positions_are_what_a_fresh_analysis_gives(repo_root: Path) -> None:
    """Answers are cut from stored term positions; they must survive the index cache's pickling."""
    files = load_facts_files(repo_root / "facts")
    facts = [f for file in files for f in file.facts if not f.hidden]
    built = FactIndex(facts, Analyzer(load_vocabulary(repo_root / "facts")))
    index = pickle.loads(pickle.dumps(built, protocol=pickle.HIGHEST_PROTOCOL))
    # numpy's own dtype objects, not unpickled copies: np.add.at's fast path tests identity.
    assert index.sentence_postings.docs.dtype is np.dtype(np.int32)
    assert index.sentence_postings.weights.dtype is np.dtype(np.float32)
    assert index.terms.dtype is np.dtype(np.int32)
    for i, fact in enumerate(facts):
        stored = [
            (t.key, t.start, t.end, t.capitalized, fact.quote[t.start : t.end])
            for t in index.term_positions(i)
        ]
        fresh = [(t.key, t.start, t.end, t.capitalized, t.surface) for t in index.analyzer.terms(fact.quote)]
        assert [s[:4] for s in stored] == [f[:4] for f in fresh], fact.id
        assert all(t.surface == fact.quote[t.start : t.end] for t in index.term_positions(i))


ORCHARDS = """\
The orchards around Velden grow nearly all of the valley's cherries, on about 3,000 hectares of terraced slopes. Most Velden cherries are exported to Norway by sea, in cooled containers.

Picking starts in late June and lasts five weeks. The pickers are mostly students from the coastal towns.

The Velden cooperative was founded in 1952 by eleven growers. It now sells jam and cherry brandy as well as fruit.
"""  # noqa: E501 - one paragraph per line, as articles are written


@pytest.fixture(scope="module")
def orchard_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return engine_of_one_article(tmp_path_factory, "velden_orchards", ORCHARDS)


@pytest.mark.parametrize(
    "question",
    [
        # "establish" is in no article, but it is common English: it may say "founded" another way.
        "When did growers establish the cooperative?",
        "when did the growers establish the cooperative",
    ],
)
def test_a_common_word_no_article_uses_may_be_a_paraphrase(orchard_engine: Engine, question: str) -> None:
    answer = orchard_engine.ask(question)
    assert answer.answered, f"declined {question!r}"
    assert "1952" in (answer.answer or "")
    assert answer.quote == "The Velden cooperative was founded in 1952 by eleven growers."


@pytest.mark.parametrize(
    "question",
    [
        # It matches "the Velden cooperative", but not what was done to it.
        pytest.param("Who purchased the Velden cooperative?", marks=V2_MISS),
        # One word in common ("Norway") is too little to go on.
        "What is the capital of Norway?",
        "When did Norwegian growers establish the cooperative?",
        # Common words, about something else.
        "Which sports are played in Velden's schools?",
        # In lower case a name looks like any word, but no common word is a name.
        pytest.param("when was the german cooperative founded", marks=V2_MISS),
        pytest.param("when was the cooperative founded in florida", marks=V2_MISS),
    ],
)
def test_a_question_with_words_no_article_uses_still_declines_a_weak_match(
    orchard_engine: Engine, question: str
) -> None:
    answer = orchard_engine.ask(question)
    assert not answer.answered, f"answered {question!r} with {answer.quote!r}"


def test_common_english_is_frequent_words_that_are_not_names_without_the_file_header() -> None:
    words = common_english()
    assert 8_000 < len(words) < 10_000
    assert {"the", "experience", "shipped", "establish"} <= words
    assert not {"german", "florida", "london", "norwegian"} & words
    assert not any(word.startswith("#") or not word.islower() for word in words)


ISLAND = """\
Kessel Island lies forty kilometres off the coast and has about 2,300 residents. Its harbour freezes for two months each winter.

Fishing is the main trade. Last year, 4,100 tonnes of herring and 900 tonnes of cod were landed.

The ferry service began in 1961. Ferries now run twice a day in summer.
"""  # noqa: E501 - one paragraph per line, as articles are written


@pytest.fixture(scope="module")
def island_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return engine_of_one_article(tmp_path_factory, "kessel_island", ISLAND)


@pytest.mark.parametrize(
    ("question", "quote"),
    [
        (
            "How many tonnes of herring were landed on Kessel Island last year?",
            "Last year, 4,100 tonnes of herring and 900 tonnes of cod were landed.",
        ),
        ("When did the ferry service to Kessel Island begin?", "The ferry service began in 1961."),
    ],
)
def test_a_question_naming_the_articles_title_needs_no_sentence_naming_it_again(
    island_engine: Engine, question: str, quote: str
) -> None:
    answer = island_engine.ask(question)
    assert answer.answered, f"declined {question!r}"
    assert answer.quote == quote


def test_how_many_may_be_answered_by_a_share(tmp_path: Path) -> None:
    path = index_of_one_article(
        tmp_path, "kessel_island", ISLAND + "About 40% of the islanders fish for a living.\n"
    )
    engine = Engine.load(path.parent, tmp_path / "seeds")
    answer = engine.ask("How many islanders fish for a living?")
    assert answer.answered, "declined"
    assert "40%" in (answer.answer or "")


def engine_of_titled_article(root: Path, title: str, text: str) -> Engine:
    """An engine over one article saved as Markdown with ``title`` in its front matter."""
    index_of_one_article(root, "article", text, title)
    engine = Engine.load(root / "facts", root / "seeds")
    assert engine.articles()[0].title == title
    return engine


def test_a_title_naming_several_things_is_not_what_each_sentence_is_about(tmp_path: Path) -> None:
    engine = engine_of_titled_article(
        tmp_path, "Herring, ferries and winters on Kessel Island and Varn", ISLAND
    )
    answer = engine.ask("How many tonnes of herring were landed on Kessel Island last year?")
    assert not answer.answered, answer.quote


def test_a_titles_qualifier_in_brackets_need_not_be_asked_for(tmp_path: Path) -> None:
    engine = engine_of_titled_article(tmp_path, "Kessel Island (Norway)", ISLAND)
    answer = engine.ask("How many tonnes of herring were landed on Kessel Island last year?")
    assert answer.quote == "Last year, 4,100 tonnes of herring and 900 tonnes of cod were landed."


SHIPYARD = (
    "Johan Varn founded a shipyard at Bergen. He built the first ships himself.\n\n"
    "His daughter Ingrid took over the yard in 1968. She had studied engineering in Trondheim.\n"
)


def test_the_title_does_not_stand_in_where_a_sentence_names_someone_else(tmp_path: Path) -> None:
    engine = engine_of_titled_article(tmp_path, "Johan Varn", SHIPYARD)
    answer = engine.ask("When did Johan Varn take over the yard?")
    assert "Ingrid" not in (answer.quote or ""), answer.quote
    assert "1968" in (engine.ask("When did Ingrid take over the yard?").answer or "")


@pytest.mark.xfail(
    strict=True,
    reason="engine bug: the subject's name alone carries a question about something it never did",
)
def test_a_near_miss_about_the_articles_subject_is_declined(tmp_path: Path) -> None:
    engine = engine_of_titled_article(tmp_path, "Johan Varn", SHIPYARD)
    answer = engine.ask("Where did Johan Varn study engineering?")
    assert not answer.answered, answer.quote


@pytest.mark.xfail(
    strict=True,
    reason="engine bug: the subject's names outweigh the question's predicate, so 'who took over' gets "
    "the founding sentence; the one that answers names someone the question does not ('His daughter Ingrid')",
)
def test_who_took_over_the_subjects_yard_is_not_answered_with_the_founding(tmp_path: Path) -> None:
    engine = engine_of_titled_article(tmp_path, "Johan Varn", SHIPYARD)
    answer = engine.ask("Who took over Johan Varn's yard?")
    assert not answer.answered or "Ingrid" in (answer.quote or ""), answer.quote
