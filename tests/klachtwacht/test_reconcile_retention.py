"""Retention: raw mail and text go when their time is up; counts, numbers and history stay."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select, update
from support.labels import HeaderLabels
from support.mail import make_mail

from klachtwacht.db.models import Message, RawBlob, RegisterEntry, Transition
from klachtwacht.intake import decompress
from klachtwacht.reconcile.retention import Candidate, due_for_removal
from klachtwacht.reconcile.run import Reconciler
from klachtwacht.runtime import run_ingest_once

TODAY = date(2027, 6, 1)
DAYS = {"overig": 365, "beleidsvraag": 730, "klacht": 1825}


def _c(pk: int, label: str, received: date, state: str = "done", status: str | None = None, closed: date | None = None) -> Candidate:
    return Candidate(pk, label, state, received, status, closed)


def test_overig_goes_after_a_year_and_a_policy_question_after_two() -> None:
    found = due_for_removal([_c(1, "overig", date(2026, 5, 31)), _c(2, "overig", date(2026, 6, 2)), _c(3, "beleidsvraag", date(2026, 1, 1))], DAYS, TODAY)
    assert [c.id for c in found] == [1]


def test_a_complaint_counts_from_its_closure_and_an_open_one_is_never_removed() -> None:
    old = date(2020, 1, 1)
    found = due_for_removal([
        _c(1, "klacht", old, status="open"),
        _c(2, "klacht", old, status="closed", closed=date(2022, 5, 1)),
        _c(3, "klacht", old, status="closed", closed=date(2023, 1, 1)),
        _c(4, "klacht", old, status="closed", closed=None),
    ], DAYS, TODAY)
    assert [c.id for c in found] == [2]


def test_messages_that_still_wait_and_labels_without_a_term_are_kept() -> None:
    old = date(2015, 1, 1)
    assert due_for_removal([_c(1, "overig", old, state="review"), _c(2, "overig", old, state="quarantined")], DAYS, TODAY) == []
    assert due_for_removal([_c(3, "overig", old)], {"klacht": 1825}, TODAY) == []


def test_the_nightly_run_removes_raw_mail_and_text_and_keeps_the_register_and_history(setup: Any, dovecot: Any, smtp: Any) -> None:
    when = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
    dovecot.append("wethouder", "INBOX", make_mail(subject="Nieuws [label:overig p=0.97]", body="Nieuwsbrief", message_id="<o1@example.nl>"), msg_time=when)
    dovecot.append("wethouder", "INBOX", make_mail(subject="Klacht [label:klacht p=0.97]", body="Mijn klacht", message_id="<k1@example.nl>",
                                                 sender="K <k@example.nl>"), msg_time=when)
    setup.dovecot, setup.smtp = dovecot, smtp
    setup.extra = "[reconcile]\n[reconcile.retention]\noverig = 365\nklacht = 1825\n"
    setup.mailbox("wethouder-devries", "wethouder")
    app = setup.app(HeaderLabels())
    try:
        run_ingest_once(app)
        with app.sessions.begin() as session:
            session.execute(update(RegisterEntry).values(status="closed", closed_at=when + timedelta(days=30)))
            history_before = session.scalar(select(func.count()).select_from(Transition))
        dry = Reconciler(app, repair=False).run(date(2027, 3, 3)).report
        retention = [f for f in dry.findings if f.kind == "retention"]
        assert len(retention) == 1 and not retention[0].repaired and "zouden worden verwijderd" in retention[0].detail
        with app.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Message).where(Message.purged_at.is_not(None))) == 0
        done = Reconciler(app, repair=True).run(date(2027, 3, 3)).report
        assert [f.repaired for f in done.findings if f.kind == "retention"] == [True]
        with app.sessions() as session:
            overig = session.scalars(select(Message).where(Message.message_id == "<o1@example.nl>")).one()
            klacht = session.scalars(select(Message).where(Message.message_id == "<k1@example.nl>")).one()
            assert overig.purged_at is not None and overig.parsed is None and overig.subject is None and overig.sender is None
            assert overig.label == "overig" and overig.state == "done"
            blob = session.get(RawBlob, overig.blob_sha256)
            assert blob is not None and decompress(blob.data) == b""
            assert klacht.purged_at is None and klacht.parsed is not None  # closed a month later: five years to go
            assert session.scalar(select(func.count()).select_from(RegisterEntry)) == 1
            assert session.scalar(select(func.count()).select_from(Transition)) == history_before
    finally:
        app.close()


def test_history_and_shadow_mail_follow_the_same_limits_from_receipt() -> None:
    today = date(2026, 12, 1)
    old = [_c(1, "overig", date(2025, 11, 1), "history"), _c(2, "klacht", date(2021, 11, 1), "history"), _c(3, "overig", date(2025, 11, 1), "shadow")]
    assert [c.id for c in due_for_removal(old, {"overig": 365, "klacht": 1825}, today)] == [1, 2, 3]
