"""``factbot build`` and ``factbot check``: facts files on disk, curation kept, problems as path:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.check import check_index
from bot.engine.articles import load_articles
from bot.engine.build import build_index
from bot.engine.engine import Engine
from bot.engine.model import SPAN_KINDS
from bot.engine.text import split_sentences
from bot.errors import FactsFileError
from tests.support.factbot_cli import run_factbot
from tests.support.facts_files import (
    copy_index,
    curate,
    fact_with,
    facts_by_id,
    line_of_fact,
    move_first_fact_to_end,
    read_facts,
    replace_line,
)

LIGHTHOUSE = (
    "The Skerrow lighthouse was first lit in 1874. Its keeper, Ida Marsh, kept a log for 31 years.\n"
    "\n"
    "Storms damaged the lantern room in 1903. Repairs cost £2,400 and took four months.\n"
    "\n"
    "The light was automated in 1981, and the last keeper left the island.\n"
)
FERRY = "The ferry to Skerrow runs twice a day. It was introduced in 1952.\n"


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "lighthouse.md").write_text(
        "---\ntitle: The Skerrow Light\nurl: https://example.org/skerrow\n---\n" + LIGHTHOUSE,
        encoding="utf-8",
    )
    (folder / "ferry.txt").write_text(FERRY, encoding="utf-8")
    return folder


@pytest.fixture
def facts(tmp_path: Path, seeds: Path) -> Path:
    folder = tmp_path / "facts"
    build_index(seeds, folder)
    return folder


# -- build ----------------------------------------------------------------------------------------


def test_build_writes_one_file_per_article_with_every_sentence_verbatim(seeds: Path, tmp_path: Path) -> None:
    report = build_index(seeds, tmp_path / "facts")
    assert sorted(p.name for p in (tmp_path / "facts").iterdir()) == ["ferry.yaml", "lighthouse.yaml"]
    assert report.articles == 2
    assert sorted(report.written) == sorted((tmp_path / "facts").iterdir())
    total = 0
    for article in load_articles(seeds):
        data = read_facts(tmp_path / "facts" / f"{article.stem}.yaml")
        assert data["article"] == article.stem
        assert data["title"] == article.title
        expected = [
            (number, paragraph[s:e])
            for number, paragraph in enumerate(article.paragraphs, 1)
            for s, e in split_sentences(paragraph)
        ]
        assert [(f["paragraph"], f["quote"]) for f in data["facts"]] == expected
        for fact in data["facts"]:
            assert isinstance(fact["id"], str) and fact["id"]
            for kind, text in fact.get("spans", []):
                assert kind in SPAN_KINDS
                assert text in fact["quote"]
        total += len(data["facts"])
    assert report.facts == total
    assert read_facts(tmp_path / "facts" / "lighthouse.yaml")["url"] == "https://example.org/skerrow"


def test_spans_find_what_the_sentence_states(facts: Path) -> None:
    fact = fact_with(facts / "lighthouse.yaml", "Repairs cost")
    spans = [tuple(s) for s in fact["spans"]]
    assert ("money", "£2,400") in spans
    assert ("count", "four") in spans
    assert ("year", "1874") in [tuple(s) for s in fact_with(facts / "lighthouse.yaml", "first lit")["spans"]]


def test_ids_are_unique_and_stable_across_rebuilds(seeds: Path, facts: Path) -> None:
    before = facts_by_id(facts / "lighthouse.yaml")
    assert len(before) == len(read_facts(facts / "lighthouse.yaml")["facts"])
    build_index(seeds, facts)
    assert facts_by_id(facts / "lighthouse.yaml") == before
    # A new first paragraph moves every sentence down, but no sentence changes its id.
    article = seeds / "lighthouse.md"
    article.write_text(
        article.read_text(encoding="utf-8").replace(
            "---\nThe Skerrow", "---\nA new opening line.\n\nThe Skerrow"
        ),
        encoding="utf-8",
    )
    build_index(seeds, facts)
    after = facts_by_id(facts / "lighthouse.yaml")
    assert set(before) < set(after)
    for fact_id, fact in before.items():
        assert after[fact_id]["quote"] == fact["quote"]
        assert after[fact_id]["paragraph"] == fact["paragraph"] + 1


def test_curation_survives_a_rebuild(seeds: Path, facts: Path) -> None:
    path = facts / "lighthouse.yaml"
    lit = fact_with(path, "first lit")["id"]
    storm = fact_with(path, "Storms damaged")["id"]
    curate(path, lit, answer="First lit in 1874", questions=["When did the Skerrow light start?"])
    curate(path, storm, hidden=True)
    build_index(seeds, facts)
    rebuilt = facts_by_id(path)
    assert rebuilt[lit]["answer"] == "First lit in 1874"
    assert rebuilt[lit]["questions"] == ["When did the Skerrow light start?"]
    assert rebuilt[storm]["hidden"] is True
    assert "orphaned" not in read_facts(path)
    assert check_index(facts, seeds) == ([], [])


def test_a_curated_fact_whose_sentence_changed_is_orphaned_and_nothing_is_lost(
    seeds: Path, facts: Path
) -> None:
    path = facts / "lighthouse.yaml"
    old = fact_with(path, "Repairs cost")
    curate(path, old["id"], answer="£2,400", questions=["What did the repairs cost?"])
    article = seeds / "lighthouse.md"
    article.write_text(article.read_text(encoding="utf-8").replace("£2,400", "£2,600"), encoding="utf-8")
    report = build_index(seeds, facts)
    assert [(o.path, o.fact_id, o.quote) for o in report.orphans] == [(path, old["id"], old["quote"])]
    data = read_facts(path)
    [orphan] = data["orphaned"]
    assert orphan["id"] == old["id"]
    assert orphan["quote"] == old["quote"]
    assert orphan["answer"] == "£2,400"
    assert orphan["questions"] == ["What did the repairs cost?"]
    assert any("£2,600" in f["quote"] for f in data["facts"])
    assert old["id"] not in facts_by_id(path)
    # The index stays usable; check warns about the orphan without failing.
    problems, warnings = check_index(facts, seeds)
    assert problems == []
    assert len(warnings) == 1 and old["id"] in warnings[0]
    # A further rebuild keeps the orphan rather than dropping it.
    report = build_index(seeds, facts)
    assert report.orphans == ()
    assert [o["id"] for o in read_facts(path)["orphaned"]] == [old["id"]]


def test_factbot_build_names_an_orphan(seeds: Path, facts: Path) -> None:
    path = facts / "ferry.yaml"
    fact = fact_with(path, "twice a day")
    curate(path, fact["id"], answer="Twice a day")
    (seeds / "ferry.txt").write_text(FERRY.replace("twice", "three times"), encoding="utf-8")
    result = run_factbot("build", cwd=seeds.parent)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("built ")
    assert lines[1].startswith(f"facts/ferry.yaml: curated fact {fact['id']} no longer matches the article")
    assert lines[2] == f"    was: {fact['quote']}"
    # Building again, and checking, keep working with the orphan on file.
    again = run_factbot("build", cwd=seeds.parent)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[1:] == ["semantic search: on"]  # no orphan reported twice
    check = run_factbot("check", cwd=seeds.parent)
    assert check.returncode == 0
    assert f"orphaned curated fact {fact['id']!r}" in check.stderr


def test_an_uncurated_fact_whose_sentence_changed_just_goes(seeds: Path, facts: Path) -> None:
    path = facts / "ferry.yaml"
    old = fact_with(path, "twice a day")["id"]
    (seeds / "ferry.txt").write_text(FERRY.replace("twice", "three times"), encoding="utf-8")
    report = build_index(seeds, facts)
    assert report.orphans == ()
    assert old not in facts_by_id(path)
    assert "orphaned" not in read_facts(path)


def test_a_hidden_fact_is_never_answered(seeds: Path, facts: Path) -> None:
    path = facts / "lighthouse.yaml"
    question = "When was the Skerrow lighthouse first lit?"
    shown = Engine.load(facts, seeds).ask(question)
    assert shown.answered and "1874" in shown.answer
    hidden = fact_with(path, "first lit")
    curate(path, hidden["id"], hidden=True)
    engine = Engine.load(facts, seeds)
    assert engine.fact(hidden["id"]) is None
    assert all(f.id != hidden["id"] for f in engine.facts())
    answer = engine.ask(question)
    assert answer.quote != hidden["quote"]
    assert not answer.answered or "1874" not in answer.answer


def test_facts_file_of_a_deleted_article_is_removed_if_uncurated(seeds: Path, facts: Path) -> None:
    (seeds / "ferry.txt").unlink()
    report = build_index(seeds, facts)
    assert report.removed == (facts / "ferry.yaml",)
    assert not (facts / "ferry.yaml").exists()
    assert check_index(facts, seeds) == ([], [])


def test_facts_file_of_a_deleted_article_is_kept_if_curated(seeds: Path, facts: Path) -> None:
    path = facts / "ferry.yaml"
    curate(path, fact_with(path, "1952")["id"], answer="In 1952")
    (seeds / "ferry.txt").unlink()
    report = build_index(seeds, facts)
    assert report.removed == ()
    assert report.kept_for_curation == (path,)
    assert "In 1952" in path.read_text(encoding="utf-8")


def test_build_refuses_to_overwrite_a_broken_facts_file(seeds: Path, facts: Path) -> None:
    path = facts / "lighthouse.yaml"
    curate(path, fact_with(path, "first lit")["id"], answer="1874")
    replace_line(path, line_of_fact(path, fact_with(path, "Storms")["id"]) + 1, "    paragraph: [")
    broken = path.read_text(encoding="utf-8")
    with pytest.raises(FactsFileError) as error:
        build_index(seeds, facts)
    assert all(p.startswith(f"{path}:") for p in error.value.problems)
    assert path.read_text(encoding="utf-8") == broken


def test_aliases_file_is_left_alone(tmp_path: Path, repo_root: Path) -> None:
    seeds, facts = copy_index(tmp_path)
    before = (facts / "aliases.yaml").read_text(encoding="utf-8")
    report = build_index(seeds, facts)
    assert (facts / "aliases.yaml").read_text(encoding="utf-8") == before
    assert facts / "aliases.yaml" not in report.removed + report.kept_for_curation


def test_rebuilding_the_committed_index_changes_nothing(tmp_path: Path, repo_root: Path) -> None:
    seeds, facts = copy_index(tmp_path)
    report = build_index(seeds, facts)
    assert report.orphans == () and report.removed == ()
    for path in sorted((repo_root / "facts").glob("*.yaml")):
        assert (facts / path.name).read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), path.name


# -- the committed index --------------------------------------------------------------------------


def test_committed_quotes_stand_word_for_word_in_their_seed_paragraphs(repo_root: Path) -> None:
    articles = {a.stem: a for a in load_articles(repo_root / "seeds")}
    files = sorted(p for p in (repo_root / "facts").glob("*.yaml") if p.name != "aliases.yaml")
    assert sorted(p.stem for p in files) == sorted(articles)
    for path in files:
        data = read_facts(path)
        article = articles[data["article"]]
        assert data["facts"]
        for fact in data["facts"]:
            assert fact["quote"] in article.paragraphs[fact["paragraph"] - 1], fact["id"]
            assert "Leave a Reply" not in fact["quote"]
            assert "Required fields" not in fact["quote"]


def test_committed_index_checks_out(repo_root: Path) -> None:
    assert check_index(repo_root / "facts", repo_root / "seeds") == ([], [])


# -- check ----------------------------------------------------------------------------------------


@pytest.fixture
def index(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the committed seeds and facts to break."""
    return copy_index(tmp_path)


def treaty_file(facts: Path) -> Path:
    [path] = [p for p in facts.glob("*.yaml") if "US-Japan Security Treaty" in p.read_text(encoding="utf-8")]
    return path


def test_check_finds_a_changed_quote_on_its_line(index: tuple[Path, Path]) -> None:
    seeds, facts = index
    path = treaty_file(facts)
    fact = fact_with(path, "In 1951, the US-Japan Security Treaty was signed")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("In 1951, the US-Japan", "In 1952, the US-Japan", 1), encoding="utf-8")
    problems, _ = check_index(facts, seeds)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:{line_of_fact(path, fact['id'])}: ")
    assert fact["id"] in problems[0]


def test_check_finds_a_quote_moved_to_the_wrong_paragraph(index: tuple[Path, Path]) -> None:
    seeds, facts = index
    path = treaty_file(facts)
    fact = fact_with(path, "In 1951, the US-Japan Security Treaty was signed")
    line = line_of_fact(path, fact["id"])
    replace_line(path, line + 1, f"  paragraph: {fact['paragraph'] + 1}")
    problems, _ = check_index(facts, seeds)
    assert problems == [
        f"{path}:{line}: fact {fact['id']}: quote is not word for word in paragraph {fact['paragraph'] + 1} "
        f"of {path.stem} (it is in paragraph {fact['paragraph']})"
    ]


def test_check_warns_of_a_fact_listed_out_of_article_order(index: tuple[Path, Path]) -> None:
    seeds, facts = index
    assert check_index(facts, seeds) == ([], [])
    path = treaty_file(facts)
    move_first_fact_to_end(path)
    moved = read_facts(path)["facts"][-1]
    problems, warnings = check_index(facts, seeds)
    assert problems == []
    assert warnings == [
        f"{path}:{line_of_fact(path, moved['id'])}: fact {moved['id']} is listed after a fact that "
        f"follows it in the article; move it to where its sentence stands (paragraph {moved['paragraph']})"
    ]


def test_check_finds_a_duplicate_id_on_the_duplicate_line(index: tuple[Path, Path]) -> None:
    seeds, facts = index
    path = treaty_file(facts)
    first, second = read_facts(path)["facts"][:2]
    first_line = line_of_fact(path, first["id"])
    second_line = line_of_fact(path, second["id"])
    replace_line(path, second_line, f"- id: {first['id']}")
    problems, _ = check_index(facts, seeds)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:{second_line}: duplicate fact id")
    assert f"{path}:{first_line}" in problems[0]


def test_check_finds_an_id_used_in_two_files(index: tuple[Path, Path]) -> None:
    seeds, facts = index
    first_file, second_file = sorted(p for p in facts.glob("*.yaml") if p.name != "aliases.yaml")
    taken = read_facts(first_file)["facts"][0]["id"]
    victim = read_facts(second_file)["facts"][0]["id"]
    line = line_of_fact(second_file, victim)
    replace_line(second_file, line, f"- id: {taken}")
    problems, _ = check_index(facts, seeds)
    assert len(problems) == 1
    assert problems[0].startswith(f"{second_file}:{line}: duplicate fact id {taken!r}")
    assert f"{first_file}:{line_of_fact(first_file, taken)}" in problems[0]


@pytest.mark.parametrize(
    ("breakage", "offset"),
    [
        ("    spans: wrong", 3),  # a bad indent
        ('  quote: "In 1951, the treaty', 2),  # an unclosed quote
        ("  spans: [[year, '1951']", 3),  # an unclosed bracket
    ],
    ids=["bad-indent", "unclosed-quote", "unclosed-bracket"],
)
def test_check_reports_malformed_yaml_on_the_right_line(
    index: tuple[Path, Path], breakage: str, offset: int
) -> None:
    seeds, facts = index
    path = treaty_file(facts)
    line = line_of_fact(path, fact_with(path, "In 1951, the US-Japan")["id"]) + offset
    replace_line(path, line, breakage)
    problems, _ = check_index(facts, seeds)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:{line}: malformed YAML")


def test_check_reports_schema_problems_per_key(index: tuple[Path, Path]) -> None:
    seeds, facts = index
    path = treaty_file(facts)
    fact = fact_with(path, "In 1951, the US-Japan")
    line = line_of_fact(path, fact["id"])
    curate(path, fact["id"], hidden="yes", colour="blue")
    problems, _ = check_index(facts, seeds)
    assert sorted(problems) == sorted(
        [
            f"{path}:{line + 1}: `hidden` must be true or false",
            f"{path}:{line + 2}: unknown fact key 'colour'",
        ]
    )


def test_check_finds_an_unknown_article(index: tuple[Path, Path]) -> None:
    seeds, facts = index
    ghost = facts / "ghost.yaml"
    ghost.write_text("article: ghost\ntitle: Ghost\nfacts: []\n", encoding="utf-8")
    problems, _ = check_index(facts, seeds)
    assert len(problems) == 1
    assert problems[0].startswith(f"{ghost}:1: unknown article 'ghost'")


def test_check_finds_a_missing_facts_file(index: tuple[Path, Path]) -> None:
    seeds, facts = index
    path = treaty_file(facts)
    path.unlink()
    [seed] = [p for p in seeds.iterdir() if p.stem == path.stem]
    problems, _ = check_index(facts, seeds)
    assert problems == [f"{seed}:1: article has no facts file; run `factbot build`"]


def test_check_with_no_facts_at_all(tmp_path: Path, repo_root: Path) -> None:
    (tmp_path / "facts").mkdir()
    problems, _ = check_index(tmp_path / "facts", repo_root / "seeds")
    assert len(problems) == 1 and "factbot build" in problems[0]


def test_check_finds_a_broken_aliases_file(index: tuple[Path, Path]) -> None:
    seeds, facts = index
    (facts / "aliases.yaml").write_text("aliases:\n  - [only one]\nsynonyms: []\n", encoding="utf-8")
    problems, _ = check_index(facts, seeds)
    assert problems == [f"{facts / 'aliases.yaml'}:2: each `aliases` entry must list two or more words"]


def test_check_finds_a_broken_seed(index: tuple[Path, Path]) -> None:
    seeds, facts = index
    seed = next(seeds.glob("*.md"))
    seed.write_text("---\ntitle: [unclosed\n---\nText.\n", encoding="utf-8")
    problems, _ = check_index(facts, seeds)
    assert len(problems) == 1 and problems[0].startswith(f"{seed}:2: ")


# -- factbot check, the command -------------------------------------------------------------------


def test_factbot_check_passes_on_the_committed_index(repo_root: Path) -> None:
    result = run_factbot("check", cwd=repo_root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all facts check out" in result.stdout


def test_factbot_check_fails_with_path_and_line_and_no_traceback(index: tuple[Path, Path]) -> None:
    seeds, facts = index
    path = treaty_file(facts)
    line = line_of_fact(path, fact_with(path, "In 1951, the US-Japan")["id"]) + 2
    replace_line(path, line, '  quote: "In 1951, the treaty')
    result = run_factbot("check", "--facts", facts, "--seeds", seeds, cwd=seeds.parent)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith(f"{path}:{line}: malformed YAML")
    assert "1 problem(s) found" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_factbot_check_uses_facts_and_seeds_of_the_working_directory(index: tuple[Path, Path]) -> None:
    seeds, facts = index
    assert run_factbot("check", cwd=seeds.parent).returncode == 0
    path = treaty_file(facts)
    path.unlink()
    result = run_factbot("check", cwd=seeds.parent)
    assert result.returncode == 1
    [seed] = [p.name for p in seeds.iterdir() if p.stem == path.stem]
    assert result.stdout.splitlines() == [f"seeds/{seed}:1: article has no facts file; run `factbot build`"]


def test_the_glued_seed_sentence_is_two_facts(repo_root: Path) -> None:
    quotes = [
        f["quote"]
        for path in sorted((repo_root / "facts").glob("*.yaml"))
        if path.name != "aliases.yaml"
        for f in read_facts(path)["facts"]
    ]
    glued = [q for q in quotes if "Washington.China" in q]
    assert glued == []
    assert any(q.endswith("when interacting with Washington.") for q in quotes)
    assert any(q.startswith("China anticipates pushback") for q in quotes)
