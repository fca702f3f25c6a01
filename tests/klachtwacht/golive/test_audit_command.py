"""``klachtwacht audit`` over a mailbox with two years of history, against a CSV export of the municipality's register.

Real Dovecot (INTERNALDATE set on APPEND), the store on SQLite and PostgreSQL,
an SMTP server that must stay empty; labels from the test double.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from support.cli import klachtwacht
from support.labels import HeaderLabels
from support.mail import make_mail

from klachtwacht.queries import list_messages, list_register
from klachtwacht.runtime import run_ingest_once
from rules.deadlines import local_date

pytestmark = pytest.mark.dovecot

NOW = datetime.now(timezone.utc)
TOPICS = ("de balie", "het afval", "een kapotte stoep", "geluidsoverlast", "de parkeervergunning", "het loket Wmo",
          "de bus naar school", "een boom voor het raam", "de paspoortaanvraag", "het zwembad", "de bijstand", "het hondenveld")


def _history(dovecot: Any) -> dict[int, datetime]:
    """Two years: a complaint and a policy question every month; returns the complaints' receipt times."""
    received = {}
    for i, topic in enumerate(TOPICS * 2):
        at = NOW - timedelta(days=30 * i + 5, hours=i)
        raw = make_mail(subject=f"Klacht over {topic} [label:klacht p=0.97]", body="Tekst.", sender=f"Burger {i} <burger{i}@example.nl>",
                        message_id=f"<klacht-{i}@example.nl>")
        dovecot.append("wethouder", "INBOX", raw, msg_time=at)
        dovecot.append("wethouder", "INBOX", make_mail(subject=f"Vraag {i} [label:beleidsvraag p=0.9]", body="x", sender=f"V <v{i}@example.nl>",
                                                         message_id=f"<vraag-{i}@example.nl>"), msg_time=at - timedelta(days=1))
        received[i] = at
    return received


def _export(path: Path, received: dict[int, datetime]) -> set[int]:
    """The register holds every complaint whose number is divisible by 3, some by name only; Windows-1252, semicolons, Dutch dates."""
    lines = ["Nummer;Datum;Afzender;Onderwerp;Behandelaar"]
    held = set()
    for i, at in received.items():
        if i % 3:
            continue
        held.add(i)
        day = local_date(at) + timedelta(days=2)
        sender = f"burger{i}@example.nl" if i % 2 else f"Burger {i}"
        lines.append(f"K-{i};{day.day}-{day.month}-{day.year};{sender};klacht {TOPICS[i % 12]};Mevr. Müller")
    lines.append(f"K-999;{NOW.day}-{NOW.month}-{NOW.year};iemand@example.nl;Iets heel anders;Mevr. Müller")
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    return held


def test_the_audit_reports_each_missing_complaint_and_matches_each_registered_one(setup: Any, dovecot: Any, smtp: Any) -> None:
    received = _history(dovecot)
    setup.dovecot, setup.smtp, setup.going_live = dovecot, smtp, ""  # first-poll: all of it is history
    setup.mailbox("wethouder-devries", "wethouder")
    app = setup.app(HeaderLabels())
    try:
        run_ingest_once(app)
        ids = {row["id"]: row["message_id"] for row in list_messages(app.sessions)}
        assert {row["state"] for row in list_messages(app.sessions)} == {"history"} and list_register(app.sessions) == []
    finally:
        app.close()
    export = setup.tmp_path / "register.csv"
    held = _export(export, received)
    since = (NOW - timedelta(days=800)).date().isoformat()
    out = setup.tmp_path / "rapport"
    run = klachtwacht("audit", "--since", since, "--register-export", str(export), "--columns", "date=Datum,sender=Afzender,subject=Onderwerp,number=Nummer",
                      "--report-dir", str(out), "--json", "--config", str(setup.write()), cwd=setup.tmp_path)
    assert run.status == 1, run.err  # some complaints are not in the register
    report = json.loads(run.out)
    assert report["complaints"] == 24 and report["messages"] == 48
    missing = sorted(ids[m["id"]] for m in report["missing"])
    assert missing == sorted(f"<klacht-{i}@example.nl>" for i in received if i not in held)
    matched = {ids[m["id"]]: m for m in report["matched"]}
    assert sorted(matched) == sorted(f"<klacht-{i}@example.nl>" for i in held)
    for i in held:
        found = matched[f"<klacht-{i}@example.nl>"]
        assert found["register"] == f"K-{i}" and "geregistreerd 2 dag(en) na ontvangst" in found["evidence"]
    assert sum(month["complaints"] for month in report["months"]) == 24
    assert sum(month["missing"] for month in report["months"]) == len(received) - len(held)
    html = Path(report["files"]["html"]).read_text(encoding="utf-8")
    assert "niet in het register" in html and 'lang="nl"' in html
    rows = Path(report["files"]["csv"]).read_text(encoding="utf-8-sig").splitlines()
    assert len(rows) == 1 + 24 and rows[0].startswith("ontvangen;mailbox;afzender")
    assert smtp.messages == []  # nothing is sent to anyone

    text = klachtwacht("audit", "--since", since, "--mailbox", "wethouder-devries", "--report-dir", str(out), "--config", str(setup.write()), cwd=setup.tmp_path)
    assert text.status == 1 and "24 klachten: 0 in het register, 24 niet in het register" in text.out  # the built-in register is empty


def test_an_export_without_the_named_column_stops_the_audit_with_one_line(setup: Any, tmp_path: Path) -> None:
    export = tmp_path / "register.csv"
    export.write_text("Nummer;Ontvangen;Afzender;Onderwerp\nK-1;2-3-2026;a@example.nl;x\n", encoding="utf-8")
    out = tmp_path / "rapport"
    run = klachtwacht("audit", "--since", "2026-01-01", "--register-export", str(export), "--report-dir", str(out), "--config", str(setup.write()), cwd=tmp_path)
    assert run.status == 2 and len(run.lines) == 1
    assert str(export) in run.lines[0] and "no column 'datum'" in run.lines[0] and "--columns date=" in run.lines[0]
    assert not out.exists()  # nothing half-done


def test_an_audit_since_a_date_in_the_future_or_of_an_unknown_mailbox_does_not_run(setup: Any, tmp_path: Path) -> None:
    future = (NOW + timedelta(days=3)).date().isoformat()
    run = klachtwacht("audit", "--since", future, "--config", str(setup.write()), cwd=tmp_path)
    assert run.status == 2 and "in the future" in run.err
    run = klachtwacht("audit", "--since", "2026-01-01", "--mailbox", "onbekend", "--config", str(setup.write()), cwd=tmp_path)
    assert run.status == 2 and run.lines == [f"klachtwacht: --mailbox: no mailbox 'onbekend' in {setup.tmp_path / 'klachtwacht.toml'} (known: none)"]


def test_with_fetch_mail_never_stored_is_read_from_the_server_without_touching_or_storing_it(setup: Any, dovecot: Any, smtp: Any) -> None:
    body = "Geachte wethouder, de medewerker aan de balie was onbeschoft en stuurde mij weg. Ik ben zeer ontevreden en dien hierbij een klacht in."
    dovecot.append("wethouder", "INBOX", make_mail(subject="Klacht over de balie", body=body, sender="Ria <ria@example.nl>", message_id="<oud@example.nl>"),
                   msg_time=NOW - timedelta(days=40))
    dovecot.append("wethouder", "INBOX", make_mail(subject="Te oud", body=body, message_id="<te-oud@example.nl>"), msg_time=NOW - timedelta(days=400))
    setup.dovecot, setup.smtp = dovecot, smtp
    setup.mailbox("wethouder-devries", "wethouder")
    before = dovecot.flags("wethouder", "INBOX")
    since = (NOW - timedelta(days=100)).date().isoformat()
    run = klachtwacht("audit", "--since", since, "--fetch", "--json", "--report-dir", str(setup.tmp_path / "r"), "--config", str(setup.write()),
                      cwd=setup.tmp_path)  # the mailbox's password comes from the environment the fixture set
    assert run.status == 1, run.err
    report = json.loads(run.out)
    assert report["messages"] == 1 and [(m["state"], m["subject"], m["label"]) for m in report["missing"]] == [("niet opgeslagen", "Klacht over de balie", "klacht")]
    assert dovecot.flags("wethouder", "INBOX") == before  # never \Seen, never moved
    run = klachtwacht("messages", "list", "--json", "--config", str(setup.write()), cwd=setup.tmp_path)
    assert run.status == 0 and run.out == ""  # nothing was stored
