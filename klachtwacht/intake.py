"""Storing fetched mail: raw bytes first, then the message, its sighting and the cursor.

Everything of one batch is committed in one transaction, before any parsing
happens. A batch fetched twice (after a crash, a reconnect or a UIDVALIDITY
rescan) stores nothing twice: blobs are keyed by content, messages by their
identity and sightings by (mailbox, folder, uidvalidity, uid).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import zstandard
from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from ingest.cursor import Cursor
from ingest.identity import message_identity, sha256_hex
from ingest.imap import FetchedMessage
from klachtwacht.db.models import FolderCursor, Message, MessageState, RawBlob, Sighting, Transition, utcnow
from klachtwacht.states import record_transition
from rules import Action

__all__ = ["DatabaseSink", "store_raw", "load_raw", "insert_ignore", "SECRETARY_DECISIONS"]

#: Decisions whose secretaries are told (the keys of rules.plan.NOTICE_KIND).
SECRETARY_DECISIONS = (Action.REGISTER, Action.POLICY, Action.BEZWAAR, Action.WOO)

log = logging.getLogger(__name__)


def _insert(session: Session, model: type) -> Any:
    """The dialect's INSERT for ``model`` (it knows ON CONFLICT DO NOTHING)."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(model.__table__)  # type: ignore[attr-defined]


def insert_ignore(session: Session, model: type, values: dict[str, object], conflict: Sequence[str]) -> object | None:
    """INSERT ... ON CONFLICT DO NOTHING; return the new primary key or None when it existed."""
    pk = list(model.__table__.primary_key.columns)[0]  # type: ignore[attr-defined]
    stmt = _insert(session, model).values(**values).on_conflict_do_nothing(index_elements=list(conflict)).returning(pk)
    return session.execute(stmt).scalar_one_or_none()


#: Zstandard level 3: about 20 times faster than zlib on mail with attachments, and smaller.
ZSTD_LEVEL = 3
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def compress(raw: bytes) -> bytes:
    """Zstandard-compress ``raw`` (a fresh compressor per call: they are not thread-safe)."""
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(raw)


def decompress(data: bytes) -> bytes:
    """The inverse of :func:`compress`; zlib data of early versions is still read."""
    if data[:4] == _ZSTD_MAGIC:
        return zstandard.ZstdDecompressor().decompress(data)
    return zlib.decompress(data)


def store_raw(session: Session, raw: bytes) -> str:
    """Store ``raw`` compressed under its SHA-256 (once) and return the digest."""
    digest = sha256_hex(raw)
    exists = session.scalar(select(RawBlob.sha256).where(RawBlob.sha256 == digest))
    if exists is None:
        insert_ignore(
            session,
            RawBlob,
            {"sha256": digest, "size": len(raw), "data": compress(raw), "stored_at": utcnow()},
            ["sha256"],
        )
    return digest


def load_raw(session: Session, digest: str) -> bytes:
    """The exact bytes stored under ``digest``."""
    blob = session.get(RawBlob, digest)
    if blob is None:
        raise KeyError(digest)
    return decompress(blob.data)


class DatabaseSink:
    """The :class:`ingest.poller.BatchSink` of one mailbox, over the database.

    ``on_new`` is called after the commit with the ids of messages that are
    new (not merely new sightings), to enqueue their processing; ``on_batch``
    after every batch (the poller renews its lease there); ``on_stored``
    after the commit with ``(message, raw bytes, Message-ID)`` of the new
    messages, for parsing them while they are in memory; it returns the
    messages that still need a worker (None: all of them).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        mailbox: str,
        on_new: Callable[[list[int]], None] | None = None,
        on_batch: Callable[[], None] | None = None,
        on_stored: Callable[[list[tuple[int, bytes, str | None]]], list[int] | None] | None = None,
    ) -> None:
        self.sessions = sessions
        self.mailbox = mailbox
        self.on_new = on_new
        self.on_batch = on_batch
        self.on_stored = on_stored
        self.new_message_ids: list[int] = []
        self.reopened: list[int] = []

    def load_cursor(self, folder: str) -> Cursor | None:
        with self.sessions() as session:
            row = session.get(FolderCursor, (self.mailbox, folder))
            if row is None:
                return None
            return Cursor(uidvalidity=row.uidvalidity, last_uid=row.last_uid, epoch=row.epoch)

    def store_batch(self, folder: str, cursor: Cursor, messages: Sequence[FetchedMessage]) -> int:
        self.reopened = []
        with self.sessions.begin() as session:
            created, seen = self._store_all(session, folder, cursor.uidvalidity, messages)
            self._save_cursor(session, folder, cursor)
        new_messages = [pk for pk, _, _ in created]
        to_do = new_messages
        if created and self.on_stored is not None:
            # committed first: whatever happens there, the bytes are safe
            left = self.on_stored(created)
            to_do = new_messages if left is None else left
        self.new_message_ids.extend(new_messages + self.reopened)
        if (to_do or self.reopened) and self.on_new is not None:
            self.on_new(to_do + self.reopened)
        if self.on_batch is not None:
            self.on_batch()
        return seen

    def _store_all(
        self, session: Session, folder: str, uidvalidity: int, messages: Sequence[FetchedMessage]
    ) -> tuple[list[tuple[int, bytes, str | None]], int]:
        """Store a batch with a handful of statements; return the new messages and the number of new sightings.

        Sightings already stored are skipped; blobs, messages and their first
        history row are inserted in bulk; a message already known (another
        mailbox, a new UID, a rescan) only gets the new sighting.
        """
        place = (Sighting.mailbox == self.mailbox, Sighting.folder == folder, Sighting.uidvalidity == uidvalidity)
        uids = [m.uid for m in messages]
        known = set(session.scalars(select(Sighting.uid).where(*place, Sighting.uid.in_(uids)))) if uids else set()
        fresh = [m for m in messages if m.uid not in known]
        if not fresh:
            return [], 0
        now = utcnow()
        digests = [sha256_hex(m.raw) for m in fresh]
        identities = [message_identity(m.raw, d) for m, d in zip(fresh, digests)]

        have = set(session.scalars(select(RawBlob.sha256).where(RawBlob.sha256.in_(set(digests)))))
        blobs = {d: m.raw for m, d in zip(fresh, digests) if d not in have}
        if blobs:
            rows = [{"sha256": d, "size": len(raw), "data": compress(raw), "stored_at": now} for d, raw in blobs.items()]
            session.execute(_insert(session, RawBlob).on_conflict_do_nothing(index_elements=["sha256"]), rows)

        wanted = {identity for identity, _ in identities}
        existing = {identity: pk for identity, pk in session.execute(select(Message.identity, Message.id).where(Message.identity.in_(wanted)))}
        first: dict[str, tuple[FetchedMessage, str, str | None]] = {}
        for fetched, digest, (identity, message_id) in zip(fresh, digests, identities):
            if identity in existing:
                continue
            if identity not in first or fetched.internaldate < first[identity][0].internaldate:
                first[identity] = (fetched, digest, message_id)  # the legal receipt time is the earliest
        created: dict[str, int] = {}
        if first:
            rows = [
                {"identity": identity, "message_id": message_id, "blob_sha256": digest, "received_at": fetched.internaldate,
                 "state": MessageState.FETCHED, "state_changed_at": now, "attempts": 0, "created_at": now}
                for identity, (fetched, digest, message_id) in first.items()
            ]
            table = Message.__table__
            stmt = _insert(session, Message).on_conflict_do_nothing(index_elements=["identity"]).returning(table.c.id, table.c.identity)
            created = {identity: pk for pk, identity in session.execute(stmt, rows)}
            if len(created) < len(first):  # another worker stored some a moment ago
                others = select(Message.identity, Message.id).where(Message.identity.in_(set(first) - set(created)))
                existing.update({identity: pk for identity, pk in session.execute(others)})
            session.execute(
                insert(Transition),
                [{"message_pk": pk, "from_state": None, "to_state": MessageState.FETCHED, "at": now, "actor": f"ingest:{self.mailbox}"} for pk in created.values()],
            )
        for fetched, (identity, _) in zip(fresh, identities):
            if identity in existing:
                self._seen_again(session, existing[identity], fetched.internaldate)
        session.execute(
            insert(Sighting),
            [
                {"message_pk": created.get(identity) or existing[identity], "mailbox": self.mailbox, "folder": folder, "uidvalidity": uidvalidity,
                 "uid": fetched.uid, "internaldate": fetched.internaldate, "blob_sha256": digest, "seen_at": now}
                for fetched, digest, (identity, _) in zip(fresh, digests, identities)
            ],
        )
        new = [(created[identity], fetched.raw, message_id) for identity, (fetched, _, message_id) in first.items() if identity in created]
        return new, len(fresh)

    def _seen_again(self, session: Session, message_pk: int, internaldate: datetime) -> None:
        """A known message in one more place: keep the earliest receipt, and tell the new mailbox's secretary.

        The legal receipt time is the first municipal receipt. A message that
        already rests in ``done`` goes back to ``notified``, so the finish step
        tells the secretary of this mailbox too (the ledger keeps the others
        from hearing it twice).
        """
        message = session.get(Message, message_pk)
        if message is None:
            return
        if internaldate < message.received_at:
            message.received_at = internaldate
        if message.state == MessageState.DONE and message.decision in SECRETARY_DECISIONS:
            message.state = MessageState.NOTIFIED
            message.state_changed_at = utcnow()
            record_transition(session, message_pk, MessageState.DONE, MessageState.NOTIFIED, actor=f"ingest:{self.mailbox}", reason=f"ook gezien in {self.mailbox}")
            self.reopened.append(message_pk)

    def _save_cursor(self, session: Session, folder: str, cursor: Cursor) -> None:
        row = session.get(FolderCursor, (self.mailbox, folder))
        now = utcnow()
        if row is None:
            session.add(
                FolderCursor(
                    mailbox=self.mailbox,
                    folder=folder,
                    uidvalidity=cursor.uidvalidity,
                    last_uid=cursor.last_uid,
                    epoch=cursor.epoch,
                    last_poll_at=now,
                    updated_at=now,
                )
            )
            return
        row.uidvalidity = cursor.uidvalidity
        row.last_uid = max(cursor.last_uid, row.last_uid) if row.epoch == cursor.epoch else cursor.last_uid
        row.epoch = cursor.epoch
        row.last_poll_at = now
        row.last_error = None
        row.updated_at = now

    def folder_error(self, folder: str, error: str) -> None:
        with self.sessions.begin() as session:
            row = session.get(FolderCursor, (self.mailbox, folder))
            if row is not None:
                row.last_error = error[:2000]
                row.updated_at = utcnow()
