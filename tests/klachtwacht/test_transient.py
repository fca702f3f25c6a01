"""Telling a database that blinked from a real error, on real SQLite and PostgreSQL errors."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from support.services import free_port

from klachtwacht.errors import DatabaseUnavailable
from klachtwacht.supervisor import Supervisor
from klachtwacht.transient import database_errors, is_transient, transient_reason


def _error_of(engine_url: str, sql: str, **kwargs: object) -> BaseException:
    engine = create_engine(engine_url, **kwargs)  # type: ignore[arg-type]
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    except Exception as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError("no error")


def test_a_refused_postgresql_connection_is_transient_and_its_reason_is_one_line() -> None:
    exc = _error_of(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres", "SELECT 1", connect_args={"connect_timeout": 2})
    assert is_transient(exc)
    assert "\n" not in transient_reason(exc) and "SELECT" not in transient_reason(exc)


def test_a_busy_sqlite_database_is_transient(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        exc = _error_of(f"sqlite:///{path}", "INSERT INTO t VALUES (1)", connect_args={"timeout": 0})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert is_transient(exc)


def test_a_missing_table_and_a_syntax_error_are_not_transient(tmp_path: Path) -> None:
    assert not is_transient(_error_of(f"sqlite:///{tmp_path / 'x.db'}", "SELECT * FROM nowhere"))
    assert not is_transient(ValueError("database is locked"))


def test_database_errors_turns_a_transient_error_into_database_unavailable_and_leaves_others() -> None:
    refused = _error_of(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres", "SELECT 1", connect_args={"connect_timeout": 2})
    with pytest.raises(DatabaseUnavailable, match="poll: database unavailable"):
        with database_errors("poll"):
            raise refused
    with pytest.raises(KeyError):
        with database_errors("poll"):
            raise KeyError("x")


def test_a_thread_that_dies_is_restarted_and_the_reason_logged_in_one_line(caplog: pytest.LogCaptureFixture) -> None:
    stop = threading.Event()
    runs: list[int] = []
    second = threading.Event()

    def part() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("the database went away\nsecond line")
        second.set()
        stop.wait()

    from ingest.backoff import Backoff

    supervisor = Supervisor(stop, backoff=Backoff(base=0.01, cap=0.05))
    with caplog.at_level(logging.INFO, logger="klachtwacht.supervisor"):
        supervisor.add("watch-test", part)
        runner = threading.Thread(target=supervisor.run, kwargs={"every": 0.02}, daemon=True)
        runner.start()
        assert second.wait(10), "the part was not restarted"
        stop.set()
        runner.join(5)
        supervisor.join(5)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    line = errors[0].getMessage()
    assert "watch-test" in line and "RuntimeError: the database went away" in line and "\n" not in line
    assert errors[0].exc_info is None
