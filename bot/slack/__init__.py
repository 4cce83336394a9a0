"""FactBot's Slack layer: parse Slack payloads, ask the engine, render Block Kit. Nothing else.

``runner.serve`` starts it (Socket Mode or HTTP); ``app.build_app`` wires listeners from
``commands/``, ``events/`` and ``actions/`` onto a Bolt app.
"""
