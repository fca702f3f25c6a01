"""A throwaway PostgreSQL server of a test's own, to take down on purpose.

The shared server on 127.0.0.1:5432 is never stopped; a test that needs an
outage starts one of these (``initdb`` into a temporary folder, a free port,
run as the ``postgres`` system user when the tests run as root) and stops it
with ``pg_ctl stop -m immediate`` mid-work.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from .services import free_port, missing

__all__ = ["ThrowawayPostgres", "postgres_binaries"]


def postgres_binaries() -> Path | None:
    """The folder with ``initdb`` and ``pg_ctl``, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class ThrowawayPostgres:
    """``url`` is a database ``kw`` on a private server; :meth:`stop` takes it down at once."""

    def __init__(self) -> None:
        binaries = postgres_binaries()
        if binaries is None:
            missing("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        assert binaries is not None
        self.bin = binaries
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="kw-pg-"))
        self.data = self.folder / "data"
        self._user: list[str] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.folder, account.pw_uid, account.pw_gid)
            self._user = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/kw"

    def _run(self, *args: str) -> None:
        subprocess.run([*self._user, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> ThrowawayPostgres:
        if not self.data.exists():
            self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start")
        if not getattr(self, "_created", False):
            self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "kw")
            self._created = True
        return self

    def stop(self) -> None:
        """Stop at once, as a crash or a pulled cable would."""
        subprocess.run([*self._user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"], capture_output=True, timeout=60)

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
