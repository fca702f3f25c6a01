"""Telling a database that blinked from one that is broken.

A transient error (connection refused or reset, the server shutting down or
starting up, a serialization failure or deadlock, SQLite busy) means "try
again later": the poller, the watcher, the sweeper and the workers wait and
retry. Anything else is a real error and surfaces as before.

The reason given for a transient error is one short line without the SQL
statement or its parameters (they may hold subjects or addresses).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from ingest.cursor import Cursor
from ingest.imap import FetchedMessage
from ingest.poller import BatchSink
from klachtwacht.errors import DatabaseUnavailable

__all__ = ["is_transient", "transient_reason", "database_errors", "GuardedSink"]

#: PostgreSQL SQLSTATEs that pass: connection exceptions (class 08), the
#: server shutting down or starting (57P01-57P03), too many connections,
#: serialization failure and deadlock.
_TRANSIENT_SQLSTATE_PREFIXES = ("08",)
_TRANSIENT_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300", "40001", "40P01"})
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
_CLOSED = ("connection is closed", "server closed the connection", "connection already closed", "terminating connection")


def _sqlstate(orig: BaseException | None) -> str | None:
    value = getattr(orig, "sqlstate", None)
    return value if isinstance(value, str) else None


def _is_psycopg_operational(orig: BaseException) -> bool:
    try:
        import psycopg
    except ImportError:  # SQLite-only installation
        return False
    return isinstance(orig, psycopg.OperationalError)


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) says the database is away for a while."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _one_is_transient(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _one_is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DatabaseUnavailable):
        return True
    if isinstance(exc, (sa_exc.DisconnectionError, sa_exc.TimeoutError)):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        return _orig_is_transient(exc.orig)
    return _orig_is_transient(exc)


def _orig_is_transient(orig: BaseException | None) -> bool:
    if orig is None:
        return False
    text = str(orig).lower()
    if isinstance(orig, sqlite3.OperationalError):
        return any(marker in text for marker in _SQLITE_BUSY)
    state = _sqlstate(orig)
    if state is not None:
        return state in _TRANSIENT_SQLSTATES or state.startswith(_TRANSIENT_SQLSTATE_PREFIXES)
    if _is_psycopg_operational(orig):
        return True  # no SQLSTATE: the client could not reach or lost the server
    return any(marker in text for marker in _CLOSED) and type(orig).__name__ in ("InterfaceError", "OperationalError")


def transient_reason(exc: BaseException) -> str:
    """One line naming the error: its type and first line, never the statement or its parameters."""
    orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None else exc
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
    return f"{type(orig).__name__}: {first[:160]}" if first else type(orig).__name__


@contextmanager
def database_errors(what: str) -> Iterator[None]:
    """Turn a transient database error inside the block into :class:`DatabaseUnavailable`."""
    try:
        yield
    except DatabaseUnavailable:
        raise
    except Exception as exc:
        if is_transient(exc):
            prefix = f"{what}: " if what else ""
            raise DatabaseUnavailable(f"{prefix}database unavailable ({transient_reason(exc)})") from exc
        raise


class GuardedSink:
    """A :class:`ingest.poller.BatchSink` whose transient database errors arrive as :class:`DatabaseUnavailable`.

    The poller then waits and tries the folder again from its stored cursor,
    keeping its IMAP connection.
    """

    def __init__(self, sink: BatchSink, mailbox: str) -> None:
        self.sink = sink
        self.mailbox = mailbox

    def load_cursor(self, folder: str) -> Cursor | None:
        with database_errors(f"mailbox {self.mailbox}: folder {folder!r}: cursor"):
            return self.sink.load_cursor(folder)

    def store_batch(self, folder: str, cursor: Cursor, messages: Sequence[FetchedMessage]) -> int:
        with database_errors(f"mailbox {self.mailbox}: folder {folder!r}"):
            return self.sink.store_batch(folder, cursor, messages)

    def folder_error(self, folder: str, error: str) -> None:
        with database_errors(f"mailbox {self.mailbox}: folder {folder!r}"):
            self.sink.folder_error(folder, error)

    def known_uids(self, folder: str, uidvalidity: int, uids: Collection[int]) -> set[int]:
        """The sink's :meth:`klachtwacht.intake.DatabaseSink.known_uids` (for the Graph source)."""
        with database_errors(f"mailbox {self.mailbox}: folder {folder!r}: sightings"):
            known: set[int] = self.sink.known_uids(folder, uidvalidity, uids)  # type: ignore[attr-defined]
            return known
