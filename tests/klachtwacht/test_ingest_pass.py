"""One ingest pass against a real Dovecot: every message stored once per sighting, the mailbox untouched."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from support.mail import mails, make_mail

from klachtwacht.db.models import Message, RawBlob, Sighting, Transition
from klachtwacht.queries import list_messages
from klachtwacht.runtime import run_ingest_once

#: Where a message rests when its work ended well; "failed" is never a successful end.
SETTLED = ("done", "review", "quarantined")

pytestmark = pytest.mark.dovecot


def _fill(dovecot: Any) -> dict[str, list[str]]:
    """Three mailboxes with varied mail; some messages cc'd to two of them; some already read."""
    ids: dict[str, list[str]] = {"wethouder": [], "raad": [], "secretariaat": []}
    for i, (_, raw) in enumerate(mails(300, seed=11)):
        user = ("wethouder", "raad", "secretariaat")[i % 3]
        flags = ("\\Seen",) if i % 4 == 0 else ()
        dovecot.append(user, "INBOX", raw, flags=flags)
        ids[user].append(f"<test-11-{i}@example.nl>")
    # the same mail cc'd to the wethouder and the raad
    for j in range(5):
        raw = make_mail(subject=f"Klacht over de balie {j}", body="De medewerker aan de balie was onbeschoft en stuurde mij weg.", message_id=f"<cc-{j}@example.nl>", to=("wethouder@x.nl", "raad@x.nl"))
        dovecot.append("wethouder", "INBOX", raw)
        dovecot.append("raad", "INBOX", raw)
        ids["wethouder"].append(f"<cc-{j}@example.nl>")
        ids["raad"].append(f"<cc-{j}@example.nl>")
    dovecot.append("wethouder", "Archief", make_mail(subject="In een submap", body="Tekst", message_id="<folder@example.nl>"))
    ids["wethouder"].append("<folder@example.nl>")
    return ids


def _three(setup: Any, dovecot: Any) -> None:
    setup.imap_port = dovecot.port
    setup.mailbox("wethouder-devries", "wethouder", folders=("INBOX", "Archief"))
    setup.mailbox("griffie", "raad", role="raad")
    setup.mailbox("college", "secretariaat", role="secretariaat")


def test_one_pass_stores_each_message_once_per_sighting_and_leaves_the_mailbox_untouched(setup: Any, imap_server: Any, smtp: Any, classifier: Any) -> None:
    dovecot = imap_server  # Dovecot or Cyrus
    setup.smtp = smtp
    ids = _fill(dovecot)
    _three(setup, dovecot)
    before = {user: (dovecot.flags(user, "INBOX"), dovecot.folders(user)) for user in ids}
    app = setup.app(classifier)
    try:
        summary = run_ingest_once(app)
        by_name = {m["name"]: m for m in summary["mailboxes"]}
        assert by_name["wethouder-devries"]["new"] == len(ids["wethouder"])
        assert by_name["griffie"]["new"] == len(ids["raad"])
        assert summary["not_final"] == 0
        rows = list_messages(app.sessions)
        listed = {row["message_id"] for row in rows}
        assert listed == {mid for mids in ids.values() for mid in mids}
        assert all(row["state"] in SETTLED for row in rows)
        cc = [row for row in rows if row["message_id"].startswith("<cc-")]
        assert len(cc) == 5 and all(sorted(row["mailboxes"]) == ["griffie", "wethouder-devries"] for row in cc)
        with app.sessions() as session:
            sightings = session.scalar(select(func.count()).select_from(Sighting))
            assert sightings == sum(len(v) for v in ids.values())
            assert session.scalar(select(func.count()).select_from(Message)) == len(listed)
            # every message has a history starting at fetched
            first = session.scalars(select(Transition.to_state).where(Transition.from_state.is_(None))).all()
            assert len(first) == len(listed) and set(first) == {"fetched"}
        after = {user: (dovecot.flags(user, "INBOX"), dovecot.folders(user)) for user in ids}
        assert after == before

        again = run_ingest_once(app)
        assert all(m["fetched"] == 0 and m["new"] == 0 for m in again["mailboxes"])
        assert len(list_messages(app.sessions)) == len(listed)
    finally:
        app.close()



def test_a_pass_classifies_in_the_parse_pool_exactly_as_the_worker_would(setup: Any, dovecot: Any, classifier: Any) -> None:
    from klachtwacht.pipeline import parsed_of

    for _, raw in mails(120, seed=12):
        dovecot.append("wethouder", "INBOX", raw)
    setup.dovecot = dovecot
    setup.mailbox("wethouder-devries", "wethouder")
    setup.extra = "parse_processes = 2\nbatch_size = 60"
    app = setup.app(classifier)
    try:
        summary = run_ingest_once(app)
        assert summary["new_messages"] == 120 and summary["not_final"] == 0
        with app.sessions() as session:
            by = session.execute(select(Transition.message_pk, Transition.actor).where(Transition.to_state == "classified")).all()
            assert len(by) == 120
            assert {actor.split(":", 1)[0] for _, actor in by} == {"ingest"}  # two batches of 60, each classified in the pool
            messages = session.scalars(select(Message).order_by(Message.id)).all()
            here = classifier.classify_parsed_many([parsed_of(m) for m in messages])
            assert [(m.label, m.confidence, tuple(m.reasons or ())) for m in messages] == [(c.label, c.confidence, c.reasons) for c in here]
    finally:
        app.close()

def test_raw_bytes_are_kept_exactly_and_compressed_by_content(setup: Any, dovecot: Any, classifier: Any) -> None:
    from klachtwacht.intake import load_raw

    raw = make_mail(subject="Bijlage", body="Zie bijlage", message_id="<raw@example.nl>", attachment=("brief.pdf", b"%PDF-1.4 " + bytes(range(256)) * 400))
    dovecot.append("wethouder", "INBOX", raw)
    setup.dovecot = dovecot
    setup.mailbox("wethouder-devries", "wethouder")
    app = setup.app(classifier)
    try:
        run_ingest_once(app)
        with app.sessions() as session:
            blob = session.scalars(select(RawBlob)).one()
            assert load_raw(session, blob.sha256).replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
            assert len(blob.data) < blob.size
    finally:
        app.close()


def test_exchange_may_give_an_unchanged_message_a_new_uid_without_a_second_message(setup: Any, dovecot: Any, classifier: Any) -> None:
    raw = make_mail(subject="Zelfde", body="Dezelfde mail", message_id="<same@example.nl>")
    dovecot.append("wethouder", "INBOX", raw)
    setup.dovecot = dovecot
    setup.mailbox("wethouder-devries", "wethouder")
    app = setup.app(classifier)
    try:
        run_ingest_once(app)
        dovecot.append("wethouder", "INBOX", raw)  # same content, new UID
        run_ingest_once(app)
        rows = list_messages(app.sessions)
        assert [row["message_id"] for row in rows] == ["<same@example.nl>"]
        with app.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Sighting)) == 2
    finally:
        app.close()


def test_the_commands_of_the_contract_print_one_json_object_per_message_and_entry(setup: Any, dovecot: Any, classifier: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from klachtwacht.cli import main

    dovecot.append("wethouder", "INBOX", make_mail(subject="Onbeschofte behandeling", body="De medewerker aan de balie was onbeschoft en grof tegen mij. Ik heb al drie keer gebeld en niemand belt terug. Dit is schandalig.", message_id="<cli@example.nl>"))
    setup.dovecot = dovecot
    setup.mailbox("wethouder-devries", "wethouder")
    path = str(setup.write())
    assert main(["--config", path, "db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["--config", path, "ingest", "--once", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["mailboxes"][0]["new"] == 1 and summary["not_final"] == 0
    assert main(["--config", path, "messages", "list", "--json"]) == 0
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {"message_id", "mailboxes", "state", "label", "confidence", "decided_by"} <= set(row)
    assert row["message_id"] == "<cli@example.nl>" and row["mailboxes"] == ["wethouder-devries"]
    assert main(["--config", path, "register", "list", "--json"]) == 0
    entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    for entry in entries:
        assert {"number", "message_id", "mailboxes", "received_at", "due", "notice_sent"} <= set(entry)
    assert [e["message_id"] for e in entries] == (["<cli@example.nl>"] if row["state"] == "done" and row["decision"] == "register" else [])


def test_a_folder_named_as_the_user_sees_it_is_found_where_the_server_keeps_it(setup: Any, smtp: Any, classifier: Any) -> None:
    """Cyrus without altnamespace keeps personal folders under INBOX (``INBOX/Klachten``), as Courier does (``INBOX.Klachten``)."""
    from support.cyrus import Cyrus

    with Cyrus(altnamespace=False) as cyrus:
        cyrus.add_user("wethouder", "geheim-wachtwoord")
        cyrus.append("wethouder", "Klachten", make_mail(subject="In de map", body="Tekst", message_id="<nested@example.nl>"))
        assert "INBOX/Klachten" in cyrus.folders("wethouder")
        setup.smtp = smtp
        setup.imap_port = cyrus.port
        setup.mailbox("wethouder-devries", "wethouder", folders=("Klachten",))
        app = setup.app(classifier)
        try:
            summary = run_ingest_once(app)
            assert summary["mailboxes"][0]["errors"] == []
            assert [row["message_id"] for row in list_messages(app.sessions)] == ["<nested@example.nl>"]
        finally:
            app.close()
