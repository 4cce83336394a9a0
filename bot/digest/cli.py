"""``factbot digest preview [--channel C]`` and ``factbot digest send CHANNEL`` (wired in bot.cli)."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from slack_sdk import WebClient

from bot.digest.render import to_plain_text
from bot.digest.scheduler import build_digest_service
from bot.digest.service import FactCatalog
from bot.digest.store import SENT
from bot.digest.timing import utc_now
from bot.engine import Engine
from bot.errors import ConfigError, FactBotError
from bot.settings import Settings
from bot.storage import SQLiteDatabase, open_database

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


def _load_catalog(settings: Settings) -> FactCatalog:
    return Engine.load(settings.facts_dir, settings.seeds_dir)


def preview(
    settings: Settings,
    channel: str | None,
    *,
    out: TextIO | None = None,
    load_catalog: Callable[[Settings], FactCatalog] = _load_catalog,
    clock: Callable[[], datetime] = utc_now,
) -> int:
    """Print the next digest for ``channel`` (or a new channel's first) without posting or recording."""
    out = out or sys.stdout
    try:
        catalog = load_catalog(settings)
        # Reading an absent SQLite file would create it: a fresh in-memory one answers the same.
        in_memory = not settings.database_url and not settings.db_path.exists()
        db = SQLiteDatabase(":memory:") if in_memory else open_database(settings)
        try:
            service = build_digest_service(settings, catalog, db, client=None)
            digest = service.preview(channel, now=clock())
        finally:
            db.close()
    except FactBotError as exc:
        print(f"factbot digest preview: {exc}", file=sys.stderr)
        return EXIT_CONFIG if isinstance(exc, ConfigError) else EXIT_FAILED
    out.write(to_plain_text(digest))
    return EXIT_OK


def require_bot_token(settings: Settings) -> None:
    """Sending needs only the bot token (no signing secret / app token): ConfigError if missing."""
    if not settings.slack_bot_token:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from your Slack app's "
            "'OAuth & Permissions' page into .env (`factbot digest preview` shows a digest without Slack)"
        )
    if not settings.slack_bot_token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN must start with 'xoxb-' (the Bot User OAuth Token)")


def web_client(settings: Settings) -> WebClient:
    """A Web API client for the bot token, honouring SLACK_API_URL (used by tests and proxies)."""
    if settings.slack_api_url:
        return WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url.rstrip("/") + "/")
    return WebClient(token=settings.slack_bot_token)


def send(
    settings: Settings,
    channel: str,
    *,
    out: TextIO | None = None,
    load_catalog: Callable[[Settings], FactCatalog] = _load_catalog,
    clock: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Post the channel's next digest now and record it, so the rotation continues from it."""
    out = out or sys.stdout
    try:
        require_bot_token(settings)
        catalog = load_catalog(settings)
        db = open_database(settings)
        try:
            service = build_digest_service(settings, catalog, db, client=web_client(settings))
            outcome = service.send_now(channel, now=clock(), sleep=sleep)
        finally:
            db.close()
    except FactBotError as exc:
        print(f"factbot digest send: {exc}", file=sys.stderr)
        return EXIT_CONFIG if isinstance(exc, ConfigError) else EXIT_FAILED
    if outcome.status != SENT:
        print(
            f"factbot digest send: Slack did not accept the digest for {channel}: {outcome.error}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    out.write(f"Posted the digest to {channel} ({', '.join(outcome.fact_ids)}).\n")
    return EXIT_OK
