"""Shared pytest setup: fixtures from ``tests/support`` are available to every test."""

pytest_plugins = ("tests.support.fake_slack",)
