"""Storing fetched mail: raw bytes first, then the message, its sighting and the cursor.

Everything of one batch is committed in one transaction, before any parsing
happens. A batch fetched twice (after a crash, a reconnect or a UIDVALIDITY
rescan) stores nothing twice: blobs are keyed by their bytes, messages by
their content (:mod:`ingest.identity`, :mod:`ingest.matching`) and sightings
by (mailbox, folder, uidvalidity, uid).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

import zstandard
from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from ingest.cursor import Cursor
from ingest.identity import Identity, identify, sha256_hex
from ingest.imap import FetchedMessage
from ingest.matching import Carrier, Match, match_batch
from klachtwacht.db.models import FolderCursor, Message, MessageState, RawBlob, Sighting, Transition, utcnow
from klachtwacht.states import record_transition
from rules import Action

__all__ = ["DatabaseSink", "store_raw", "load_raw", "insert_ignore", "compress", "decompress", "SECRETARY_DECISIONS", "MESSAGE_ID_COLLISION"]

#: Decisions whose secretaries are told (the keys of rules.plan.NOTICE_KIND).
SECRETARY_DECISIONS = (Action.REGISTER, Action.POLICY, Action.BEZWAAR, Action.WOO)

#: The defect a message gets when an earlier message carries its Message-ID with other content.
MESSAGE_ID_COLLISION = "message-id-collision"

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

    ``store_batch`` returns how many sightings are new to this mailbox;
    ``seen_again`` counts the others (a known message under a new UID or
    after a UIDVALIDITY change).
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
        #: Sightings of messages this mailbox had already (a new UID, a UIDVALIDITY rescan).
        self.seen_again = 0
        #: Folders without a cursor yet: when they were first read.
        self._first_read: dict[str, datetime] = {}

    def load_cursor(self, folder: str) -> Cursor | None:
        with self.sessions() as session:
            row = session.get(FolderCursor, (self.mailbox, folder))
            if row is None:
                # the moment klachtwacht first reads this folder: the start "first-poll" (stored with the first cursor)
                self._first_read.setdefault(folder, utcnow())
                return None
            return Cursor(uidvalidity=row.uidvalidity, last_uid=row.last_uid, epoch=row.epoch)

    def store_batch(self, folder: str, cursor: Cursor, messages: Sequence[FetchedMessage]) -> int:
        self.reopened = []
        with self.sessions.begin() as session:
            created, seen, again = self._store_all(session, folder, cursor.uidvalidity, messages)
            self._save_cursor(session, folder, cursor)
        self.seen_again += again
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
    ) -> tuple[list[tuple[int, bytes, str | None]], int, int]:
        """Store a batch with a handful of statements; return the new messages and the sightings new to this mailbox and seen again.

        Sightings already stored are skipped; blobs, messages and their first
        history row are inserted in bulk; a mail of a known message (another
        mailbox, a new UID, a rescan) only gets the new sighting. Which mail
        belongs to which message is decided by :func:`ingest.matching.match_batch`.
        """
        place = (Sighting.mailbox == self.mailbox, Sighting.folder == folder, Sighting.uidvalidity == uidvalidity)
        uids = [m.uid for m in messages]
        known = set(session.scalars(select(Sighting.uid).where(*place, Sighting.uid.in_(uids)))) if uids else set()
        fresh = [m for m in messages if m.uid not in known]
        if not fresh:
            return [], 0, 0
        now = utcnow()
        digests = [sha256_hex(m.raw) for m in fresh]
        identities = [identify(m.raw) for m in fresh]

        have = set(session.scalars(select(RawBlob.sha256).where(RawBlob.sha256.in_(set(digests)))))
        blobs = {d: m.raw for m, d in zip(fresh, digests) if d not in have}
        if blobs:
            rows = [{"sha256": d, "size": len(raw), "data": compress(raw), "stored_at": now} for d, raw in blobs.items()]
            session.execute(_insert(session, RawBlob).on_conflict_do_nothing(index_elements=["sha256"]), rows)

        matches = match_batch(identities, *self._stored(session, identities))
        created = self._create(session, fresh, digests, identities, matches, now)
        placed = dict(created)
        missing = {identities[m.founder].key for m in matches if m.founder is not None and m.founder not in created}
        if missing:  # another worker stored them a moment ago: its messages are these
            taken = {key: pk for key, pk in session.execute(select(Message.identity, Message.id).where(Message.identity.in_(missing)))}
            placed.update({m.founder: taken[identities[m.founder].key] for m in matches if m.founder is not None and m.founder not in created})
        pks = [placed[m.founder] if m.founder is not None else cast(int, m.message_pk) for m in matches]
        for founder, pk in created.items():
            match = matches[founder]
            first = match.collides_with if match.collides_with_founder is None else placed[match.collides_with_founder]
            if first is not None:
                self._collision(session, pk, first)
        new_here = self._seen(session, fresh, pks, set(created.values()))
        session.execute(
            insert(Sighting),
            [
                {"message_pk": pk, "mailbox": self.mailbox, "folder": folder, "uidvalidity": uidvalidity,
                 "uid": fetched.uid, "internaldate": fetched.internaldate, "blob_sha256": digest, "seen_at": now,
                 "answered": fetched.answered}
                for fetched, digest, pk in zip(fresh, digests, pks)
            ],
        )
        new = [(pk, fresh[founder].raw, identities[founder].message_id) for founder, pk in sorted(created.items())]
        return new, new_here, len(fresh) - new_here

    def _stored(self, session: Session, identities: Sequence[Identity]) -> tuple[dict[str, int], dict[str, list[Carrier]]]:
        """The stored messages with these keys, and those that carry these Message-IDs (oldest first)."""
        keys = {i.key for i in identities}
        by_key = {key: pk for key, pk in session.execute(select(Message.identity, Message.id).where(Message.identity.in_(keys)))}
        mids = {i.message_id for i in identities if i.message_id is not None and i.key not in by_key}
        carriers: dict[str, list[Carrier]] = {}
        if mids:
            rows = session.execute(
                select(Message.message_id, Message.id, Message.fingerprint).where(Message.message_id.in_(mids)).order_by(Message.id)
            )
            for mid, pk, fingerprint in rows:
                if mid is not None:
                    carriers.setdefault(mid, []).append(Carrier(pk, fingerprint))
        return by_key, carriers

    def _create(
        self, session: Session, fresh: Sequence[FetchedMessage], digests: Sequence[str], identities: Sequence[Identity], matches: Sequence[Match], now: datetime
    ) -> dict[int, int]:
        """Insert the messages the batch founds; return founder index -> message number (those another worker beat us to are missing)."""
        members: dict[int, list[int]] = {}
        for index, m in enumerate(matches):
            if m.founder is not None:
                members.setdefault(m.founder, []).append(index)
        if not members:
            return {}
        rows = []
        for founder, group in members.items():
            earliest = min(group, key=lambda i: fresh[i].internaldate)  # the legal receipt time is the earliest
            identity = identities[founder]
            rows.append(
                {"identity": identity.key, "message_id": identity.message_id, "fingerprint": identity.fingerprint,
                 "blob_sha256": digests[earliest], "received_at": fresh[earliest].internaldate, "defects": None,
                 "state": MessageState.FETCHED, "state_changed_at": now, "attempts": 0, "created_at": now}
            )
        table = Message.__table__
        stmt = _insert(session, Message).on_conflict_do_nothing(index_elements=["identity"]).returning(table.c.id, table.c.identity)
        by_key = {identity: pk for pk, identity in session.execute(stmt, rows)}
        created = {founder: by_key[identities[founder].key] for founder in members if identities[founder].key in by_key}
        if created:
            session.execute(
                insert(Transition),
                [{"message_pk": pk, "from_state": None, "to_state": MessageState.FETCHED, "at": now, "actor": f"ingest:{self.mailbox}"} for pk in created.values()],
            )
        return created

    def _collision(self, session: Session, message_pk: int, first: int) -> None:
        """Record on the second message that the first carries its Message-ID with other content."""
        defect = "%s: message %d carries the same Message-ID with other content; this mail is a message of its own" % (MESSAGE_ID_COLLISION, first)
        session.execute(update(Message).where(Message.id == message_pk).values(defects=[defect]))
        log.warning("message %d: Message-ID already carried by message %d with other content; stored as a message of its own", message_pk, first)

    def _seen(self, session: Session, fresh: Sequence[FetchedMessage], targets: Sequence[int], founded: set[int]) -> int:
        """Account for each mail of known messages; return how many sightings are new to this mailbox.

        A message founded in this batch is new here with its first mail. A
        known message is new here when no earlier sighting is in this mailbox
        (another folder counts as this mailbox); otherwise (a new UID, a
        UIDVALIDITY rescan, a second copy) it is seen again.
        """
        known = set(targets) - founded
        here = set(session.scalars(select(Sighting.message_pk).where(Sighting.message_pk.in_(known), Sighting.mailbox == self.mailbox).distinct())) if known else set()
        new_here = 0
        for fetched, pk in zip(fresh, targets):
            if pk in here:
                if pk in known:
                    self._seen_again(session, pk, fetched.internaldate, new_mailbox=False)
                continue
            here.add(pk)
            new_here += 1
            if pk in known:
                self._seen_again(session, pk, fetched.internaldate, new_mailbox=True)
        return new_here

    def _seen_again(self, session: Session, message_pk: int, internaldate: datetime, *, new_mailbox: bool) -> None:
        """A known message in one more place: keep the earliest receipt, and tell a new mailbox's secretary.

        The legal receipt time is the first municipal receipt. A message that
        already rests in ``done`` and is seen in a mailbox it was not in
        before goes back to ``notified``, so the finish step tells the
        secretary of this mailbox too (the ledger keeps the others from
        hearing it twice). Seen again where it was already (a new UID, a
        UIDVALIDITY change), it stays where it is.
        """
        message = session.get(Message, message_pk)
        if message is None:
            return
        if internaldate < message.received_at:
            message.received_at = internaldate
        if new_mailbox and message.state == MessageState.DONE and message.decision in SECRETARY_DECISIONS:
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
                    first_poll_at=self._first_read.get(folder, now),
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
