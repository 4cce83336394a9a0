"""``factbot serve``: run FactBot in Slack, over Socket Mode or HTTP, until interrupted.

Socket Mode (``SLACK_APP_TOKEN`` set) needs no public URL; otherwise Slack POSTs to
``http://<host>:<port>/slack/events``, verified with ``SLACK_SIGNING_SECRET``, served by uvicorn
(``http_server``) in this process or in ``workers`` processes. The digest scheduler runs once, in
this process, whatever the number of workers.
"""

from __future__ import annotations

import functools
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError
from starlette.types import ASGIApp

from bot.digest.scheduler import DigestScheduler, build_digest_service, start_digest_scheduler
from bot.engine import Engine
from bot.errors import ConfigError
from bot.settings import DEFAULT_PORT, Settings
from bot.slack import metrics
from bot.slack.app import build_app
from bot.slack.delivery import ReplyPoster
from bot.slack.deps import AnswerEngine, SlackDeps
from bot.slack.http_app import EVENTS_PATH, HealthCheck, build_asgi_app
from bot.slack.http_server import BoltHttpServer, HttpLimits, bind_socket, quiet_uvicorn_warnings, serve_http
from bot.storage import Database, DatabaseError, open_database

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_SLACK_UNREACHABLE = 1


def serve(
    settings: Settings, port: int = DEFAULT_PORT, host: str | None = None, workers: int | None = None
) -> int:
    """Answer Slack until Ctrl-C or SIGTERM; return the process exit code.

    ``host`` and ``workers`` (HTTP mode only) default to ``FACTBOT_HTTP_HOST`` and
    ``FACTBOT_HTTP_WORKERS``. Returns 0 after a clean stop and 1 when Slack cannot be reached
    (logged in one line). Raises ``ConfigError`` when a token or the signing secret is missing or
    rejected by Slack, or the port is taken, and lets the engine's and storage's ``FactBotError``s
    (no index built, ...) propagate: the CLI prints those in one line and exits 2.
    """
    settings.require_slack()
    engine = _load_engine(settings)
    database = open_database(settings)
    digest_scheduler: DigestScheduler | None = None
    replies = ReplyPoster()
    try:
        # Daily digests: `/fact digest` needs the service; ConfigError on a bad FACTBOT_DIGEST_*.
        digest = build_digest_service(settings, engine, database, client=None)
        try:
            deps = SlackDeps(engine=engine, database=database, digest=digest, replies=replies)
            app = build_app(settings, deps)
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
            asgi = _asgi_app(app, settings, health_check(engine, database))
            return _run_http(
                settings, asgi, host or settings.http_host, port, workers or settings.http_workers
            )
    finally:
        if digest_scheduler is not None:
            digest_scheduler.stop()
        replies.close()
        database.close()


def _load_engine(settings: Settings) -> Engine:
    engine = Engine.load(settings.facts_dir, settings.seeds_dir)
    metrics.RELOADS.inc()
    return engine


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
    return BoltHttpServer(app, host=host, port=port)


def health_check(engine: AnswerEngine, database: Database) -> HealthCheck:
    """``/healthz``: healthy when the engine has an index loaded and the database answers a query."""

    def check() -> str | None:
        if not engine.articles():
            return "no fact index loaded"
        try:
            database.ping()
        except DatabaseError as error:
            return f"database does not answer ({type(error).__name__})"
        return None

    return check


def _asgi_app(
    app: App, settings: Settings, health: HealthCheck, on_shutdown: Callable[[], None] | None = None
) -> ASGIApp:
    return build_asgi_app(
        app,
        signing_secret=settings.slack_signing_secret,
        max_body_bytes=settings.http_max_body_bytes,
        health=health,
        on_shutdown=on_shutdown,
    )


def build_worker_app(settings: Settings) -> ASGIApp:
    """One HTTP worker process's ASGI app: its own engine, database handle and Bolt app.

    Called by uvicorn in each worker (``--workers N``); the database is closed when it stops.
    """
    _configure_worker_logging(settings)
    engine = _load_engine(settings)
    database = open_database(settings)
    digest = build_digest_service(settings, engine, database, client=None)
    deps = SlackDeps(engine=engine, database=database, digest=digest)
    app = build_app(settings, deps)

    def stop() -> None:
        deps.replies.close()
        database.close()

    return _asgi_app(app, settings, health_check(engine, database), on_shutdown=stop)


def _configure_worker_logging(settings: Settings) -> None:
    quiet_uvicorn_warnings()  # worker processes start with fresh loggers
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=settings.log_level, format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
        )


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


def _run_http(settings: Settings, asgi: ASGIApp, host: str, port: int, workers: int) -> int:
    limits = HttpLimits.from_settings(settings)
    sock = bind_socket(host, port, limits.backlog)
    processes = f"{workers} worker processes" if workers > 1 else "one process"
    _announce(f"FactBot is listening on http://{host}:{port}{EVENTS_PATH} ({processes}); Ctrl-C stops it.")
    try:
        serve_http(
            limits, sock, workers, app=asgi, worker_factory=functools.partial(build_worker_app, settings)
        )
    except KeyboardInterrupt:
        logger.info("stopping")
    finally:
        sock.close()
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
