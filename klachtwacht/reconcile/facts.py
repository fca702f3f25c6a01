"""What reconciliation reads from the database, as frozen facts.

Each query selects only what a check needs (the problem rows, or counts), so a
store of 100,000 messages is read in a few statements and little memory.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from klachtwacht.db.models import FINAL_STATES, Effect, FolderCursor, Message, MessageState, RegisterEntry, Sighting
from rules.deadlines import local_date

__all__ = ["MessageFact", "EffectFact", "EntryFact", "CursorFact", "Facts", "load_facts", "first_mailboxes"]

#: Effect statuses that need nothing more.
#: ``shadow``: recorded in shadow mode, never performed; ``held``: waits for a person (its message is in review).
SETTLED_EFFECTS = ("done", "skipped", "cancelled", "rejected", "shadow", "held")
#: States in which a complaint's register entry must exist.
REGISTERED_STATES = (MessageState.REGISTERED, MessageState.NOTIFIED, MessageState.DONE)


@dataclass(frozen=True, slots=True)
class MessageFact:
    id: int
    state: str
    since: datetime  # when it entered its state
    mailbox: str | None  # the first mailbox it was seen in
    last_error: str | None = None
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class EffectFact:
    message_pk: int
    effect: str
    status: str
    started_at: datetime
    detail: str | None
    mailbox: str | None


@dataclass(frozen=True, slots=True)
class EntryFact:
    number: str
    message_pk: int
    received_at: datetime
    due: date
    refusal_due: date
    extended_due: date | None
    status: str
    mailbox: str | None


@dataclass(frozen=True, slots=True)
class CursorFact:
    mailbox: str
    folder: str
    uidvalidity: int
    last_poll_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Facts:
    unfinished: tuple[MessageFact, ...]  # not in a final state
    failed: tuple[MessageFact, ...]
    quarantined: tuple[MessageFact, ...]
    review: tuple[MessageFact, ...]
    unregistered: tuple[MessageFact, ...]  # decided as a complaint, past registration, without an entry
    open_effects: tuple[EffectFact, ...]  # effects not performed (planned, started, failed)
    open_entries: tuple[EntryFact, ...]
    cursors: tuple[CursorFact, ...]
    daily: dict[str, dict[date, dict[str, int]]]  # mailbox -> day -> label -> messages first seen that day


def first_mailboxes(session: Session, message_pks: set[int]) -> dict[int, str]:
    """The mailbox each message was first seen in."""
    out: dict[int, str] = {}
    pks = sorted(message_pks)
    for start in range(0, len(pks), 500):
        chunk = pks[start : start + 500]
        rows = session.execute(
            select(Sighting.message_pk, Sighting.mailbox).where(Sighting.message_pk.in_(chunk)).order_by(Sighting.message_pk, Sighting.id)
        )
        for pk, mailbox in rows:
            out.setdefault(pk, mailbox)
    return out


def _messages(session: Session, *conditions: object) -> list[Message]:
    return list(session.scalars(select(Message).where(*conditions).order_by(Message.id)))  # type: ignore[arg-type]


def load_facts(session: Session, since: datetime) -> Facts:
    """Read every fact reconciliation needs; ``since`` bounds the volume history."""
    unfinished = _messages(session, Message.state.not_in(FINAL_STATES))
    failed = _messages(session, Message.state == MessageState.FAILED)
    quarantined = _messages(session, Message.state == MessageState.QUARANTINED)
    review = _messages(session, Message.state == MessageState.REVIEW)
    unregistered = list(
        session.scalars(
            select(Message)
            .outerjoin(RegisterEntry, RegisterEntry.message_pk == Message.id)
            .where(Message.decision == "register", Message.state.in_(REGISTERED_STATES), RegisterEntry.id.is_(None))
            .order_by(Message.id)
        )
    )
    effects = list(session.scalars(select(Effect).where(Effect.status.not_in(SETTLED_EFFECTS)).order_by(Effect.id)))
    entries = list(session.scalars(select(RegisterEntry).where(RegisterEntry.status == "open").order_by(RegisterEntry.id)))
    wanted = {m.id for group in (unfinished, failed, quarantined, review, unregistered) for m in group}
    wanted |= {e.message_pk for e in effects} | {e.message_pk for e in entries}
    boxes = first_mailboxes(session, wanted)

    def fact(m: Message) -> MessageFact:
        return MessageFact(m.id, m.state, m.state_changed_at, boxes.get(m.id), m.last_error, m.attempts)

    first_seen = (
        select(Sighting.mailbox, Sighting.message_pk, func.min(Sighting.internaldate).label("first"))
        .group_by(Sighting.mailbox, Sighting.message_pk)
        .subquery()
    )
    daily: dict[str, dict[date, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    rows = session.execute(
        select(first_seen.c.mailbox, first_seen.c.first, Message.label)
        .join(Message, Message.id == first_seen.c.message_pk)
        .where(first_seen.c.first >= since)
    )
    for mailbox, first, label in rows:
        day = local_date(first)
        daily[mailbox][day][label or "onbekend"] += 1
    cursors = tuple(
        CursorFact(c.mailbox, c.folder, c.uidvalidity, c.last_poll_at, c.last_error)
        for c in session.scalars(select(FolderCursor).order_by(FolderCursor.mailbox, FolderCursor.folder))
    )
    return Facts(
        unfinished=tuple(fact(m) for m in unfinished),
        failed=tuple(fact(m) for m in failed),
        quarantined=tuple(fact(m) for m in quarantined),
        review=tuple(fact(m) for m in review),
        unregistered=tuple(fact(m) for m in unregistered),
        open_effects=tuple(EffectFact(e.message_pk, e.effect, e.status, e.started_at, e.detail, boxes.get(e.message_pk)) for e in effects),
        open_entries=tuple(
            EntryFact(e.number, e.message_pk, e.received_at, e.due, e.refusal_due, e.extended_due, e.status, boxes.get(e.message_pk))
            for e in entries
        ),
        cursors=cursors,
        daily={k: {d: dict(v) for d, v in days.items()} for k, days in daily.items()},
    )
