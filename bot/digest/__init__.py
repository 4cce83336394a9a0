"""The daily fact digest: subscriptions, rotation, rendering, delivery and scheduling.

Nothing in this package imports Slack except ``bot.digest.delivery`` (the Web API poster) and
``bot.digest.scheduler`` / ``bot.digest.cli`` (which build one).
"""
