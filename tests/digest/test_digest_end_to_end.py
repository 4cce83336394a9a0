"""End to end: the real engine over the committed facts/, and ``/fact digest`` over signed HTTP."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.digest import cli
from bot.digest.delivery import SlackPoster
from bot.digest.scheduler import build_digest_service
from bot.digest.service import DigestService
from bot.digest.store import DigestStore
from bot.engine.engine import Engine
from bot.settings import Settings
from bot.slack.app import build_app
from bot.slack.deps import SlackDeps
from bot.slack.http_server import BoltHttpServer
from bot.storage import Database, SQLiteDatabase
from tests.digest.helpers import utc
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import settings_for
from tests.support.slack_requests import SlackSender

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load(REPO / "facts", REPO / "seeds")


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = SQLiteDatabase(tmp_path / "factbot.db")
    yield db
    db.close()


def test_a_month_of_digests_from_the_real_facts(
    engine: Engine, database: Database, fake_slack: FakeSlack
) -> None:
    client = WebClient(token="xoxb-test", base_url=fake_slack.api_url, timeout=5)
    service = DigestService(DigestStore(database), engine, SlackPoster(client), size=3)
    service.subscribe("C1", now=utc(2024, 4, 30))
    fact_ids = {f.id for f in engine.facts()}
    days = -(-len(fact_ids) // 3)  # enough digests to see every fact
    article_of = {f.id: f.article for f in engine.facts()}
    sent: list[str] = []
    mixed: list[bool] = []
    for day in range(days):
        [outcome] = service.run_due(utc(2024, 5, 1, 9) + timedelta(days=day))
        sent += outcome.fact_ids
        mixed.append(len({article_of[fid] for fid in outcome.fact_ids}) > 1)
    assert len(fake_slack.calls("chat.postMessage")) == days
    assert set(sent[: len(fact_ids)]) == fact_ids  # every fact once before any repeat
    assert len(set(sent[: len(fact_ids)])) == len(fact_ids)
    # Articles alternate while both have facts left: every digest until then mixes them.
    smaller_article = min(a.fact_count for a in engine.articles())
    assert all(mixed[: (2 * smaller_article) // 3]), mixed
    first = fake_slack.calls("chat.postMessage")[0]
    sections = [b["text"]["text"] for b in first.json_field("blocks") if b["type"] == "section"]
    titles = {a.title for a in engine.articles()}
    assert all(any(title.replace("&", "&amp;") in text for title in titles) for text in sections)


def test_cli_preview_with_the_real_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(facts_dir=REPO / "facts", seeds_dir=REPO / "seeds", db_path=tmp_path / "factbot.db")
    out = io.StringIO()
    assert cli.preview(settings, None, out=out) == 0
    text = out.getvalue()
    assert text.startswith("Daily facts for ") and text.count(", paragraph ") == 3
    assert not settings.db_path.exists()


@pytest.fixture
def sender(engine: Engine, database: Database, fake_slack: FakeSlack) -> Iterator[SlackSender]:
    """The real Bolt app over HTTP with a digest service on ``database`` (cf. tests.support.slack_app)."""
    settings = settings_for(fake_slack, database.path)
    digest = build_digest_service(settings, engine, database, client=None)
    app = build_app(settings, SlackDeps(engine=engine, database=database, digest=digest))
    server = BoltHttpServer(app, host="127.0.0.1", port=0)
    thread = server.start_in_thread()
    yield SlackSender(server.port)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_slash_digest_over_signed_http(
    sender: SlackSender, database: Database, fake_slack: FakeSlack
) -> None:
    def slash(text: str) -> str:
        reply = sender.slash(text, response_url=fake_slack.response_url(), channel_id="C42")
        assert reply.status == 200
        assert reply.json()["response_type"] == "ephemeral"
        return str(reply.json()["text"])

    assert "is not a time of day: use 24-hour HH:MM" in slash("digest on 9.30pm")
    assert "is not a time zone I know" in slash("digest on 09:30 Atlantis/Capital")
    assert DigestStore(database).subscription("C42") is None

    assert "every day at 07:30 (Asia/Tokyo)" in slash("digest on 07:30 asia/tokyo")
    subscription = DigestStore(database).subscription("C42")
    assert subscription is not None and subscription.timezone == "Asia/Tokyo"
    assert "*on*" in slash("digest")
    assert "*off*" in slash("digest off")
    assert DigestStore(database).enabled_subscriptions() == []
    assert fake_slack.calls("chat.postMessage") == []  # the command never posts a digest itself
