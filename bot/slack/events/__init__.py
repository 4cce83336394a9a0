"""Events API listeners: @mentions in channels and direct messages.

Each question listener acks at once and answers in a lazy listener (Bolt runs it in its thread
pool after the ack has gone back), so Slack never waits on the engine or on chat.postMessage.
Events that are not questions (bot messages, edits, deletions, joins, other subtypes) match the
catch-all listeners below, which only ack: an unhandled event would get a 404, and Slack would
retry it.
"""

from __future__ import annotations

from slack_bolt import App

from bot.slack.deps import SlackDeps, with_deps
from bot.slack.events.questions import (
    acknowledge,
    answer_question,
    is_question,
    skip_redeliveries,
)


def register(app: App, deps: SlackDeps) -> None:
    for event_type in ("app_mention", "message"):
        app.event(
            event_type,
            matchers=[is_question],
            middleware=[with_deps(skip_redeliveries, deps)],
        )(ack=acknowledge, lazy=[with_deps(answer_question, deps)])
        app.event(event_type)(acknowledge)
