"""End to end: the real engine over the committed facts/, and ``/fact digest`` over signed HTTP."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from slack_sdk import WebClient

from bot.digest import cli
from bot.digest.delivery import SlackPoster
from bot.digest.scheduler import build_digest_service
from bot.digest.service import DigestService
from bot.digest.store import DigestStore
from bot.engine import Engine
from bot.settings import Settings
from bot.slack.app import build_app
from bot.slack.deps import SlackDeps
from bot.slack.http_server import EVENTS_PATH, BoltHttpServer
from bot.storage import Database
from tests.digest.helpers import utc
from tests.support.fake_slack import FakeSlack

REPO = Path(__file__).resolve().parents[2]
SIGNING_SECRET = "digest-test-signing-secret"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load(REPO / "facts", REPO / "seeds")


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(tmp_path / "factbot.db")
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


def _signed_post(url: str, form: dict[str, str]) -> dict[str, object]:
    body = urlencode(form)
    timestamp = str(int(time.time()))
    signature = hmac.new(
        SIGNING_SECRET.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256
    ).hexdigest()
    request = urllib.request.Request(
        url,
        data=body.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": f"v0={signature}",
        },
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture
def bolt_url(engine: Engine, database: Database, fake_slack: FakeSlack) -> Iterator[str]:
    settings = Settings(
        slack_bot_token="xoxb-test",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        db_path=database.path,
    )
    digest = build_digest_service(settings, engine, database, client=None)
    app = build_app(settings, SlackDeps(engine=engine, database=database, digest=digest))
    server = BoltHttpServer(app, host="127.0.0.1", port=0)
    server.start_in_thread()
    yield f"http://127.0.0.1:{server.port}{EVENTS_PATH}"
    server.shutdown()
    server.server_close()


def _command(text: str, channel: str = "C42") -> dict[str, str]:
    return {
        "command": "/fact",
        "text": text,
        "channel_id": channel,
        "user_id": "U7",
        "team_id": "T0FACTBOT",
        "trigger_id": "1.2.3",
        "response_url": "http://127.0.0.1:9/unused",
    }


def test_slash_digest_over_signed_http(bolt_url: str, database: Database, fake_slack: FakeSlack) -> None:
    bad_time = _signed_post(bolt_url, _command("digest on 9.30pm"))
    assert bad_time["response_type"] == "ephemeral"
    assert "is not a time of day: use 24-hour HH:MM" in str(bad_time["text"])
    bad_zone = _signed_post(bolt_url, _command("digest on 09:30 Atlantis/Capital"))
    assert "is not a time zone I know" in str(bad_zone["text"])
    assert DigestStore(database).subscription("C42") is None

    on = _signed_post(bolt_url, _command("digest on 07:30 asia/tokyo"))
    assert "every day at 07:30 (Asia/Tokyo)" in str(on["text"])
    subscription = DigestStore(database).subscription("C42")
    assert subscription is not None and subscription.timezone == "Asia/Tokyo"
    assert "*on*" in str(_signed_post(bolt_url, _command("digest"))["text"])
    assert "*off*" in str(_signed_post(bolt_url, _command("digest off"))["text"])
    assert DigestStore(database).enabled_subscriptions() == []
    assert fake_slack.calls("chat.postMessage") == []  # the command never posts a digest itself
