"""The outbox and its performers on a real SQLite database, with the package's test doubles for the outside world.

Each test stores mail as the poller does (klachtwacht.intake), then moves it
with klachtwacht.pipeline.advance through the steps of klachtwacht.flow.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.exc import OperationalError
from support.mail import make_mail

from ingest.cursor import Cursor
from ingest.imap import FetchedMessage
from klachtwacht.config import load_config
from klachtwacht.db import make_sessionmaker, upgrade
from klachtwacht.db.models import Effect, Message, NoticeQuota, utcnow
from klachtwacht.db.transient import is_transient
from klachtwacht.doubles import FixedClassifier, MemoryArchive, MemoryMailer, MemoryRegister
from klachtwacht.effects import CANCELLED, DONE, PLANNED, SKIPPED, STARTED, cancel
from klachtwacht.errors import DatabaseUnavailable, NoticeUnavailable
from klachtwacht.flow import decide_again
from klachtwacht.intake import DatabaseSink
from klachtwacht.pipeline import MAX_ATTEMPTS, Services, advance
from klachtwacht.seams import Seams
from klachtwacht.wiring import build_services
from rules import Action, Decision

RECEIVED = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
TOML = """
[database]
url = "{url}"
[smtp]
sender = "klachten@gemeente-veenstad.nl"
[ingest]
start = 2000-01-01
max_age_days = 0
[rules]
notices_per_sender_per_day = {quota}
[[organisations]]
name = "default"
display_name = "Gemeente Veenstad"
bezwaar_address = "bezwaar@gemeente-veenstad.nl"
[[mailboxes]]
name = "wethouder-devries"
role = "wethouder"
address = "wethouder@gemeente-veenstad.nl"
secretary = "secretariaat@gemeente-veenstad.nl"
[mailboxes.imap]
host = "127.0.0.1"
username = "wethouder"
password_env = "KW_PW"
"""


class Flow:
    """A flow on a fresh SQLite database with doubles for the classifier, register, mailer and archive."""

    def __init__(self, tmp_path: Path, *, label: str = "klacht", subtype: str | None = None, quota: int = 3, archive: bool = False, timeout: float = 30) -> None:
        url = f"sqlite:///{tmp_path / 'kw.db'}"
        path = tmp_path / "klachtwacht.toml"
        path.write_text(TOML.format(url=url, quota=quota), encoding="utf-8")
        self.config = load_config(path, env={"KW_PW": "x"})
        self.engine = create_engine(url, connect_args={"timeout": timeout})
        upgrade(self.engine)
        self.sessions = make_sessionmaker(self.engine)
        self.mailer = MemoryMailer()
        self.register = MemoryRegister()
        seams = Seams(FixedClassifier(label, subtype=subtype), self.register, self.mailer, MemoryArchive(self.mailer) if archive else None)
        self.services: Services = build_services(self.config, seams=seams)
        self.uid = 0

    def store(self, sender: str = "Ria <ria@example.nl>", **kw: Any) -> int:
        self.uid += 1
        raw = make_mail(subject="Klacht", body="De medewerker was onbeschoft.", sender=sender, message_id=f"<m{self.uid}@example.nl>", **kw)
        sink = DatabaseSink(self.sessions, "wethouder-devries")
        sink.store_batch("INBOX", Cursor(uidvalidity=1, last_uid=self.uid), [FetchedMessage(self.uid, RECEIVED, raw)])
        return sink.new_message_ids[0]

    def outbox(self, pk: int) -> dict[str, str]:
        with self.sessions() as session:
            return {row.effect: row.status for row in session.scalars(select(Effect).where(Effect.message_pk == pk))}

    def state(self, pk: int) -> str:
        with self.sessions() as session:
            message = session.get(Message, pk)
            assert message is not None
            return message.state

    def advance_until(self, pk: int, state: str) -> None:
        """Advance with the steps after ``state`` switched off."""
        steps = dict(self.services.steps)
        names = list(steps)
        for later in names[names.index(state):]:
            steps.pop(later)
        advance(self.sessions, Services(steps=steps, seams=self.services.seams, flow=self.services.flow), pk)


@pytest.fixture
def flow(tmp_path: Path) -> Flow:
    return Flow(tmp_path)


def test_the_decision_writes_the_whole_plan_to_the_outbox_in_its_transaction(flow: Flow) -> None:
    pk = flow.store()
    flow.advance_until(pk, "decided")
    assert flow.state(pk) == "decided"
    assert flow.outbox(pk) == {"register": PLANNED, "notice_sender": PLANNED, "notice_secretary": PLANNED}
    assert flow.mailer.sent == [] and flow.register.calls == 0
    assert advance(flow.sessions, flow.services, pk) == "done"
    assert flow.outbox(pk) == {"register": DONE, "notice_sender": DONE, "notice_secretary": DONE}
    assert [m.to for m in flow.mailer.sent] == ["ria@example.nl", "secretariaat@gemeente-veenstad.nl"]


def test_a_planned_effect_can_be_cancelled_until_it_is_performed(flow: Flow) -> None:
    pk = flow.store()
    flow.advance_until(pk, "decided")
    with flow.sessions.begin() as session:
        letter = session.scalars(select(Effect).where(Effect.message_pk == pk, Effect.effect == "notice_sender")).one()
        assert cancel(session, letter.id)
    assert advance(flow.sessions, flow.services, pk) == "done"
    assert flow.outbox(pk)["notice_sender"] == CANCELLED and "ria@example.nl" not in [m.to for m in flow.mailer.sent]
    with flow.sessions.begin() as session:
        secretary = session.scalars(select(Effect).where(Effect.message_pk == pk, Effect.effect == "notice_secretary")).one()
        assert not cancel(session, secretary.id)  # performed: too late


def test_a_reviewers_decision_makes_a_new_plan_and_cancels_what_it_drops(tmp_path: Path) -> None:
    flow = Flow(tmp_path, label="overig", subtype="bezwaar")
    pk = flow.store()
    flow.advance_until(pk, "decided")
    assert flow.outbox(pk) == {"forward_bezwaar": PLANNED, "notice_sender": PLANNED, "notice_secretary": PLANNED}
    assert flow.services.flow is not None
    new = decide_again(flow.sessions, flow.services.flow, pk, Decision(Action.REGISTER, "toch een klacht", notify_sender=True, by="reviewer"), actor="reviewer:anne")
    assert new.decision.by == "reviewer" and flow.state(pk) == "decided"
    assert flow.outbox(pk)["forward_bezwaar"] == CANCELLED and flow.outbox(pk)["register"] == PLANNED
    assert advance(flow.sessions, flow.services, pk) == "done"
    assert flow.register.calls == 1 and "bezwaar@gemeente-veenstad.nl" not in [m.to for m in flow.mailer.sent]


def test_the_quota_is_taken_when_a_letter_is_sent_not_when_it_is_planned(tmp_path: Path) -> None:
    flow = Flow(tmp_path, quota=1)
    first, second = flow.store(), flow.store()
    flow.advance_until(first, "decided")
    flow.advance_until(second, "decided")
    with flow.sessions() as session:
        assert session.scalars(select(NoticeQuota)).all() == []
    assert advance(flow.sessions, flow.services, first) == "done"
    assert advance(flow.sessions, flow.services, second) == "done"
    assert flow.outbox(first)["notice_sender"] == DONE and flow.outbox(second)["notice_sender"] == SKIPPED
    with flow.sessions() as session:
        assert [q.count for q in session.scalars(select(NoticeQuota))] == [1]


class _Refusing(MemoryMailer):
    """Says 451 before anything went out, ``times`` times."""

    def __init__(self, times: int, doubtful: bool) -> None:
        super().__init__()
        self.times, self.doubtful = times, doubtful

    def send(self, mail: Any) -> None:
        if self.times:
            self.times -= 1
            raise NoticeUnavailable("451 (test)", doubtful=self.doubtful)
        super().send(mail)


def _with_mailer(flow: Flow, mailer: MemoryMailer, archive: bool = False) -> None:
    seams = Seams(FixedClassifier(), flow.register, mailer, MemoryArchive(mailer) if archive else None)
    flow.mailer, flow.services = mailer, build_services(flow.config, seams=seams)


def test_a_refusal_before_sending_puts_the_letter_back_without_doubt_and_takes_the_quota_once(flow: Flow, caplog: pytest.LogCaptureFixture) -> None:
    _with_mailer(flow, _Refusing(times=2, doubtful=False))
    pk = flow.store()
    for _ in range(2):
        with pytest.raises(NoticeUnavailable):
            advance(flow.sessions, flow.services, pk)
        assert flow.outbox(pk)["notice_sender"] == PLANNED
    with caplog.at_level(logging.INFO, logger="klachtwacht.perform.runner"):
        assert advance(flow.sessions, flow.services, pk) == "done"
    assert not [r for r in caplog.records if "interrupt" in r.getMessage()]
    with flow.sessions() as session:
        assert [q.count for q in session.scalars(select(NoticeQuota))] == [1]


def test_a_letter_in_doubt_without_an_archive_is_sent_again_with_one_log_line(flow: Flow, caplog: pytest.LogCaptureFixture) -> None:
    _with_mailer(flow, _Refusing(times=1, doubtful=True))
    pk = flow.store()
    with pytest.raises(NoticeUnavailable):
        advance(flow.sessions, flow.services, pk)
    assert flow.outbox(pk)["notice_sender"] == STARTED
    with caplog.at_level(logging.WARNING, logger="klachtwacht.perform.runner"):
        assert advance(flow.sessions, flow.services, pk) == "done"
    lines = [r.getMessage() for r in caplog.records if r.name == "klachtwacht.perform.runner"]
    assert len(lines) == 1 and "notice_sender" in lines[0] and "done again after an interrupted attempt" in lines[0]
    assert "ria@example.nl" not in lines[0]


class _LostReply(MemoryMailer):
    """Delivers, then loses the connection before the reply (the letter went out; the worker cannot know)."""

    def __init__(self) -> None:
        super().__init__()
        self.lost = False

    def send(self, mail: Any) -> None:
        super().send(mail)
        if not self.lost:
            self.lost = True
            raise NoticeUnavailable("connection lost after DATA (test)")


def test_a_letter_in_doubt_that_is_in_the_archive_is_not_sent_again(flow: Flow) -> None:
    mailer = _LostReply()
    _with_mailer(flow, mailer, archive=True)
    pk = flow.store()
    with pytest.raises(NoticeUnavailable):
        advance(flow.sessions, flow.services, pk)
    assert advance(flow.sessions, flow.services, pk) == "done"
    assert [m.to for m in mailer.sent].count("ria@example.nl") == 1
    with flow.sessions() as session:
        letter = session.scalars(select(Effect).where(Effect.message_pk == pk, Effect.effect == "notice_sender")).one()
        assert letter.status == DONE and "controle" in (letter.detail or "") and letter.attempts == 2


def test_an_effect_claimed_by_a_live_worker_is_left_alone(flow: Flow) -> None:
    pk = flow.store()
    flow.advance_until(pk, "decided")
    with flow.sessions.begin() as session:
        row = session.scalars(select(Effect).where(Effect.message_pk == pk, Effect.effect == "register")).one()
        row.status, row.detail = STARTED, "claim:otherhost:1:1"  # another host, a moment ago
    with pytest.raises(Exception, match="being performed by another worker"):
        advance(flow.sessions, flow.services, pk)
    assert flow.register.calls == 0 and flow.state(pk) == "decided"



def test_a_claim_of_this_process_that_no_thread_is_at_is_in_doubt_at_once(flow: Flow) -> None:
    # another worker thread here claimed the row, then the database went away before its record and release
    pk = flow.store()
    flow.advance_until(pk, "decided")
    with flow.sessions.begin() as session:
        row = session.scalars(select(Effect).where(Effect.message_pk == pk, Effect.effect == "register")).one()
        row.status, row.detail, row.started_at = STARTED, f"claim:{socket.gethostname()}:{os.getpid()}:1", utcnow()
    assert advance(flow.sessions, flow.services, pk) == "done"  # not left for CLAIM_SECONDS
    assert flow.register.calls == 1


def test_a_row_another_thread_here_is_working_off_is_left_to_it(flow: Flow) -> None:
    from klachtwacht.perform import runner

    pk = flow.store()
    flow.advance_until(pk, "decided")
    with flow.sessions() as session:
        row_id = session.scalars(select(Effect.id).where(Effect.message_pk == pk, Effect.effect == "register")).one()
    runner._IN_FLIGHT.add(row_id)  # noqa: SLF001  (as the other thread does in work_off)
    try:
        with pytest.raises(Exception, match="being performed by another thread"):
            advance(flow.sessions, flow.services, pk)
    finally:
        runner._IN_FLIGHT.discard(row_id)  # noqa: SLF001
    assert flow.register.calls == 0 and flow.outbox(pk)["register"] == PLANNED
    assert advance(flow.sessions, flow.services, pk) == "done" and flow.register.calls == 1

def test_a_locked_sqlite_database_during_a_step_is_retried_and_never_fails_the_message(tmp_path: Path) -> None:
    flow = Flow(tmp_path, timeout=0.2)
    pk = flow.store()
    flow.advance_until(pk, "decided")
    blocker = sqlite3.connect(tmp_path / "kw.db")
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        for _ in range(MAX_ATTEMPTS + 2):
            with pytest.raises(DatabaseUnavailable):
                advance(flow.sessions, flow.services, pk)
    finally:
        blocker.rollback()
        blocker.close()
    assert flow.state(pk) == "decided"
    assert advance(flow.sessions, flow.services, pk) == "done"
    assert flow.register.calls == 1 and [m.to for m in flow.mailer.sent].count("ria@example.nl") == 1


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("UPDATE", {}, sqlite3.OperationalError("database is locked")),
        OperationalError("SELECT", {}, Exception("connection to server at \"127.0.0.1\", port 5432 failed: Connection refused")),
        OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly")),
    ],
    ids=["sqlite-locked", "pg-refused", "pg-reset"],
)
def test_passing_database_errors_are_transient(error: Exception) -> None:
    assert is_transient(error)


def test_a_serialization_failure_is_transient_and_a_constraint_is_not() -> None:
    class _PgError(Exception):
        def __init__(self, sqlstate: str) -> None:
            super().__init__("pg")
            self.sqlstate = sqlstate

    assert is_transient(OperationalError("UPDATE", {}, _PgError("40001")))
    assert not is_transient(OperationalError("INSERT", {}, _PgError("23505")))
    assert not is_transient(ValueError("bad data"))


def test_a_real_postgresql_serialization_failure_is_transient() -> None:
    from sqlalchemy import text
    from support.setup import create_pg_database as _create_pg_database

    url, drop = _create_pg_database()
    engine = create_engine(url, isolation_level="SERIALIZABLE")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (id int primary key, n int)"))
            conn.execute(text("INSERT INTO t VALUES (1, 0)"))
        with engine.connect() as a, engine.connect() as b:
            a.execute(text("SELECT n FROM t WHERE id = 1"))
            b.execute(text("SELECT n FROM t WHERE id = 1"))
            a.execute(text("UPDATE t SET n = 1 WHERE id = 1"))
            a.commit()
            with pytest.raises(OperationalError) as caught:
                b.execute(text("UPDATE t SET n = 2 WHERE id = 1"))
            assert is_transient(caught.value)
    finally:
        engine.dispose()
        drop()
