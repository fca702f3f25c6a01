"""From the mailbox to the register and the notices, with Dovecot and a real SMTP server.

The label comes from a test double here (support.labels) so that every count
can be exact; test_end_to_end_with_the_shipped_model runs the real model.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Any

import pytest
from sqlalchemy import func, select
from support.labels import HeaderLabels
from support.mail import make_mail

from klachtwacht.db.models import Effect, RegisterEntry
from klachtwacht.pipeline import advance
from klachtwacht.queries import list_messages, list_register
from klachtwacht.runtime import run_ingest_once

pytestmark = pytest.mark.dovecot
RECEIVED = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)  # due 13 April 2026 (Awb 9:11)


class Crash(BaseException):
    """Stands for the process dying: nothing in the worker catches it."""


def _mail(subject: str, sender: str = "Ria Hendriks <ria@example.nl>", mid: str = "", **kw: Any) -> bytes:
    return make_mail(subject=subject, body=kw.pop("body", "Tekst van het bericht."), sender=sender, message_id=mid or None, **kw)


def _boxes(setup: Any, dovecot: Any, smtp: Any) -> None:
    setup.dovecot = dovecot
    setup.smtp = smtp
    setup.mailbox("wethouder-devries", "wethouder", secretary="secretariaat.devries@gemeente-veenstad.nl")
    setup.mailbox("griffie", "raad", role="raad", secretary="griffie@gemeente-veenstad.nl")


def _by_recipient(smtp: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for captured in smtp.messages:
        for rcpt in captured.rcpt_tos:
            out.setdefault(rcpt, []).append(captured.message)
    return out


def test_mixed_mail_registers_each_complaint_once_and_tells_each_sender_and_secretary_once(setup: Any, dovecot: Any, smtp: Any) -> None:
    put = lambda user, raw: dovecot.append(user, "INBOX", raw, msg_time=RECEIVED)  # noqa: E731
    put("wethouder", _mail("Balie [label:klacht p=0.97 sub=bejegening]", mid="<k1@example.nl>"))
    both = _mail("Wmo [label:klacht p=0.95]", sender="Henk de Boer <henk@example.nl>", mid="<k2@example.nl>")
    put("wethouder", both)
    put("raad", both)
    put("wethouder", _mail("OZB [label:beleidsvraag p=0.9]", sender="Kees <kees@example.nl>", mid="<b1@example.nl>"))
    put("wethouder", _mail("Twijfel [label:klacht p=0.5]", sender="Twijfel <twijfel@example.nl>", mid="<r1@example.nl>"))
    put("raad", _mail("Nieuwsbrief [label:overig p=0.99 sub=nieuwsbrief]", sender="Nieuws <news@example.org>", mid="<o1@example.nl>", headers={"List-Unsubscribe": "<mailto:u@example.org>"}))
    put("wethouder", _mail("Afwezig [label:klacht p=0.97]", sender="Auto <auto@example.nl>", mid="<a1@example.nl>", headers={"Auto-Submitted": "auto-replied"}))
    put("raad", _mail("Bezwaar [label:overig p=0.95 sub=bezwaar]", sender="Ahmed <ahmed@example.nl>", mid="<z1@example.nl>"))
    put("wethouder", _mail("Systeem [label:klacht p=0.97]", sender="Systeem <no-reply@example.nl>", mid="<n1@example.nl>"))
    _boxes(setup, dovecot, smtp)
    app = setup.app(HeaderLabels())
    try:
        summary = run_ingest_once(app)
        assert summary["not_final"] == 0
        states = {row["message_id"]: (row["state"], row["decided_by"]) for row in list_messages(app.sessions)}
        assert states["<k1@example.nl>"] == ("done", "model")
        assert states["<r1@example.nl>"][0] == "review"
        assert states["<o1@example.nl>"][0] == "done"
        register = list_register(app.sessions)
        assert sorted(r["message_id"] for r in register) == ["<a1@example.nl>", "<k1@example.nl>", "<k2@example.nl>", "<n1@example.nl>"]
        assert sorted(r["number"] for r in register) == [f"KL-2026-00000{i}" for i in range(1, 5)]
        k2 = next(r for r in register if r["message_id"] == "<k2@example.nl>")
        assert sorted(k2["mailboxes"]) == ["griffie", "wethouder-devries"]
        assert all(r["received_at"].startswith("2026-03-02") and r["due"] == "2026-04-13" for r in register)
        notices = {r["message_id"]: r["notice_sent"] for r in register}
        assert notices == {"<k1@example.nl>": True, "<k2@example.nl>": True, "<a1@example.nl>": False, "<n1@example.nl>": False}

        mail = _by_recipient(smtp)
        assert len(mail["ria@example.nl"]) == 1 and len(mail["henk@example.nl"]) == 1
        for robot in ("auto@example.nl", "no-reply@example.nl", "news@example.org", "twijfel@example.nl", "kees@example.nl"):
            assert robot not in mail
        letter = mail["henk@example.nl"][0]
        assert "KL-2026-" in letter["Subject"] and "13 april 2026" in letter.get_body(("plain",)).get_content()
        assert letter["Auto-Submitted"] == "auto-replied" and letter["X-Auto-Response-Suppress"] == "All"
        assert letter["In-Reply-To"] == "<k2@example.nl>" and letter["Message-ID"].startswith("<kw.notice_sender.")
        assert letter.get_body(("html",)) is not None
        # each secretary hears once per message in her mailbox: k1, k2, b1 (policy), a1, n1 / k2, z1
        assert len(mail["secretariaat.devries@gemeente-veenstad.nl"]) == 5
        assert len(mail["griffie@gemeente-veenstad.nl"]) == 2
        bezwaar = mail["bezwaar@gemeente-veenstad.nl"]
        assert len(bezwaar) == 1 and "2 maart 2026" in bezwaar[0].get_body(("plain",)).get_content()
        assert any(part.get_content_type() == "message/rfc822" for part in bezwaar[0].iter_attachments())
        assert len(mail["ahmed@example.nl"]) == 1

        sent = len(smtp.messages)
        again = run_ingest_once(app)
        assert again["new_messages"] == 0 and len(smtp.messages) == sent
    finally:
        app.close()


def test_notices_to_one_sender_are_rate_limited(setup: Any, dovecot: Any, smtp: Any) -> None:
    for i in range(5):
        dovecot.append("wethouder", "INBOX", _mail(f"Klacht {i} [label:klacht p=0.97]", sender="Boos <boos@example.nl>", mid=f"<rl{i}@example.nl>"))
    _boxes(setup, dovecot, smtp)
    setup.extra = "[rules]\nnotices_per_sender_per_day = 3"
    app = setup.app(HeaderLabels())
    try:
        run_ingest_once(app)
        assert len(_by_recipient(smtp)["boos@example.nl"]) == 3
        assert len(list_register(app.sessions)) == 5
        with app.sessions() as session:
            skipped = session.scalars(select(Effect.detail).where(Effect.effect == "notice_sender", Effect.status == "skipped")).all()
            assert len(skipped) == 2 and all("limiet" in s for s in skipped)
    finally:
        app.close()


def test_smtp_down_for_a_while_keeps_everything_and_flows_when_it_is_back(setup: Any, dovecot: Any, smtp: Any) -> None:
    dovecot.append("wethouder", "INBOX", _mail("Klacht [label:klacht p=0.97]", mid="<down@example.nl>"))
    _boxes(setup, dovecot, smtp)
    app = setup.app(HeaderLabels())
    smtp.fail_with(451)
    try:
        result: dict[str, Any] = {}
        runner = threading.Thread(target=lambda: result.update(run_ingest_once(app)))
        runner.start()
        deadline = time.monotonic() + 30
        row: dict[str, Any] = {}
        while time.monotonic() < deadline:
            rows = list_messages(app.sessions)
            row = rows[0] if rows else {}
            if row.get("attempts", 0) >= 2:
                break
            time.sleep(0.1)
        assert row["state"] == "registered" and "451" in (row["last_error"] or "")
        smtp.fail_with(None)
        runner.join(60)
        assert result["not_final"] == 0
        assert list_messages(app.sessions)[0]["state"] == "done"
        assert len(_by_recipient(smtp)["ria@example.nl"]) == 1
    finally:
        smtp.fail_with(None)
        app.close()


def test_a_crash_between_the_register_call_and_its_record_makes_no_second_entry_or_notice(setup: Any, dovecot: Any, smtp: Any) -> None:
    dovecot.append("wethouder", "INBOX", _mail("Klacht [label:klacht p=0.97]", mid="<crash@example.nl>"))
    _boxes(setup, dovecot, smtp)
    app = setup.app(HeaderLabels())
    try:
        app.poll(app.config.mailbox("wethouder-devries"))
        pk = list_messages(app.sessions)[0]["id"]
        backend = app.services.seams.register
        original = backend.create

        def create_then_die(request: Any) -> str:
            original(request)
            raise Crash()

        backend.create = create_then_die  # type: ignore[method-assign]
        with pytest.raises(Crash):
            advance(app.sessions, app.services, pk)
        backend.create = original  # type: ignore[method-assign]
        assert list_messages(app.sessions)[0]["state"] == "decided"
        assert advance(app.sessions, app.services, pk) == "done"
        with app.sessions() as session:
            assert session.scalar(select(func.count()).select_from(RegisterEntry)) == 1
            ledger = session.scalars(select(Effect).where(Effect.effect == "register")).one()
            # the second try asked the register first and found the first try's entry
            assert ledger.status == "done" and ledger.attempts == 2 and "controle" in (ledger.detail or "")
        assert len(_by_recipient(smtp)["ria@example.nl"]) == 1
    finally:
        app.close()


def test_end_to_end_with_the_shipped_model(setup: Any, dovecot: Any, smtp: Any, classifier: Any) -> None:
    from klachtwacht.demo.samples import build_samples

    users = {"wethouder": "wethouder", "raad": "raad", "secretariaat": "secretariaat"}
    for boxes, raw, received in build_samples():
        for box in boxes:
            dovecot.append(users[box], "INBOX", raw, msg_time=received)
    _boxes(setup, dovecot, smtp)
    setup.mailbox("college", "secretariaat", role="secretariaat")
    app = setup.app(classifier)
    try:
        summary = run_ingest_once(app)
        assert summary["not_final"] == 0
        rows = {row["message_id"]: row for row in list_messages(app.sessions)}
        assert rows["<demo-1@example.nl>"]["label"] == "klacht"
        assert rows["<demo-3@example.nl>"]["decision"] == "archive"  # the newsletter
        assert rows["<demo-7@example.nl>"]["label"] == "overig"  # the out-of-office
        assert any(row["state"] == "quarantined" for row in rows.values())
        register = {r["message_id"] for r in list_register(app.sessions)}
        assert "<demo-1@example.nl>" in register and "<demo-3@example.nl>" not in register
        mail = _by_recipient(smtp)
        assert len(mail["ria.hendriks@example.nl"]) == 1
        assert "jan.peters@example.nl" not in mail and "info@parkeerbeheer-noord.example" not in mail
    finally:
        app.close()


def test_a_complaint_seen_later_in_another_mailbox_tells_that_secretary_and_nobody_twice(setup: Any, dovecot: Any, smtp: Any) -> None:
    raw = _mail("Balie [label:klacht p=0.97]", mid="<later@example.nl>")
    dovecot.append("wethouder", "INBOX", raw, msg_time=RECEIVED)
    _boxes(setup, dovecot, smtp)
    app = setup.app(HeaderLabels())
    try:
        run_ingest_once(app)
        assert len(smtp.messages) == 2  # the sender and the wethouder's secretary
        dovecot.append("raad", "INBOX", raw)  # forwarded to the raad a day later
        run_ingest_once(app)
        mail = _by_recipient(smtp)
        assert len(mail["ria@example.nl"]) == 1
        assert len(mail["secretariaat.devries@gemeente-veenstad.nl"]) == 1
        assert len(mail["griffie@gemeente-veenstad.nl"]) == 1
        register = list_register(app.sessions)
        assert len(register) == 1 and sorted(register[0]["mailboxes"]) == ["griffie", "wethouder-devries"]
        assert list_messages(app.sessions)[0]["state"] == "done"
    finally:
        app.close()


def test_a_colleagues_forward_of_a_complaint_is_answered_to_the_citizen(setup: Any, dovecot: Any, smtp: Any) -> None:
    body = (
        "Ter info.\n\n---------- Doorgestuurd bericht ----------\nVan: Piet Bakker <p.bakker@example.nl>\n"
        "Datum: ma 16 nov 2026\nOnderwerp: lantaarnpaal\n\nIk heb de lantaarnpaal al drie keer gemeld en niemand doet iets."
    )
    raw = _mail("Fw: lantaarnpaal [label:klacht p=0.97]", sender="Secretariaat <secretariaat.devries@gemeente-veenstad.nl>", mid="<fw@example.nl>", body=body)
    dovecot.append("wethouder", "INBOX", raw)
    _boxes(setup, dovecot, smtp)
    app = setup.app(HeaderLabels())
    try:
        run_ingest_once(app)
        mail = _by_recipient(smtp)
        assert len(mail["p.bakker@example.nl"]) == 1
        assert "Beste Piet Bakker" in mail["p.bakker@example.nl"][0].get_body(("plain",)).get_content()
        # the colleague gets only the secretary's notice, not the citizen's letter
        subjects = [" ".join(str(m["Subject"]).split()) for m in mail["secretariaat.devries@gemeente-veenstad.nl"]]
        assert len(subjects) == 1 and subjects[0].startswith("Klacht doorgestuurd")
    finally:
        app.close()
