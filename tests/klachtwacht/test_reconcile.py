"""Nightly reconciliation scenarios on real Dovecot, SQLite and PostgreSQL, and a real SMTP server.

Each scenario breaks one thing the way it breaks in production, then checks
that ``reconcile`` finds it, repairs it where it should, and reports it; a
clean system reports clean. Labels come from the test double (support.labels)
so that every count is exact.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from support.labels import HeaderLabels
from support.mail import make_mail

from klachtwacht.db.models import Effect, FolderCursor, Message, RegisterEntry
from klachtwacht.queries import list_messages, list_register
from klachtwacht.reconcile.command import run_nightly
from klachtwacht.reconcile.run import Reconciler
from klachtwacht.runtime import run_ingest_once

pytestmark = pytest.mark.dovecot
RECEIVED = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)  # due 13 April 2026
COORDINATOR = "klachtencoordinator@gemeente-veenstad.nl"


def _mail(subject: str, n: int, sender: str = "Ria Hendriks <ria@example.nl>") -> bytes:
    return make_mail(subject=subject, body="Tekst van bericht %d." % n, sender=sender, message_id="<m%d@example.nl>" % n)


def _app(setup: Any, dovecot: Any, smtp: Any, extra: str = "") -> Any:
    setup.dovecot = dovecot
    setup.smtp = smtp
    setup.extra = '[reconcile]\ncoordinators = ["%s"]\nreport_dir = "rapporten"\n%s' % (COORDINATOR, extra)
    setup.mailbox("wethouder-devries", "wethouder", secretary="secretariaat.devries@gemeente-veenstad.nl")
    return setup.app(HeaderLabels())


def _kinds(report: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for finding in report.findings:
        out.setdefault(finding.kind, []).append(finding)
    return out


def _fill(dovecot: Any, count: int = 3) -> None:
    for n in range(count):
        dovecot.append("wethouder", "INBOX", _mail("Klacht %d [label:klacht p=0.97]" % n, n, sender="Burger %d <b%d@example.nl>" % (n, n)), msg_time=RECEIVED)


@pytest.fixture
def world(setup: Any, dovecot: Any, smtp: Any) -> Any:
    _fill(dovecot)
    app = _app(setup, dovecot, smtp)
    summary = run_ingest_once(app)
    assert summary["not_final"] == 0
    smtp.clear()
    yield app
    app.close()


def test_a_clean_system_reports_clean_and_mails_nobody(world: Any, smtp: Any) -> None:
    result, files = run_nightly(world, date(2026, 3, 3))
    assert result.report.findings == ()
    assert result.report.clean and result.report.exit_code == 0
    assert files.html.is_file() and "Alles in orde" in files.html.read_text(encoding="utf-8")
    assert smtp.messages == []


def test_messages_on_the_server_that_were_never_ingested_are_fetched_registered_and_reported(world: Any, dovecot: Any, smtp: Any) -> None:
    for n in (10, 11):
        dovecot.append("wethouder", "INBOX", _mail("Gemist %d [label:klacht p=0.97]" % n, n, sender="Gemist %d <g%d@example.nl>" % (n, n)), msg_time=RECEIVED)
    with world.sessions.begin() as session:  # as if a bug moved the cursor past them
        session.execute(update(FolderCursor).values(last_uid=FolderCursor.last_uid + 2))
    result, _ = run_nightly(world, date(2026, 3, 3))
    missing = _kinds(result.report)["mailbox_missing_messages"]
    assert len(missing) == 1 and missing[0].repaired and missing[0].severity == "warning"
    assert len(missing[0].messages) == 2
    register = {r["message_id"] for r in list_register(world.sessions)}
    assert {"<m10@example.nl>", "<m11@example.nl>"} <= register
    letters = [m for m in smtp.messages if any(r.startswith("g1") for r in m.rcpt_tos)]
    assert len(letters) == 2  # one letter to each of the two citizens
    again, _ = run_nightly(world, date(2026, 3, 3))
    assert "mailbox_missing_messages" not in _kinds(again.report)


def test_a_message_stuck_mid_pipeline_is_reenqueued_and_finishes(world: Any) -> None:
    long_ago = datetime.now(timezone.utc) - timedelta(hours=3)
    with world.sessions.begin() as session:
        pk = session.scalar(select(Message.id).order_by(Message.id).limit(1))
        session.execute(delete(Effect).where(Effect.message_pk == pk))
        session.execute(delete(RegisterEntry).where(RegisterEntry.message_pk == pk))
        # as if the broker lost its work right after classification: no plan, no entry, no letter yet
        session.execute(update(Message).where(Message.id == pk).values(state="classified", state_changed_at=long_ago))
    result, _ = run_nightly(world, date(2026, 3, 3))
    stuck = _kinds(result.report)["stuck"]
    assert stuck[0].messages == (pk,) and stuck[0].repaired
    states = {row["id"]: row["state"] for row in list_messages(world.sessions)}
    assert states[pk] == "done"
    assert any(r["notice_sent"] for r in list_register(world.sessions) if r["message_id"] == "<m0@example.nl>")


def test_a_complaint_whose_register_entry_disappeared_is_critical(world: Any) -> None:
    with world.sessions.begin() as session:
        pk = session.scalar(select(Message.id).order_by(Message.id).limit(1))
        session.execute(delete(RegisterEntry).where(RegisterEntry.message_pk == pk))
    result, _ = Reconciler(world, repair=False).run(date(2026, 3, 3)), None
    missing = _kinds(result.report)["register_missing"]
    assert missing[0].severity == "critical" and missing[0].messages == (pk,)
    assert not result.report.clean


def test_an_effect_that_was_started_and_never_finished_is_reported(world: Any) -> None:
    long_ago = datetime.now(timezone.utc) - timedelta(hours=3)
    with world.sessions.begin() as session:
        effect = session.scalars(select(Effect).where(Effect.effect == "notice_sender").order_by(Effect.id)).first()
        assert effect is not None
        effect.status, effect.started_at = "started", long_ago
        pk = effect.message_pk
    result = Reconciler(world, repair=False).run(date(2026, 3, 3))
    found = _kinds(result.report)["effect_missing"]
    assert found[0].messages == (pk,) and "brief aan de afzender" in found[0].detail


def test_deadlines_due_within_7_days_and_overdue_are_reported(world: Any) -> None:
    soon = Reconciler(world, repair=False).run(date(2026, 4, 8)).report  # due 13 April
    assert len(_kinds(soon)["deadline_due"]) == 3 and "deadline_overdue" not in _kinds(soon)
    late = Reconciler(world, repair=False).run(date(2026, 4, 20)).report
    overdue = _kinds(late)["deadline_overdue"]
    assert len(overdue) == 3 and all(f.severity == "critical" and "13-04-2026" in f.detail for f in overdue)


def test_a_review_backlog_older_than_the_limit_is_reported_per_mailbox(setup: Any, dovecot: Any, smtp: Any) -> None:
    dovecot.append("wethouder", "INBOX", _mail("Twijfel [label:klacht p=0.5]", 20), msg_time=RECEIVED)
    app = _app(setup, dovecot, smtp)
    try:
        run_ingest_once(app)
        today = datetime.now(timezone.utc).date()
        fresh = Reconciler(app, repair=False).run(today).report
        assert "review_backlog" not in _kinds(fresh)
        later = Reconciler(app, repair=False).run(today + timedelta(days=10)).report
        backlog = _kinds(later)["review_backlog"]
        assert backlog[0].mailbox == "wethouder-devries" and len(backlog[0].messages) == 1
    finally:
        app.close()


def test_a_mailbox_with_a_wrong_password_is_unreachable_with_its_last_good_poll(world: Any, dovecot: Any) -> None:
    dovecot.add_user("wethouder", "een-ander-wachtwoord")
    result = Reconciler(world, repair=False).run(date(2026, 3, 3))
    unreachable = _kinds(result.report)["mailbox_unreachable"]
    assert unreachable[0].severity == "critical" and unreachable[0].mailbox == "wethouder-devries"
    assert "laatste geslaagde ophaalronde" in unreachable[0].detail


def test_the_coordinator_gets_the_report_through_a_real_smtp_server_when_there_are_findings(world: Any, smtp: Any) -> None:
    with world.sessions.begin() as session:
        session.execute(delete(RegisterEntry).where(RegisterEntry.message_pk == select(Message.id).order_by(Message.id).limit(1).scalar_subquery()))
    result, files = run_nightly(world, date(2026, 3, 3))
    assert not result.report.clean
    mails = smtp.wait_for(1)
    assert list(mails[0].rcpt_tos) == [COORDINATOR]
    message = mails[0].message
    assert "1 ernstige" in str(message["Subject"])
    names = [part.get_filename() for part in message.iter_attachments()]
    assert files.html.name in names and files.findings_csv.name in names
    assert message["Auto-Submitted"] == "auto-replied"


def test_the_command_prints_the_contract_json_and_exits_1_on_findings_and_0_when_clean(world: Any, setup: Any, tmp_path: Path) -> None:
    env = {**os.environ, "KW_TEST_PASSWORD": "geheim-wachtwoord", "PYTHONPATH": os.pathsep.join(sys.path)}
    config = str(setup.tmp_path / "klachtwacht.toml")
    run = lambda: subprocess.run([sys.executable, "-m", "klachtwacht.cli", "--config", config, "reconcile", "--json", "--date", "2026-03-03", "--no-mail"],  # noqa: E731
                                 capture_output=True, text=True, env=env, timeout=300)
    clean = run()
    assert clean.returncode == 0, clean.stderr
    data = json.loads(clean.stdout)
    assert data == {"date": "2026-03-03", "clean": True, "findings": []}
    with world.sessions.begin() as session:
        session.execute(delete(RegisterEntry).where(RegisterEntry.message_pk == select(Message.id).order_by(Message.id).limit(1).scalar_subquery()))
    dirty = run()
    assert dirty.returncode == 1, dirty.stderr
    finding = json.loads(dirty.stdout)["findings"][0]
    assert set(finding) == {"kind", "severity", "mailbox", "messages", "repaired", "detail"}
    assert finding["kind"] == "register_missing" and finding["severity"] == "critical"


def test_the_command_exits_2_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    config = tmp_path / "k.toml"
    config.write_text('[database]\nurl = "postgresql+psycopg://postgres@127.0.0.1:1/nergens"\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "klachtwacht.cli", "--config", str(config), "reconcile", "--json"],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, timeout=120)
    assert done.returncode == 2
    assert "database" in done.stderr and "Traceback" not in done.stderr


def _replay(app: Any, mailbox: str, series: list[Any], start_pk: int, label: str = "klacht") -> int:
    """Store one message per counted mail of ``series`` (weekly counts) as if ingested, spread over the working days."""
    from klachtwacht.db.models import RawBlob, Sighting

    with app.sessions.begin() as session:
        if session.get(RawBlob, "0" * 64) is None:
            session.add(RawBlob(sha256="0" * 64, size=0, data=b""))
        messages, sightings = [], []
        pk = start_pk
        for item in series:
            for n in range(item.count):
                at = datetime.combine(item.week.start + timedelta(days=n % 5), datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=9)
                messages.append({"id": pk, "identity": "sha:replay-%d" % pk, "message_id": None, "blob_sha256": "0" * 64, "received_at": at,
                                 "state": "done", "label": label, "state_changed_at": at, "attempts": 0, "created_at": at})
                sightings.append({"message_pk": pk, "mailbox": mailbox, "folder": "INBOX", "uidvalidity": 1, "uid": pk, "internaldate": at,
                                  "blob_sha256": "0" * 64, "seen_at": at})
                pk += 1
        session.execute(Message.__table__.insert(), messages)
        session.execute(Sighting.__table__.insert(), sightings)
    return pk


def test_an_almelo_drop_and_a_silent_channel_in_replayed_history_are_found_and_a_steady_one_is_not(setup: Any, dovecot: Any, smtp: Any) -> None:
    from support.volume_history import Channel, history

    for user in ("burgemeester", "raad"):
        dovecot.add_user(user, "geheim-wachtwoord")
    setup.mailbox("burgemeester", "burgemeester", role="burgemeester")
    setup.mailbox("griffie", "raad", role="raad")
    app = _app(setup, dovecot, smtp)
    try:
        day = date(2026, 5, 13)
        drop_from = date(2026, 3, 2)  # ten weeks of 43% before the night reconciled
        pk = _replay(app, "burgemeester", history(Channel(245 / 46, None), date(2023, 5, 1), day - timedelta(days=3), seed=0,
                                                   drop_from=drop_from, drop_to=106 / 245), 100_000)
        pk = _replay(app, "wethouder-devries", history(Channel(12, None), date(2023, 5, 1), day - timedelta(days=3), seed=1), pk)
        _replay(app, "griffie", history(Channel(10, None), date(2023, 5, 1), date(2026, 4, 24), seed=2), pk)  # nothing since 24 April
        report = Reconciler(app, repair=False).run(day).report
        kinds = _kinds(report)
        drops = [f for f in kinds.get("volume_drop", []) if f.mailbox == "burgemeester"]
        assert drops and "sinds week" in drops[0].detail
        assert [f.mailbox for f in kinds["volume_silent"]] == ["griffie"]
        assert not any(f.mailbox == "wethouder-devries" for f in kinds.get("volume_drop", []))
    finally:
        app.close()


def test_the_html_report_renders_its_charts_in_the_browser_and_passes_the_accessibility_check(setup: Any, dovecot: Any, smtp: Any) -> None:
    from support.browser import axe_violations, browser_page
    from support.volume_history import Channel, history

    from klachtwacht.reconcile.report import write_report

    app = _app(setup, dovecot, smtp)
    try:
        day = date(2026, 5, 13)
        pk = _replay(app, "wethouder-devries", history(Channel(6, None), date(2025, 3, 3), day - timedelta(days=3), seed=4,
                                                        drop_from=date(2026, 3, 2), drop_to=0.3), 200_000)
        _replay(app, "wethouder-devries", history(Channel(5, None), date(2025, 3, 3), day - timedelta(days=3), seed=5), pk, label="beleidsvraag")
        result = Reconciler(app, repair=False).run(day)
        files = write_report(result.report, result.volumes, setup.tmp_path / "rapport", "Gemeente Veenstad")
    finally:
        app.close()
    with browser_page() as page:
        page.goto(files.html.as_uri())
        assert page.locator("h1").inner_text().startswith("Nachtelijke controle van 13 mei 2026")
        chart = page.locator("figure svg")
        assert chart.count() == 1 and chart.first.bounding_box()["height"] > 100
        assert page.locator("figure svg rect").count() > 52  # bars per week and label, holiday shading
        assert page.locator("figure svg path title").first.text_content().endswith("daling gesignaleerd")
        assert "Minder berichten dan gewoonlijk" in page.content()
        assert axe_violations(page) == []
        assert all(url.startswith("file://") for url in page.requests_seen)  # nothing loaded from elsewhere
