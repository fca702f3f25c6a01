"""Which database errors are passing: the database blinked, the message is fine.

Connection refused or reset, a server shutting down, a serialization failure
or deadlock (PostgreSQL), a busy or locked database (SQLite): retry later.
Everything else (a constraint, bad SQL, bad data) is not.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import exc as sa_exc

__all__ = ["is_transient"]

#: PostgreSQL SQLSTATE classes and codes that pass: connection exceptions (08), serialization failure,
#: deadlock, operator intervention (57: admin shutdown, cannot connect now), insufficient resources (53).
_PG_TRANSIENT = ("08", "40001", "40P01", "57", "53")
_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "database is busy", "disk i/o error", "unable to open database")
_TEXT_TRANSIENT = ("connection refused", "connection reset", "server closed the connection", "terminating connection", "could not connect", "connection timed out", "the database system is starting up", "the database system is shutting down", "ssl syscall error", "broken pipe", "connection is closed")


def is_transient(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) is a database error worth retrying."""
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 10:
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (sa_exc.DisconnectionError, sa_exc.TimeoutError)):
            return True
        state = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(state, str) and state.startswith(_PG_TRANSIENT):
            return True
        if isinstance(current, sqlite3.OperationalError) and any(t in str(current).lower() for t in _SQLITE_TRANSIENT):
            return True
        if isinstance(current, (sa_exc.OperationalError, sa_exc.InterfaceError)) or type(current).__module__.startswith("psycopg"):
            text = str(current).lower()
            if any(t in text for t in _TEXT_TRANSIENT + _SQLITE_TRANSIENT):
                return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
        seen += 1
    return False
