"""Going live against a real Dovecot and SMTP server: history, the age guard, the modes, mail answered already.

The labels come from a test double (support.labels) so every count is exact.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select, update
from support.labels import HeaderLabels
from support.mail import make_mail

from klachtwacht.db.models import Effect, FolderCursor, Message, ModeChange
from klachtwacht.flow import decide_again
from klachtwacht.queries import list_messages, list_register
from klachtwacht.reconcile.run import Reconciler
from klachtwacht.runtime import run_ingest_once
from rules import Action, Decision

pytestmark = pytest.mark.dovecot

NOW = datetime.now(timezone.utc)
SECRETARY = "secretariaat.devries@gemeente-veenstad.nl"
CONFIRMED = Decision(Action.REGISTER, "klacht volgens de secretaris", notify_sender=True, by="reviewer")


def _mail(subject: str, n: int, label: str = "klacht") -> bytes:
    return make_mail(subject=f"{subject} [label:{label} p=0.97]", body="Tekst.", sender=f"Burger {n} <burger{n}@example.nl>", message_id=f"<{subject.lower().replace(' ', '-')}-{n}@example.nl>")


def _box(setup: Any, dovecot: Any, smtp: Any, going_live: str = "", **more: Any) -> None:
    setup.dovecot, setup.smtp, setup.going_live = dovecot, smtp, going_live
    setup.mailboxes = []
    setup.mailbox("wethouder-devries", "wethouder", secretary=SECRETARY, **more)


def _states(app: Any) -> dict[str, str]:
    return {row["message_id"]: row["state"] for row in list_messages(app.sessions)}


def _recipients(smtp: Any) -> list[str]:
    return sorted(rcpt for captured in smtp.messages for rcpt in captured.rcpt_tos)


def test_two_years_of_history_get_no_letter_and_no_entry_while_new_mail_is_handled(setup: Any, dovecot: Any, smtp: Any) -> None:
    for month in range(24):  # two years back, one complaint and one policy question a month
        dovecot.append("wethouder", "INBOX", _mail("Oud", month), msg_time=NOW - timedelta(days=30 * month + 3))
        dovecot.append("wethouder", "INBOX", _mail("Vraag", month, "beleidsvraag"), msg_time=NOW - timedelta(days=30 * month + 4))
    _box(setup, dovecot, smtp)  # the defaults: start = "first-poll", max_age_days = 14
    app = setup.app(HeaderLabels())
    try:
        summary = run_ingest_once(app)
        assert summary["not_final"] == 0
        states = _states(app)
        assert len(states) == 48 and set(states.values()) == {"history"}
        assert list_register(app.sessions) == [] and smtp.messages == []
        with app.sessions() as session:
            assert session.scalars(select(Effect)).all() == []  # nothing planned for history
            labels = session.scalars(select(Message.label)).all()
            assert sorted(set(labels)) == ["beleidsvraag", "klacht"]  # classified all the same

        dovecot.append("wethouder", "INBOX", _mail("Nieuw", 1))
        dovecot.append("wethouder", "INBOX", _mail("Nieuw", 2))
        again = run_ingest_once(app)
        assert again["new_messages"] == 2 and again["not_final"] == 0
        states = _states(app)
        assert states["<nieuw-1@example.nl>"] == "done" and states["<nieuw-2@example.nl>"] == "done"
        assert sum(1 for s in states.values() if s == "history") == 48
        assert sorted(r["message_id"] for r in list_register(app.sessions)) == ["<nieuw-1@example.nl>", "<nieuw-2@example.nl>"]
        assert _recipients(smtp) == ["burger1@example.nl", "burger2@example.nl", SECRETARY, SECRETARY]

        result = Reconciler(app).run()
        history = {pk for pk, in app.sessions().execute(select(Message.id).where(Message.state == "history"))}
        for finding in result.report.findings:  # history is never lost, stuck or unregistered
            assert not history & set(finding.messages), finding
    finally:
        app.close()


def test_a_start_date_makes_older_mail_history_and_newer_mail_live(setup: Any, dovecot: Any, smtp: Any) -> None:
    start = (NOW - timedelta(days=10)).date()
    dovecot.append("wethouder", "INBOX", _mail("Voor", 1), msg_time=NOW - timedelta(days=12))
    dovecot.append("wethouder", "INBOX", _mail("Na", 1), msg_time=NOW - timedelta(days=5))
    _box(setup, dovecot, smtp, start=start.isoformat())
    app = setup.app(HeaderLabels())
    try:
        run_ingest_once(app)
        assert _states(app) == {"<voor-1@example.nl>": "history", "<na-1@example.nl>": "done"}
        assert [r["message_id"] for r in list_register(app.sessions)] == ["<na-1@example.nl>"]
    finally:
        app.close()


def test_after_an_outage_of_three_weeks_old_mail_goes_to_review_without_a_letter(setup: Any, dovecot: Any, smtp: Any) -> None:
    _box(setup, dovecot, smtp, "max_age_days = 14")
    app = setup.app(HeaderLabels())
    try:
        run_ingest_once(app)  # the first poll of an empty inbox, a month ago
        with app.sessions.begin() as session:
            session.execute(update(FolderCursor).values(first_poll_at=NOW - timedelta(days=30)))
        # klachtwacht was down for three weeks; mail kept arriving
        dovecot.append("wethouder", "INBOX", _mail("Tijdens", 1), msg_time=NOW - timedelta(days=21))
        dovecot.append("wethouder", "INBOX", _mail("Tijdens", 2), msg_time=NOW - timedelta(days=15))
        dovecot.append("wethouder", "INBOX", _mail("Recent", 1), msg_time=NOW - timedelta(days=2))
        run_ingest_once(app)
        rows = {row["message_id"]: row for row in list_messages(app.sessions)}
        assert rows["<tijdens-1@example.nl>"]["state"] == "review" and rows["<tijdens-2@example.nl>"]["state"] == "review"
        assert rows["<recent-1@example.nl>"]["state"] == "done"
        with app.sessions() as session:
            reason = session.scalar(select(Message.decision_reason).where(Message.message_id == "<tijdens-1@example.nl>"))
        assert reason is not None and "21 dagen geleden: geen automatische ontvangstbevestiging" in reason
        assert [r["message_id"] for r in list_register(app.sessions)] == ["<recent-1@example.nl>"]
        assert "burger1@example.nl" in _recipients(smtp) and len(smtp.messages) == 2  # the recent one: sender and secretary
    finally:
        app.close()


def test_in_shadow_mode_nothing_is_sent_or_registered_and_switching_to_auto_does_nothing_retroactively(setup: Any, dovecot: Any, smtp: Any) -> None:
    put = lambda raw: dovecot.append("wethouder", "INBOX", raw)  # noqa: E731
    put(_mail("Klacht", 1))
    put(_mail("Klacht", 2))
    put(_mail("Vraag", 3, "beleidsvraag"))
    put(make_mail(subject="Twijfel [label:klacht p=0.5]", body="x", sender="T <twijfel@example.nl>", message_id="<twijfel@example.nl>"))
    put(make_mail(subject="Nieuws [label:overig p=0.99]", body="x", sender="N <news@example.org>", message_id="<nieuws@example.nl>"))
    _box(setup, dovecot, smtp, 'start = 2000-01-01\nmode = "shadow"')
    app = setup.app(HeaderLabels())
    try:
        run_ingest_once(app)
        states = _states(app)
        assert states == {
            "<klacht-1@example.nl>": "shadow", "<klacht-2@example.nl>": "shadow", "<vraag-3@example.nl>": "shadow",
            "<twijfel@example.nl>": "review", "<nieuws@example.nl>": "shadow",
        }
        assert smtp.messages == [] and list_register(app.sessions) == []
        with app.sessions() as session:
            statuses = {(e.effect, e.status) for e in session.scalars(select(Effect))}
            assert statuses == {("register", "shadow"), ("notice_sender", "shadow"), ("notice_secretary", "shadow")}
            assert set(session.scalars(select(Message.plan_mode))) == {"shadow"}
        # a secretary grades the doubtful one in the review app during the pilot: recorded, not carried out
        twijfel = next(r["id"] for r in list_messages(app.sessions) if r["message_id"] == "<twijfel@example.nl>")
        decide_again(app.sessions, app.services.flow, twijfel, CONFIRMED, actor="ria")
        assert _states(app)["<twijfel@example.nl>"] == "shadow"
    finally:
        app.close()

    _box(setup, dovecot, smtp, 'start = 2000-01-01\nmode = "auto"')
    app = setup.app(HeaderLabels())
    try:
        put(_mail("Na", 9))
        run_ingest_once(app)
        states = _states(app)
        assert states["<na-9@example.nl>"] == "done"
        assert [r["message_id"] for r in list_register(app.sessions)] == ["<na-9@example.nl>"]
        assert _recipients(smtp) == ["burger9@example.nl", SECRETARY]  # nothing of the shadow period
        with app.sessions() as session:
            changes = [(c.mailbox, c.previous, c.mode) for c in session.scalars(select(ModeChange).order_by(ModeChange.id))]
        assert changes == [("wethouder-devries", None, "shadow"), ("wethouder-devries", "shadow", "auto")]
    finally:
        app.close()


def test_in_confirm_mode_a_complaint_waits_for_the_secretary_then_goes_out(setup: Any, dovecot: Any, smtp: Any) -> None:
    dovecot.append("wethouder", "INBOX", _mail("Klacht", 1))
    _box(setup, dovecot, smtp, "start = 2000-01-01", mode="confirm")
    app = setup.app(HeaderLabels())
    try:
        run_ingest_once(app)
        assert _states(app) == {"<klacht-1@example.nl>": "review"}
        assert smtp.messages == [] and list_register(app.sessions) == []
        pk = list_messages(app.sessions)[0]["id"]
        decide_again(app.sessions, app.services.flow, pk, CONFIRMED, actor="ria")
        run_ingest_once(app)
        assert _states(app) == {"<klacht-1@example.nl>": "done"}
        assert len(list_register(app.sessions)) == 1 and _recipients(smtp) == ["burger1@example.nl", SECRETARY]
    finally:
        app.close()


def test_a_complaint_the_owner_had_answered_is_registered_and_its_letter_waits_for_confirmation(setup: Any, dovecot: Any, smtp: Any) -> None:
    dovecot.append("wethouder", "INBOX", _mail("Beantwoord", 1), flags=("\\Answered",))
    _box(setup, dovecot, smtp, "start = 2000-01-01")
    app = setup.app(HeaderLabels())
    try:
        before = dovecot.flags("wethouder", "INBOX")
        run_ingest_once(app)
        rows = list_messages(app.sessions)
        assert [r["state"] for r in rows] == ["review"] and len(list_register(app.sessions)) == 1
        assert smtp.messages == []
        with app.sessions() as session:
            reason = session.scalar(select(Message.decision_reason))
            letter = session.scalar(select(Effect).where(Effect.effect == "notice_sender"))
            assert letter is not None and letter.status == "held"
        assert reason is not None and "al beantwoord" in reason
        assert dovecot.flags("wethouder", "INBOX") == before  # read, never set
        decide_again(app.sessions, app.services.flow, rows[0]["id"], CONFIRMED, actor="ria")
        run_ingest_once(app)
        assert [r["state"] for r in list_messages(app.sessions)] == ["done"]
        assert len(list_register(app.sessions)) == 1 and _recipients(smtp) == ["burger1@example.nl", SECRETARY]
    finally:
        app.close()


def test_the_pilot_report_counts_what_shadow_mode_planned_and_the_graded_quality(setup: Any, dovecot: Any, smtp: Any) -> None:
    from sqlalchemy import func
    from support.cli import klachtwacht

    from klachtwacht.db.models import ReviewDecision

    for n in (1, 2):
        dovecot.append("wethouder", "INBOX", _mail("Klacht", n))
    dovecot.append("wethouder", "INBOX", _mail("Vraag", 3, "beleidsvraag"))
    dovecot.append("wethouder", "INBOX", make_mail(subject="Twijfel [label:klacht p=0.5]", body="x", sender="T <t@example.nl>", message_id="<twijfel@example.nl>"))
    dovecot.append("wethouder", "INBOX", make_mail(subject="Nieuws [label:overig p=0.99]", body="x", sender="N <n@example.org>", message_id="<nieuws@example.nl>"))
    _box(setup, dovecot, smtp, 'start = 2000-01-01\nmode = "shadow"')
    app = setup.app(HeaderLabels())
    try:
        run_ingest_once(app)
        ids = {r["message_id"]: r["id"] for r in list_messages(app.sessions)}
        decide_again(app.sessions, app.services.flow, ids["<twijfel@example.nl>"], CONFIRMED, actor="ria")
        with app.sessions.begin() as session:  # what the review app records beside each decision
            session.add(ReviewDecision(message_pk=ids["<twijfel@example.nl>"], actor="ria", source="review", predicted_label="klacht", final_label="klacht"))
            session.add(ReviewDecision(message_pk=ids["<klacht-1@example.nl>"], actor="ria", source="steekproef", predicted_label="klacht", final_label="beleidsvraag"))
        with app.sessions() as session:
            planned = dict(session.execute(select(Effect.effect, func.count()).where(Effect.status == "shadow").group_by(Effect.effect)).all())
    finally:
        app.close()
    run = klachtwacht("pilot", "report", "--json", "--config", str(setup.write()), cwd=setup.tmp_path)
    assert run.status == 0, run.err
    report = json.loads(run.out)
    assert report["messages"] == 5 and report["by_label"] == {"klacht": 3, "beleidsvraag": 1, "overig": 1}
    assert (report["would_register"], report["letters"], report["secretary_notices"]) == (planned["register"], planned["notice_sender"], planned["notice_secretary"])
    assert (report["would_register"], report["letters"], report["secretary_notices"]) == (3, 3, 4)
    assert (report["to_review"], report["waiting"], report["graded"], report["agreed"]) == (1, 0, 2, 1)
    klacht = next(q for q in report["labels"] if q["label"] == "klacht")
    assert klacht["precision"] == 0.5 and klacht["recall"] == 1.0
    low, high = klacht["precision_interval"]
    assert 0.09 < low < 0.1 and 0.9 < high < 0.91  # Wilson 95% for 1 of 2
    assert smtp.messages == []
    text = klachtwacht("pilot", "report", "--config", str(setup.write()), cwd=setup.tmp_path)
    assert "3 klachten geregistreerd" in text.out and "precisie 50%" in text.out
