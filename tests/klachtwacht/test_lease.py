"""Leases: one holder at a time, and a holder's own threads never lock each other out (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from klachtwacht import lease
from klachtwacht.db.engine import make_engine, make_sessionmaker
from klachtwacht.db.migrate import upgrade


def _sessions(db_url: str) -> tuple[Engine, sessionmaker[Session]]:
    engine = make_engine(db_url)
    upgrade(engine)
    return engine, make_sessionmaker(engine)


def test_threads_of_one_holder_that_ask_for_a_new_lease_at_once_all_get_it(db_url: str) -> None:
    engine, sessions = _sessions(db_url)
    try:
        for round_ in range(10):  # the race is on the first insert: a fresh lease name each round
            barrier = threading.Barrier(4)
            got: list[bool] = []

            def take(name: str = f"poll:mailbox-{round_}") -> None:
                barrier.wait()
                got.append(lease.acquire(sessions, name, "host:1:1", 60))

            threads = [threading.Thread(target=take) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
            assert got == [True] * 4, f"round {round_}: {got}"
    finally:
        engine.dispose()


def test_another_holder_does_not_get_a_lease_that_is_held(db_url: str) -> None:
    engine, sessions = _sessions(db_url)
    try:
        assert lease.acquire(sessions, "poll:x", "host-a:1:1", 60)
        assert not lease.acquire(sessions, "poll:x", "host-b:1:1", 60)
        lease.release(sessions, "poll:x", "host-a:1:1")
        assert lease.acquire(sessions, "poll:x", "host-b:1:1", 60)
    finally:
        engine.dispose()
