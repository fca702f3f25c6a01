"""Migration 0003_identity on SQLite and PostgreSQL: existing data carried over, nothing merged or split wrongly."""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, insert, select
from support.mail import make_mail

from ingest.cursor import Cursor
from ingest.identity import identify, sha256_hex
from ingest.imap import FetchedMessage
from klachtwacht.db.engine import make_engine, make_sessionmaker
from klachtwacht.db.migrate import upgrade
from klachtwacht.intake import DatabaseSink, compress
from klachtwacht.queries import list_messages

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
FORM = "<formulier@web.example.nl>"


def _copy(raw: bytes, mailbox: str) -> bytes:
    """The same mail as delivered to another mailbox: other transport headers in front."""
    return f"Delivered-To: {mailbox}@gemeente-veenstad.nl\r\nReceived: from mx.{mailbox} by imap; Mon, 2 Mar 2026 10:00:00 +0100\r\n".encode() + raw


def _form(text: str, sender: str) -> bytes:
    return make_mail(subject="Klachtformulier", body=text, sender=sender, message_id=FORM, headers={"X-Mailer": "Formulierenmodule"})


A = _form("De container in de Dorpsstraat is weer niet geleegd.", "ria@example.nl")
B = _form("De lantaarnpaal bij de school is al weken kapot.", "henk@example.nl")
C = _form("De stoep voor nummer 12 ligt open en niemand doet iets.", "kees@example.nl")
D = make_mail(subject="Geen Message-ID", body="Deze mail heeft geen Message-ID.").replace(b"Message-ID:", b"X-Old-Message-ID:")
F = make_mail(subject="Gewoon", body="Een gewone mail.", message_id="<gewoon@example.nl>")


class Old:
    """Rows written as version 0002 wrote them: identity ``mid:<Message-ID>`` or ``sha:<sha256>``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.meta = MetaData()
        self.meta.reflect(engine)
        self.uids: dict[str, int] = {}

    def blob(self, conn: Any, raw: bytes, packer: Any = compress) -> str:
        digest = sha256_hex(raw)
        if conn.execute(select(self.meta.tables["raw_blobs"].c.sha256).where(self.meta.tables["raw_blobs"].c.sha256 == digest)).first() is None:
            conn.execute(insert(self.meta.tables["raw_blobs"]).values(sha256=digest, size=len(raw), data=packer(raw), stored_at=T0))
        return digest

    def message(self, conn: Any, raw: bytes, identity: str, message_id: str | None, received: datetime, state: str = "fetched", **more: Any) -> int:
        row = dict(identity=identity, message_id=message_id, blob_sha256=self.blob(conn, raw), received_at=received, state=state,
                   state_changed_at=T0, attempts=0, created_at=T0, **more)
        return int(conn.execute(insert(self.meta.tables["messages"]).values(**row).returning(self.meta.tables["messages"].c.id)).scalar_one())

    def sighting(self, conn: Any, pk: int, raw: bytes, mailbox: str, internaldate: datetime, packer: Any = compress) -> None:
        self.uids[mailbox] = self.uids.get(mailbox, 0) + 1
        conn.execute(insert(self.meta.tables["sightings"]).values(
            message_pk=pk, mailbox=mailbox, folder="INBOX", uidvalidity=1, uid=self.uids[mailbox], internaldate=internaldate,
            blob_sha256=self.blob(conn, raw, packer), seen_at=T0))


@pytest.fixture
def migrated(db_url: str) -> Any:
    engine = make_engine(db_url)
    upgrade(engine, "0002")
    old = Old(engine)
    a1, b_at, c_at = T0 + timedelta(hours=1), T0, T0 + timedelta(hours=2)
    with engine.begin() as conn:
        # the form's three complaints were merged as sightings of the first (received_at the earliest of all)
        a = old.message(conn, A, f"mid:{FORM}", FORM, b_at, state="done", label="klacht", decision="register", decided_by="model")
        old.sighting(conn, a, A, "wethouder", a1)
        old.sighting(conn, a, _copy(A, "raad"), "griffie", a1 + timedelta(minutes=1))  # a true second copy of A
        old.sighting(conn, a, B, "wethouder", b_at)
        old.sighting(conn, a, C, "wethouder", c_at)
        old.sighting(conn, a, _copy(C, "raad"), "griffie", c_at - timedelta(minutes=5), packer=zlib.compress)  # an early zlib blob
        conn.execute(insert(old.meta.tables["register_entries"]).values(
            message_pk=a, organisation="default", year=2026, sequence=1, number="KL-2026-000001", received_at=b_at,
            due=(b_at + timedelta(weeks=6)).date(), refusal_due=(b_at + timedelta(weeks=4)).date(), status="open", backend="database", created_at=T0))
        # one mail without a Message-ID, stored twice because the bytes differed: now the same content
        d = old.message(conn, D, f"sha:{sha256_hex(D)}", None, T0)
        old.sighting(conn, d, D, "wethouder", T0)
        e = old.message(conn, _copy(D, "raad"), f"sha:{sha256_hex(_copy(D, 'raad'))}", None, T0)
        old.sighting(conn, e, _copy(D, "raad"), "griffie", T0)
        f = old.message(conn, F, "mid:<gewoon@example.nl>", "<gewoon@example.nl>", T0, state="done")
        old.sighting(conn, f, F, "wethouder", T0)
    upgrade(engine)
    try:
        yield engine, {"a": a, "d": d, "e": e, "f": f}
    finally:
        engine.dispose()


def _tables(engine: Engine) -> dict[str, Any]:
    meta = MetaData()
    meta.reflect(engine)
    return dict(meta.tables)


def test_mails_merged_by_a_shared_message_id_are_split_into_messages_of_their_own(migrated: Any) -> None:
    engine, pk = migrated
    t = _tables(engine)
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(t["messages"]).order_by(t["messages"].c.id))}
        sightings = conn.execute(select(t["sightings"].c.message_pk, t["sightings"].c.blob_sha256, t["sightings"].c.mailbox)).all()
        history = conn.execute(select(t["transitions"])).all()
        entries = conn.execute(select(t["register_entries"].c.message_pk, t["register_entries"].c.number)).all()
    assert len(rows) == 6  # a, d, e, f kept; b and c split out
    a = rows[pk["a"]]
    assert a.state == "done" and a.identity == identify(A).key and a.fingerprint == identify(A).fingerprint and not a.defects
    assert sorted((blob, box) for p, blob, box in sightings if p == a.id) == sorted([(sha256_hex(A), "wethouder"), (sha256_hex(_copy(A, "raad")), "griffie")])
    assert a.received_at.replace(tzinfo=timezone.utc) == T0 + timedelta(hours=1)  # B's earlier time no longer counts for A
    new = [r for r in rows.values() if r.id not in pk.values()]
    by_key = {r.identity: r for r in new}
    b, c = by_key[identify(B).key], by_key[identify(C).key]
    for split in (b, c):
        assert split.state == "fetched" and split.message_id == FORM
        assert split.defects and split.defects[0].startswith(f"message-id-collision: message {a.id} ")
        assert [(h.from_state, h.to_state, h.actor) for h in history if h.message_pk == split.id] == [(None, "fetched", "migrate:0003_identity")]
    assert [box for p, _, box in sightings if p == b.id] == ["wethouder"]
    assert sorted(box for p, _, box in sightings if p == c.id) == ["griffie", "wethouder"]
    assert c.received_at.replace(tzinfo=timezone.utc) == T0 + timedelta(hours=2) - timedelta(minutes=5)
    assert entries == [(a.id, "KL-2026-000001")]  # the register is untouched


def test_two_stored_messages_that_now_have_one_key_both_keep_their_rows_and_say_so(migrated: Any) -> None:
    engine, pk = migrated
    t = _tables(engine)
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(t["messages"]))}
    d, e = rows[pk["d"]], rows[pk["e"]]
    assert d.identity == identify(D).key and not d.defects
    assert e.identity == f"{identify(D).key}:{e.id}"
    assert e.defects == [f"same-content-kept-apart: message {d.id} has the same content; both kept, as they were stored apart before"]
    f = rows[pk["f"]]
    assert f.identity == identify(F).key and f.state == "done" and not f.defects


def test_after_the_migration_a_copy_of_a_split_mail_finds_its_own_message(migrated: Any) -> None:
    engine, pk = migrated
    sessions = make_sessionmaker(engine)
    sink = DatabaseSink(sessions, "college")
    copies = [FetchedMessage(uid=1, internaldate=T0 + timedelta(days=1), raw=_copy(B, "college")),
              FetchedMessage(uid=2, internaldate=T0 + timedelta(days=1), raw=_copy(A, "college"))]
    assert sink.store_batch("INBOX", Cursor(1, 2), copies) == 2
    assert sink.new_message_ids == [pk["a"]]  # A was done: the new mailbox's secretary is told; B was not yet handled
    rows = {r["id"]: r for r in list_messages(sessions)}
    assert len(rows) == 6
    (b,) = [r for r in rows.values() if r["defects"] and r["defects"][0].startswith("message-id-collision") and "college" in r["mailboxes"]]
    assert sorted(b["mailboxes"]) == ["college", "wethouder"]
    assert sorted(rows[pk["a"]]["mailboxes"]) == ["college", "griffie", "wethouder"]
    assert rows[pk["a"]]["state"] == "notified"


def test_the_migration_goes_down_to_message_id_identities_again(migrated: Any) -> None:
    from alembic import command

    from klachtwacht.db.migrate import alembic_config

    engine, pk = migrated
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    t = _tables(engine)
    assert "fingerprint" not in t["messages"].c
    with engine.connect() as conn:
        identities = conn.execute(select(t["messages"].c.identity).order_by(t["messages"].c.id)).scalars().all()
    assert identities[0] == f"mid:{FORM}" and len(set(identities)) == len(identities) == 6
