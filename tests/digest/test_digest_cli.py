"""``factbot digest preview`` / ``send`` (the functions bot.cli calls) and the schema migration."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest

from bot.digest import cli
from bot.digest.store import DigestStore
from bot.settings import Settings
from bot.storage import MIGRATIONS, SQLiteDatabase
from tests.digest.helpers import HandMadeCatalog, utc
from tests.support.fake_slack import FakeSlack


def _settings(tmp_path: Path, fake: FakeSlack | None = None, token: str = "xoxb-test") -> Settings:
    return Settings(
        slack_bot_token=token, slack_api_url=fake.api_url if fake else "", db_path=tmp_path / "factbot.db"
    )


def _preview(settings: Settings, catalog: HandMadeCatalog, channel: str | None) -> str:
    out = io.StringIO()
    code = cli.preview(
        settings, channel, out=out, load_catalog=lambda _: catalog, clock=lambda: utc(2024, 5, 6, 8)
    )
    assert code == 0
    return out.getvalue()


def test_preview_prints_without_posting_or_recording(
    tmp_path: Path, catalog: HandMadeCatalog, fake_slack: FakeSlack
) -> None:
    settings = _settings(tmp_path, fake_slack)
    text = _preview(settings, catalog, "C1")
    assert text.startswith("Daily facts for Monday, 6 May 2024\n\n1. ")
    assert text.count("   — ") == 3
    assert not settings.db_path.exists()
    assert fake_slack.calls() == []
    assert _preview(settings, catalog, "C1") == text


def test_send_posts_records_and_the_rotation_continues(
    tmp_path: Path, catalog: HandMadeCatalog, fake_slack: FakeSlack
) -> None:
    settings = _settings(tmp_path, fake_slack)
    first_preview = _preview(settings, catalog, "C1")
    out = io.StringIO()
    code = cli.send(settings, "C1", out=out, load_catalog=lambda _: catalog, clock=lambda: utc(2024, 5, 6, 8))
    assert code == 0 and out.getvalue().startswith("Posted the digest to C1")
    [call] = fake_slack.calls("chat.postMessage")
    assert call.headers["authorization"] == "Bearer xoxb-test"
    first_statement = first_preview.split("\n")[2].removeprefix("1. ")
    assert (
        first_statement.replace("<", "&lt;").replace(">", "&gt;").replace("&", "&amp;")[:10]
        in call.body["text"]
    )
    second_preview = _preview(settings, catalog, "C1")
    assert second_preview != first_preview
    db = SQLiteDatabase(settings.db_path)
    try:
        assert len(DigestStore(db).history("C1")) == 3
    finally:
        db.close()


def test_send_retries_a_rate_limit_then_reports_success(
    tmp_path: Path, catalog: HandMadeCatalog, fake_slack: FakeSlack
) -> None:
    fake_slack.queue(
        "chat.postMessage", {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "2"}
    )
    slept: list[float] = []
    code = cli.send(
        _settings(tmp_path, fake_slack),
        "C1",
        out=io.StringIO(),
        load_catalog=lambda _: catalog,
        sleep=slept.append,
    )
    assert code == 0 and slept == [2.0]
    assert len(fake_slack.calls("chat.postMessage")) == 2


def test_send_reports_slack_refusal(
    tmp_path: Path, catalog: HandMadeCatalog, fake_slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_slack.queue("chat.postMessage", {"ok": False, "error": "channel_not_found"})
    code = cli.send(
        _settings(tmp_path, fake_slack), "C404", out=io.StringIO(), load_catalog=lambda _: catalog
    )
    assert code == 1
    assert "channel_not_found" in capsys.readouterr().err


def test_send_without_a_token_says_which_variable(
    tmp_path: Path, catalog: HandMadeCatalog, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.send(_settings(tmp_path, token=""), "C1", load_catalog=lambda _: catalog)
    assert code == 2
    assert "SLACK_BOT_TOKEN is not set" in capsys.readouterr().err


def test_an_existing_database_migrates_forward_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "factbot.db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0] + "PRAGMA user_version = 1;")
    conn.execute(
        "INSERT INTO feedback (question, fact_id, user_id, vote, created_at) "
        "VALUES ('q', NULL, 'U1', 'up', 'x')"
    )
    conn.commit()
    conn.close()
    db = SQLiteDatabase(path)
    try:
        assert db.schema_version == len(MIGRATIONS)
        assert db.query("SELECT COUNT(*) FROM feedback")[0][0] == 1
        assert DigestStore(db).enabled_subscriptions() == []
    finally:
        db.close()


def test_send_gives_up_rather_than_wait_long(
    tmp_path: Path, catalog: HandMadeCatalog, fake_slack: FakeSlack
) -> None:
    fake_slack.queue(
        "chat.postMessage", {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "600"}
    )
    slept: list[float] = []
    settings = _settings(tmp_path, fake_slack)
    code = cli.send(settings, "C1", out=io.StringIO(), load_catalog=lambda _: catalog, sleep=slept.append)
    assert code == 1 and slept == []
    db = SQLiteDatabase(settings.db_path)
    try:
        assert [p.status for p in DigestStore(db).posts("C1")] == ["failed"]
        assert DigestStore(db).history("C1") == []
    finally:
        db.close()
