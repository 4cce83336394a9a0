"""A real PostgreSQL server for the tests, started in a temporary directory and stopped after them.

``PostgresServer.start()`` runs Debian's ``initdb`` and ``postgres`` (found on PATH or under
``/usr/lib/postgresql/*/bin``) listening only on a Unix socket in its own directory, so parallel
runs never fight over a port. PostgreSQL refuses to run as root: as root, the server runs as the
unprivileged ``nobody`` (``setpriv``). ``new_database()`` gives each test an empty database.

When no server can be started the tests that need one are skipped with the reason, except in CI
(``CI`` set), where ``.ci/run`` installs PostgreSQL and a missing server is a failure.
"""

from __future__ import annotations

import glob
import itertools
import logging
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

logger = logging.getLogger(__name__)

SUPERUSER = "factbot"
START_TIMEOUT_S = 60
UNPRIVILEGED_USER = "nobody"


class ServerUnavailable(Exception):
    """No PostgreSQL server could be started here (the message says why)."""


def find_binaries() -> Path:
    """The directory holding ``initdb`` and ``postgres`` (ServerUnavailable if there is none)."""
    initdb = shutil.which("initdb")
    if initdb:
        return Path(os.path.realpath(initdb)).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    raise ServerUnavailable(
        "PostgreSQL's initdb is not installed (Debian: `apt-get install postgresql`; .ci/run does this)"
    )


class PostgresServer:
    """One throw-away PostgreSQL server; ``stop()`` ends it and removes its files."""

    def __init__(self) -> None:
        self.bin_dir = find_binaries()
        # As root, under /tmp: the server's user must reach the directory (a TMPDIR under /root it
        # could not), and the socket's path must stay under the 107 bytes Unix sockets allow.
        self.root = Path(tempfile.mkdtemp(prefix="factbot-pg-", dir="/tmp" if os.geteuid() == 0 else None))
        self.data_dir = self.root / "data"
        self.log_path = self.root / "server.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._names = itertools.count(1)
        self._prefix: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam(UNPRIVILEGED_USER)
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._prefix = [
                "setpriv",
                f"--reuid={user.pw_uid}",
                f"--regid={user.pw_gid}",
                "--clear-groups",
                "--",
            ]

    @property
    def socket_dir(self) -> str:
        return str(self.root)

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        """A ``postgresql://`` URL for ``database`` on this server (over its Unix socket)."""
        auth = SUPERUSER + (f":{quote(password)}" if password else "")
        return f"postgresql://{auth}@/{database}?host={quote(self.socket_dir, safe='')}"

    def start(self) -> PostgresServer:
        initdb = subprocess.run(
            [
                *self._prefix,
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
        )
        if initdb.returncode != 0:
            raise ServerUnavailable(f"initdb failed: {initdb.stderr.strip()[-500:]}")
        log = self.log_path.open("wb")
        self._process = subprocess.Popen(
            [
                *self._prefix,
                str(self.bin_dir / "postgres"),
                "-D",
                str(self.data_dir),
                "-k",
                self.socket_dir,
                "-c",
                "listen_addresses=",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
                "-c",
                "shared_buffers=32MB",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return self
            except psycopg.OperationalError as error:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    tail = self.log_path.read_text(errors="replace")[-500:]
                    self.stop()
                    raise ServerUnavailable(f"postgres did not start ({error}): {tail}") from None
                time.sleep(0.05)

    def new_database(self) -> str:
        """Create an empty database and return its URL."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop the database behind ``url``, disconnecting whoever is on it."""
        name = url.split("@/", 1)[1].split("?", 1)[0]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(2)  # SIGINT: PostgreSQL's fast shutdown
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server, started on first use (skips the test when there is none)."""
    try:
        server = PostgresServer().start()
    except (ServerUnavailable, OSError, KeyError, subprocess.SubprocessError) as error:
        reason = f"no PostgreSQL server could be started: {error}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must have one: see .ci/run)")
        pytest.skip(reason)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A new, empty database on the session's server."""
    return postgres_server.new_database()
