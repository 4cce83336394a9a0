"""``serve``: configuration errors in one line, Slack unreachable, and ``factbot serve`` as a process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bot.errors import ConfigError
from bot.settings import Settings
from bot.slack.runner import EXIT_SLACK_UNREACHABLE, serve, start_http
from tests.slack.conftest import ANSWERABLE, REPO
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import wait_until
from tests.support.slack_requests import SIGNING_SECRET, SlackSender, slash_command_body


def _settings(tmp_path: Path, **values: object) -> Settings:
    base: dict[str, object] = {
        "slack_bot_token": "xoxb-test",
        "slack_signing_secret": SIGNING_SECRET,
        "facts_dir": REPO / "facts",
        "seeds_dir": REPO / "seeds",
        "db_path": tmp_path / "factbot.db",
    }
    return Settings(**{**base, **values})  # type: ignore[arg-type]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"slack_bot_token": ""}, "SLACK_BOT_TOKEN"),
        ({"slack_bot_token": "xoxp-user-token"}, "SLACK_BOT_TOKEN"),
        ({"slack_signing_secret": ""}, "SLACK_SIGNING_SECRET"),
        ({"slack_app_token": "not-an-app-token"}, "SLACK_APP_TOKEN"),
    ],
)
def test_missing_settings_raise_config_error(tmp_path: Path, values: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        serve(_settings(tmp_path, **values), 0)


def test_rejected_bot_token_is_a_config_error(tmp_path: Path, fake_slack: FakeSlack) -> None:
    fake_slack.queue("auth.test", {"ok": False, "error": "invalid_auth"})
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN") as raised:
        serve(_settings(tmp_path, slack_api_url=fake_slack.api_url), 0)
    assert "\n" not in str(raised.value)


def test_rejected_app_token_is_a_config_error(tmp_path: Path, fake_slack: FakeSlack) -> None:
    fake_slack.queue("apps.connections.open", {"ok": False, "error": "invalid_auth"})
    settings = _settings(tmp_path, slack_api_url=fake_slack.api_url, slack_app_token="xapp-1-rejected")
    with pytest.raises(ConfigError, match=r"SLACK_APP_TOKEN.*invalid_auth"):
        serve(settings, 0)


def test_unreachable_slack_exits_1(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{_free_port()}/api/"
    assert serve(_settings(tmp_path, slack_api_url=closed), 0) == EXIT_SLACK_UNREACHABLE


def test_port_in_use_is_a_config_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ConfigError, match="--port"):
            start_http(app=None, port=taken.getsockname()[1], host="127.0.0.1")  # type: ignore[arg-type]


def _factbot_env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FACTBOT_"))}
    env.update(FACTBOT_FACTS_DIR=str(REPO / "facts"), FACTBOT_SEEDS_DIR=str(REPO / "seeds"))
    env.update(FACTBOT_DB=str(tmp_path / "factbot.db"), **values)
    return env


def _factbot() -> list[str]:
    return [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())"]


def test_factbot_serve_without_tokens_explains_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [*_factbot(), "serve"],
        cwd=tmp_path,
        env=_factbot_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "SLACK_BOT_TOKEN" in result.stderr


def test_factbot_serve_answers_over_http_and_stops_on_sigterm(tmp_path: Path, fake_slack: FakeSlack) -> None:
    port = _free_port()
    env = _factbot_env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
        PYTHONPATH=str(REPO),
    )
    process = subprocess.Popen(
        [*_factbot(), "serve", "--port", str(port)], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_until(lambda: _accepts_connections(port) or process.poll() is not None, timeout=30)
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        body = urlencode(slash_command_body(ANSWERABLE, response_url=fake_slack.response_url()))
        reply = SlackSender(port).post(body, content_type="application/x-www-form-urlencoded")
        assert reply.status == 200
        assert reply.json()["response_type"] == "ephemeral"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        time.sleep(0.02)
        return False


def _spawned_workers(parent: int) -> list[int]:
    """Worker processes uvicorn spawned under ``parent`` (multiprocessing's spawn_main children)."""
    workers = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and b"spawn_main" in cmdline:
            workers.append(int(entry.name))
    return workers


def test_factbot_serve_with_two_workers_answers_and_sums_metrics_over_them(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    port = _free_port()
    env = _factbot_env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
        PYTHONPATH=str(REPO),
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [*_factbot(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    try:
        sender = SlackSender(port)
        wait_until(lambda: process.poll() is not None or _healthy(sender), timeout=60)
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        wait_until(lambda: len(_spawned_workers(process.pid)) == 2, timeout=30)
        body = urlencode(slash_command_body(ANSWERABLE, response_url=fake_slack.response_url()))
        for _ in range(8):
            assert sender.post(body, content_type="application/x-www-form-urlencoded").status == 200
        for _ in range(3):  # whichever worker answers /metrics counts every worker's questions
            metrics = sender.get("/metrics")
            assert metrics.status == 200
            assert "factbot_questions_total 8.0" in metrics.text
        workers = _spawned_workers(process.pid)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _healthy(sender: SlackSender) -> bool:
    try:
        return sender.get("/healthz").status == 200
    except OSError:
        time.sleep(0.05)
        return False


def test_http_settings_are_read_and_checked() -> None:
    env = {
        "FACTBOT_HTTP_HOST": "127.0.0.1",
        "FACTBOT_HTTP_WORKERS": "3",
        "FACTBOT_HTTP_BACKLOG": "512",
        "FACTBOT_HTTP_KEEPALIVE": "2.5",
        "FACTBOT_HTTP_READ_TIMEOUT": "4",
        "FACTBOT_HTTP_MAX_BODY": "65536",
        "FACTBOT_HTTP_MAX_CONNECTIONS": "200",
    }
    settings = Settings.from_env(env, dotenv_path=None)
    assert (settings.http_host, settings.http_workers, settings.http_backlog) == ("127.0.0.1", 3, 512)
    assert (settings.http_keepalive_s, settings.http_read_timeout_s) == (2.5, 4.0)
    assert (settings.http_max_body_bytes, settings.http_max_connections) == (65536, 200)
    for name, bad in [
        ("FACTBOT_HTTP_BACKLOG", "5"),
        ("FACTBOT_HTTP_KEEPALIVE", "soon"),
        ("FACTBOT_HTTP_READ_TIMEOUT", "0"),
        ("FACTBOT_HTTP_WORKERS", "0"),
    ]:
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({name: bad}, dotenv_path=None)
