"""How long the Slack layer takes to answer a signed ``/fact`` over HTTP, measured in the server.

The real Bolt app (signature check, middleware, routing) and the real engine over ``facts/``,
served by ``bot.slack.http_server`` on 127.0.0.1 over one keep-alive connection; Bolt's
start-up ``auth.test`` goes to the tests' fake Slack. Server-side time runs from the request's
headers being read to the response being written. Target: median and p99 under 5 ms.

    .venv/bin/python -m bench.slack_http [--requests 500]
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from bot.engine import Engine
from bot.settings import Settings
from bot.slack.app import build_app
from bot.slack.deps import SlackDeps
from bot.slack.http_server import EVENTS_PATH, BoltHttpServer
from bot.storage import Database
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import SIGNING_SECRET, sign, slash_command_body

REPO = Path(__file__).resolve().parents[1]
TARGET_MS = 5.0
WARMUP = 50
QUESTIONS = (
    "When was the US-Japan Security Treaty signed?",
    "What was global military spending in 2023?",
    "How many joint military exercises did the three countries conduct in 2023?",
    "When was the US-South Korea Mutual Defense Treaty signed?",
    "Where did the China-Japan-South Korea talks start?",
    "What is the airspeed velocity of an unladen swallow?",
    "help",
    "sources",
)


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(requests: int) -> tuple[list[float], list[float]]:
    """Send ``requests`` signed ``/fact`` commands; return server-side and round-trip seconds."""
    engine = Engine.load(REPO / "facts", REPO / "seeds")
    server_times: list[float] = []
    round_trips: list[float] = []
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as scratch:
        database = Database(Path(scratch) / "bench.db")
        settings = Settings(
            slack_bot_token="xoxb-bench", slack_signing_secret=SIGNING_SECRET, slack_api_url=fake.api_url
        )
        app = build_app(settings, SlackDeps(engine=engine, database=database))
        server = BoltHttpServer(app, host="127.0.0.1", port=0, on_timing=server_times.append)
        thread = server.start_in_thread()
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            for number in range(WARMUP + requests):
                question = QUESTIONS[number % len(QUESTIONS)]
                body = urlencode(slash_command_body(question, response_url=fake.response_url()))
                timestamp = str(int(time.time()))
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Slack-Request-Timestamp": timestamp,
                    "X-Slack-Signature": sign(SIGNING_SECRET, timestamp, body),
                }
                started = time.perf_counter()
                connection.request("POST", EVENTS_PATH, body=body.encode(), headers=headers)
                response = connection.getresponse()
                response.read()
                round_trips.append(time.perf_counter() - started)
                if response.status != 200:
                    raise SystemExit(f"request {number} answered HTTP {response.status}")
        finally:
            connection.close()
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
            database.close()
    return server_times[WARMUP:], round_trips[WARMUP:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="measured requests (default: 500)")
    args = parser.parse_args(argv)
    server, client = run(args.requests)
    median, p99 = statistics.median(server) * 1000, _percentile(server, 0.99) * 1000
    client_median, client_p99 = statistics.median(client) * 1000, _percentile(client, 0.99) * 1000
    verdict = "pass" if max(median, p99) < TARGET_MS else "FAIL"
    print(
        "| benchmark | requests | server median | server p99 | round trip median | round trip p99 "
        "| target | result |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    print(
        f"| slack_http `/fact` | {len(server)} | {median:.2f} ms | {p99:.2f} ms | {client_median:.2f} ms "
        f"| {client_p99:.2f} ms | < {TARGET_MS:g} ms (server) | {verdict} |"
    )
    return 0 if verdict == "pass" else 1


if __name__ == "__main__":
    sys.exit(main())
