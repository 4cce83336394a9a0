"""manifest.json asks Slack for exactly what the listeners handle."""

from __future__ import annotations

import json

from bot.slack.deps import SlackDeps
from tests.slack.conftest import REPO


def test_manifest_matches_the_app() -> None:
    manifest = json.loads((REPO / "manifest.json").read_text(encoding="utf-8"))
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == SlackDeps.__dataclass_fields__["command"].default
    assert command["should_escape"] is False
    settings = manifest["settings"]
    assert sorted(settings["event_subscriptions"]["bot_events"]) == ["app_mention", "message.im"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "app_mentions:read", "chat:write", "im:history", "im:read", "im:write"} <= scopes
    # To check whether a post whose answer was lost landed, before sending it again.
    assert {"channels:history", "groups:history", "im:history", "mpim:history"} <= scopes
