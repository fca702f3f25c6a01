"""Canary probes on real Dovecot, SQLite and PostgreSQL, and a real SMTP server.

The SMTP sink does not deliver into Dovecot: where a probe should arrive, the
test APPENDs the captured bytes to the mailbox over IMAP, as delivery would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import select
from support.labels import HeaderLabels
from support.mail import make_mail

from klachtwacht.canary.token import HEADER, Token, sign
from klachtwacht.db.models import Effect, RegisterEntry, utcnow
from klachtwacht.metrics.collector import DatabaseCollector
from klachtwacht.queries import list_messages, list_register
from klachtwacht.reconcile.command import run_nightly
from klachtwacht.reconcile.facts import load_facts
from klachtwacht.reconcile.models import CanaryProbe
from klachtwacht.reconcile.run import Reconciler
from klachtwacht.runtime import run_ingest_once
from rules.deadlines import local_date

pytestmark = pytest.mark.dovecot
SECRET = "canary-test-key-of-some-length"
MAILBOX = "wethouder-devries"
CANARY = '[reconcile]\nreport_dir = "rapporten"\n[reconcile.canary]\nsecret_env = "KW_CANARY_SECRET"\nmax_delay_minutes = 30\n'


@pytest.fixture
def world(setup: Any, dovecot: Any, smtp: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """One canary mailbox holding one ordinary complaint, ingested; the SMTP sink emptied."""
    monkeypatch.setenv("KW_CANARY_SECRET", SECRET)
    recent = utcnow() - timedelta(hours=2)
    dovecot.append("wethouder", "INBOX", make_mail(subject="Klacht [label:klacht p=0.97]", body="De stoep is kapot.",
                                                   sender="Ria <ria@example.nl>", message_id="<gewoon@example.nl>"), msg_time=recent)
    setup.dovecot, setup.smtp, setup.extra = dovecot, smtp, CANARY
    setup.mailbox(MAILBOX, "wethouder", canary=True)
    app = setup.app(HeaderLabels())
    assert run_ingest_once(app)["not_final"] == 0
    smtp.clear()
    yield app
    app.close()


def _night(app: Any) -> date:
    return local_date(utcnow()) - timedelta(days=1)


def _probe(smtp: Any) -> Any:
    probes = [m for m in smtp.messages if m.message[HEADER]]
    assert len(probes) == 1, [m.message["Subject"] for m in smtp.messages]
    return probes[0]


def test_a_probe_sent_and_delivered_is_recognised_never_registered_or_answered_left_out_of_counts_and_reconciles_clean(
    world: Any, dovecot: Any, smtp: Any
) -> None:
    first, _ = run_nightly(world, _night(world), mail=False)
    assert [f for f in first.report.findings if f.kind.startswith("canary")] == []  # the first night has nothing to check yet
    probe = _probe(smtp)
    assert probe.rcpt_tos == ("wethouder@gemeente-veenstad.nl",) and SECRET not in probe.raw.decode("ascii", "replace")
    smtp.clear()
    dovecot.append("wethouder", "INBOX", probe.raw, msg_time=utcnow())

    assert run_ingest_once(world)["not_final"] == 0

    rows = {r["message_id"]: r for r in list_messages(world.sessions)}
    canary = rows[probe.message["Message-ID"]]
    assert canary["state"] == "canary" and canary["label"] is None and canary["decision"] is None
    assert [r["message_id"] for r in list_register(world.sessions)] == ["<gewoon@example.nl>"]
    with world.sessions() as session:
        assert session.scalars(select(Effect).where(Effect.message_pk == canary["id"])).all() == []
        seen = session.scalars(select(CanaryProbe)).one()
        assert seen.message_pk == canary["id"] and seen.seen_at is not None
        facts = load_facts(session, utcnow() - timedelta(days=30))
    assert smtp.messages == []  # no letter to anybody, no secretary told
    assert sum(n for days in facts.daily.values() for labels in days.values() for n in labels.values()) == 1
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(world.sessions))
    metrics = generate_latest(registry).decode()
    assert 'state="canary"' not in metrics
    assert 'klachtwacht_canary_last_seen_timestamp_seconds{mailbox="%s"}' % MAILBOX in metrics

    # the next night, more than the allowed delay after the probe went out
    result = Reconciler(world).run(local_date(utcnow()), now=utcnow() + timedelta(hours=1))
    assert result.report.findings == () and result.report.exit_code == 0


def test_a_probe_that_never_arrives_is_a_critical_finding_and_the_command_exits_1(
    world: Any, setup: Any, smtp: Any, tmp_path: Path
) -> None:
    run_nightly(world, _night(world), mail=False)
    _probe(smtp)  # sent, but the mail never reaches the mailbox
    with world.sessions.begin() as session:  # it went out last night
        sent = session.scalars(select(CanaryProbe)).one()
        sent.sent_at -= timedelta(hours=20)
    env = {**os.environ, "KW_TEST_PASSWORD": "geheim-wachtwoord", "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-m", "klachtwacht.cli", "--config", str(setup.tmp_path / "klachtwacht.toml"), "reconcile",
                           "--json", "--no-mail"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1, done.stderr
    findings = [f for f in json.loads(done.stdout)["findings"] if f["kind"] == "canary_missing"]
    assert len(findings) == 1 and findings[0]["severity"] == "critical" and findings[0]["mailbox"] == MAILBOX
    assert findings[0]["detail"].startswith("Kanaal lijkt onderbroken: de controleberichten van %s kwamen niet aan" % MAILBOX)
    # the report of this run (last night's run wrote one of its own, for its own date)
    html = (setup.tmp_path / "rapporten" / f"controle-{json.loads(done.stdout)['date']}.html").read_text(encoding="utf-8")
    assert "Kanaal lijkt onderbroken: de controleberichten van %s kwamen niet aan" % MAILBOX in html
    assert SECRET not in done.stderr + done.stdout


@pytest.mark.parametrize("how", ["wrong key", "expired", "other mailbox", "never sent", "replayed"])
def test_a_forged_or_expired_token_is_ordinary_mail_with_a_note_in_its_defects(world: Any, dovecot: Any, smtp: Any, how: str) -> None:
    now = utcnow()
    key, token = SECRET, Token(MAILBOX, now, "ab" * 16)
    if how == "wrong key":
        key = "a-key-that-is-not-ours-at-all"
    elif how == "expired":
        token = Token(MAILBOX, now - timedelta(days=3), "cd" * 16)
    elif how == "other mailbox":
        token = Token("griffie", now, "ef" * 16)
    if how != "never sent":  # a row as if klachtwacht had sent it, so that only the token's own fault remains
        with world.sessions.begin() as session:
            earlier = next(r["id"] for r in list_messages(world.sessions) if r["message_id"] == "<gewoon@example.nl>")
            session.add(CanaryProbe(nonce=token.nonce, mailbox=token.mailbox, day=local_date(now), sent_at=token.issued_at,
                                    message_pk=earlier if how == "replayed" else None))
    forged = make_mail(subject="Klacht [label:klacht p=0.97]", body="Mijn klacht.", sender="Kees <kees@example.nl>",
                       message_id="<vals@example.nl>", headers={HEADER: sign(key.encode(), token)})
    dovecot.append("wethouder", "INBOX", forged, msg_time=now)

    assert run_ingest_once(world)["not_final"] == 0

    row = next(r for r in list_messages(world.sessions) if r["message_id"] == "<vals@example.nl>")
    assert row["state"] == "done" and row["label"] == "klacht"
    why = {"wrong key": "wrong signature", "expired": "expired", "other mailbox": "sends no probes", "never sent": "no probe was sent",
           "replayed": "a replay"}[how]
    assert any("canary header" in d and why in d and "ordinary mail" in d for d in row["defects"]), row["defects"]
    assert "<vals@example.nl>" in [r["message_id"] for r in list_register(world.sessions)]
    assert any("kees@example.nl" in m.rcpt_tos for m in smtp.messages)  # the complainant got the usual letter
    with world.sessions() as session:
        claimed = session.scalar(select(CanaryProbe.message_pk).where(CanaryProbe.nonce == token.nonce))
        assert claimed != row["id"]  # the probe row is never claimed by the forgery
        assert session.scalar(select(RegisterEntry.number).where(RegisterEntry.message_pk == row["id"])) is not None


def test_tonights_probe_is_sent_once_however_often_the_night_is_run(world: Any, smtp: Any) -> None:
    night = _night(world)
    run_nightly(world, night, mail=False)
    run_nightly(world, night, mail=False)
    _probe(smtp)
    run_nightly(world, night, mail=False, repair=False)  # a dry run sends nothing
    assert len([m for m in smtp.messages if m.message[HEADER]]) == 1
    with world.sessions() as session:
        assert len(session.scalars(select(CanaryProbe)).all()) == 1
