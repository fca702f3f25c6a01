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

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from ingest.cursor import Cursor
from ingest.identity import message_identity, sha256_hex
from ingest.imap import FetchedMessage
from klachtwacht.db.models import FolderCursor, Message, MessageState, RawBlob, Sighting, utcnow
from klachtwacht.states import record_transition

__all__ = ["DatabaseSink", "store_raw", "load_raw", "insert_ignore", "SECRETARY_DECISIONS"]

#: Decisions whose secretaries are told (see klachtwacht.steps).
SECRETARY_DECISIONS = ("register", "policy", "bezwaar", "woo")

log = logging.getLogger(__name__)


def insert_ignore(session: Session, model: type, values: dict[str, object], conflict: Sequence[str]) -> object | None:
    """INSERT ... ON CONFLICT DO NOTHING; return the new primary key or None when it existed."""
    dialect = session.get_bind().dialect.name
    table = model.__table__  # type: ignore[attr-defined]
    module = postgresql if dialect == "postgresql" else sqlite
    pk = list(table.primary_key.columns)[0]
    stmt = module.insert(table).values(**values).on_conflict_do_nothing(index_elements=list(conflict)).returning(pk)
    return session.execute(stmt).scalar_one_or_none()


def store_raw(session: Session, raw: bytes) -> str:
    """Store ``raw`` compressed under its SHA-256 (once) and return the digest."""
    digest = sha256_hex(raw)
    exists = session.scalar(select(RawBlob.sha256).where(RawBlob.sha256 == digest))
    if exists is None:
        insert_ignore(
            session,
            RawBlob,
            {"sha256": digest, "size": len(raw), "data": zlib.compress(raw, 6), "stored_at": utcnow()},
            ["sha256"],
        )
    return digest


def load_raw(session: Session, digest: str) -> bytes:
    """The exact bytes stored under ``digest``."""
    blob = session.get(RawBlob, digest)
    if blob is None:
        raise KeyError(digest)
    return zlib.decompress(blob.data)


class DatabaseSink:
    """The :class:`ingest.poller.BatchSink` of one mailbox, over the database.

    ``on_new`` is called after the commit with the ids of messages that are
    new (not merely new sightings), to enqueue their processing; ``on_batch``
    after every batch (the poller renews its lease there).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        mailbox: str,
        on_new: Callable[[list[int]], None] | None = None,
        on_batch: Callable[[], None] | None = None,
    ) -> None:
        self.sessions = sessions
        self.mailbox = mailbox
        self.on_new = on_new
        self.on_batch = on_batch
        self.new_message_ids: list[int] = []
        self.reopened: list[int] = []

    def load_cursor(self, folder: str) -> Cursor | None:
        with self.sessions() as session:
            row = session.get(FolderCursor, (self.mailbox, folder))
            if row is None:
                return None
            return Cursor(uidvalidity=row.uidvalidity, last_uid=row.last_uid, epoch=row.epoch)

    def store_batch(self, folder: str, cursor: Cursor, messages: Sequence[FetchedMessage]) -> int:
        new_sightings = 0
        new_messages: list[int] = []
        self.reopened = []
        with self.sessions.begin() as session:
            for fetched in messages:
                created, message_pk = self._store_one(session, folder, cursor.uidvalidity, fetched)
                if created is None:
                    continue
                new_sightings += 1
                if created:
                    new_messages.append(message_pk)
            self._save_cursor(session, folder, cursor)
        self.new_message_ids.extend(new_messages + self.reopened)
        if (new_messages or self.reopened) and self.on_new is not None:
            self.on_new(new_messages + self.reopened)
        if self.on_batch is not None:
            self.on_batch()
        return new_sightings

    def _store_one(self, session: Session, folder: str, uidvalidity: int, fetched: FetchedMessage) -> tuple[bool | None, int]:
        """Store one fetched message; return (message created?, message pk), None if the sighting existed."""
        existing = session.scalar(
            select(Sighting.message_pk).where(
                Sighting.mailbox == self.mailbox,
                Sighting.folder == folder,
                Sighting.uidvalidity == uidvalidity,
                Sighting.uid == fetched.uid,
            )
        )
        if existing is not None:
            return None, existing
        digest = store_raw(session, fetched.raw)
        identity, message_id = message_identity(fetched.raw, digest)
        message_pk = session.scalar(select(Message.id).where(Message.identity == identity))
        created = False
        if message_pk is None:
            message_pk = insert_ignore(
                session,
                Message,
                {
                    "identity": identity,
                    "message_id": message_id,
                    "blob_sha256": digest,
                    "received_at": fetched.internaldate,
                    "state": MessageState.FETCHED,
                    "state_changed_at": utcnow(),
                    "attempts": 0,
                    "created_at": utcnow(),
                },
                ["identity"],
            )
            if message_pk is None:  # another worker stored it a moment ago
                message_pk = session.scalar(select(Message.id).where(Message.identity == identity))
            else:
                created = True
                record_transition(session, int(message_pk), None, MessageState.FETCHED, actor=f"ingest:{self.mailbox}")
        else:
            self._seen_again(session, int(message_pk), fetched.internaldate)
        session.add(
            Sighting(
                message_pk=int(message_pk),  # type: ignore[arg-type]
                mailbox=self.mailbox,
                folder=folder,
                uidvalidity=uidvalidity,
                uid=fetched.uid,
                internaldate=fetched.internaldate,
                blob_sha256=digest,
            )
        )
        session.flush()
        return created, int(message_pk)  # type: ignore[arg-type]

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
