"""Storing fetched mail by content (klachtwacht/intake.py) on SQLite and PostgreSQL, without a mail server."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select
from support.mail import make_mail

from ingest.cursor import Cursor
from ingest.imap import FetchedMessage
from klachtwacht.db.engine import make_engine, make_sessionmaker
from klachtwacht.db.migrate import upgrade
from klachtwacht.db.models import Message, Sighting
from klachtwacht.intake import DatabaseSink
from klachtwacht.queries import list_messages

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def sessions(db_url: str) -> Any:
    engine = make_engine(db_url)
    upgrade(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def _fetched(uid: int, raw: bytes, minutes: int = 0) -> FetchedMessage:
    return FetchedMessage(uid=uid, internaldate=T0 + timedelta(minutes=minutes), raw=raw)


def _form(text: str) -> bytes:
    return make_mail(subject="Klachtformulier", body=text, message_id="<vast@formulier.example>")


def test_a_message_stored_by_another_mailbox_a_moment_ago_is_taken_not_duplicated(sessions: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = make_mail(subject="Gelijk", body="Tegelijk in twee postvakken.", message_id="<race@example.nl>")
    first = DatabaseSink(sessions, "wethouder-devries")
    first.store_batch("INBOX", Cursor(1, 1), [_fetched(1, raw)])
    second = DatabaseSink(sessions, "griffie")
    monkeypatch.setattr(second, "_stored", lambda session, identities: ({}, {}))  # it looked before the other committed
    assert second.store_batch("INBOX", Cursor(1, 1), [_fetched(1, b"Delivered-To: raad@x.nl\r\n" + raw, minutes=-1)]) == 1
    assert second.new_message_ids == []
    (row,) = list_messages(sessions)
    assert sorted(row["mailboxes"]) == ["griffie", "wethouder-devries"] and row["defects"] == []
    assert row["received_at"] == (T0 - timedelta(minutes=1)).isoformat()


def test_form_mails_with_one_message_id_collide_within_and_across_batches(sessions: Any) -> None:
    sink = DatabaseSink(sessions, "wethouder-devries")
    sink.store_batch("INBOX", Cursor(1, 2), [_fetched(1, _form("Eerste klacht.")), _fetched(2, _form("Tweede klacht."))])
    sink.store_batch("INBOX", Cursor(1, 3), [_fetched(3, _form("Derde klacht."))])
    rows = list_messages(sessions)
    assert len(rows) == 3 and len(sink.new_message_ids) == 3
    first = rows[0]["id"]
    assert rows[0]["defects"] == []
    assert all(r["defects"] == [f"message-id-collision: message {first} carries the same Message-ID with other content; this mail is a message of its own"] for r in rows[1:])


def test_the_same_mail_twice_in_one_batch_is_one_message_received_at_the_earlier_time(sessions: Any) -> None:
    raw = _form("Twee keer opgehaald.")
    sink = DatabaseSink(sessions, "wethouder-devries")
    assert sink.store_batch("INBOX", Cursor(1, 2), [_fetched(1, raw, minutes=5), _fetched(2, raw.replace(b"\r\n", b"\n"), minutes=2)]) == 1
    assert sink.seen_again == 1
    (row,) = list_messages(sessions)
    assert row["received_at"] == (T0 + timedelta(minutes=2)).isoformat()
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Sighting)) == 2


def test_another_folder_of_the_same_mailbox_is_seen_again_not_new(sessions: Any) -> None:
    raw = _form("Verplaatst naar het archief.")
    sink = DatabaseSink(sessions, "wethouder-devries")
    sink.store_batch("INBOX", Cursor(1, 1), [_fetched(1, raw)])
    assert sink.store_batch("Archief", Cursor(7, 1), [_fetched(1, raw)]) == 0
    assert sink.seen_again == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1


def test_a_batch_fetched_again_after_a_crash_stores_nothing_twice(sessions: Any) -> None:
    batch = [_fetched(1, _form("Een.")), _fetched(2, _form("Twee."))]
    sink = DatabaseSink(sessions, "wethouder-devries")
    sink.store_batch("INBOX", Cursor(1, 2), batch)
    assert sink.store_batch("INBOX", Cursor(1, 2), batch) == 0 and sink.seen_again == 0
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 2
        assert session.scalar(select(func.count()).select_from(Sighting)) == 2
