"""What a performer works on, and the two methods every performer has.

A :class:`Job` is one outbox row with a view of its message. A performer
(one small class per kind of effect) can ``find`` the effect in the outside
world, so that a retry after an interruption checks before it acts, and
``perform`` it. ``record`` runs in the transaction that marks the row done.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ingest.records import ParsedMessage
from klachtwacht.db.models import Effect, RegisterEntry
from klachtwacht.effects import DONE
from klachtwacht.intake import load_raw

__all__ = ["Job", "MessageView", "Performer", "EntryFacts"]


@dataclass(frozen=True)
class EntryFacts:
    id: int
    number: str
    due: date
    organisation: str


@dataclass
class MessageView:
    """One message as the performers see it; its raw bytes are read (and decompressed) at most once."""

    sessions: sessionmaker[Session]
    pk: int
    message_id: str | None
    received_at: datetime
    decided_by: str | None
    blob_sha256: str
    parsed: ParsedMessage
    mailboxes: tuple[str, ...]
    _raw: bytes | None = field(default=None, repr=False)
    _entry: EntryFacts | None = field(default=None, repr=False)

    def raw(self) -> bytes:
        if self._raw is None:
            with self.sessions() as session:
                self._raw = load_raw(session, self.blob_sha256)
        return self._raw

    def entry(self) -> EntryFacts | None:
        """The message's register entry, when it has one (remembered once found: an entry never goes away)."""
        if self._entry is None:
            with self.sessions() as session:
                row = session.scalar(select(RegisterEntry).where(RegisterEntry.message_pk == self.pk))
                self._entry = None if row is None else EntryFacts(row.id, row.number, row.due, row.organisation)
        return self._entry

    def performed(self, kind: str) -> bool:
        """Whether an effect of ``kind`` of this message was carried out."""
        with self.sessions() as session:
            statuses = session.scalars(select(Effect.status).where(Effect.message_pk == self.pk, Effect.effect == kind))
            return any(status == DONE for status in statuses)


@dataclass(frozen=True)
class Job:
    """One outbox row to work off."""

    effect_id: int
    kind: str
    recipient: str
    payload: Mapping[str, Any]
    message: MessageView


class Performer(Protocol):
    """One kind of effect."""

    #: False when ``find`` cannot know (nothing to look in): a resend after doubt is then logged as such.
    can_find: bool
    #: After an interruption, ``find`` may miss an effect younger than this (a copy still on its way): wait first.
    settle_seconds: float

    def find(self, job: Job) -> str | None:
        """The reference of the effect when it already happened in the outside world, else None."""

    def perform(self, job: Job) -> str | None:
        """Carry the effect out; return its reference. Raises RetryableError (passing), NoticeRejected (refused for good)."""

    def record(self, session: Session, job: Job, ref: str | None) -> None:
        """Store what the effect produced, in the transaction that marks the row done."""

    def quota(self, job: Job) -> tuple[str, int] | None:
        """``(key, limit per day)`` when this effect counts against a daily quota, taken when it is performed."""
