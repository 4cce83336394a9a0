"""Broken and hostile files: each is refused in one line naming it, fast, without expanding anything.

Real files, real SQLite databases and the real ``factbot`` command. The commands that could blow up
on a regression run with a memory limit and a timeout, so a failing test cannot eat the machine.
"""

from __future__ import annotations

import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.engine.articles import load_article
from bot.engine.facts import parse_facts_file
from bot.engine.text import split_sentences
from bot.errors import ArticleError, StorageError
from bot.storage import MIGRATIONS, SQLiteDatabase
from tests.support.factbot_cli import clean_env, factbot_command

MEMORY_LIMIT = 2 * 1024**3  # the bomb needs 15 GB; FactBot itself needs far less than this

# About 340 bytes that expand to 9**9 strings ("billion laughs").
ALIAS_BOMB = "".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n',
        *(
            f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]\n"
            for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ]
)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def factbot(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``factbot ARGS`` with a memory limit and a timeout."""
    return subprocess.run(
        [*factbot_command(), *map(str, args)],
        cwd=cwd,
        input="",
        capture_output=True,
        text=True,
        env={**clean_env(), **(env or {})},
        timeout=timeout,
        preexec_fn=_limit_memory,
    )


def assert_one_line_naming(result: subprocess.CompletedProcess[str], name: str) -> str:
    """The command failed with one line of explanation that names ``name``, and no traceback."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    named = [line for line in output.splitlines() if name in line]
    assert named, output
    assert len(lines) <= 2 and all(len(line) < 400 for line in lines), output  # check adds a count
    return named[0]


@pytest.fixture
def project(tmp_path: Path, repo_root: Path) -> Path:
    """A copy of the repository's seeds/ and facts/ to break."""
    shutil.copytree(repo_root / "seeds", tmp_path / "seeds")
    shutil.copytree(repo_root / "facts", tmp_path / "facts")
    return tmp_path


def _first_facts_file(project: Path) -> Path:
    return sorted(p for p in (project / "facts").glob("*.yaml") if p.name != "aliases.yaml")[0]


# ---------------------------------------------------------------------------------------------
# YAML anchors and aliases
# ---------------------------------------------------------------------------------------------


def test_an_alias_bomb_is_refused_in_well_under_a_second(tmp_path: Path) -> None:
    assert len(ALIAS_BOMB.encode()) < 400
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB, encoding="utf-8")
    code = (
        "import time, sys; from pathlib import Path; from bot.engine.facts import parse_facts_file\n"
        f"started = time.perf_counter(); parsed, problems = parse_facts_file(Path({str(path)!r}))\n"
        "print(time.perf_counter() - started); print(parsed); print(*problems, sep='\\n')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
        preexec_fn=_limit_memory,
    )  # in a child: a regression expands the bomb there, not in the test run
    assert result.returncode == 0, result.stderr[-2000:]
    elapsed, parsed, problem = result.stdout.splitlines()
    assert float(elapsed) < 1.0
    assert parsed == "None"
    assert problem == f"{path}:1: YAML anchor &a is not allowed (no anchors or aliases in this file)"


@pytest.mark.parametrize("command", ["build", "check", "ask"])
def test_a_facts_file_that_is_an_alias_bomb_is_refused_in_under_a_second(project: Path, command: str) -> None:
    bomb = _first_facts_file(project)
    bomb.write_text(ALIAS_BOMB, encoding="utf-8")
    args = [command, "--facts", project / "facts", "--seeds", project / "seeds"]
    started = time.perf_counter()
    result = factbot(*args, *(["When was the treaty signed?"] if command == "ask" else []), cwd=project)
    elapsed = time.perf_counter() - started
    line = assert_one_line_naming(result, f"{bomb}:1:")
    assert "anchor &a is not allowed" in line
    assert elapsed < 1.0 + _startup_allowance(), elapsed


def test_an_alias_bomb_in_aliases_yaml_is_refused(project: Path) -> None:
    aliases = project / "facts" / "aliases.yaml"
    aliases.write_text(ALIAS_BOMB, encoding="utf-8")
    result = factbot("ask", "--facts", project / "facts", "--seeds", project / "seeds", "treaty", cwd=project)
    assert "anchor &a is not allowed" in assert_one_line_naming(result, f"{aliases}:1:")


def test_an_alias_later_in_a_file_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "facts.yaml"
    path.write_text("article: a\ntitle: T\nfacts:\n- id: x\n  paragraph: 1\n  quote: &q A quote.\n", "utf-8")
    _, problems = parse_facts_file(path)
    assert problems == [f"{path}:6: YAML anchor &q is not allowed (no anchors or aliases in this file)"]


def test_an_ampersand_or_star_in_text_is_no_anchor(tmp_path: Path) -> None:
    path = tmp_path / "facts.yaml"
    quote = "R&D spending *rose* by 5% & more: *sic*."
    path.write_text(
        f"article: a\ntitle: 'A & B'\nfacts:\n- id: x\n  paragraph: 1\n  quote: '{quote}'\n", "utf-8"
    )
    parsed, problems = parse_facts_file(path)
    assert problems == []
    assert parsed is not None and parsed.facts[0].quote == quote


def test_front_matter_with_an_alias_is_refused(tmp_path: Path) -> None:
    seed = tmp_path / "article.md"
    seed.write_text("---\ntitle: &t Title\nauthor: *t\n---\nThe text of the article.\n", "utf-8")
    with pytest.raises(ArticleError, match=r"article\.md:2: front matter: YAML anchor &t is not allowed"):
        load_article(seed)


def _startup_allowance() -> float:
    """The time a `factbot` process takes to start and load here (the refusal itself is immediate)."""
    started = time.perf_counter()
    subprocess.run([*factbot_command(), "--help"], capture_output=True, env=clean_env(), timeout=60)
    return 2 * (time.perf_counter() - started)


# ---------------------------------------------------------------------------------------------
# Files that are not UTF-8, or not text
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("title: Caf\xe9\n".encode("latin-1"), "not UTF-8 text (byte 0xe9"),
        (b"title: a\x00\x01\x02\xff\xfe binary\n", "not UTF-8 text (byte 0xff"),
        (b"title: a\x00\x01\x02 binary\n", "U+0000 is not allowed in YAML"),
    ],
    ids=["latin-1", "binary", "nul-bytes"],
)
@pytest.mark.parametrize("command", ["check", "ask"])
def test_a_facts_file_that_is_not_utf8_text_gets_one_line(
    project: Path, command: str, content: bytes, expected: str
) -> None:
    path = _first_facts_file(project)
    path.write_bytes(b"article: " + path.stem.encode() + b"\n" + content + b"facts: []\n")
    args = [command, "--facts", project / "facts", "--seeds", project / "seeds"]
    result = factbot(*args, *(["treaty"] if command == "ask" else []), cwd=project)
    assert expected in assert_one_line_naming(result, f"{path}:2:")


def test_a_latin1_seed_gets_one_line(project: Path) -> None:
    seed = project / "seeds" / "cafe.txt"
    seed.write_bytes("The café opened in 1901.\nIt closed in 1950.\n".encode("latin-1"))
    result = factbot("build", "--facts", project / "facts", "--seeds", project / "seeds", cwd=project)
    assert "not UTF-8 text (byte 0xe9 at offset 7)" in assert_one_line_naming(result, f"{seed}:1:")


def test_a_facts_file_over_the_size_limit_is_refused_unread(tmp_path: Path, monkeypatch) -> None:
    import bot.engine.facts

    monkeypatch.setattr(bot.engine.facts, "MAX_YAML_BYTES", 100)
    path = tmp_path / "big.yaml"
    path.write_text("article: a\ntitle: T\nfacts: []\n" + "# padding\n" * 20, "utf-8")
    _, problems = parse_facts_file(path)
    assert problems == [f"{path}:1: file too large: over 0 MiB; split it into smaller files"]


# ---------------------------------------------------------------------------------------------
# Seeds that are not prose
# ---------------------------------------------------------------------------------------------

CONTROL_JUNK = "".join(chr(c) for c in range(1, 32) if chr(c) not in "\t\n\r\x0b\x0c") * 40


def test_a_seed_of_control_characters_is_refused_by_build_and_check(project: Path) -> None:
    seed = project / "seeds" / "junk.txt"
    seed.write_text("\n".join([CONTROL_JUNK[i : i + 50] + " Aa." for i in range(0, 1000, 50)]), "utf-8")
    args = ["--facts", project / "facts", "--seeds", project / "seeds"]
    build = factbot("build", *args, cwd=project)
    assert "control characters" in assert_one_line_naming(build, f"{seed}:1:")
    assert not (project / "facts" / "junk.yaml").exists()
    check = factbot("check", *args, cwd=project)
    assert "control characters" in assert_one_line_naming(check, f"{seed}:1:")


def test_a_seed_that_is_not_prose_is_refused(tmp_path: Path) -> None:
    seed = tmp_path / "numbers.txt"
    seed.write_text("\n".join("0x3f 0x2a 0x11 0x00 ||| ### 42 17 99" for _ in range(20)), "utf-8")
    with pytest.raises(ArticleError, match=r"numbers\.txt:1: not article text: only \d+% of its characters"):
        load_article(seed)


def test_prose_with_a_stray_control_character_is_kept(tmp_path: Path) -> None:
    seed = tmp_path / "article.txt"
    seed.write_text("The bridge opened in 1901.\x07 It was rebuilt in 1950, after the war.\n", "utf-8")
    assert len(load_article(seed).paragraphs) == 1


# ---------------------------------------------------------------------------------------------
# Long paragraphs
# ---------------------------------------------------------------------------------------------


def _one_paragraph_of(repo_root: Path, size: int) -> str:
    article = load_article(sorted((repo_root / "seeds").glob("*.md"))[0])
    prose = " ".join(article.paragraphs)
    return (" ".join([prose] * (size // len(prose) + 1)))[:size].rsplit(" ", 1)[0]


def test_a_1mb_paragraph_builds_in_linear_time(tmp_path: Path, repo_root: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "long.txt").write_text(_one_paragraph_of(repo_root, 1_000_000) + "\n", "utf-8")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = factbot("build", "--facts", tmp_path / "facts", "--seeds", seeds, cwd=tmp_path, timeout=120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert result.returncode == 0, result.stderr
    assert "built 72" in result.stdout  # thousand and some facts, from one paragraph
    # The build's own CPU time, so a busy machine does not count: about 2 s here, with the
    # process's start and the embedding model's load (it was quadratic: 100 kB took 5 s, 1 MB
    # several minutes). Wall time on a loaded machine is no measure of the algorithm.
    assert cpu < 10, cpu


def test_sentence_splitting_of_a_long_paragraph_is_linear(repo_root: Path) -> None:
    small, large = _one_paragraph_of(repo_root, 100_000), _one_paragraph_of(repo_root, 400_000)

    def cost(text: str) -> float:
        started = time.process_time()
        split_sentences(text)
        return time.process_time() - started

    # Four times the text: about four times the time (quadratic would be sixteen).
    assert min(cost(large) for _ in range(2)) < 8 * min(cost(small) for _ in range(2)) + 0.05


# ---------------------------------------------------------------------------------------------
# The database
# ---------------------------------------------------------------------------------------------

SLACK_ENV = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "test-secret"}


def _serve_with_database(repo_root: Path, db: Path) -> subprocess.CompletedProcess[str]:
    env = {**SLACK_ENV, "FACTBOT_DB": str(db), "SLACK_API_URL": "http://127.0.0.1:9/api/"}
    return factbot("serve", "--port", "0", cwd=repo_root, env=env, timeout=60)


def _damage_page_2(db: Path) -> None:
    with db.open("r+b") as handle:
        page_size = int.from_bytes(handle.read(18)[16:18], "big")
        handle.seek(page_size)
        handle.write(b"\xde\xad\xbe\xef" * (page_size // 4))


def _database_with_votes(path: Path) -> None:
    database = SQLiteDatabase(path)
    for n in range(50):
        database.record_feedback(question=f"question {n} " * 20, fact_id=None, user_id="U1", vote="up")
    database.close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def test_serve_refuses_an_empty_database_in_one_line(tmp_path: Path, repo_root: Path) -> None:
    db = tmp_path / "factbot.db"
    db.touch()
    result = _serve_with_database(repo_root, db)
    line = assert_one_line_naming(result, "FACTBOT_DB")
    assert f"database {db} (FACTBOT_DB) is an empty file" in line
    assert "restore it from a backup" in line
    assert db.stat().st_size == 0  # left as found


def test_serve_refuses_a_damaged_database_in_one_line(tmp_path: Path, repo_root: Path) -> None:
    db = tmp_path / "factbot.db"
    _database_with_votes(db)
    _damage_page_2(db)
    result = _serve_with_database(repo_root, db)
    line = assert_one_line_naming(result, "FACTBOT_DB")
    assert f"database {db} (FACTBOT_DB) is damaged" in line
    assert "restore it from a backup" in line


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "factbot.db"
    db.write_text("not a database\n" * 500, "utf-8")
    with pytest.raises(StorageError, match=r"\(FACTBOT_DB\) is damaged \(file is not a database\)"):
        SQLiteDatabase(db)


def test_only_a_missing_database_is_created(tmp_path: Path) -> None:
    db = tmp_path / "state" / "factbot.db"
    database = SQLiteDatabase(db)
    try:
        assert database.schema_version == len(MIGRATIONS)
        database.record_feedback(question="q", fact_id=None, user_id="U1", vote="up")
    finally:
        database.close()
    assert sorted(p.name for p in db.parent.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [
        "factbot.db"
    ]
    reopened = SQLiteDatabase(db)
    try:
        assert len(reopened.feedback()) == 1
    finally:
        reopened.close()


def test_processes_creating_one_database_at_once_share_it(tmp_path: Path) -> None:
    db = tmp_path / "factbot.db"
    code = f"from bot.storage import SQLiteDatabase; SQLiteDatabase({str(db)!r}).close()"
    env = clean_env()
    procs = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    assert SQLiteDatabase(db).schema_version == len(MIGRATIONS)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_an_unreadable_database_is_reported_not_replaced(tmp_path: Path) -> None:
    db = tmp_path / "factbot.db"
    _database_with_votes(db)
    db.chmod(0)
    try:
        with pytest.raises(StorageError, match="FACTBOT_DB"):
            SQLiteDatabase(db)
    finally:
        db.chmod(0o600)
