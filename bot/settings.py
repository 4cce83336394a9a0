"""One settings object, read from the environment and an optional ``.env`` file."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import ConfigError

logger = logging.getLogger(__name__)

DEFAULT_PORT = 3000
DEFAULT_HOST = "0.0.0.0"


def _split_csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _int_setting(env: dict[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number; set it to e.g. {default} in .env") from None
    if value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}; set it to e.g. {default} in .env")
    return value


def _seconds_setting(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(
            f"{name}={raw!r} is not a number of seconds; set it to e.g. {default:g} in .env"
        ) from None
    if not 0 < value < 3600:
        raise ConfigError(
            f"{name}={raw} must be between 0 and 3600 seconds; set it to e.g. {default:g} in .env"
        )
    return value


def _database_url(raw: str) -> str:
    url = raw.strip()
    if url and not url.startswith(("postgresql://", "postgres://")):
        scheme = url.split("://", 1)[0] if "://" in url else "no scheme"
        raise ConfigError(
            f"FACTBOT_DATABASE_URL must be a postgresql:// URL (it has {scheme}); set it to "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE in .env, or unset it to use FACTBOT_DB"
        )
    return url


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _log_level(raw: str) -> str:
    level = raw.strip().upper() or "INFO"
    if level not in _LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL={raw!r} is not one of {', '.join(_LOG_LEVELS)}; fix it in .env")
    return level


@dataclass(frozen=True)
class Settings:
    """Everything FactBot reads from its environment. See ``.env.example`` for each variable."""

    slack_bot_token: str = ""
    slack_app_token: str = ""
    slack_signing_secret: str = ""
    slack_api_url: str = ""
    facts_dir: Path = Path("facts")
    seeds_dir: Path = Path("seeds")
    db_path: Path = Path("factbot.db")
    # PostgreSQL instead of the SQLite file, for several replicas (kept out of repr: it may hold a password).
    database_url: str = field(default="", repr=False)
    timezone: str = "UTC"
    digest_channels: tuple[str, ...] = field(default_factory=tuple)
    digest_time: str = "09:00"
    digest_size: int = 3
    log_level: str = "INFO"
    # HTTP mode (`factbot serve` without SLACK_APP_TOKEN); see bot.slack.http_server.
    http_host: str = DEFAULT_HOST
    http_workers: int = 1
    http_backlog: int = 2048
    http_keepalive_s: float = 5.0
    http_read_timeout_s: float = 10.0
    http_max_body_bytes: int = 1_000_000
    http_max_connections: int = 1000

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, dotenv_path: Path | None = Path(".env")) -> Settings:
        """Read settings from ``env`` (default ``os.environ``), with ``.env`` filling what is unset."""
        values: dict[str, str] = {}
        if dotenv_path is not None and dotenv_path.is_file():
            from dotenv import dotenv_values

            values.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
        values.update(os.environ if env is None else env)
        return cls(
            slack_bot_token=values.get("SLACK_BOT_TOKEN", "").strip(),
            slack_app_token=values.get("SLACK_APP_TOKEN", "").strip(),
            slack_signing_secret=values.get("SLACK_SIGNING_SECRET", "").strip(),
            slack_api_url=values.get("SLACK_API_URL", "").strip(),
            facts_dir=Path(values.get("FACTBOT_FACTS_DIR", "").strip() or "facts"),
            seeds_dir=Path(values.get("FACTBOT_SEEDS_DIR", "").strip() or "seeds"),
            db_path=Path(values.get("FACTBOT_DB", "").strip() or "factbot.db"),
            database_url=_database_url(values.get("FACTBOT_DATABASE_URL", "")),
            timezone=values.get("FACTBOT_TIMEZONE", "").strip() or "UTC",
            digest_channels=_split_csv(values.get("FACTBOT_DIGEST_CHANNELS", "")),
            digest_time=values.get("FACTBOT_DIGEST_TIME", "").strip() or "09:00",
            digest_size=_int_setting(values, "FACTBOT_DIGEST_SIZE", 3),
            log_level=_log_level(values.get("LOG_LEVEL", "")),
            http_host=values.get("FACTBOT_HTTP_HOST", "").strip() or DEFAULT_HOST,
            http_workers=_int_setting(values, "FACTBOT_HTTP_WORKERS", 1),
            http_backlog=_int_setting(values, "FACTBOT_HTTP_BACKLOG", 2048, minimum=128),
            http_keepalive_s=_seconds_setting(values, "FACTBOT_HTTP_KEEPALIVE", 5.0),
            http_read_timeout_s=_seconds_setting(values, "FACTBOT_HTTP_READ_TIMEOUT", 10.0),
            http_max_body_bytes=_int_setting(values, "FACTBOT_HTTP_MAX_BODY", 1_000_000, minimum=1024),
            http_max_connections=_int_setting(values, "FACTBOT_HTTP_MAX_CONNECTIONS", 1000, minimum=16),
        )

    @property
    def has_slack_tokens(self) -> bool:
        """True when enough is configured to connect to Slack at all."""
        return bool(self.slack_bot_token and (self.slack_app_token or self.slack_signing_secret))

    def require_slack(self) -> None:
        """Raise ConfigError naming the first missing Slack variable and how to fix it."""
        hint = "(or try FactBot without Slack: `factbot chat`)"
        if not self.slack_bot_token:
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from your Slack app's "
                f"'OAuth & Permissions' page into .env {hint}"
            )
        if not self.slack_bot_token.startswith("xoxb-"):
            raise ConfigError(f"SLACK_BOT_TOKEN must start with 'xoxb-' (the Bot User OAuth Token) {hint}")
        if self.slack_app_token:
            if not self.slack_app_token.startswith("xapp-"):
                raise ConfigError(
                    "SLACK_APP_TOKEN must start with 'xapp-' (an app-level token with connections:write) "
                    f"{hint}"
                )
        elif not self.slack_signing_secret:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is not set: copy the Signing Secret from your Slack app's "
                "'Basic Information' page into .env, or set SLACK_APP_TOKEN (xapp-...) for Socket Mode "
                f"{hint}"
            )
