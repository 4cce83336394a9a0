"""How fast the Slack layer answers signed ``/fact`` requests over HTTP: alone, and under load.

Latency: the real Bolt app (signature check, middleware, routing) and the real engine over
``facts/``, served by ``bot.slack.http_server`` on 127.0.0.1 over one keep-alive connection; Bolt's
start-up ``auth.test`` goes to the tests' fake Slack. Server-side time runs from the request's
body being read to its response being ready; the Slack layer's own time is that less the time spent
in ``engine.ask`` during the request (measured around the call). Target: the Slack layer's own time
under 5 ms, median and p99 (the engine has its own target, 10 ms p50, in ``bench.latency``).

Load: ``factbot serve`` itself in its own process (``--workers N``), hit by 1, 8, 32 and 64
concurrent clients on 127.0.0.1, each sending signed ``/fact`` requests back to back on a new
connection each (as Slack does); requests/s, round-trip p50 and p99, and errors (a reset, a
timeout or any status but 200). Target: no errors and p99 under Slack's 3 s at every level.

Before and after: the same load, in the same run, against the hand-written ``ThreadingHTTPServer``
that ``factbot serve`` used before uvicorn (``bot/slack/http_server.py`` at :data:`OLD_SERVER_COMMIT`,
read with ``git show`` into a temporary module and serving today's Bolt app), so only the server
differs. Without git history that row is skipped.

    .venv/bin/python -m bench.slack_http [--requests 500] [--load-requests 400] [--workers 1] [--no-before]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from bot.engine.engine import Engine
from bot.settings import Settings
from bot.slack.app import build_app
from bot.slack.deps import SlackDeps
from bot.slack.http_server import EVENTS_PATH, BoltHttpServer
from bot.storage import SQLiteDatabase
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


class _TimedEngine:
    """The engine, adding the seconds each ``ask`` takes to ``spent``."""

    def __init__(self, engine: Engine, spent: list[float]) -> None:
        self._engine = engine
        self._spent = spent

    def ask(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self._engine.ask(*args, **kwargs)
        finally:
            self._spent[0] += time.perf_counter() - started

    def __getattr__(self, name: str):
        return getattr(self._engine, name)


def run(requests: int) -> tuple[list[float], list[float], list[float]]:
    """Send ``requests`` signed ``/fact`` commands; return server-side, engine and round-trip seconds."""
    spent = [0.0]
    engine = _TimedEngine(Engine.load(REPO / "facts", REPO / "seeds"), spent)
    server_times: list[float] = []
    engine_times: list[float] = []
    round_trips: list[float] = []
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as scratch:
        database = SQLiteDatabase(Path(scratch) / "bench.db")
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
                spent[0] = 0.0
                started = time.perf_counter()
                connection.request("POST", EVENTS_PATH, body=body.encode(), headers=headers)
                response = connection.getresponse()
                response.read()
                round_trips.append(time.perf_counter() - started)
                engine_times.append(spent[0])
                if response.status != 200:
                    raise SystemExit(f"request {number} answered HTTP {response.status}")
        finally:
            connection.close()
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
            database.close()
    return server_times[WARMUP:], engine_times[WARMUP:], round_trips[WARMUP:]


LOAD_LEVELS = (1, 8, 32, 64)
LOAD_HEADER = "| server | concurrency | requests | requests/s | p50 | p99 | errors | target | result |"
OLD_SERVER_COMMIT = "1d4aedb"
"""The last commit of the hand-written HTTP server (the next, 1738600, moved serving to uvicorn)."""
OLD_SERVER_SCRIPT = """
import importlib.util, sys
from pathlib import Path
from bot.engine.engine import Engine
from bot.settings import Settings
from bot.slack.app import build_app
from bot.slack.deps import SlackDeps
from bot.storage import SQLiteDatabase
path, port = sys.argv[1], int(sys.argv[2])
spec = importlib.util.spec_from_file_location("old_http_server", path)
old = importlib.util.module_from_spec(spec)
spec.loader.exec_module(old)
settings = Settings.from_env(dotenv_path=None)
engine = Engine.load(settings.facts_dir, settings.seeds_dir)
app = build_app(settings, SlackDeps(engine=engine, database=SQLiteDatabase(settings.db_path)))
old.BoltHttpServer(app, host="127.0.0.1", port=port).serve_forever()
"""
LOAD_TIMEOUT_S = 30.0
SLACK_DEADLINE_S = 3.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _signed_request(port: int, question: str, response_url: str) -> bytes:
    body = urlencode(slash_command_body(question, response_url=response_url))
    timestamp = str(int(time.time()))
    head = (
        f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Slack-Request-Timestamp: {timestamp}\r\n"
        f"X-Slack-Signature: {sign(SIGNING_SECRET, timestamp, body)}\r\n"
        f"Content-Length: {len(body.encode())}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body.encode()


async def _one_request(port: int, payload: bytes) -> tuple[float, bool]:
    """Send one request on a new connection; (seconds, ok) where ok means HTTP 200 came back."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(LOAD_TIMEOUT_S):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                writer.write(payload)
                await writer.drain()
                status_line = await reader.readline()
                await reader.read()  # until the server closes (Connection: close)
            finally:
                writer.close()
        ok = status_line.split(b" ")[1:2] == [b"200"]
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        ok = False
    return time.perf_counter() - started, ok


async def _load_level(port: int, concurrency: int, total: int, response_url: str) -> dict[str, float]:
    queue = list(range(total))
    samples: list[float] = []
    errors = 0

    async def client() -> None:
        nonlocal errors
        while queue:
            number = queue.pop()
            seconds, ok = await _one_request(
                port, _signed_request(port, QUESTIONS[number % len(QUESTIONS)], response_url)
            )
            samples.append(seconds)
            errors += not ok

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "requests": total,
        "rps": total / elapsed,
        "p50": statistics.median(samples),
        "p99": _percentile(samples, 0.99),
        "errors": errors,
    }


def old_server_source() -> str | None:
    """The hand-written server's source from git history, or None without it."""
    try:
        proc = subprocess.run(
            ["git", "show", f"{OLD_SERVER_COMMIT}:bot/slack/http_server.py"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return proc.stdout


def run_load(
    total: int, workers: int, levels: tuple[int, ...] = LOAD_LEVELS, *, old_server: str | None = None
) -> list[dict[str, float]]:
    """Start the server in a process, run each concurrency level against it, stop it.

    The server is ``factbot serve`` (uvicorn), or with ``old_server`` (its source) the
    hand-written one serving the same app.
    """
    port = _free_port()
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FACTBOT_"))}
        env.update(
            SLACK_BOT_TOKEN="xoxb-bench",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=fake.api_url,
            FACTBOT_FACTS_DIR=str(REPO / "facts"),
            FACTBOT_SEEDS_DIR=str(REPO / "seeds"),
            FACTBOT_DB=str(Path(scratch) / "bench.db"),
            LOG_LEVEL="ERROR",
            PYTHONPATH=str(REPO),
        )
        if old_server is None:
            command = [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())"]
            command += ["serve", "--port", str(port)] + (["--workers", str(workers)] if workers > 1 else [])
        else:
            module = Path(scratch) / "old_http_server.py"
            module.write_text(old_server, encoding="utf-8")
            command = [sys.executable, "-c", OLD_SERVER_SCRIPT, str(module), str(port)]
        process = subprocess.Popen(command, cwd=scratch, env=env, stderr=subprocess.DEVNULL)
        try:
            _wait_for_port(port, process)
            asyncio.run(_load_level(port, 4, 40, fake.response_url()))  # warm-up
            time.sleep(0.5)  # let the worker processes, if several, all finish starting
            results = []
            for concurrency in levels:
                results.append(asyncio.run(_load_level(port, concurrency, total, fake.response_url())))
                time.sleep(0.5)
            return results
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"factbot serve exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("factbot serve did not start listening within 60 s")


ISSUE_BEFORE = (
    "| before, as measured in issue 15 (quoted) | 64 | | 12 | | 27.8 s | 23-40% of connections reset "
    "at 32-64 | | FAIL |"
)


def print_load(rows: list[tuple[str, list[dict[str, float]]]]) -> bool:
    """Print the load table (one block of rows per server); True when the last server met the target."""
    print()
    print(LOAD_HEADER)
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    passed = True
    for server, results in rows:
        passed = True
        for row in results:
            ok = row["errors"] == 0 and row["p99"] < SLACK_DEADLINE_S
            passed &= ok
            print(
                f"| {server} | {row['concurrency']} | {row['requests']} | {row['rps']:.0f} "
                f"| {row['p50'] * 1000:.1f} ms | {row['p99'] * 1000:.1f} ms | {row['errors']} "
                f"| no errors, p99 < {SLACK_DEADLINE_S:g} s | {'pass' if ok else 'FAIL'} |"
            )
    print(ISSUE_BEFORE)
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"| load average at the end (1, 5, 15 min; {os.cpu_count()} cores) | {load} | | | | | | | |")
    return passed


def run_before_and_after(total: int, workers: int, before: bool) -> bool:
    rows = []
    source = old_server_source() if before else None
    if source is not None:
        rows.append(
            (
                f"before: hand-written `ThreadingHTTPServer` (`{OLD_SERVER_COMMIT}`)",
                run_load(total, 1, old_server=source),
            )
        )
    rows.append((f"after: `factbot serve` (uvicorn), {workers} worker(s)", run_load(total, workers)))
    return print_load(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="measured requests (default: 500)")
    parser.add_argument(
        "--load-requests", type=int, default=400, help="requests per load level (default: 400; 0 skips)"
    )
    parser.add_argument("--workers", type=int, default=1, help="factbot serve --workers (default: 1)")
    parser.add_argument("--only-load", action="store_true", help="skip the latency table")
    parser.add_argument("--no-before", action="store_true", help="skip the old server's load rows")
    args = parser.parse_args(argv)
    load_ok = True
    if args.only_load:
        return 0 if run_before_and_after(args.load_requests, args.workers, not args.no_before) else 1
    server, engine, client = run(args.requests)
    own = [total - asked for total, asked in zip(server, engine, strict=True)]

    def ms(samples: list[float]) -> str:
        return f"{statistics.median(samples) * 1000:.2f} / {_percentile(samples, 0.99) * 1000:.2f} ms"

    verdict = "pass" if max(statistics.median(own), _percentile(own, 0.99)) * 1000 < TARGET_MS else "FAIL"
    print(
        "| benchmark | requests | server median / p99 | of it `engine.ask` | Slack layer's own "
        "| round trip | target | result |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    print(
        f"| slack_http `/fact` | {len(server)} | {ms(server)} | {ms(engine)} | {ms(own)} | {ms(client)} "
        f"| Slack layer < {TARGET_MS:g} ms | {verdict} |"
    )
    if args.load_requests > 0:
        load_ok = run_before_and_after(args.load_requests, args.workers, not args.no_before)
    return 0 if verdict == "pass" and load_ok else 1


if __name__ == "__main__":
    sys.exit(main())
