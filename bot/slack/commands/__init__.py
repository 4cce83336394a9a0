"""Slash command listeners."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.commands.fact import fact_command
from bot.slack.deps import SlackDeps, with_deps


def register(app: App, deps: SlackDeps) -> None:
    app.command(deps.command)(with_deps(fact_command, deps))
