"""The Bolt app: one WebClient, one set of listeners, answering inside the request.

``process_before_response=True``: Bolt runs each ack function on the request thread and returns
its response as soon as it is done, instead of starting the listener in a thread and polling for
the ack every 10 ms. Slow work (posting, recording) lives in lazy listeners, which Bolt starts
in its thread pool after the ack. ``/fact`` answers inside its ack.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor

from slack_bolt import App
from slack_sdk import WebClient

from bot.settings import Settings
from bot.slack import actions, commands, events
from bot.slack.delivery import retry_handlers
from bot.slack.deps import SlackDeps

logger = logging.getLogger(__name__)


def build_web_client(settings: Settings) -> WebClient:
    """A WebClient with the bot token, safe retries, and ``SLACK_API_URL`` as base URL when set.

    Its retries never send a request twice that may have arrived, nor sleep long
    (``bot.slack.web_api.safe_retry_handlers``); replies have their own (``bot.slack.delivery``).
    """
    base_url = settings.slack_api_url.rstrip("/") + "/" if settings.slack_api_url else WebClient.BASE_URL
    return WebClient(
        token=settings.slack_bot_token or None, base_url=base_url, retry_handlers=retry_handlers()
    )


def build_app(
    settings: Settings,
    deps: SlackDeps,
    *,
    client: WebClient | None = None,
    listener_executor: Executor | None = None,
) -> App:
    """The Bolt app with every FactBot listener registered.

    Calls ``auth.test`` once (Bolt learns the bot's own user and bot ids from it, to ignore its
    own messages); raises ``slack_bolt.error.BoltError`` when Slack rejects the token.
    ``listener_executor`` runs the lazy listeners (default: Bolt's thread pool of 10).
    """
    app = App(
        client=client or build_web_client(settings),
        signing_secret=settings.slack_signing_secret,
        process_before_response=True,
        logger=logging.getLogger("bot.slack.bolt"),
        listener_executor=listener_executor,
    )
    commands.register(app, deps)
    events.register(app, deps)
    actions.register(app, deps)
    return app
