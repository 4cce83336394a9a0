"""Block action listeners: the buttons under an answer.

Each acks at once; the work (posting, recording, updating) runs in a lazy listener after the ack.
"""

from __future__ import annotations

from slack_bolt import App

from bot.slack.actions.answer_buttons import acknowledge, record_vote, share_answer
from bot.slack.blocks import SHARE_ACTION, VOTE_DOWN_ACTION, VOTE_UP_ACTION
from bot.slack.deps import SlackDeps, with_deps


def register(app: App, deps: SlackDeps) -> None:
    app.action(SHARE_ACTION)(ack=acknowledge, lazy=[with_deps(share_answer, deps)])
    for vote_action in (VOTE_UP_ACTION, VOTE_DOWN_ACTION):
        app.action(vote_action)(ack=acknowledge, lazy=[with_deps(record_vote, deps)])
