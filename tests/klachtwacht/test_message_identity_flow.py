"""Message identity end to end, with Dovecot and a real SMTP server, on SQLite and PostgreSQL.

A Message-ID is one signal, not the key: twelve complaints from a web form
that reuses one Message-ID are twelve messages, each registered and answered;
one mail in two mailboxes, or re-served with a new UID, stays one message.
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import datetime, timezone
from typing import Any

import pytest
from sqlalchemy import func, select
from support.labels import HeaderLabels
from support.mail import make_mail

from klachtwacht.db.models import Message, RegisterEntry, Sighting, Transition
from klachtwacht.queries import list_messages, list_register
from klachtwacht.runtime import run_ingest_once

pytestmark = pytest.mark.dovecot
RECEIVED = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
FORM_ID = "<1@formulieren.gemeente-veenstad.nl>"
COMPLAINTS = [
    "De container in de Dorpsstraat is weer niet geleegd.",
    "De lantaarnpaal bij de basisschool is al weken kapot.",
    "De medewerker aan de balie was onbeschoft tegen mij.",
    "Mijn melding over de stoep is nooit beantwoord.",
    "Het gras in het park wordt nooit gemaaid.",
    "De bus naar het gemeentehuis rijdt niet meer.",
    "Ik wacht al drie maanden op mijn Wmo-aanvraag.",
    "Er staat al weken een wrak in onze straat.",
    "De parkeervergunning is twee keer afgeschreven.",
    "Niemand neemt de telefoon op bij de gemeente.",
    "De speeltuin is gevaarlijk en wordt niet hersteld.",
    "Mijn bezwaar over de WOZ is kwijtgeraakt.",
]


def _form_mail(i: int, text: str) -> bytes:
    """What a web form sends: one sender, one subject, one Message-ID for every mail; the citizen in Reply-To."""
    return make_mail(
        subject="Klachtformulier [label:klacht p=0.97]",
        body=f"Naam: Burger {i}\nE-mail: burger{i}@example.nl\n\n{text}",
        sender="Formulierenmodule <formulier@formulieren.example>",
        message_id=FORM_ID,
        headers={"Reply-To": f"Burger {i} <burger{i}@example.nl>", "X-Mailer": "Formulierenmodule 2.1"},
    )


def _delivered(raw: bytes, user: str, hop: str = "mx1") -> bytes:
    """The transport headers a municipal mail server puts in front of one copy."""
    return (
        f"Return-Path: <ria@example.nl>\r\nDelivered-To: {user}@gemeente-veenstad.nl\r\n"
        f"Received: from {hop}.gemeente-veenstad.nl by imap.gemeente-veenstad.nl with LMTP id {user}-{hop}; Mon, 2 Mar 2026 11:00:01 +0100\r\n"
        f"X-Spam-Score: {len(user) / 10:.1f}\r\nAuthentication-Results: {hop}.gemeente-veenstad.nl; dkim=pass header.d=example.nl\r\n"
    ).encode() + raw


def _boxes(setup: Any, dovecot: Any, smtp: Any, **more: Any) -> None:
    setup.dovecot = dovecot
    setup.smtp = smtp
    setup.mailbox("wethouder-devries", "wethouder", secretary="secretariaat.devries@gemeente-veenstad.nl", **more)
    setup.mailbox("griffie", "raad", role="raad", secretary="griffie@gemeente-veenstad.nl")


def _by_recipient(smtp: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for captured in smtp.messages:
        for rcpt in captured.rcpt_tos:
            out[rcpt] = out.get(rcpt, 0) + 1
    return out


def test_twelve_complaints_from_a_web_form_with_one_message_id_are_twelve_registered_and_answered_messages(
    setup: Any, dovecot: Any, smtp: Any, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    from klachtwacht.cli import main

    for i, text in enumerate(COMPLAINTS[:7]):
        dovecot.append("wethouder", "INBOX", _form_mail(i, text), msg_time=RECEIVED)
    _boxes(setup, dovecot, smtp)
    setup.extra = "batch_size = 4"  # collisions inside a batch and with messages of an earlier batch
    app = setup.app(HeaderLabels())
    try:
        with caplog.at_level(logging.WARNING, logger="klachtwacht.intake"):
            first = run_ingest_once(app)
            for i, text in enumerate(COMPLAINTS[7:], start=7):  # and with messages of an earlier pass
                dovecot.append("wethouder", "INBOX", _form_mail(i, text), msg_time=RECEIVED)
            second = run_ingest_once(app)
        assert first["mailboxes"][0]["new"] == 7 and second["mailboxes"][0]["new"] == 5
        assert first["not_final"] == second["not_final"] == 0
        rows = list_messages(app.sessions)
        assert len(rows) == 12 and {r["message_id"] for r in rows} == {FORM_ID}
        assert all(r["state"] == "done" and r["label"] == "klacht" and r["decision"] == "register" for r in rows)
        first_pk = rows[0]["id"]
        assert not [d for d in rows[0]["defects"] if d.startswith("message-id-collision")]
        for row in rows[1:]:
            assert [d for d in row["defects"] if d.startswith("message-id-collision")] == [
                f"message-id-collision: message {first_pk} carries the same Message-ID with other content; this mail is a message of its own"
            ]
        register = list_register(app.sessions)
        assert len(register) == 12 and len({r["number"] for r in register}) == 12 and all(r["notice_sent"] for r in register)
        counts = _by_recipient(smtp)
        assert {f"burger{i}@example.nl": counts.get(f"burger{i}@example.nl") for i in range(12)} == {f"burger{i}@example.nl": 1 for i in range(12)}
        assert counts["secretariaat.devries@gemeente-veenstad.nl"] == 12
        collisions = [r.getMessage() for r in caplog.records if "Message-ID already carried" in r.getMessage()]
        assert len(collisions) == 11
        assert not any("@" in line or "burger" in line.lower() or "formulier" in line.lower() for line in collisions)

        sent = len(smtp.messages)
        again = run_ingest_once(app)
        assert again["new_messages"] == 0 and len(smtp.messages) == sent and len(list_messages(app.sessions)) == 12
    finally:
        app.close()
    path = str(setup.write())
    capsys.readouterr()
    assert main(["--config", path, "messages", "list", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(listed) == 12 and sum(1 for r in listed if any(d.startswith("message-id-collision") for d in r["defects"])) == 11


def test_one_mail_cc_d_to_two_mailboxes_with_their_own_transport_headers_is_one_message_with_two_sightings(setup: Any, dovecot: Any, smtp: Any) -> None:
    raw = make_mail(subject="Balie [label:klacht p=0.97]", body="De medewerker was onbeschoft.", sender="Ria <ria@example.nl>",
                    message_id="<cc@example.nl>", to=("wethouder@gemeente-veenstad.nl", "raad@gemeente-veenstad.nl"))
    dovecot.append("wethouder", "INBOX", _delivered(raw, "wethouder", "mx1"), msg_time=RECEIVED)
    dovecot.append("raad", "INBOX", _delivered(raw.replace(b"\r\n", b"\n"), "raad", "mx2"), msg_time=RECEIVED)
    _boxes(setup, dovecot, smtp)
    app = setup.app(HeaderLabels())
    try:
        summary = run_ingest_once(app)
        assert [m["new"] for m in summary["mailboxes"]] == [1, 1] and [m["seen_again"] for m in summary["mailboxes"]] == [0, 0]
        (row,) = list_messages(app.sessions)
        assert sorted(row["mailboxes"]) == ["griffie", "wethouder-devries"] and row["state"] == "done"
        assert not [d for d in row["defects"] if d.startswith("message-id-collision")]
        with app.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Sighting)) == 2
            assert session.scalar(select(func.count()).select_from(RegisterEntry)) == 1
        counts = _by_recipient(smtp)
        assert counts["ria@example.nl"] == 1
        assert counts["secretariaat.devries@gemeente-veenstad.nl"] == 1 and counts["griffie@gemeente-veenstad.nl"] == 1
    finally:
        app.close()


def test_a_copy_whose_subject_a_spam_filter_tagged_in_one_mailbox_is_still_one_message(setup: Any, dovecot: Any, smtp: Any) -> None:
    raw = make_mail(subject="Balie [label:klacht p=0.97]", body="De medewerker was onbeschoft.", sender="Ria <ria@example.nl>", message_id="<tag@example.nl>")
    dovecot.append("wethouder", "INBOX", _delivered(raw, "wethouder"), msg_time=RECEIVED)
    dovecot.append("raad", "INBOX", _delivered(raw.replace(b"Subject: Balie", b"Subject: [SPAM?] Balie"), "raad"), msg_time=RECEIVED)
    _boxes(setup, dovecot, smtp)
    app = setup.app(HeaderLabels())
    try:
        run_ingest_once(app)
        (row,) = list_messages(app.sessions)
        assert sorted(row["mailboxes"]) == ["griffie", "wethouder-devries"]
        assert _by_recipient(smtp)["ria@example.nl"] == 1
    finally:
        app.close()


def _exchange_rendering(raw: bytes) -> bytes:
    """The same message as Exchange serves it again: its own headers, folded otherwise, a base64 body under a new boundary."""
    head, body = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)
    kept = [line for line in head.split(b"\n") if not line.lower().startswith((b"content-", b"mime-version"))]
    text = body.decode("utf-8")
    encoded = base64.encodebytes(text.encode("utf-8")).decode()
    return (
        "\r\n".join(line.decode() for line in kept).replace("Subject: ", "Subject:\r\n ")
        + "\r\nThread-Topic: Balie\r\nThread-Index: AQHZ1234567890==\r\nX-MS-Has-Attach:\r\nX-MS-Exchange-Organization-AuthAs: Anonymous\r\n"
        + 'Content-Language: nl-NL\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="_000_AM0PR01MB1234ABCD_"\r\n\r\n'
        + '--_000_AM0PR01MB1234ABCD_\r\nContent-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + encoded.replace("\n", "\r\n") + "\r\n--_000_AM0PR01MB1234ABCD_--\r\n"
    ).encode()


def test_an_unchanged_message_re_served_under_a_new_uid_is_seen_again_not_a_second_message(setup: Any, dovecot: Any, smtp: Any) -> None:
    raw = make_mail(subject="Balie [label:klacht p=0.97]", body="De medewerker was onbeschoft.\n\nRia", sender="Ria <ria@example.nl>", message_id="<exch@example.nl>")
    dovecot.append("wethouder", "INBOX", raw, msg_time=RECEIVED)
    _boxes(setup, dovecot, smtp)
    app = setup.app(HeaderLabels())
    try:
        run_ingest_once(app)
        sent = len(smtp.messages)
        assert sent == 2  # the citizen and the secretary
        dovecot.append("wethouder", "INBOX", raw, msg_time=RECEIVED)  # the same bytes, a new UID
        dovecot.append("wethouder", "INBOX", _exchange_rendering(raw), msg_time=RECEIVED)  # re-rendered, a new UID
        summary = run_ingest_once(app)
        box = summary["mailboxes"][0]
        assert (box["fetched"], box["new"], box["seen_again"]) == (2, 0, 2)
        assert summary["new_messages"] == 0
        (row,) = list_messages(app.sessions)
        assert row["state"] == "done" and row["mailboxes"] == ["wethouder-devries"]
        with app.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Sighting)) == 3
            assert session.scalar(select(func.count()).select_from(Transition).where(Transition.reason.like("ook gezien in%"))) == 0
        assert len(smtp.messages) == sent
    finally:
        app.close()


def test_after_a_uidvalidity_change_a_done_complaint_is_seen_again_and_only_a_new_mailbox_tells_its_secretary(setup: Any, dovecot: Any, smtp: Any) -> None:
    raw = make_mail(subject="Balie [label:klacht p=0.97]", body="De medewerker was onbeschoft.", sender="Ria <ria@example.nl>", message_id="<uv@example.nl>")
    dovecot.append("wethouder", "Klachten", raw, msg_time=RECEIVED)
    _boxes(setup, dovecot, smtp, folders=("Klachten",))
    app = setup.app(HeaderLabels())
    try:
        run_ingest_once(app)
        assert _by_recipient(smtp) == {"ria@example.nl": 1, "secretariaat.devries@gemeente-veenstad.nl": 1}
        dovecot.recreate_folder("wethouder", "Klachten", keep_messages=True)
        summary = run_ingest_once(app)
        box = summary["mailboxes"][0]
        assert (box["fetched"], box["new"], box["seen_again"]) == (1, 0, 1)
        assert summary["new_messages"] == 0
        with app.sessions() as session:
            message = session.scalars(select(Message)).one()
            assert message.state == "done"
            reasons = session.scalars(select(Transition.reason).where(Transition.message_pk == message.id)).all()
            assert not [r for r in reasons if r and r.startswith("ook gezien in")]
        assert len(smtp.messages) == 2

        dovecot.append("raad", "INBOX", _delivered(raw, "raad"))  # forwarded to the raad: a mailbox it was not in
        summary = run_ingest_once(app)
        griffie = next(m for m in summary["mailboxes"] if m["name"] == "griffie")
        assert (griffie["new"], griffie["seen_again"]) == (1, 0)
        assert _by_recipient(smtp) == {"ria@example.nl": 1, "secretariaat.devries@gemeente-veenstad.nl": 1, "griffie@gemeente-veenstad.nl": 1}
        with app.sessions() as session:
            reasons = session.scalars(select(Transition.reason).where(Transition.reason.like("ook gezien in%"))).all()
            assert reasons == ["ook gezien in griffie"]
            assert session.scalars(select(Message.state)).one() == "done"
    finally:
        app.close()
