"""The review queue: per mailbox the messages waiting for a person, oldest first, paged.

One indexed query per page (messages by state, sightings by message), so
the page stays fast with ten thousand messages waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from klachtwacht.db.models import Message, MessageState, Sighting
from rules.deadlines import complaint_terms, local_date

__all__ = ["QueueRow", "Page", "queue_page", "counts", "next_after", "days_left", "PAGE_SIZE"]

PAGE_SIZE = 50


@dataclass(frozen=True)
class QueueRow:
    id: int
    sender: str | None
    subject: str | None
    received_at: datetime
    label: str | None
    confidence: float | None
    reason: str | None
    due: date
    days_left: int
    mailboxes: tuple[str, ...]


@dataclass(frozen=True)
class Page:
    rows: list[QueueRow]
    total: int
    page: int
    pages: int


def days_left(received_at: datetime, today: date) -> tuple[date, int]:
    """The Awb 9:11 due date of a complaint received at ``received_at`` and the days from ``today`` to it (negative: overdue)."""
    due = complaint_terms(received_at).due
    return due, (due - today).days


def _conditions(mailboxes: tuple[str, ...], mailbox: str | None) -> tuple[ColumnElement[bool], ...]:
    wanted = (mailbox,) if mailbox else mailboxes
    return (Message.state == MessageState.REVIEW, exists().where(Sighting.message_pk == Message.id, Sighting.mailbox.in_(wanted)))


def queue_page(session: Session, mailboxes: tuple[str, ...], *, mailbox: str | None = None, page: int = 1, today: date | None = None) -> Page:
    """One page of the queue over ``mailboxes`` (or only ``mailbox``, which must be one of them)."""
    if not mailboxes or (mailbox and mailbox not in mailboxes):
        return Page([], 0, 1, 1)
    where = _conditions(mailboxes, mailbox)
    total = session.scalar(select(func.count(Message.id)).where(*where)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    columns = select(Message.id, Message.sender, Message.subject, Message.received_at, Message.label, Message.confidence, Message.decision_reason)
    rows = session.execute(
        columns.where(*where)
        .order_by(Message.received_at, Message.id).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    boxes: dict[int, list[str]] = {}
    if rows:
        for pk, name in session.execute(select(Sighting.message_pk, Sighting.mailbox).where(Sighting.message_pk.in_([r.id for r in rows])).order_by(Sighting.id)):
            if name not in boxes.setdefault(pk, []):
                boxes[pk].append(name)
    today = today or local_date(datetime.now().astimezone())
    out = []
    for r in rows:
        due, left = days_left(r.received_at, today)
        out.append(QueueRow(r.id, r.sender, r.subject, r.received_at, r.label, r.confidence, r.decision_reason, due, left, tuple(boxes.get(r.id, ()))))
    return Page(out, int(total), page, pages)


def counts(session: Session, mailboxes: tuple[str, ...]) -> dict[str, int]:
    """Messages waiting per mailbox (a message seen in two mailboxes counts in both)."""
    if not mailboxes:
        return {}
    found: dict[str, int] = {}
    for name, count in session.execute(
        select(Sighting.mailbox, func.count(func.distinct(Sighting.message_pk)))
        .join(Message, Message.id == Sighting.message_pk)
        .where(Message.state == MessageState.REVIEW, Sighting.mailbox.in_(mailboxes))
        .group_by(Sighting.mailbox)
    ):
        found[name] = int(count)
    return {name: found.get(name, 0) for name in mailboxes}


def next_after(session: Session, mailboxes: tuple[str, ...], *, mailbox: str | None, after: int) -> int | None:
    """The oldest waiting message of the (filtered) queue other than ``after``: where "Opslaan en volgende" goes."""
    if not mailboxes or (mailbox and mailbox not in mailboxes):
        return None
    query = select(Message.id).where(*_conditions(mailboxes, mailbox), Message.id != after).order_by(Message.received_at, Message.id).limit(1)
    found = session.scalars(query).first()
    return int(found) if found is not None else None
