"""A throwaway PostgreSQL cluster that a test starts, stops and starts again itself.

``initdb`` into a temporary folder, the server on a free loopback port as a
child process of the test (as the ``postgres`` user when the test runs as
root: PostgreSQL refuses to run as root). The shared server on 5432 is never
touched, so a test can take this one away in the middle of its work::

    with PgCluster() as pg:
        url = pg.create_database("kw")
        ...
        pg.stop()      # fast shutdown: connections are cut, new ones refused
        pg.start()     # same port, same data
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from . import services
from .services import free_port

__all__ = ["PgCluster", "pg_binary"]

START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
_RUN_AS = "postgres"


def pg_binary(name: str) -> str:
    """The newest installed PostgreSQL program ``name`` (Debian keeps them under /usr/lib/postgresql/N/bin)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    path = found[-1] if found else (shutil.which(name) or f"/usr/lib/postgresql/bin/{name}")
    services.require_binary(path, f"PostgreSQL ({name})")
    return path


class PgCluster:
    """One private PostgreSQL server; :meth:`stop` and :meth:`start` keep its data and port."""

    def __init__(self) -> None:
        self.initdb = pg_binary("initdb")
        self.postgres = pg_binary("postgres")
        self.host = "127.0.0.1"
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="klachtwacht-pg-"))
        self.data = self.base / "data"
        self._user: dict[str, Any] = {}
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam(_RUN_AS)
            except KeyError:
                services.missing(f"running PostgreSQL as root needs the system user {_RUN_AS!r}")
            os.chown(self.base, entry.pw_uid, entry.pw_gid)
            self._user = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        self._process: subprocess.Popen[bytes] | None = None
        self._log = self.base / "postgres.log"
        subprocess.run(
            [self.initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"],
            check=True, capture_output=True, cwd=self.base, **self._user,
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/{database}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        if self.running:
            return
        command = [
            self.postgres, "-D", str(self.data), "-p", str(self.port), "-c", "listen_addresses=127.0.0.1",
            "-c", f"unix_socket_directories={self.base}", "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off", "-c", "max_connections=200",
        ]
        log = open(self._log, "ab")
        try:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=self.base, **self._user)
        finally:
            log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"PostgreSQL did not start:\n{self.log_tail()}")
            if self._accepts():
                return
            time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not accept connections within {START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def _accepts(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(host=self.host, port=self.port, user="postgres", dbname="postgres", connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def stop(self) -> None:
        """Fast shutdown (SIGINT): every session is cut, the port closes; the data stays."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def create_database(self, name: str) -> str:
        """Create database ``name``; return its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(host=self.host, port=self.port, user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        return self.url(name)

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self._log.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False
