"""``factbot serve``: run FactBot in Slack, over Socket Mode or HTTP, until interrupted.

Socket Mode (``SLACK_APP_TOKEN`` set) needs no public URL; otherwise Slack POSTs to
``http://<host>:<port>/slack/events``, verified with ``SLACK_SIGNING_SECRET``.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from bot.digest.scheduler import DigestScheduler, build_digest_service, start_digest_scheduler
from bot.engine import Engine
from bot.errors import ConfigError
from bot.settings import DEFAULT_PORT, Settings
from bot.slack.app import build_app
from bot.slack.deps import SlackDeps
from bot.slack.http_server import EVENTS_PATH, BoltHttpServer
from bot.storage import Database

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_SLACK_UNREACHABLE = 1


def serve(settings: Settings, port: int = DEFAULT_PORT) -> int:
    """Answer Slack until Ctrl-C or SIGTERM; return the process exit code.

    Returns 0 after a clean stop and 1 when Slack cannot be reached (logged in one line).
    Raises ``ConfigError`` when a token or the signing secret is missing or rejected by Slack, or
    the port is taken, and lets the engine's and storage's ``FactBotError``s (no index built, ...)
    propagate: the CLI prints those in one line and exits 2.
    """
    settings.require_slack()
    engine = Engine.load(settings.facts_dir, settings.seeds_dir)
    database = Database(settings.db_path)
    digest_scheduler: DigestScheduler | None = None
    try:
        # Daily digests: `/fact digest` needs the service; ConfigError on a bad FACTBOT_DIGEST_*.
        digest = build_digest_service(settings, engine, database, client=None)
        try:
            app = build_app(settings, SlackDeps(engine=engine, database=database, digest=digest))
        except BoltError as error:
            raise ConfigError(
                f"Slack rejected SLACK_BOT_TOKEN ({error}); copy the Bot User OAuth Token (xoxb-...) "
                "from your Slack app's 'OAuth & Permissions' page into .env"
            ) from None
        except OSError as error:
            logger.error("cannot reach Slack at %s: %s", settings.slack_api_url or "slack.com", error)
            return EXIT_SLACK_UNREACHABLE
        digest_scheduler = start_digest_scheduler(settings, engine, app.client, database)
        with _sigterm_as_interrupt():
            if settings.slack_app_token:
                return _run_socket_mode(app, settings.slack_app_token)
            return _run_http(app, port)
    finally:
        if digest_scheduler is not None:
            digest_scheduler.stop()
        database.close()


def start_socket_mode(app: App, app_token: str) -> SocketModeHandler:
    """Connect ``app`` to Slack over Socket Mode (the built-in client) and return the handler.

    Raises ``ConfigError`` when Slack rejects the app token, ``OSError`` when it cannot be reached.
    The handler reconnects by itself; stop it with ``close()``.
    """
    handler = SocketModeHandler(app, app_token)
    try:
        handler.connect()
    except SlackApiError as error:
        handler.close()
        raise ConfigError(
            f"Slack rejected SLACK_APP_TOKEN ({error.response.get('error')}); create an app-level token "
            "with the connections:write scope on your Slack app's 'Basic Information' page and put it in .env"
        ) from None
    return handler


def start_http(app: App, port: int, host: str = "0.0.0.0") -> BoltHttpServer:
    """Bind the HTTP endpoint (``ConfigError`` if the port is taken); serve with ``serve_forever()``."""
    try:
        return BoltHttpServer(app, host=host, port=port)
    except OSError as error:
        raise ConfigError(
            f"cannot listen on port {port} ({error.strerror}); choose another with `factbot serve --port N`"
        ) from None


def _run_socket_mode(app: App, app_token: str) -> int:
    try:
        handler = start_socket_mode(app, app_token)
    except OSError as error:
        logger.error("cannot reach Slack for Socket Mode: %s", error)
        return EXIT_SLACK_UNREACHABLE
    _announce("FactBot is connected to Slack over Socket Mode; Ctrl-C stops it.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        logger.info("stopping")
    finally:
        handler.close()
    return EXIT_OK


def _run_http(app: App, port: int) -> int:
    server = start_http(app, port)
    _announce(f"FactBot is listening on http://0.0.0.0:{server.port}{EVENTS_PATH}; Ctrl-C stops it.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        logger.info("stopping")
    finally:
        server.server_close()
    return EXIT_OK


def _announce(line: str) -> None:
    """One line on stderr that the bot is up (the CLI shows only warnings from loggers by default)."""
    logger.info(line)
    print(line, file=sys.stderr, flush=True)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM stops the server the way Ctrl-C does (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
